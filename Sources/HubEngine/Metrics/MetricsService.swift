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
    /// How far the log is read (into `projector`), and how far that is committed.
    private var position: Int64 = 0
    private var committed: Int64 = 0
    /// The service's own loop commits at most this often: the events of a busy log (several
    /// commits per call or message) are counted together, one commit for many, instead of one
    /// commit of every aggregate table per commit of the log. Reports and live frames flush first.
    /// A second: each commit writes a row per agent, queue and channel counted in the interval at
    /// each grain (minute, hour, day), so at 100 ms the commits of a busy hub with a few hundred
    /// agents were a tenth of its work (measured at 600 calls a second with 200 agents). Live
    /// frames follow the commits, once a second, as a wallboard does.
    static let commitInterval: Duration = .seconds(1)
    /// Events counted and not committed at most (a long log's first count commits as it goes).
    static let maximumUncommitted = 20_000
    private var uncommitted = 0
    private var lastCommitAt = ContinuousClock.now - .seconds(1)
    private var commitWakeScheduled = false
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
        await wake.follow(store) {
            do {
                try await self.catchUp(flush: false)
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
    /// everything before it committed: the next start goes on from there. `flush`: commit what is
    /// counted at once (a report, which reads the committed figures); without it counts are
    /// committed at most every `commitInterval`.
    public func catchUp(flush: Bool = true) async throws {
        while let current = reading { _ = await current.value }
        let task = Task { await self.readToEnd(flush: flush) }
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
    private func readToEnd(flush: Bool) async -> (any Error)? {
        defer { reading = nil }
        do {
            let generation = self.generation
            try await loadProjector()
            // The projector is changed in place, never copied out of `self` while read: a copy
            // would share its dictionaries (every contact of the last days), and the first change
            // would copy them whole, on every read.
            while true {
                let from = position
                let events = try await store.events(after: from, limit: pageSize)
                // A reload meanwhile dropped the projector: its rules count from the committed state.
                guard generation == self.generation, self.projector != nil else { return nil }
                for event in events { self.projector!.apply(event) }
                if let last = events.last {
                    self.projector!.prune(at: last.occurredAt)
                }
                let next = events.last?.sequence ?? from
                let clock = ContinuousClock.now
                // Counted and not committed yet: committed now when asked, when many events wait
                // (a backlog), when the read is cancelled in a backlog, or when the last commit is
                // `commitInterval` old; else soon.
                let pending = self.projector!.hasChanges || next != committed
                uncommitted += events.count
                let due =
                    flush || uncommitted >= Self.maximumUncommitted || clock - lastCommitAt >= Self.commitInterval
                    || (events.count == pageSize && Task.isCancelled)
                // Refused requests go with a commit of events, or on their own once a second.
                let refusalsAlone = !pending && clock - rejectionsCommittedAt >= .seconds(1) && rejected.withLock { !$0.isEmpty }
                if (pending && due) || refusalsAlone {
                    let counted = rejected.withLock { taken in
                        defer { taken = [:] }
                        return taken
                    }
                    var commit = self.projector!.commit(from: committed, to: next)
                    for (key, count) in counted { commit.deltas[key, default: MetricCounters()][.inboundRejected] += count }
                    do {
                        try await store.commitMetrics(commit)
                        committed = next
                        uncommitted = 0
                        lastCommitAt = clock
                        if !pending { rejectionsCommittedAt = clock }
                        for watcher in watchers.values { watcher.signal() }
                    } catch {
                        // What was applied is not committed: start again from the committed state,
                        // and count the refusals again with the next commit.
                        self.projector = nil
                        rejected.withLock { pending in for (key, count) in counted { pending[key, default: 0] += count } }
                        throw error
                    }
                } else if pending {
                    // Counted with what comes next, and committed within the interval at the latest.
                    wakeLater(after: Self.commitInterval - (clock - lastCommitAt))
                } else if rejected.withLock({ !$0.isEmpty }) {
                    // Refusals wait for their second: look again then.
                    wakeLater(after: .seconds(1) - (clock - rejectionsCommittedAt))
                }
                position = next
                // A reload meanwhile: its rules count from here on, from the committed state.
                if generation != self.generation { self.projector = nil }
                if events.count < pageSize || self.projector == nil || Task.isCancelled { return nil }
            }
        } catch {
            return error
        }
    }

    /// Wakes the service's loop after `delay` (one wake waiting at a time).
    private func wakeLater(after delay: Duration) {
        guard !commitWakeScheduled else { return }
        commitWakeScheduled = true
        Task {
            try? await Task.sleep(for: max(delay, .milliseconds(1)))
            self.wokenLater()
        }
    }

    private func wokenLater() {
        commitWakeScheduled = false
        wake.signal()
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

    private func loadProjector() async throws {
        guard projector == nil else { return }
        let loaded = try MetricsProjector(rules: rules, state: try await store.metricsState())
        position = try await store.metricsPosition() ?? 0
        committed = position
        uncommitted = 0
        projector = loaded
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
        if projector == nil, reading == nil {
            position = try await store.metricsPosition() ?? 0
            committed = position
        }
        if head - position <= Self.waitLimit {
            try await catchUp()
        } else {
            wake.signal()
        }
        return max(0, head - committed)
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
