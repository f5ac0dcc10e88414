import Dispatch
import GRDB
import HubModel
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every write of the store, gathered: what callers ask for while a commit is under way goes into
/// the next transaction, each write in a savepoint of its own, in the order asked (group commit
/// for the whole store, not one kind of write).
///
/// A transaction in WAL mode writes every page it changed to the log, whole. The hub's writes are
/// small and touch the same pages (the newest leaf of the event table and of its indexes, the
/// newest rows of the conversation, message and call tables), so a transaction per write wrote
/// those pages again and again: about 55 pages (220 KiB) of log per SIP call at 400 calls a
/// second, in about seven transactions. Writes from different parts of the hub (the B2BUA's
/// ingest, the router's records, the call recorder, the metrics) that meet in one transaction
/// write each page once, and the writer thread is woken once for them all.
///
/// Under concurrent load the writer also waits a little before each transaction (a commit delay,
/// as PostgreSQL's `commit_delay` or MySQL's `binlog_group_commit_sync_delay`), so that the
/// writes of the callers in between meet in one: no transaction begins sooner than `window` after
/// the one before it. Without it the writer was idle 40 % of the time at a thousand SIP calls a
/// second and began a transaction for nearly every write (1.2 writes each): each rewrote the same
/// pages and woke every follower of the log. The wait
/// - happens only while writes come from more than one caller at a time (see `Pace`): a caller
///   that waits for each of its writes before the next would only be slowed;
/// - ends at once when `eager` writes wait;
/// - ends when no write has come for a quarter of the window: a fixed set of callers that each
///   wait for their write (32 webhook connections) have all come by then, and waiting on for the
///   whole window held each of them up by a straggler (their p99 doubled).
///
/// A write that throws rolls back its own savepoint only and its caller gets the error; the
/// others commit. An error that ends the transaction itself (the disk full, say) fails every write
/// in it, as it would have failed each of them alone. Callers are answered after the commit, and
/// the log's followers learn of the events first.
final class WriteQueue: Sendable {
    /// One write waiting for its transaction.
    final class Item: @unchecked Sendable {
        // Touched only on the writer's queue (the lock hands it over).
        let run: (Database, inout EventWriter) throws -> Void
        let complete: ((any Error)?) -> Void

        init(run: @escaping (Database, inout EventWriter) throws -> Void, complete: @escaping ((any Error)?) -> Void) {
            self.run = run
            self.complete = complete
        }
    }

    /// A write's value between its run and its completion (both on the writer's queue).
    final class Result<Value>: @unchecked Sendable {
        var value: Value?
    }

    private struct State {
        var pending: [Item] = []
        var draining = false
        /// The writer waits for the window (`wake` ends the wait early).
        var pacing = false
        /// When the last write was asked for.
        var lastArrival = ContinuousClock.now
        var statistics = Statistics()
        var pace = Pace()
    }

    /// When the next transaction may begin: `window` after the last one began, while writes come
    /// from more than one caller at a time. That shows in the transactions themselves: a caller
    /// that waits for each write never puts two in one, callers at once do now and then even
    /// when nothing waits for them (a write that comes while another commits). Once a few of
    /// the last 64 transactions held more than one write, the writer waits; when none has for 64
    /// transactions, it stops waiting.
    struct Pace: Sendable {
        /// One bit per recent transaction, newest lowest: set when it held more than one write.
        private(set) var wide: UInt64 = 0
        private(set) var lastStart: ContinuousClock.Instant?

        /// Transactions of more than one write among the last 64 from which the writer waits.
        static let concurrency = 2

        var waits: Bool { wide.nonzeroBitCount >= Self.concurrency }

        /// A transaction of `writes` writes begins at `start`.
        mutating func began(_ writes: Int, at start: ContinuousClock.Instant) {
            wide = wide << 1 | (writes > 1 ? 1 : 0)
            lastStart = start
        }

        /// How long to wait before the next transaction (zero: begin at once).
        func delay(window: Duration, now: ContinuousClock.Instant) -> Duration {
            // (Callers ask only while fewer than `WriteQueue.eager` writes wait.)
            guard window > .zero, waits, let lastStart else { return .zero }
            return max(.zero, lastStart + window - now)
        }
    }

    /// What the queue has done since the store opened.
    struct Statistics: Sendable, Equatable {
        /// Transactions begun (committed or not).
        var transactions = 0
        /// Writes run in them.
        var writes = 0
        /// Time from each transaction's first write to its writers' answers, summed: the writer
        /// is the store's one serial path, and this over the time passed is how busy it is.
        var busy: Duration = .zero
        /// The writer thread's processor time in the same spans (less than `busy` by the time the
        /// thread waited for a processor or the disk).
        var processor: Duration = .zero
        /// Transactions that waited for the commit window (see `Pace`), and how long in all.
        var paced = 0
        var pacing: Duration = .zero
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// Writes waiting for a transaction.
    var waiting: Int { state.withLock { $0.pending.count } }

    /// Whether the writer waits for the commit window now.
    var isPacing: Bool { state.withLock { $0.pacing } }

    /// The most writes in one transaction (a transaction holds its callers until it commits).
    static let maximumBatch = 256
    /// Writes waiting with which a transaction begins at once, window or not.
    static let eager = 16

    private let pool: DatabasePool
    private let tail: EventTail
    private let commits: EventCommitBroadcaster
    /// The least time between the starts of two transactions under concurrent load (see `Pace`).
    let window: Duration
    private let state = Mutex(State())
    /// Ends the writer's wait for the window when `eager` writes wait.
    private let wake = DispatchSemaphore(value: 0)

    init(pool: DatabasePool, tail: EventTail, commits: EventCommitBroadcaster, window: Duration = .zero) {
        self.pool = pool
        self.tail = tail
        self.commits = commits
        self.window = window
    }

    /// Queues `item`; the writer is started if it is not draining the queue already.
    func enqueue(_ item: Item) {
        let (start, wakeWriter) = state.withLock { state in
            state.pending.append(item)
            state.lastArrival = .now
            if state.pacing, state.pending.count >= Self.eager {
                state.pacing = false
                return (false, true)
            }
            guard !state.draining else { return (false, false) }
            state.draining = true
            return (true, false)
        }
        if wakeWriter { wake.signal() }
        guard start else { return }
        pool.asyncWriteWithoutTransaction { db in self.drain(db) }
    }

    /// Runs transactions until nothing waits.
    private func drain(_ db: Database) {
        while true {
            // (The writer's thread waits: nothing but this queue's transactions runs on it.)
            let delay = state.withLock { state -> Duration in
                guard !state.pending.isEmpty, state.pending.count < Self.eager else { return .zero }
                let delay = state.pace.delay(window: window, now: .now)
                state.pacing = delay > .zero
                return delay
            }
            if delay > .zero { pace(delay) }
            let batch = state.withLock { state -> [Item] in
                guard !state.pending.isEmpty else {
                    state.draining = false
                    return []
                }
                state.statistics.transactions += 1
                state.statistics.writes += min(state.pending.count, Self.maximumBatch)
                state.pace.began(min(state.pending.count, Self.maximumBatch), at: .now)
                guard state.pending.count > Self.maximumBatch else {
                    defer { state.pending.removeAll(keepingCapacity: true) }
                    return state.pending
                }
                defer { state.pending.removeFirst(Self.maximumBatch) }
                return Array(state.pending.prefix(Self.maximumBatch))
            }
            guard !batch.isEmpty else { return }
            let started = ContinuousClock.now
            let startedProcessor = Self.threadProcessorTime()
            commit(batch, db)
            let busy = started.duration(to: .now)
            let processor = Self.threadProcessorTime() - startedProcessor
            state.withLock { state in
                state.statistics.busy += busy
                state.statistics.processor += processor
            }
        }
    }

    /// Waits up to `delay` for the window: less when `eager` writes come meanwhile, or when none
    /// has come for a quarter of the window.
    private func pace(_ delay: Duration) {
        let started = ContinuousClock.now
        let deadline = started + delay
        let quiet = window / 4
        while true {
            let wakeAt: ContinuousClock.Instant? = state.withLock { state in
                guard state.pacing else { return nil }
                let now = ContinuousClock.now
                let end = min(deadline, state.lastArrival + quiet)
                if now >= end {
                    state.pacing = false
                    return nil
                }
                return end
            }
            guard let wakeAt else { break }
            let left = ContinuousClock.now.duration(to: wakeAt)
            let nanoseconds = max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
            if wake.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success { break }
            // Timed out: a wake sent meanwhile (by `enqueue`, which ended the pacing) is taken
            // here, so that the next wait is whole.
            let woken = state.withLock { !$0.pacing }
            if woken {
                wake.wait()
                break
            }
        }
        let waited = started.duration(to: .now)
        state.withLock { state in
            state.statistics.paced += 1
            state.statistics.pacing += waited
        }
    }

    /// The calling thread's processor time so far.
    static func threadProcessorTime() -> Duration {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return .zero }
        return .seconds(Int64(time.tv_sec)) + .nanoseconds(Int64(time.tv_nsec))
    }

    /// One transaction for `batch`.
    private func commit(_ batch: [Item], _ db: Database) {
        var failures = [(any Error)?](repeating: nil, count: batch.count)
        var events = EventWriter(db: db)
        do {
            if !tail.isStarted {
                // Before the first transaction of this process: nothing is committed in between.
                tail.start(after: try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM event")) ?? 0)
            }
            // (Cached: GRDB's beginTransaction and commit prepare their statements each time.)
            try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
            if batch.count == 1 {
                // Alone, the write needs no savepoint: its error rolls the transaction back.
                try batch[0].run(db, &events)
            } else {
                for (index, item) in batch.enumerated() {
                    try db.cachedStatement(sql: "SAVEPOINT hub_write").execute()
                    let mark = events.mark
                    do {
                        try item.run(db, &events)
                        try db.cachedStatement(sql: "RELEASE SAVEPOINT hub_write").execute()
                    } catch {
                        failures[index] = error
                        events.rollBack(to: mark)
                        // SQLite ends the whole transaction on some errors (I/O, full disk): the
                        // writes before this one are gone with it.
                        guard db.isInsideTransaction else { throw error }
                        try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT hub_write").execute()
                        try db.cachedStatement(sql: "RELEASE SAVEPOINT hub_write").execute()
                    }
                }
            }
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
        } catch {
            if db.isInsideTransaction { try? db.rollback() }
            for (index, item) in batch.enumerated() { item.complete(failures[index] ?? error) }
            return
        }
        tail.append(events.appended)
        if let last = events.lastSequence { commits.publish(last) }
        for (index, item) in batch.enumerated() { item.complete(failures[index]) }
    }
}
