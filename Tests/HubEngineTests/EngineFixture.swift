import AsyncHTTPClient
import Foundation
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Logging
import ServiceLifecycle

/// An engine over a fresh SQLite store, with `api` accounts delivering to `outboundURL`.
struct EngineFixture {
    let engine: Engine
    let directory: TemporaryDirectory
    /// Removes the directory the fixture made once the last copy of the fixture is gone; a directory passed in stays.
    private let owner: DirectoryOwner?

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["FIXTURE_LOG"] == nil ? .critical : .debug
        return logger
    }

    static func account(
        id: String = "api-a", outboundURL: String?, policy: DeliveryPolicy = fastPolicy, defaultRegion: String? = nil
    ) -> ChannelAccountConfig {
        ChannelAccountConfig(
            id: id, kind: .api, name: id, queueID: "support", defaultRegion: defaultRegion,
            secrets: ["signingSecret": Secret(variable: "S", value: "secret-\(id)")], options: APIChannelOptions(outboundURL: outboundURL),
            delivery: policy, location: ConfigLocation(file: "channels/\(id).yaml", line: 1, column: 1))
    }

    /// Retries after 50-100 ms, at most 200 ms apart, 3 attempts.
    static let fastPolicy = DeliveryPolicy(
        maxAttempts: 3, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(200), attemptTimeout: .seconds(5))

    init(
        accounts: [ChannelAccountConfig], configuration: EngineConfiguration = EngineConfiguration(), routing: RoutingRules = RoutingRules(),
        directory existing: TemporaryDirectory? = nil, now: @escaping @Sendable () -> Date = { Date() },
        attachments: AttachmentFetcher.Configuration = AttachmentFetcher.Configuration()
    ) async throws {
        directory = try existing ?? TemporaryDirectory("hub-engine")
        owner = existing == nil ? DirectoryOwner(directory) : nil
        let store = try SQLiteStore(configuration: .init(path: directory.url.appendingPathComponent("hub.sqlite").path, durability: .normal))
        try await store.migrate()
        let adapters = accounts.compactMap { ChannelCatalog.adapter(for: $0, httpClient: .shared, logger: Self.quietLogger) }
        engine = Engine(
            store: store, channels: ChannelDirectory(accounts: accounts, adapters: adapters), configuration: configuration,
            outbox: OutboxWorker.Configuration(concurrency: 8, lease: .seconds(30), idlePoll: .seconds(1)), routing: routing, attachments: attachments,
            now: now, logger: Self.quietLogger)
    }

    /// Runs the outbox worker while `body` runs, then shuts it down gracefully.
    func withWorker<T: Sendable>(_ worker: OutboxWorker? = nil, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withRunningServices([worker ?? engine.outboxWorker], logger: Self.quietLogger, body)
    }

    /// A conversation with `user` on `account`, started by one inbound message.
    func conversation(account: String = "api-a", user: String = "user-1", providerID: String = UUID().uuidString) async throws -> IngestReceipt {
        try await engine.ingest.ingest(
            InboundEvent(channelKind: .api, channelAccountID: account, sender: InboundSender(address: user), providerMessageID: providerID, text: "hello"))
    }
}

/// Removes a test's directory when released.
private final class DirectoryOwner: Sendable {
    let directory: TemporaryDirectory
    init(_ directory: TemporaryDirectory) { self.directory = directory }
    deinit { directory.remove() }
}
