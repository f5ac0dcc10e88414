import Foundation
import HubModel
import HubRouting
import HubStore
import Logging
import ServiceLifecycle

/// Keeps the metrics projection up to date with the event log and answers reports from it.
///
/// The projection's counts, its state and its log position commit together, page by page, so
/// that after a crash it goes on from its last commit and counts nothing twice. At its very first
/// start it counts the whole log (unlike the services that act on events, history is what it is
/// for). A report adds, to the committed counts, the time agents have spent in their current
/// state so far.
public actor MetricsService {
    static let pageSize = 500

    let store: any HubStore
    let now: @Sendable () -> Date
    let logger: Logger
    private var rules: MetricsProjector.Rules
    private var projector: MetricsProjector?
    private var position: Int64 = 0
    private var reading: Task<Void, Never>?
    private var lastError: (any Error)?
    /// Woken after each commit that changed something (the supervisors' live streams).
    private var watchers: [UUID: WakeSignal] = [:]
    /// Refused requests not yet committed.
    private var rejected: [MetricKey: MetricCounters] = [:]
    private let wake = WakeSignal()

    public init(store: any HubStore, rules: MetricsProjector.Rules, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.rules = rules
        self.now = now
        self.logger = logger
    }

    /// New thresholds from a rules reload: they apply to what is counted from now on.
    public func reload(_ rules: MetricsProjector.Rules) {
        self.rules = rules
        projector = nil
        wake.signal()
    }

    /// Follows the log until cancelled.
    public func run() async throws {
        try await wake.follow(store) {
            do {
                try await self.catchUp()
            } catch is CancellationError {
            } catch {
                self.logger.error("metrics: reading the log failed", metadata: ["error": "\(error)"])
                return .seconds(1)
            }
            return nil
        }
    }

    /// Counts every event up to the log's end. One reader at a time: a caller that finds the log
    /// being read waits for that read, then reads what came after.
    public func catchUp() async throws {
        while let current = reading { await current.value }
        let task = Task { await self.readToEnd() }
        reading = task
        await task.value
        if let error = lastError {
            lastError = nil
            throw error
        }
    }

    private func readToEnd() async {
        defer { reading = nil }
        do {
            var projector = try await loadedProjector()
            while true {
                let events = try await store.events(after: position, limit: Self.pageSize)
                for event in events { projector.apply(event) }
                if let last = events.last {
                    projector.prune(at: last.occurredAt)
                }
                let next = events.last?.sequence ?? position
                if projector.hasChanges || next != position || !rejected.isEmpty {
                    var commit = projector.commit(position: next)
                    let counted = rejected
                    for (key, counters) in counted { commit.deltas[key, default: MetricCounters()].add(counters) }
                    do {
                        try await store.commitMetrics(commit)
                        for (key, counters) in counted {
                            rejected[key]?.subtract(counters)
                            if rejected[key]?.isZero == true { rejected[key] = nil }
                        }
                        for watcher in watchers.values { watcher.signal() }
                    } catch {
                        // What was applied is not committed: start again from the committed state.
                        self.projector = nil
                        throw error
                    }
                }
                position = next
                self.projector = projector
                if events.count < Self.pageSize { return }
            }
        } catch {
            lastError = error
        }
    }

    private func loadedProjector() async throws -> MetricsProjector {
        if let projector { return projector }
        let loaded = try MetricsProjector(rules: rules, state: try await store.metricsState())
        position = try await store.metricsPosition() ?? 0
        projector = loaded
        return loaded
    }

    /// Counts an inbound request refused before anything was stored (a bad signature), for its
    /// channel kind; committed with the next page.
    public func countRejected(channel: ChannelKind, at date: Date) {
        rejected[MetricKey(minute: MetricKey.minute(of: date), channel: channel.rawValue), default: MetricCounters()][.inboundRejected] += 1
        wake.signal()
    }

    // MARK: Watching

    /// A signal raised after every commit that changed the figures, until `unwatch`.
    public func watch() -> (UUID, WakeSignal) {
        let id = UUID()
        let signal = WakeSignal()
        watchers[id] = signal
        return (id, signal)
    }

    public func unwatch(_ id: UUID) { watchers[id] = nil }

    // MARK: Reports

    /// Sums over the minutes `from..<to`, grouped, with the agents' time in their current state
    /// up to now (as of the log's end when called).
    public func totals(fromMinute: Int64, toMinute: Int64, grouping: MetricGrouping) async throws -> [MetricGroup: MetricCounters] {
        try await catchUp()
        var totals = try await store.metricTotals(fromMinute: fromMinute, toMinute: toMinute, grouping: grouping)
        if let projector {
            for (key, counters) in projector.openAgentTime(until: now()) where key.minute >= fromMinute && key.minute < toMinute {
                totals[MetricGroup(key, grouping: grouping), default: MetricCounters()].add(counters)
            }
        }
        return totals
    }

    /// The conversations waiting now, and the agents' states, as of the log's end.
    public func current() async throws -> (waiting: [MetricsProjector.Waiting], agents: [MetricsProjector.AgentNow]) {
        try await catchUp()
        guard let projector else { return ([], []) }
        return (projector.waiting, projector.agentsNow)
    }
}

public struct MetricsServiceRunner: Service {
    let metrics: MetricsService

    public init(_ metrics: MetricsService) { self.metrics = metrics }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await metrics.run()
        }
    }
}
