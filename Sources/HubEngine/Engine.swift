import Foundation
import HubConfig
import HubModel
import HubStore
import Logging

/// The hub's behaviour over its store, assembled: ingest, identity, outbound messages, the
/// outbox worker that delivers them, and the router.
public struct Engine: Sendable {
    public let store: any HubStore
    public let channels: ChannelDirectory
    public let ingest: IngestService
    public let identity: IdentityService
    public let outbound: OutboundService
    public let outboxWorker: OutboxWorker
    /// Copies customers' attachments from providers into the hub's blob store.
    public let attachmentFetcher: AttachmentFetcher
    /// The router, fed by the event log.
    public let routing: RoutingService
    /// Agents' logins and sessions.
    public let auth: AuthService
    /// The agents' live feed of the event log.
    public let feed: InboxFeed
    /// What agents read and do in the inbox, with permissions, masking and the audit trail.
    public let inbox: InboxService
    /// Tickets kept in step with customers: reopening, closing, status answers.
    public let tickets: TicketService
    /// Tickets' SLA clocks, warnings and breaches.
    public let sla: SLAService
    /// The automations of `routing-rules/`.
    public let automations: AutomationService
    /// The managers' figures, counted from the event log.
    public let metrics: MetricsService
    /// The alerts on the figures.
    public let alerts: AlertService

    public init(
        store: any HubStore, channels: ChannelDirectory, configuration: EngineConfiguration = EngineConfiguration(),
        outbox: OutboxWorker.Configuration = OutboxWorker.Configuration(), routing rules: RoutingRules = RoutingRules(),
        auth: AuthService.Configuration = AuthService.Configuration(), feed: InboxFeed.Configuration = InboxFeed.Configuration(),
        attachments: AttachmentFetcher.Configuration = AttachmentFetcher.Configuration(), now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.store = store
        self.channels = channels
        let clock: @Sendable () -> Date = { now().truncatedToMilliseconds }
        let blobs = BlobStore(
            directory: configuration.blobDirectory.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("hub-blobs-\(UUID().uuidString)"))
        let fetcher = AttachmentFetcher(
            store: store, channels: channels, blobs: blobs, maximumBytes: configuration.maximumAttachmentBytes, configuration: attachments, now: clock,
            logger: logger.component("attachments"))
        attachmentFetcher = fetcher
        let ticketSettings = TicketSettingsCell(rules.tickets)
        ingest = IngestService(
            channels: channels, configuration: configuration, store: store, now: clock, logger: logger.component("ingest"), blobs: blobs,
            tickets: ticketSettings, onAttachments: { fetcher.wake() })
        identity = IdentityService(store: store, channels: channels, configuration: configuration, now: clock)
        let worker = OutboxWorker(
            store: store, channels: channels, configuration: outbox, now: clock, logger: logger.component("outbox"))
        outboxWorker = worker
        outbound = OutboundService(store: store, channels: channels, now: clock, wake: { worker.wake() })
        routing = RoutingService(store: store, routing: rules, now: clock, logger: logger.component("routing"))
        self.auth = AuthService(store: store, configuration: auth, now: clock, logger: logger.component("auth"))
        self.feed = InboxFeed(store: store, configuration: feed, logger: logger.component("feed"))
        inbox = InboxService(store: store, channels: channels, routing: routing, outbound: outbound, now: clock, logger: logger.component("inbox"))
        tickets = TicketService(
            store: store, channels: channels, outbound: outbound, settings: ticketSettings, now: clock, logger: logger.component("tickets"))
        sla = SLAService(store: store, settings: rules.sla, now: clock, logger: logger.component("sla"))
        automations = AutomationService(store: store, rules: rules.automations, now: clock, logger: logger.component("automations"))
        metrics = MetricsService(
            store: store, rules: MetricsProjector.Rules(rules, channels: channels), now: clock, logger: logger.component("metrics"))
        alerts = AlertService(store: store, metrics: metrics, settings: rules.metrics, now: clock, logger: logger.component("alerts"))
    }
}

extension Logger {
    /// A copy of this logger whose lines name `component`.
    public func component(_ component: String) -> Logger {
        var logger = self
        logger[metadataKey: "component"] = "\(component)"
        return logger
    }
}
