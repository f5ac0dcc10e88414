import Foundation
import HubModel
import HubStore
import Testing

/// The store implementations the contract suite runs against. A new backend (PostgreSQL) adds a
/// case here and must pass every test unchanged.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh, migrated, empty store, removed afterwards.
    func withStore(_ body: (any HubStore) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hub-store-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try SQLiteStore(configuration: .init(path: directory.appendingPathComponent("hub.sqlite").path))
            try await store.migrate()
            try await body(store)
        }
    }
}

/// Builders for the commands the tests send.
enum Fixture {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T...

    static func date(_ seconds: Double) -> Date { start.addingTimeInterval(seconds).truncatedToMilliseconds }

    static func inbound(
        account: String = "api-a", kind: ChannelKind = .api, from: String = "user-1", handleKind: HandleKind? = nil,
        providerID: String, text: String = "hello", thread: String? = nil, at seconds: Double = 0, name: String? = nil,
        attributes: [String: String] = [:]
    ) -> IngestCommand {
        let handleKind = handleKind ?? kind.handleKind
        let event = InboundEvent(
            channelKind: kind, channelAccountID: account, sender: InboundSender(kind: handleKind, address: from, displayName: name),
            providerMessageID: providerID, text: text, threadKey: thread, attributes: attributes)
        return IngestCommand(
            event: event, sender: HandleAddress(kind: handleKind, scope: handleKind.isGlobal ? "" : account, address: from),
            receivedAt: date(seconds), queueID: "support")
    }

    static func outbound(
        conversation: Conversation.ID, recipient: HandleAddress, account: String = "api-a", key: String, text: String = "reply",
        author: MessageAuthor = .agent("alice"), at seconds: Double = 1, ordered: Bool = true, maxAttempts: Int = 3
    ) -> OutboundCommand {
        OutboundCommand(
            conversationID: conversation, author: author, content: OutboundContent(text: text), idempotencyKey: key,
            delivery: DeliveryPlan(
                channelAccountID: account, channelKind: .api, recipient: recipient, orderingKey: ordered ? conversation.rawValue : nil,
                maxAttempts: maxAttempts),
            at: date(seconds), actor: .agent("alice"))
    }
}

extension HubStore {
    /// Ingests one command and expects it to succeed.
    func ingestOne(_ command: IngestCommand) async throws -> IngestReceipt {
        let results = try await ingest([command])
        return try results[0].get()
    }

    /// Every event in the log.
    func allEvents() async throws -> [HubEvent] { try await events(after: 0, limit: 100_000) }

    /// Event kinds after `sequence`.
    func eventKinds(after sequence: Int64 = 0) async throws -> [String] {
        try await events(after: sequence, limit: 100_000).map(\.kind.rawValue)
    }
}
