import Foundation
import GRDB
import HubModel
@testable import HubStore
import Synchronization
import Testing

@Suite("The store's writes, gathered into transactions")
struct WriteQueueTests {
    /// A write that holds the writer until the test lets it go.
    final class Gate: Sendable {
        let entered = DispatchSemaphore(value: 0)
        let released = DispatchSemaphore(value: 0)
    }

    static func open(commitWindow: Duration = .zero) async throws -> (SQLiteStore, URL) {
        let (directory, path) = SQLiteStoreTests.temporaryPath()
        let store = try SQLiteStore(configuration: .init(path: path, durability: .normal, commitWindow: commitWindow))
        try await store.migrate()
        try await store.write { db, _ in try db.execute(sql: "CREATE TABLE probe (n INTEGER NOT NULL UNIQUE)") }
        return (store, directory)
    }

    @Test("writes asked for during a commit share the next transaction; one that fails rolls back alone, its rows and events with it")
    func gathered() async throws {
        let (store, directory) = try await Self.open()
        defer { try? FileManager.default.removeItem(at: directory) }
        let before = store.writes.statistics
        let gate = Gate()
        let holding = Task {
            try await store.write { db, _ in
                gate.entered.signal()
                gate.released.wait()
                try db.execute(sql: "INSERT INTO probe (n) VALUES (0)")
            }
        }
        await Task.detached { gate.entered.wait() }.value
        let date = Date(millisecondsSince1970: 1_795_000_000_000)
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for n in 1...20 {
                group.addTask {
                    do {
                        try await store.write { db, events in
                            try events.append(.agentPresence, at: date, actor: .system, refs: EventRefs(), payload: ["n": "\(n)"])
                            try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [n])
                            // The seventh writes a row, an event, then fails: both must go.
                            if n == 7 { throw StoreError.invalid("the seventh fails") }
                        }
                        return (n, true)
                    } catch let error as StoreError {
                        #expect(error.code == .invalid)
                        return (n, false)
                    }
                }
            }
            // All twenty wait behind the held write before it is let go.
            while store.writes.waiting < 20 { try await Task.sleep(for: .milliseconds(1)) }
            gate.released.signal()
            try await holding.value
            var results: [Int: Bool] = [:]
            for try await (n, succeeded) in group { results[n] = succeeded }
            return results
        }
        #expect(results == Dictionary(uniqueKeysWithValues: (1...20).map { ($0, $0 != 7) }))
        let after = store.writes.statistics
        #expect(after.transactions - before.transactions == 2)
        #expect(after.writes - before.writes == 21)
        // The held transaction alone kept the writer busy while the twenty queued (at least the
        // milliseconds of polling above); its processor time is part of that, never more.
        #expect(after.busy - before.busy > .milliseconds(1))
        #expect(after.processor > before.processor && after.processor - before.processor <= after.busy - before.busy)
        let published = try #require(store.writerStatistics)
        #expect(published.transactions == after.transactions && published.writes == after.writes)
        #expect(published.busySeconds >= 0.001 && published.processorSeconds <= published.busySeconds)
        let rows = try await store.read { db in try Int.fetchAll(db, sql: "SELECT n FROM probe ORDER BY n") }
        #expect(rows == [0] + (1...20).filter { $0 != 7 })
        // The log has the nineteen events in the order asked, with no gap where the seventh's was,
        // in the tail and in the database alike.
        let expected = (1...20).filter { $0 != 7 }.map { JSONValue.string("\($0)") }
        let tail = try await store.events(after: 0, limit: 100).filter { $0.kind == .agentPresence }
        let stored = try await store.storedEvents(after: 0, limit: 100).filter { $0.kind == .agentPresence }
        #expect(tail.map { $0.payload["n"] } == expected)
        #expect(stored.map(\.sequence) == tail.map(\.sequence))
        #expect(zip(stored.dropFirst(), stored).allSatisfy { $0.sequence == $1.sequence + 1 })
    }

    @Test("the commit window waits only while transactions show writes from several callers, and stops when they stop")
    func paceFollowsConcurrency() {
        var pace = WriteQueue.Pace()
        let start = ContinuousClock.now
        let window = Duration.milliseconds(8)
        // One caller waiting for each write: never two in a transaction, never a wait.
        for step in 0..<100 { pace.began(1, at: start + .microseconds(step * 300)) }
        #expect(!pace.waits)
        #expect(pace.delay(window: window, now: start + .milliseconds(30)) == .zero)
        // One transaction of two writes is not yet load; the second is.
        pace.began(2, at: start + .milliseconds(31))
        #expect(!pace.waits)
        pace.began(3, at: start + .milliseconds(32))
        #expect(pace.waits)
        #expect(pace.delay(window: window, now: start + .milliseconds(35)) == .milliseconds(5))
        #expect(pace.delay(window: window, now: start + .milliseconds(40)) == .zero)
        #expect(pace.delay(window: .zero, now: start + .milliseconds(35)) == .zero)
        // It stops once none of the last 64 transactions held more than one write.
        for step in 0..<62 { pace.began(1, at: start + .milliseconds(40 + step)) }
        #expect(pace.waits)
        pace.began(1, at: start + .milliseconds(102))
        #expect(!pace.waits)
        #expect(pace.delay(window: window, now: start + .milliseconds(103)) == .zero)
    }

    @Test("a store's writer paces its transactions under concurrent writes, never a caller that waits for each write; every write commits")
    func commitWindow() async throws {
        let window = Duration.milliseconds(100)
        let (store, directory) = try await Self.open(commitWindow: window)
        defer { try? FileManager.default.removeItem(at: directory) }
        // One caller, one write after the other: no transaction waits.
        for n in 3001...3010 { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [n]) } }
        #expect(store.writes.statistics.paced == 0)
        // Concurrent load: two transactions of several writes, made so behind a held transaction
        // (left to the timing of tasks, a loaded machine may run them one by one). Then many
        // writes at once, in rounds: each transaction begins a window after the one before, or
        // when a quarter of the window passed without a write.
        let clock = ContinuousClock()
        let began = clock.now
        try await Self.establishConcurrency(store)
        for round in 0..<15 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for k in 0..<8 {
                    let n = 100 + round * 8 + k
                    group.addTask { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [n]) } }
                }
                try await group.waitForAll()
            }
        }
        let elapsed = began.duration(to: clock.now)
        let statistics = store.writes.statistics
        #expect(statistics.paced >= 1 && statistics.pacing > .zero)
        // The paced transactions' waits are part of the time the rounds took.
        #expect(elapsed >= statistics.pacing)
        let published = try #require(store.writerStatistics)
        #expect(published.pacedTransactions == statistics.paced && published.pacingSeconds > 0)
        let count = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM probe") }
        #expect(count == 10 + 6 + 120)
        #expect(statistics.transactions < statistics.writes)
        // Back to one caller: after 64 transactions of one write each it no longer waits.
        for n in 1000..<1064 { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [n]) } }
        let paced = store.writes.statistics.paced
        for n in 2000..<2020 { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [n]) } }
        #expect(store.writes.statistics.paced == paced)
    }

    /// Two transactions of several writes (queued behind a held one): concurrent load.
    static func establishConcurrency(_ store: SQLiteStore) async throws {
        for round in 0..<2 {
            let gate = Gate()
            let holding = Task { try await store.write { _, _ in gate.entered.signal(); gate.released.wait() } }
            await Task.detached { gate.entered.wait() }.value
            let queued = (0..<3).map { k in
                Task { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [round * 10 + k]) } }
            }
            while store.writes.waiting < 3 { try await Task.sleep(for: .milliseconds(1)) }
            gate.released.signal()
            try await holding.value
            for task in queued { try await task.value }
        }
    }

    @Test("a transaction begins at once when sixteen writes wait, however long the window")
    func eagerWrites() async throws {
        let (store, directory) = try await Self.open(commitWindow: .seconds(40))
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.establishConcurrency(store)
        // The next transaction waits for the window (and ten seconds without a write); the
        // sixteenth write ends the wait, fifteen do not.
        let clock = ContinuousClock()
        let began = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (100)") } }
            while !store.writes.isPacing { try await Task.sleep(for: .milliseconds(1)) }
            for k in 1..<WriteQueue.eager - 1 {
                group.addTask { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [100 + k]) } }
            }
            while store.writes.waiting < WriteQueue.eager - 1 { try await Task.sleep(for: .milliseconds(1)) }
            try await Task.sleep(for: .milliseconds(50))
            #expect(store.writes.isPacing && store.writes.waiting == WriteQueue.eager - 1)
            group.addTask { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (115)") } }
            try await group.waitForAll()
        }
        #expect(began.duration(to: clock.now) < .seconds(5))
        let statistics = store.writes.statistics
        #expect(statistics.paced >= 1 && statistics.pacing < .seconds(5))
        let count = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM probe WHERE n >= 100") }
        #expect(count == WriteQueue.eager)
    }

    @Test("a wait for the window ends when no write has come for a quarter of it: a few callers that each wait for their write are not held the whole window")
    func quietEndsTheWait() async throws {
        let window = Duration.seconds(4)
        let (store, directory) = try await Self.open(commitWindow: window)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await Self.establishConcurrency(store)
        let clock = ContinuousClock()
        let began = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for k in 0..<3 {
                group.addTask { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (?)", arguments: [200 + k]) } }
            }
            try await group.waitForAll()
        }
        let elapsed = began.duration(to: clock.now)
        // A quarter of the window after the last of them came, not the window.
        #expect(elapsed >= window / 4 - .milliseconds(100) && elapsed < window - .milliseconds(500))
        #expect(store.writes.statistics.paced >= 1)
        let count = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM probe WHERE n >= 200") }
        #expect(count == 3)
    }

    @Test("an error that ends the transaction itself fails every write in it, and the queue goes on")
    func transactionLost() async throws {
        let (store, directory) = try await Self.open()
        defer { try? FileManager.default.removeItem(at: directory) }
        let gate = Gate()
        let holding = Task {
            try await store.write { _, _ in
                gate.entered.signal()
                gate.released.wait()
            }
        }
        await Task.detached { gate.entered.wait() }.value
        let first = Task { try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (1)") } }
        while store.writes.waiting < 1 { try await Task.sleep(for: .milliseconds(1)) }
        // A ROLLBACK inside a write ends the transaction under every write in it.
        let second = Task { try await store.write { db, _ in try db.execute(sql: "ROLLBACK") } }
        while store.writes.waiting < 2 { try await Task.sleep(for: .milliseconds(1)) }
        gate.released.signal()
        try await holding.value
        for outcome in [await first.result, await second.result] {
            guard case .failure = outcome else {
                Issue.record("a write of the lost transaction succeeded")
                continue
            }
        }
        // Nothing of that transaction is stored, and the next write works.
        try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (2)") }
        #expect(try await store.read { db in try Int.fetchAll(db, sql: "SELECT n FROM probe") } == [2])
    }

    @Test("quick reads on the calling thread and the pool's asynchronous reads, many at once, all finish")
    func quickAndPooledReads() async throws {
        let (store, directory) = try await Self.open()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (1)") }
        // More of each than there are cooperative threads and pool readers: a quick read that
        // waited for a pool reader could block every cooperative thread while the pool's readers
        // wait for one to give themselves back.
        let finished = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    if index.isMultiple(of: 2) {
                        return try store.readNow { db in
                            usleep(200)
                            return try Int.fetchOne(db, sql: "SELECT n FROM probe") ?? 0
                        }
                    }
                    return try await store.read { db in
                        usleep(200)
                        return try Int.fetchOne(db, sql: "SELECT n FROM probe") ?? 0
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(finished == 200)
    }

    final class Tally: Sendable {
        let count = Atomic<Int>(0)
    }

    /// A quick read does not wait for another one in progress (each cooperative thread has a
    /// reader of its own); with every reader busy, a read takes its turn on one of them.
    @Test func quickReadsSideBySide() async throws {
        let (store, directory) = try await Self.open()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.write { db, _ in try db.execute(sql: "INSERT INTO probe (n) VALUES (1)") }
        #expect(SQLiteStore.quickReaderCount >= 2)
        // On threads of their own: the first read is held open while the others run.
        let (sideBySide, turns) = await withCheckedContinuation { (continuation: CheckedContinuation<(Bool, Int), Never>) in
            Thread {
                let holding = DispatchSemaphore(value: 0)
                let release = DispatchSemaphore(value: 0)
                let finished = DispatchSemaphore(value: 0)
                let readers = SQLiteStore.quickReaderCount
                /// A quick read held open until `release`.
                func hold() {
                    Thread {
                        _ = try? store.readNow { db in
                            holding.signal()
                            release.wait()
                            return try Int.fetchOne(db, sql: "SELECT n FROM probe")
                        }
                        finished.signal()
                    }.start()
                    holding.wait()
                }
                for _ in 0..<readers - 1 { hold() }
                // One reader is left: this read does not wait for the held ones.
                let second = DispatchSemaphore(value: 0)
                Thread {
                    _ = try? store.readNow { db in try Int.fetchOne(db, sql: "SELECT n FROM probe") }
                    second.signal()
                }.start()
                let ok = second.wait(timeout: .now() + 10) == .success
                // Every reader held: reads take turns, and all of them finish once released.
                let extra = DispatchSemaphore(value: 0)
                let turnsTaken = Tally()
                hold()
                for _ in 0..<4 {
                    Thread {
                        if (try? store.readNow { db in try Int.fetchOne(db, sql: "SELECT n FROM probe") }) == 1 { turnsTaken.count.add(1, ordering: .relaxed) }
                        extra.signal()
                    }.start()
                }
                for _ in 0..<readers { release.signal() }
                for _ in 0..<readers { finished.wait() }
                for _ in 0..<4 { extra.wait() }
                if !ok { second.wait() }
                continuation.resume(returning: (ok, turnsTaken.count.load(ordering: .relaxed)))
            }.start()
        }
        #expect(sideBySide)
        #expect(turns == 4)
    }

    @Test("JSON columns read without the decoder come out as the decoder reads them")
    func jsonColumns() throws {
        let columns = JSONColumns()
        let decoder = HubJSON.makeDecoder()
        func agree<T: Decodable & Equatable>(_ type: T.Type, _ text: String) throws {
            let decoded = try? decoder.decode(T.self, from: Data(text.utf8))
            let read = try? columns.value(T.self, from: text)
            #expect(read == decoded, "\(T.self) from \(text)")
            #expect(decoded != nil || read == nil)
        }
        for text in ["{}", "{ }", #"{"a":"1","b":"\u00e9\n\"q\"","":""}"#, #"{"a":1}"#, "[]", "null", #"{"a":null}"#] {
            try agree([String: String].self, text)
        }
        for text in ["{}", #"{"n":1,"x":1.5,"s":"t","b":true,"z":null,"o":{"k":[1,"2"]},"big":18446744073709551615}"#, "[1]"] {
            try agree([String: JSONValue].self, text)
        }
        for text in ["[]", "[ ]", #"["a","\ud83d\ude00",""]"#, #"["a",1]"#, "{}"] {
            try agree([String].self, text)
        }
        try agree([Int].self, "[]")
        try agree([String: Int].self, "{}")
        try agree([String: Int].self, #"{"voice":1}"#)
    }
}
