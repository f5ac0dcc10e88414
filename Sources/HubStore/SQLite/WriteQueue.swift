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
        var statistics = Statistics()
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
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// Writes waiting for a transaction.
    var waiting: Int { state.withLock { $0.pending.count } }

    /// The most writes in one transaction (a transaction holds its callers until it commits).
    static let maximumBatch = 256

    private let pool: DatabasePool
    private let tail: EventTail
    private let commits: EventCommitBroadcaster
    private let state = Mutex(State())

    init(pool: DatabasePool, tail: EventTail, commits: EventCommitBroadcaster) {
        self.pool = pool
        self.tail = tail
        self.commits = commits
    }

    /// Queues `item`; the writer is started if it is not draining the queue already.
    func enqueue(_ item: Item) {
        let start = state.withLock { state in
            state.pending.append(item)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        guard start else { return }
        pool.asyncWriteWithoutTransaction { db in self.drain(db) }
    }

    /// Runs transactions until nothing waits.
    private func drain(_ db: Database) {
        while true {
            let batch = state.withLock { state -> [Item] in
                guard !state.pending.isEmpty else {
                    state.draining = false
                    return []
                }
                state.statistics.transactions += 1
                state.statistics.writes += min(state.pending.count, Self.maximumBatch)
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
            try db.beginTransaction(.deferred)
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
            try db.commit()
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
