import AsyncHTTPClient
import Foundation
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import UnixSignals

/// The whole hub in one process: the store, the engine, the channel adapters, the HTTP server and
/// the outbox worker, run as services of one `ServiceGroup` with graceful shutdown on SIGTERM and
/// SIGINT.
public struct HubServer: Sendable {
    public let configuration: HubServerConfiguration
    public let hubConfiguration: HubConfiguration
    public let engine: Engine
    public let readiness = Readiness()
    /// Webhook requests refused, per channel account and reason.
    public let rejections: WebhookRejections
    /// `GET /metrics`; its registry also takes what the process reports through swift-metrics.
    public let exporter = PrometheusExporter()
    let store: SQLiteStore
    let logger: Logger

    /// Loads `channels/` and `routing-rules/` with every channel kind this build supports.
    public static func loadConfiguration(
        _ configuration: HubServerConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ConfigLoadResult {
        ConfigLoader(schemas: ChannelCatalog.schemas, environment: environment)
            .load(channelsDirectory: configuration.channelsDirectory, routingRulesDirectory: configuration.routingRulesDirectory)
    }

    /// Opens and migrates the store, saves the configured agents, and assembles the engine.
    public init(
        configuration: HubServerConfiguration, hubConfiguration: HubConfiguration, httpClient: HTTPClient = .shared, logger: Logger
    ) async throws {
        self.configuration = configuration
        self.hubConfiguration = hubConfiguration
        self.logger = logger
        store = try SQLiteStore(
            configuration: .init(path: configuration.databasePath, durability: configuration.durability, commitWindow: configuration.commitWindow))
        try await store.migrate()
        // Calls the last run left live are gone with its memory (the SIP element's dialogs): their
        // records end and their conversations close before the router recovers anything, so no
        // agent is offered, or held by, a call that no longer exists. (The store is this
        // process's alone: SQLite under an exclusive lock.) A failure is logged, not fatal: the
        // hub still takes calls, and the next start tries again.
        do {
            _ = try await CallRecorder.endUnfinishedCalls(store: store, at: Date().truncatedToMilliseconds, logger: logger.component("sip"))
        } catch {
            logger.error("calls left live by the last run could not be ended", metadata: ["error": "\(error)"])
        }
        let changed = try await store.syncAgents(hubConfiguration.routing.agents.map(\.agent), at: Date().truncatedToMilliseconds)
        let rejections = WebhookRejections()
        self.rejections = rejections
        var engineConfiguration = configuration.engine
        if engineConfiguration.blobDirectory == nil {
            // Customers' attachments live next to the database.
            engineConfiguration.blobDirectory = (configuration.dataDirectory as NSString).appendingPathComponent("blobs")
        }
        let blobs = BlobStore(directory: URL(fileURLWithPath: engineConfiguration.blobDirectory ?? "blobs"))
        let database: any HubStore = store
        let adapters = hubConfiguration.channels.compactMap {
            ChannelCatalog.adapter(
                for: $0, httpClient: httpClient, logger: logger, rejections: rejections, loadBlob: { try await blobs.get($0, orFrom: database) })
        }
        let channels = ChannelDirectory(accounts: hubConfiguration.channels, adapters: adapters)
        engine = Engine(
            store: store, channels: channels, configuration: engineConfiguration, outbox: configuration.outbox,
            routing: hubConfiguration.routing, auth: configuration.auth, logger: logger)
        let metrics = engine.metrics
        let alertClient = httpClient
        await engine.alerts.setPoster { url, body in
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "switchboard-hub")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await alertClient.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 16)
            guard (200..<300).contains(Int(response.status.code)) else { throw AlertWebhookError(status: Int(response.status.code)) }
        }
        rejections.observe { account, _ in
            guard let kind = channels.account(account)?.kind else { return }
            metrics.countRejected(channel: kind, at: Date())
        }
        logger.info(
            "hub prepared",
            metadata: [
                "database": "\(configuration.databasePath)", "durability": "\(configuration.durability.rawValue)",
                "commit_window": "\(configuration.commitWindow)",
                "channel_accounts": "\(hubConfiguration.channels.map(\.id).joined(separator: ","))",
                "queues": "\(hubConfiguration.routing.queues.count)", "agents": "\(hubConfiguration.routing.agents.count)",
                "agents_changed": "\(changed)",
            ])
        for account in hubConfiguration.channels {
            if let reason = account.inactiveReason { logger.warning("channel account inactive", metadata: ["account": "\(account.id)", "reason": "\(reason)"]) }
        }
    }

    /// The HTTP routes, on their own (tests drive them without a socket).
    public func makeRouter() -> Router<HubRequestContext> {
        let router = Router(context: HubRequestContext.self)
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: MetricsMiddleware())
        HealthRoutes.add(to: router, engine: engine, readiness: readiness)
        StaticRoutes.add(to: router, logger: logger)
        WebhookRoutes.add(to: router, engine: engine, rejections: rejections, maximumBodyBytes: configuration.maximumBodyBytes, logger: logger)
        SurveyRoutes.add(to: router, engine: engine)
        let api = router.group("v1").add(middleware: AuthMiddleware(adminToken: configuration.adminToken, auth: engine.auth))
        AuthRoutes.add(to: api, engine: engine, maximumBodyBytes: configuration.maximumBodyBytes)
        ResourceRoutes.add(to: api, engine: engine, maximumBodyBytes: configuration.maximumBodyBytes)
        TicketRoutes.add(to: api, engine: engine, maximumBodyBytes: configuration.maximumBodyBytes)
        SurveyRoutes.add(to: api, engine: engine)
        ChannelRoutes.add(to: api, engine: engine, rejections: rejections)
        AttachmentRoutes.add(to: api, engine: engine)
        RoutingRoutes.add(to: api, engine: engine, maximumBodyBytes: configuration.maximumBodyBytes)
        MetricsRoutes.add(to: api, engine: engine)
        SupervisorSocketRoutes.add(to: api, engine: engine, logger: logger.component("supervisor"))
        MetricsRoutes.addExposition(to: router, engine: engine, exporter: exporter, adminToken: configuration.adminToken,
            scrapeToken: configuration.scrapeToken)
        AgentSocketRoutes.add(to: api, engine: engine, configuration: AgentSocket.Configuration(), logger: logger.component("inbox"))
        return router
    }

    /// The HTTP application. `onListening` receives the bound address (port 0 picks a free port).
    public func makeApplication(onListening: @escaping @Sendable (String) async -> Void = { _ in }) -> some ApplicationProtocol {
        let readiness = self.readiness
        let logger = self.logger
        let router = makeRouter()
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: router,
                configuration: .init(ws: .init(maxFrameSize: 1 << 16, autoPing: .enabled(timePeriod: .seconds(30)), validateUTF8: true))),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "switchboard-hub"),
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
                readiness.set(.ready)
                logger.info("http listening", metadata: ["address": "\(address)"])
                await onListening(address)
            },
            logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully: readiness fails first, the HTTP server
    /// drains its requests, and the outbox worker finishes its attempts in flight.
    public func run() async throws {
        let sip = makeSIPService()
        var watcher = RoutingRulesWatcher(configuration: configuration, routing: engine.routing, logger: logger)
        let logger = logger
        let tickets = engine.tickets
        let sla = engine.sla
        let automations = engine.automations
        let metrics = engine.metrics
        let alerts = engine.alerts
        let channels = engine.channels
        watcher.reloaded = { rules in
            await metrics.reload(MetricsProjector.Rules(rules, channels: channels))
            await alerts.reload(rules.metrics)
            await tickets.reload(rules.tickets)
            await sla.reload(rules.sla)
            await automations.reload(rules.automations)
            if let sip {
                await sip.reloadPhones(rules.agents)
            } else if rules.agents.contains(where: { $0.phone != nil }) {
                logger.warning("agents' phones were added to the rules, but the SIP element runs only when configured at start: restart the hub")
            }
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: CheckpointService(store: store, interval: configuration.checkpointInterval)),
                    .init(service: engine.outboxWorker),
                    .init(service: engine.attachmentFetcher),
                    .init(service: RoutingServiceRunner(engine.routing)),
                    .init(service: TicketServiceRunner(engine.tickets)),
                    .init(service: SLAServiceRunner(engine.sla)),
                    .init(service: AutomationServiceRunner(engine.automations)),
                    .init(service: MetricsServiceRunner(engine.metrics)),
                    .init(service: AlertServiceRunner(engine.alerts)),
                    .init(service: InboxFeedRunner(engine.feed)),
                    .init(service: watcher),
                    .init(service: makeApplication()),
                    .init(service: ShutdownWatcher(readiness: readiness)),
                ] + (try makeMailServices()) + (sip.map { [.init(service: $0)] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        try await group.run()
        logger.info("hub stopped")
    }
}

extension HubServer {
    /// The SMTP listener with its spool, when an e-mail account is configured.
    func makeMailServices() throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let emailAccounts = hubConfiguration.channels.filter { $0.kind == .email }
        guard !emailAccounts.isEmpty else { return [] }
        let acknowledger = MailAcknowledger(
            engine: engine,
            accounts: Dictionary(
                emailAccounts.compactMap { account in (account.options as? EmailOptions).map { (account.id, $0) } }, uniquingKeysWith: { a, _ in a }),
            logger: logger.component("mail"))
        let receiver = EmailReceiver(
            accounts: emailAccounts, sink: engine.ingest,
            limits: EmailReceiver.Limits(
                maximumTextLength: configuration.engine.maximumTextLength, maximumAttachments: configuration.engine.maximumAttachments),
            logger: logger.component("smtp"), onStored: { await acknowledger.acknowledge($0) })
        var spoolConfiguration = MailSpool.Configuration()
        spoolConfiguration.maximumWaiting = configuration.smtp.maximumSpooled
        spoolConfiguration.maximumDeferral = configuration.smtp.maximumProcessingDelay
        let spool = MailSpool(receiver: receiver, store: store, configuration: spoolConfiguration, logger: logger.component("smtp"))
        return [.init(service: try SMTPListener(configuration: configuration.smtp, spool: spool, logger: logger.component("smtp")))]
    }
}

extension HubServer {
    /// The SIP element, when an agent has a phone or a trunk is configured (a hub started with
    /// neither starts it only at its next start).
    func makeSIPService() -> SIPService? {
        guard SIPService.isNeeded(hubConfiguration) else { return nil }
        return SIPService(
            configuration: configuration.sip, hub: hubConfiguration, routing: engine.routing, store: engine.store, ingest: engine.ingest,
            logger: logger.component("sip"))
    }
}

/// Keeps the SQLite write-ahead log short by checkpointing beside the writer, so that commits
/// (and the acknowledgements waiting on them) never pay for a checkpoint.
struct CheckpointService: Service {
    let store: SQLiteStore
    let interval: Duration

    func run() async {
        await cancelWhenGracefulShutdown {
            await store.runCheckpoints(every: interval)
        }
    }
}

/// An alert's webhook answered with something other than a 2xx.
struct AlertWebhookError: Error, CustomStringConvertible {
    var status: Int
    var description: String { "the webhook answered \(status)" }
}
