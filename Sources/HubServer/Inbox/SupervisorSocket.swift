import Foundation
import HubEngine
import HubModel
import HubStore
import Hummingbird
import HummingbirdWebSocket
import Logging

/// `GET /v1/supervisor/ws`: the supervisors' live figures. A `metrics.live` frame at once, then
/// after every change the projection commits (at once after a quiet spell; at most one frame
/// every 50 ms during a burst), and at least every 5 seconds (waits grow with nothing happening).
/// Clients send nothing; closing the socket ends the stream.
enum SupervisorSocketRoutes {
    static let coalesce: Duration = .milliseconds(50)
    static let heartbeat: Duration = .seconds(5)

    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine, logger: Logger) {
        let metrics = engine.metrics
        let alerts = engine.alerts
        api.ws(
            "supervisor/ws",
            shouldUpgrade: { _, _ in .upgrade([:]) },
            onUpgrade: { inbound, outbound, context in
                guard
                    let viewer = try await AgentSocket.viewer(
                        context.requestContext, outbound: outbound, allowed: \.seesAll, refusal: "the live figures are for supervisors and admins")
                else { return }
                let (id, changed) = await metrics.watch()
                defer { Task { await metrics.unwatch(id) } }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // The client sends nothing; its close ends the loop.
                        for try await _ in inbound.messages(maxSize: 1 << 16) {}
                    }
                    group.addTask {
                        let clock = ContinuousClock()
                        while !Task.isCancelled {
                            let sent = clock.now
                            let live = try await metrics.live()
                            try await outbound.writeTextMessage(JSONWriter.text(of: frame(live, alerts: try await alerts.raised())))
                            await changed.wait(timeout: heartbeat)
                            // A change after a quiet spell goes out at once; a burst shares one
                            // frame every 50 ms.
                            let next = sent + coalesce
                            if clock.now < next { try await Task.sleep(until: next, clock: clock) }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
                logger.debug("supervisor stream ended", metadata: ["viewer": "\(viewer.agentID?.rawValue ?? "admin")"])
            })
    }

    static func frame(_ live: MetricsLive, alerts: [JSONValue]) -> JSONValue {
        let figures: [MetricFigure] = [
            .offered, .handled, .abandoned, .answerRate, .serviceLevel, .averageSpeedOfAnswerSeconds, .averageHandleSeconds,
            .averageFirstResponseSeconds, .csatAverage, .deliverySuccessRate, .slaBreaches,
        ]
        guard case .object(var now) = MetricsRoutes.now(live.now) else { return .null }
        now["type"] = .string("metrics.live")
        now["alerts"] = .array(alerts)
        now["today"] = .object([
            "from": .string(HubJSON.formatTimestamp(live.todayFrom)),
            "channels": .object(
                Dictionary(
                    uniqueKeysWithValues: live.today.map { channel, counters in
                        (channel, JSONValue.object(Dictionary(uniqueKeysWithValues: figures.map { ($0.rawValue, $0.value(counters).map(JSONValue.double) ?? .null) })))
                    })),
        ])
        return .object(now)
    }
}
