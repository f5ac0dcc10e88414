import Foundation
import HubModel
import HubRouting
import HubStore
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps the metrics projection up to date with the event log and answers reports from it.
///
/// The projection's counts, its state and its log position commit together, page by page, so
/// that after a crash it goes on from its last commit and counts nothing twice. At its very first
/// start it counts the whole log (unlike the services that act on events, history is what it is
/// for). A report adds, to the committed counts, the time agents have spent in their current
/// state so far.
public actor MetricsService {
    /// Events read and committed at a time.
    let pageSize: Int
    /// A report waits for the projection to count what is left of the log only when that is
    /// little; a larger backlog (the whole log at a first start) is counted in the background while
    /// reports answer from what is counted so far, saying how far behind they are.
    static let waitLimit: Int64 = 5_000

    let store: any HubStore
    let now: @Sendable () -> Date
    let logger: Logger
    private var rules: MetricsProjector.Rules
    private var projector: MetricsProjector?
    private var position: Int64 = 0
    /// The read in progress; it ends with its error, if any (each caller gets its own read's).
    private var reading: Task<(any Error)?, Never>?
    /// Woken after each commit that changed something (the supervisors' live streams).
    private var watchers: [UUID: WakeSignal] = [:]
    /// Refused requests not yet committed (counted from any thread without a task each).
    private let rejected = Mutex<[MetricKey: Int64]>([:])
    /// When refused requests were last committed on their own: at most once a second, so that a
    /// flood of forged requests is not a flood of commits.
    private var rejectionsCommittedAt = ContinuousClock.now - .seconds(1)
    /// Bumped by a rules reload: a read in flight then drops its projection instead of keeping it.
    private var generation = 0
    private let wake = WakeSignal()
    /// When the per-minute figures were last pruned (see `pruneMinutes`).
    private var prunedAt: Date?

    public init(store: any HubStore, rules: MetricsProjector.Rules, now: @escaping @Sendable () -> Date, logger: Logger, pageSize: Int = 500) {
        self.pageSize = max(1, pageSize)
        self.store = store
        self.rules = rules
        self.now = now
        self.logger = logger
    }

    /// New thresholds from a rules reload: they apply to what is counted from now on.
    public func reload(_ rules: MetricsProjector.Rules) {
        self.rules = rules
        projector = nil
        generation += 1
        wake.signal()
    }

    /// Follows the log until cancelled.
    public func run() async throws {
        try await wake.follow(store) {
            do {
                try await self.catchUp()
                try await self.pruneMinutesHourly()
            } catch is CancellationError {
            } catch {
                self.logger.error("metrics: reading the log failed", metadata: ["error": "\(error)"])
                return .seconds(1)
            }
            return nil
        }
    }

    /// Counts every event up to the log's end. One reader at a time: a caller that finds the log
    /// being read waits for that read, then reads what came after. Cancelled (the hub stopping
    /// during the first count of a long log), the read stops after the page it is on, with
    /// everything before it committed: the next start goes on from there.
    public func catchUp() async throws {
        while let current = reading { _ = await current.value }
        let task = Task { await self.readToEnd() }
        reading = task
        let error = await withTaskCancellationHandler {
            await task.value
        } onCancel: { [wake] in
            task.cancel()
            // (A report given up by its caller: the service's own loop reads on from there.)
            wake.signal()
        }
        try Task.checkCancellation()
        if let error { throw error }
    }

    /// Reads and counts pages until the log's end; returns the error that stopped it, if any.
    private func readToEnd() async -> (any Error)? {
        defer { reading = nil }
        do {
            let generation = self.generation
            var projector = try await loadedProjector()
            while true {
                let from = position
                let events = try await store.events(after: from, limit: pageSize)
                for event in events { projector.apply(event) }
                if let last = events.last {
                    projector.prune(at: last.occurredAt)
                }
                let next = events.last?.sequence ?? from
                // Refused requests go with a page of events, or on their own once a second.
                let clock = ContinuousClock.now
                let takeRejections = !events.isEmpty || clock - rejectionsCommittedAt >= .seconds(1)
                let counted: [MetricKey: Int64] =
                    takeRejections
                    ? rejected.withLock { taken in
                        defer { taken = [:] }
                        return taken
                    } : [:]
                if projector.hasChanges || next != from || !counted.isEmpty {
                    var commit = projector.commit(from: from, to: next)
                    for (key, count) in counted { commit.deltas[key, default: MetricCounters()][.inboundRejected] += count }
                    do {
                        try await store.commitMetrics(commit)
                        if events.isEmpty { rejectionsCommittedAt = clock }
                        for watcher in watchers.values { watcher.signal() }
                    } catch {
                        // What was applied is not committed: start again from the committed state,
                        // and count the refusals again with the next commit.
                        self.projector = nil
                        rejected.withLock { pending in for (key, count) in counted { pending[key, default: 0] += count } }
                        throw error
                    }
                } else if !takeRejections, rejected.withLock({ !$0.isEmpty }) {
                    // Refusals wait for their second: look again then.
                    let wake = self.wake
                    Task {
                        try? await Task.sleep(for: .seconds(1))
                        wake.signal()
                    }
                }
                position = next
                // A reload meanwhile: its rules count from here on, from the committed state.
                self.projector = generation == self.generation ? projector : nil
                if events.count < pageSize || self.projector == nil || Task.isCancelled { return nil }
            }
        } catch {
            return error
        }
    }

    // MARK: Retention

    /// The first minute whose figures are kept per minute: `keepMinutes` back from now, down to
    /// a whole hour, so that every older window is answered exactly from the hourly figures.
    func minuteHorizon() -> Int64 {
        let minutes = MetricKey.minute(of: now()) - rules.keepMinutes.components.seconds / 60
        return Int64((Double(minutes) / 60).rounded(.down)) * 60
    }

    /// Deletes the per-minute figures older than `keepMinutes` (the hourly and daily ones stay);
    /// returns the rows deleted.
    @discardableResult
    public func pruneMinutes() async throws -> Int {
        prunedAt = now()
        let deleted = try await store.pruneMetricMinutes(before: minuteHorizon())
        if deleted > 0 { logger.info("metrics: per-minute figures past their keeping time deleted", metadata: ["rows": "\(deleted)"]) }
        return deleted
    }

    private func pruneMinutesHourly() async throws {
        if let prunedAt, now().timeIntervalSince(prunedAt) < 3600 { return }
        try await pruneMinutes()
    }

    private func loadedProjector() async throws -> MetricsProjector {
        if let projector { return projector }
        let loaded = try MetricsProjector(rules: rules, state: try await store.metricsState())
        position = try await store.metricsPosition() ?? 0
        projector = loaded
        return loaded
    }

    /// Counts an inbound request refused before anything was stored (a bad signature), for its
    /// channel kind; committed with the next page of events, or within a second.
    public nonisolated func countRejected(channel: ChannelKind, at date: Date) {
        rejected.withLock { $0[MetricKey(minute: MetricKey.minute(of: date), channel: channel.rawValue), default: 0] += 1 }
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
    /// Catches up when little is left to count; otherwise wakes the reader and goes on.
    /// - Returns: the events of the log not counted yet.
    @discardableResult
    public func freshen() async throws -> Int64 {
        let head = try await store.lastEventSequence()
        if projector == nil, reading == nil { position = try await store.metricsPosition() ?? 0 }
        if head - position <= Self.waitLimit {
            try await catchUp()
        } else {
            wake.signal()
        }
        return max(0, head - position)
    }

    public func totals(
        fromMinute: Int64, toMinute: Int64, grouping: MetricGrouping, fields: [MetricField]? = nil
    ) async throws -> [MetricGroup: MetricCounters] {
        try await freshen()
        return try await counted(fromMinute: fromMinute, toMinute: toMinute, grouping: grouping, fields: fields)
    }

    /// `totals` as counted so far (the caller has freshened).
    func counted(
        fromMinute: Int64, toMinute: Int64, grouping: MetricGrouping, fields: [MetricField]? = nil
    ) async throws -> [MetricGroup: MetricCounters] {
        var totals = try await store.metricTotals(fromMinute: fromMinute, toMinute: toMinute, grouping: grouping, fields: fields)
        if let projector {
            for (key, counters) in projector.openAgentTime(until: now(), fromMinute: fromMinute, toMinute: toMinute) {
                totals[MetricGroup(key, grouping: grouping), default: MetricCounters()].add(counters)
            }
        }
        return totals
    }

    /// The conversations waiting now, and the agents' states, as of the log's end.
    public func current() async throws -> (waiting: [MetricsProjector.Waiting], agents: [MetricsProjector.AgentNow]) {
        try await freshen()
        return currentCounted
    }

    /// `current` as counted so far (the caller has freshened).
    var currentCounted: (waiting: [MetricsProjector.Waiting], agents: [MetricsProjector.AgentNow]) {
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
