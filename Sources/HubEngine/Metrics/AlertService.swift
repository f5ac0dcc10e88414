import Foundation
import HubConfig
import HubModel
import HubStore
import Logging
import ServiceLifecycle

/// The alerts of `routing-rules/` (`metrics.alerts`): each checked when the figures change (at
/// most once a second) and every `alertInterval`, raised when its figure crosses the threshold,
/// cleared when it is back. A raise and a clear are events (`alert.raised`, `alert.cleared`),
/// recorded once with the alert's state in one transaction, so that a restart neither repeats nor
/// forgets one; the inbox pushes them to supervisors, the supervisors' live stream lists the
/// alerts raised, and an alert with a `webhook` is POSTed there (best effort, three attempts).
///
/// A rate or an average over fewer than `minimum` contacts (or messages...) is not judged: the
/// alert keeps its state. An alert taken out of the rules while raised is cleared.
public actor AlertService {
    public static let actor = Actor(kind: .system, id: "alerts")

    /// Posts a webhook body (JSON) to a URL; throws on anything but a 2xx.
    public typealias Poster = @Sendable (_ url: String, _ body: [UInt8]) async throws -> Void

    let store: any HubStore
    let metrics: MetricsService
    let now: @Sendable () -> Date
    let logger: Logger
    private var settings: MetricsSettings
    private var post: Poster?
    private let wake = WakeSignal()
    /// The last webhook delivery: each waits for the one before, so that a clear never overtakes
    /// its raise.
    private var lastDelivery: Task<Void, Never>?
    /// Webhook retries: after 2 s, then 10 s.
    var retryDelays: [Duration] = [.seconds(2), .seconds(10)]

    public init(store: any HubStore, metrics: MetricsService, settings: MetricsSettings, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.settings = settings
        self.now = now
        self.logger = logger
    }

    /// Where webhooks go (HubServer sets its HTTP client's).
    public func setPoster(_ post: @escaping Poster) { self.post = post }

    public func reload(_ settings: MetricsSettings) {
        self.settings = settings
        wake.signal()
    }

    /// Checks on every change of the figures and every `alertInterval`, until cancelled (then it
    /// returns: a graceful shutdown is not an error).
    public func run() async {
        let (id, changed) = await metrics.watch()
        defer { Task { await metrics.unwatch(id) } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    await changed.wait(timeout: nil)
                    self.wake.signal()
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do {
                        _ = try await self.check()
                    } catch is CancellationError {
                        return
                    } catch {
                        self.logger.error("alerts: checking failed", metadata: ["error": "\(error)"])
                    }
                    await self.wake.wait(timeout: await self.settings.alertInterval)
                    // At most one check a second, however often the figures change.
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// A change of an alert's state.
    public struct Transition: Sendable, Hashable {
        public var id: String
        public var raised: Bool
        public var payload: JSONValue
    }

    /// Judges every alert now; records and returns what changed.
    @discardableResult
    public func check() async throws -> [Transition] {
        let date = now()
        let active = try await store.activeAlerts()
        var transitions: [Transition] = []
        for alert in settings.alerts {
            // Too little to judge (fewer than `minimum`): not breached, so a quiet night clears it.
            let value = try await value(of: alert, at: date)
            let breached = value.map { value in alert.above.map { value > $0 } ?? alert.below.map { value < $0 } ?? false } ?? false
            guard breached != (active[alert.id] != nil) else { continue }
            var payload = Self.payload(alert, value: value ?? 0, raised: breached, at: date)
            if value == nil, case .object(var fields) = payload {
                fields["value"] = .null
                fields["reason"] = .string("fewer than \(alert.minimum) to judge")
                payload = .object(fields)
            }
            if try await store.recordAlert(alert.id, raised: breached, payload: payload, at: date, actor: Self.actor) {
                transitions.append(Transition(id: alert.id, raised: breached, payload: payload))
                logger.notice(
                    breached ? "alert raised" : "alert cleared",
                    metadata: ["alert": "\(alert.id)", "value": "\(value.map { "\($0)" } ?? "none")", "threshold": "\(alert.above ?? alert.below ?? 0)"])
                if let webhook = alert.webhook { deliver(payload, to: webhook, alert: alert.id) }
            }
        }
        let configured = Set(settings.alerts.map(\.id))
        for (id, raisedWith) in active where !configured.contains(id) {
            guard case .object(var payload) = raisedWith else { continue }
            payload["state"] = .string("cleared")
            payload["at"] = .string(HubJSON.formatTimestamp(date))
            payload["reason"] = .string("no longer in the rules")
            if try await store.recordAlert(id, raised: false, payload: .object(payload), at: date, actor: Self.actor) {
                transitions.append(Transition(id: id, raised: false, payload: .object(payload)))
            }
        }
        return transitions
    }

    /// The alerts raised now, oldest first.
    public func raised() async throws -> [JSONValue] {
        try await store.activeAlerts().sorted { $0.key < $1.key }.map(\.value)
    }

    /// The alert's figure now; nil when there is too little to judge.
    func value(of alert: MetricAlert, at date: Date) async throws -> Double? {
        func matches(channel: String?, queue: String?) -> Bool {
            (alert.channel == nil || channel == alert.channel?.rawValue) && (alert.queue == nil || queue == alert.queue)
        }
        switch alert.measure {
        case .figure(let figure):
            let seconds = Double(alert.window.components.seconds)
            let to = MetricKey.minute(of: date) + 1
            let from = MetricKey.minute(of: date.addingTimeInterval(-seconds)) + 1
            var counters = MetricCounters()
            for (group, groupCounters) in try await metrics.totals(fromMinute: from, toMinute: to, grouping: [.channel, .queue])
            where matches(channel: group.channel, queue: group.queue) {
                counters.add(groupCounters)
            }
            guard figure.sample(counters) >= alert.minimum else { return nil }
            return figure.value(counters)
        case .queueLength, .longestWaitSeconds:
            let waiting = try await metrics.current().waiting.filter { matches(channel: $0.channel.rawValue, queue: $0.queue) }
            if alert.measure == .queueLength { return Double(waiting.count) }
            return waiting.map { Double(MetricsProjector.milliseconds(from: $0.since, to: date)) / 1000 }.max() ?? 0
        }
    }

    static func payload(_ alert: MetricAlert, value: Double, raised: Bool, at date: Date) -> JSONValue {
        var payload: [String: JSONValue] = [
            "id": .string(alert.id), "name": .string(alert.name), "figure": .string(alert.measure.name),
            "value": .double((value * 10_000).rounded() / 10_000), "threshold": .double(alert.above ?? alert.below ?? 0),
            "comparison": .string(alert.above != nil ? "above" : "below"), "state": .string(raised ? "raised" : "cleared"),
            "at": .string(HubJSON.formatTimestamp(date)),
        ]
        if let channel = alert.channel { payload["channel"] = .string(channel.rawValue) }
        if let queue = alert.queue { payload["queue"] = .string(queue) }
        if case .figure = alert.measure { payload["windowSeconds"] = .int(alert.window.components.seconds) }
        return .object(payload)
    }

    /// POSTs the alert to its webhook, retrying twice; a failure is logged (the event log has it).
    private func deliver(_ payload: JSONValue, to url: String, alert: String) {
        guard let post else { return }
        let body = Array(JSONWriter.text(of: payload).utf8)
        let delays = retryDelays
        let logger = logger
        let previous = lastDelivery
        lastDelivery = Task {
            await previous?.value
            for attempt in 0...delays.count {
                do {
                    try await post(url, body)
                    return
                } catch {
                    if attempt == delays.count {
                        logger.error("alert webhook failed", metadata: ["alert": "\(alert)", "url": "\(url)", "error": "\(error)"])
                        return
                    }
                    try? await Task.sleep(for: delays[attempt])
                }
            }
        }
    }
}

public struct AlertServiceRunner: Service {
    let alerts: AlertService

    public init(_ alerts: AlertService) { self.alerts = alerts }

    public func run() async {
        await cancelWhenGracefulShutdown {
            await alerts.run()
        }
    }
}
