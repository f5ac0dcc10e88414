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
    /// The router, fed by the event log.
    public let routing: RoutingService

    public init(
        store: any HubStore, channels: ChannelDirectory, configuration: EngineConfiguration = EngineConfiguration(),
        outbox: OutboxWorker.Configuration = OutboxWorker.Configuration(), routing rules: RoutingRules = RoutingRules(),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.channels = channels
        let clock: @Sendable () -> Date = { now().truncatedToMilliseconds }
        ingest = IngestService(
            channels: channels, configuration: configuration, store: store, now: clock, logger: logger.component("ingest"))
        identity = IdentityService(store: store, channels: channels, configuration: configuration, now: clock)
        let worker = OutboxWorker(
            store: store, channels: channels, configuration: outbox, now: clock, logger: logger.component("outbox"))
        outboxWorker = worker
        outbound = OutboundService(store: store, channels: channels, now: clock, wake: { worker.wake() })
        routing = RoutingService(store: store, routing: rules, now: clock, logger: logger.component("routing"))
    }
}

extension Logger {
    /// A copy of this logger whose lines name `component`.
    func component(_ component: String) -> Logger {
        var logger = self
        logger[metadataKey: "component"] = "\(component)"
        return logger
    }
}
