import CSQLiteSettings
import Foundation
import GRDB
import GRDBSQLite
import HubModel
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded store: one SQLite file in WAL mode, one writer and several readers (GRDB's
/// `DatabasePool`). A lock file keeps a second hub process from opening the same database.
public final class SQLiteStore: HubStore {
    /// How to open the database.
    public struct Configuration: Sendable {
        public var path: String
        /// `full` syncs the WAL to disk at every commit, so an acknowledged message survives a power
        /// cut; `normal` survives a crash of the process but not of the machine.
        public var durability: Durability
        public var maximumReaderCount: Int
        /// How long a statement waits for a lock held by a checkpoint.
        public var busyTimeout: Duration

        /// Recent events kept in memory for the log's followers.
        public var tailCapacity: Int
        /// Under concurrent load, the least time between the starts of two transactions, so that
        /// more writes meet in each (see `WriteQueue`); zero: every transaction begins at once.
        public var commitWindow: Duration

        public init(
            path: String, durability: Durability = .full, maximumReaderCount: Int = 4, busyTimeout: Duration = .seconds(5),
            tailCapacity: Int = 8_192, commitWindow: Duration = .zero
        ) {
            self.path = path
            self.commitWindow = commitWindow
            self.tailCapacity = tailCapacity
            self.durability = durability
            self.maximumReaderCount = maximumReaderCount
            self.busyTimeout = busyTimeout
        }
    }

    /// The `synchronous` setting of the database.
    public enum Durability: String, Sendable, CaseIterable {
        case full
        case normal
    }

    let pool: DatabasePool
    /// A second connection that only runs checkpoints, so they never wait behind (or hold up) the writer.
    let checkpointer: DatabaseQueue
    /// The readers of `readNow`, and which of them a read holds.
    let quickReaders: [DatabaseQueue]
    /// One bit per quick reader, set while a read holds it.
    private let quickReadersBusy = Atomic<Int>(0)
    private let quickReaderTurn = Atomic<Int>(0)
    let commits = EventCommitBroadcaster()
    /// Customers known to have no ticket (see `TicketlessCustomers`).
    let ticketless = TicketlessCustomers()
    /// The last committed events, for the log's followers (see `EventTail`).
    let tail: EventTail
    /// Every write, gathered into transactions (see `WriteQueue`).
    let writes: WriteQueue
    private let lock: ProcessLock
    public let configuration: Configuration
    public var isExclusive: Bool { true }

    /// Whether this process turned SQLite's memory statistics off, before its first connection
    /// (see `CSQLiteSettings.h`): counting them took a global lock at every allocation and free
    /// of the library, about 0.6 % of the hub's processor time under load, for a count nothing
    /// reads. False when a connection came first (a test process, say): then they stay on.
    static let memoryStatisticsOff = csqlite_disable_memory_statistics()
    /// The bytes SQLite counts as in use (0 while its statistics are off).
    static var memoryCounted: Int64 { sqlite3_memory_used() }

    /// Opens (creating if needed) the database at `configuration.path`.
    /// - Throws: `StoreError.unavailable` when another process holds the database, or SQLite
    ///   cannot open it.
    public init(configuration: Configuration) throws {
        _ = Self.memoryStatisticsOff
        self.configuration = configuration
        tail = EventTail(capacity: configuration.tailCapacity)
        let directory = URL(fileURLWithPath: configuration.path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        lock = try ProcessLock(path: configuration.path + ".lock")
        var config = GRDB.Configuration()
        config.label = "hub.store"
        config.maximumReaderCount = configuration.maximumReaderCount
        config.busyMode = .timeout(Double(configuration.busyTimeout.components.seconds))
        let synchronous = configuration.durability == .full ? "FULL" : "NORMAL"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Checkpoints run in the background (`runCheckpoints`), off the path of commits; the
            // automatic one is only a safety net for when nothing runs them (about 40 MB of log).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        do {
            pool = try DatabasePool(path: configuration.path, configuration: config)
            var checkpointConfig = GRDB.Configuration()
            checkpointConfig.label = "hub.store.checkpoint"
            checkpointConfig.busyMode = .timeout(Double(configuration.busyTimeout.components.seconds))
            checkpointConfig.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
            checkpointer = try DatabaseQueue(path: configuration.path, configuration: checkpointConfig)
            var quickConfig = GRDB.Configuration()
            quickConfig.label = "hub.store.quick"
            quickConfig.readonly = true
            quickConfig.busyMode = .timeout(Double(configuration.busyTimeout.components.seconds))
            quickConfig.prepareDatabase { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
            quickReaders = try (0..<Self.quickReaderCount).map { _ in try DatabaseQueue(path: configuration.path, configuration: quickConfig) }
        } catch {
            throw StoreError(.unavailable, "cannot open \(configuration.path): \(error)")
        }
        writes = WriteQueue(pool: pool, tail: tail, commits: commits, window: configuration.commitWindow)
    }

    /// One quick reader per cooperative thread (Swift's pool has one per processor), at most four:
    /// with one, the second of two reads at once blocked its thread until the first was done.
    static let quickReaderCount = min(4, max(2, ProcessInfo.processInfo.activeProcessorCount))

    /// Copies committed pages from the write-ahead log into the database file. Passive: it never
    /// blocks a commit, and commits never wait for it.
    /// - Returns: pages in the log and pages copied so far.
    @discardableResult
    public func checkpoint() async throws -> (logPages: Int, checkpointedPages: Int) {
        try await checkpointer.writeWithoutTransaction { db in
            let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            return (row?[1] ?? 0, row?[2] ?? 0)
        }
    }

    /// Checkpoints every `interval` until the task is cancelled. Run it beside the hub (the server
    /// does); without it the automatic checkpoint inside commits takes over at about 40 MB of log.
    public func runCheckpoints(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                try await checkpoint()
            } catch is CancellationError {
                return
            } catch {
                // A failed checkpoint loses nothing: the log keeps every commit. Try again later.
                continue
            }
        }
    }

    public func migrate() async throws {
        try SQLiteSchema.migrator.migrate(pool)
    }

    public var writerStatistics: StoreWriterStatistics? {
        let statistics = writes.statistics
        return StoreWriterStatistics(
            transactions: statistics.transactions, writes: statistics.writes, busySeconds: Self.seconds(statistics.busy),
            processorSeconds: Self.seconds(statistics.processor), pacedTransactions: statistics.paced, pacingSeconds: Self.seconds(statistics.pacing))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The journal mode in use ("wal").
    public func journalMode() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Runs `body` in a write transaction with an event writer, in a savepoint of its own beside
    /// the other writes asked for meanwhile (see `WriteQueue`); after the commit, still inside the
    /// serialized writer, the transaction's events join the in-memory tail of the log, and then
    /// subscribers learn the new last sequence number. A task cancelled before it asks writes
    /// nothing; once queued, the write is done and answered.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database, inout EventWriter) throws -> T) async throws -> T {
        try Task.checkCancellation()
        return try await withUnsafeThrowingContinuation { continuation in
            write(body) { continuation.resume(with: $0) }
        }
    }

    /// `write` with a callback instead of a continuation, called on the writer's queue.
    func write<T: Sendable>(
        _ body: @escaping @Sendable (Database, inout EventWriter) throws -> T, completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let box = WriteQueue.Result<T>()
        writes.enqueue(
            WriteQueue.Item(
                run: { db, events in box.value = try body(db, &events) },
                complete: { error in
                    if let error {
                        completion(.failure(error))
                    } else if let value = box.value {
                        completion(.success(value))
                    } else {
                        completion(.failure(StoreError(.unavailable, "the write transaction ended without a result")))
                    }
                }))
    }

    /// Runs `body` on a reader (GRDB's asynchronous read: on the reader's dispatch queue).
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    /// Runs `body` on the quick reader, on the calling thread: for the short reads (a few rows by
    /// key) the hub makes for every call and message. A read in WAL mode never waits for the
    /// writer, so it is computation like any other, not blocking I/O; GRDB's asynchronous read
    /// hops to a reader's dispatch queue and back, two thread wake-ups that cost more than such a
    /// read itself. Long reads (reports, pages of the log, searches) stay on `read`, off the
    /// cooperative threads.
    ///
    /// The quick reader is a connection of its own, not one of the pool's: a cooperative thread
    /// waiting for a pool reader could wait for ever, since the pool's asynchronous reads give
    /// their reader back from a cooperative thread. A read takes a free quick reader; with all of
    /// them reading (more reads at once than cooperative threads: reads from other threads), it
    /// takes its turn on one of them, whose reads depend on nothing.
    func readNow<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        var busy = quickReadersBusy.load(ordering: .relaxed)
        while true {
            let free = (~busy).trailingZeroBitCount
            guard free < quickReaders.count else { break }
            let (exchanged, now) = quickReadersBusy.compareExchange(expected: busy, desired: busy | 1 << free, ordering: .acquiring)
            if exchanged {
                defer { quickReadersBusy.bitwiseXor(1 << free, ordering: .releasing) }
                return try quickReaders[free].inDatabase { db in try Self.readTransaction(db, body) }
            }
            busy = now
        }
        let turn = quickReaderTurn.wrappingAdd(1, ordering: .relaxed).oldValue
        return try quickReaders[turn % quickReaders.count].inDatabase { db in try Self.readTransaction(db, body) }
    }

    /// `body` in a read transaction of its own (one snapshot for all its statements), begun and
    /// ended by cached statements: GRDB's `read` prepares its BEGIN and COMMIT again each time,
    /// which cost more than the reads of a few rows by key that the quick readers make.
    private static func readTransaction<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
        defer {
            // A read transaction ends with COMMIT; should that fail, it is rolled back, so that
            // the reader never keeps a snapshot (it would hold back checkpoints).
            if (try? db.cachedStatement(sql: "COMMIT TRANSACTION").execute()) == nil, db.isInsideTransaction { try? db.rollback() }
        }
        return try body(db)
    }
}

/// An exclusive `flock` on a file next to the database, held while the store is open. The kernel
/// releases it when the process dies, so a crash never leaves a stale lock behind.
final class ProcessLock: Sendable {
    private let descriptor: Int32

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(.unavailable, "cannot create lock file \(path): errno \(errno)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(.unavailable, "the database is in use by another hub process (lock \(path) is held)")
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
