import Foundation
import GRDB
import HubModel
@testable import HubStore
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    static func temporaryPath() -> (URL, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hub-sqlite-\(UUID().uuidString)")
        return (directory, directory.appendingPathComponent("hub.sqlite").path)
    }

    @Test("conversation changes and string objects are written as JSONEncoder writes them")
    func directPayloads() throws {
        let encoder = HubJSON.makeEncoder()
        let columns = JSONColumns()
        let date = Date(millisecondsSince1970: 1_795_000_000_123)
        let conversation = Conversation(
            id: "cnv_1", customerID: "cus_1", handleID: nil, channelKind: .voice, channelAccountID: "trunk", status: .open, queueID: "support",
            priority: 3, assigneeID: "alice", attributes: ["intent": "billing", "sentiment": "angry \"very\""], createdAt: date)
        for payload in [
            ConversationUpdatedPayload(conversation: conversation, changes: ["assigneeID", "status"], previousAssigneeID: "bo"),
            ConversationUpdatedPayload(conversation: conversation, changes: []),
        ] {
            #expect(try columns.text(payload) == String(decoding: try encoder.encode(payload), as: UTF8.self))
            #expect(try ConversationUpdatedPayload(json: JSONReader.parse(columns.text(payload))) == payload)
            guard case .object(var object) = try JSONReader.parse(columns.text(payload)), case .object(var inner)? = object["conversation"] else {
                Issue.record("not an object")
                continue
            }
            inner["priority"] = .string("high")
            object["conversation"] = .object(inner)
            #expect {
                try ConversationUpdatedPayload(json: .object(object))
            } throws: { error in
                (error as? JSONFields.Failure)?.field == "conversation.priority"
            }
        }
        // A new customer's payload (written for every first call from a new number), with and
        // without handles and optional fields.
        let customer = Customer(id: "cus_1", name: "Wang \"Li\"", tags: ["vip", "深圳"], ownerAgentID: "alice", createdAt: date)
        let handle = Handle(id: "hdl_1", customerID: "cus_1", address: HandleAddress(kind: .phone, address: "+8613800138000"), createdAt: date)
        for payload in [
            CustomerCreatedPayload(customer: customer, handles: [handle]),
            CustomerCreatedPayload(customer: Customer(id: "cus_2", createdAt: date), handles: []),
        ] {
            #expect(try columns.text(payload) == String(decoding: try encoder.encode(payload), as: UTF8.self))
        }
        // Keys in the order of their UTF-8 bytes, as JSONEncoder sorts them: a decomposed "é"
        // ("e" and a combining accent) before "f", where String's order puts it after.
        let strings = ["b": "2", "a": "1\n", "ä": "x", "e\u{301}": "decomposed", "f": "f"]
        #expect(try columns.text(strings) == String(decoding: try encoder.encode(strings), as: UTF8.self))
        #expect(try columns.text([String: String]()) == "{}")
    }

    @Test("SQLite's memory statistics are off when the store came first, and nothing is counted then")
    func memoryStatistics() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        _ = try await store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") }
        // (In the hub the store opens the process's first connection. In this test process
        // another test may have opened one first; the setting then stays on, and counts.)
        if SQLiteStore.memoryStatisticsOff {
            #expect(SQLiteStore.memoryCounted == 0)
        } else {
            #expect(SQLiteStore.memoryCounted > 0)
        }
    }

    @Test("customers, conversations and calls are read by position: their tables' columns come in the decoders' order")
    func positionalRows() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        for (table, columns) in [
            ("customer", SQLiteRows.customerColumns), ("conversation", SQLiteRows.conversationColumns), ("call", SQLiteRows.callColumns),
        ] {
            let names = try await store.read { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table]) }
            #expect(Array(names.prefix(columns.count)) == columns, "\(table)")
        }
    }

    @Test("a conversation's change writes the columns it touched, and reads back as the change returned it")
    func partialConversationUpdates() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        let receipt = try await store.ingestOne(Fixture.inbound(providerID: "m1", at: 1, attributes: ["intent": "billing"]))
        let id = receipt.conversationID
        let changes: [ConversationChange] = [
            ConversationChange(assigneeID: .some("alice")),
            ConversationChange(queueID: .some("vip"), priority: 7),
            ConversationChange(subject: .some("Refund \"now\""), attributes: ["intent": nil, "sentiment": "angry"]),
            ConversationChange(status: .closed),
            ConversationChange(status: .open, queueID: .some(nil), assigneeID: .some(nil), subject: .some(nil)),
            ConversationChange(priority: 7),  // no change at all
        ]
        for (index, change) in changes.enumerated() {
            let returned = try await store.updateConversation(id, change, at: Fixture.date(Double(10 + index)), actor: .admin)
            #expect(try await store.conversation(id) == returned, "after change \(index)")
        }
        let final = try #require(try await store.conversation(id))
        #expect(final.status == .open && final.closedAt == nil && final.assigneeID == nil && final.queueID == nil && final.subject == nil)
        #expect(final.attributes == ["sentiment": "angry"] && final.priority == 7)
        #expect(final.updatedAt == Fixture.date(14))
        // Alice stays among those who may read it.
        #expect(try await store.wasAssigned(id, to: "alice"))
    }

    @Test("the database is in WAL mode and migrations can run again")
    func walAndMigrations() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        try await store.migrate()
        #expect(try await store.journalMode() == "wal")
    }

    @Test("the event log keeps the indexes its reads use: by customer and by ticket, not by conversation or agent (v15)")
    func eventIndexes() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: path)
        let eventIndexes = { @Sendable () async throws -> [String] in
            try await pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event' ORDER BY name") }
        }
        try SQLiteSchema.migrator.migrate(pool, upTo: "v14: the inbound mail spool")
        #expect(try await eventIndexes() == ["event_by_agent", "event_by_conversation", "event_by_customer", "event_by_ticket"])
        try SQLiteSchema.migrator.migrate(pool)
        #expect(try await eventIndexes() == ["event_by_customer", "event_by_ticket"])
        // The reads of the log by customer (a timeline, both ways) and by ticket still find their rows by index.
        let plans = try await pool.read { db in
            try [
                "SELECT * FROM event WHERE customerID = 'c' AND seq > 0 ORDER BY seq LIMIT 5",
                "SELECT * FROM event WHERE customerID = 'c' AND seq < 9 ORDER BY seq DESC LIMIT 5",
                "SELECT * FROM event WHERE ticketID = 't' AND seq > 0 ORDER BY seq LIMIT 5",
            ].map { sql in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "; ") }
        }
        #expect(plans[0].contains("USING INDEX event_by_customer") && !plans[0].contains("TEMP B-TREE"), "\(plans[0])")
        #expect(plans[1].contains("USING INDEX event_by_customer") && !plans[1].contains("TEMP B-TREE"), "\(plans[1])")
        #expect(plans[2].contains("USING INDEX event_by_ticket") && !plans[2].contains("TEMP B-TREE"), "\(plans[2])")
    }

    static func eventRows(_ db: Database) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT * FROM event ORDER BY seq").map(\.description)
    }

    @Test("v16 renumbers nothing: the log's rows keep their numbers and indexes, and the next event takes the largest plus one")
    func eventLogWithoutAutoincrement() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: path)
        try SQLiteSchema.migrator.migrate(pool, upTo: "v15: the event log's unread indexes dropped")
        // A log written before v16: numbers 1 to 5, the newest with a customer and a ticket.
        try await pool.write { db in
            for seq in 1...5 {
                try db.execute(
                    sql: "INSERT INTO event (kind, occurredAt, actor, customerID, ticketID, payload) VALUES (?, ?, 'system', ?, ?, ?)",
                    arguments: ["k\(seq)", seq * 1000, seq == 5 ? "cus_5" : nil, seq == 5 ? "tkt_5" : nil, "{\"n\":\(seq)}"])
            }
        }
        let before = try await pool.read { db in try Self.eventRows(db) }
        #expect(before.count == 5)
        try SQLiteSchema.migrator.migrate(pool)
        try await pool.read { db in
            #expect(try Self.eventRows(db) == before)
            let table = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'event'") ?? ""
            #expect(table.contains("seq INTEGER PRIMARY KEY,") && !table.contains("AUTOINCREMENT"))
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_sequence WHERE name = 'event'") == 0)
            #expect(
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event' ORDER BY name")
                    == ["event_by_customer", "event_by_ticket"])
        }
        // The store appends after them, from 6 on.
        try pool.close()
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        #expect(try await store.lastEventSequence() == 5)
        try await store.createCustomer(Customer(id: "cus_6", createdAt: Date(millisecondsSince1970: 1_795_000_000_000)), handles: [], actor: .system)
        let events = try await store.events(after: 5, limit: 10)
        #expect(events.map(\.sequence) == [6] && events.first?.refs.customerID == "cus_6")
    }

    @Test("a second process (or store) cannot open a database in use, and can once it is closed")
    func exclusiveLock() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        var first: SQLiteStore? = try SQLiteStore(configuration: .init(path: path))
        try await first!.migrate()
        _ = try await first!.ingest([Fixture.inbound(providerID: "m1")])
        #expect(throws: StoreError.self) { _ = try SQLiteStore(configuration: .init(path: path)) }
        first = nil
        // (The writer's thread lets go of its last reference to the first store just after
        // answering the ingest: on a loaded machine that may come a moment after `first = nil`.)
        var opened: SQLiteStore?
        for _ in 0..<100 where opened == nil {
            opened = try? SQLiteStore(configuration: .init(path: path, durability: .normal))
            if opened == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let second = try #require(opened)
        try await second.migrate()
        #expect(try await second.eventKinds().last == "message.received")
    }

    @Test("a message's event carries its direction and text, what its text reads back as: texts with quotes, escapes, emoji, none at all")
    func messageSummaryCarried() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        let texts = ["hello", "say \"hi\" \\ back\n\ttab", "😀 e\u{301} 中文", "", "\u{0}nul", "T-000123 status?"]
        for (index, text) in texts.enumerated() {
            _ = try await store.ingestOne(Fixture.inbound(from: "user-\(index)", providerID: "m\(index)", text: text))
        }
        let live = try #require(store.tail.events(after: 0, limit: 100)).filter { $0.kind == .messageReceived }
        #expect(live.map { $0.carried(MessageSummary.self) } == texts.map { MessageSummary(direction: .inbound, text: $0) })
        // Read back from the database (after a restart): the same summary, from the text.
        let stored = try await store.storedEvents(after: 0, limit: 100).filter { $0.kind == .messageReceived }
        #expect(stored.allSatisfy { $0.carried(MessageSummary.self) == nil })
        #expect(stored.map(\.messageSummary) == live.map(\.messageSummary))
        #expect(stored.map { $0.messageSummary?.text } == texts)
        // Not a message: no summary.
        let created = try #require(live.first.flatMap { first in store.tail.events(after: 0, limit: 100)?.first { $0.kind == .customerCreated && $0.sequence < first.sequence } })
        #expect(created.messageSummary == nil)
    }

    @Test("the in-memory tail of the log answers exactly what the database holds, rolled-back savepoints excluded")
    func tailMatchesDatabase() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A small tail, so that it is overrun and the oldest events come from the database.
        let store = try SQLiteStore(configuration: .init(path: path, tailCapacity: 8))
        try await store.migrate()
        let first = try await store.ingestOne(Fixture.inbound(from: "user-1", providerID: "m1"))
        var clash = Fixture.inbound(from: "user-2", providerID: "m2")
        clash.newConversationID = first.conversationID
        let results = try await store.ingest([Fixture.inbound(from: "user-3", providerID: "m3"), clash, Fixture.inbound(from: "user-4", providerID: "m4")])
        #expect((try? results[1].get()) == nil)
        let recipient = HandleAddress(kind: .api, scope: "api-a", address: "user-1")
        _ = try await store.enqueueOutbound(Fixture.outbound(conversation: first.conversationID, recipient: recipient, key: "k1"))
        for index in 5...9 { _ = try await store.ingestOne(Fixture.inbound(from: "user-\(index)", providerID: "m\(index)")) }

        let stored = try await store.storedEvents(after: 0, limit: 1_000)
        #expect(stored.count > 8)
        // The failed command's customer was rolled back: its event is in neither.
        #expect(!stored.contains { $0.kind == .customerCreated && "\($0.payload)".contains("user-2") })
        let last = try #require(stored.last?.sequence)
        for after in [0] + stored.map(\.sequence) {
            for limit in [1, 3, 1_000] {
                let answer = try await store.events(after: after, limit: limit)
                #expect(answer == Array(stored.filter { $0.sequence > after }.prefix(limit)), "after \(after), limit \(limit)")
            }
        }
        // The newest events are served from memory, the oldest are not held any more.
        #expect(store.tail.events(after: last - 1, limit: 10)?.map(\.sequence) == [last])
        #expect(store.tail.events(after: 0, limit: 10) == nil)
    }

    @Test("a store opened on an existing log serves its old events from the database and new ones from memory")
    func tailAfterRestart() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        var before: SQLiteStore? = try SQLiteStore(configuration: .init(path: path))
        try await before!.migrate()
        _ = try await before!.ingestOne(Fixture.inbound(from: "user-1", providerID: "m1"))
        let old = try await before!.storedEvents(after: 0, limit: 100)
        before = nil
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        #expect(try await store.events(after: 0, limit: 100) == old)
        #expect(store.tail.events(after: 0, limit: 100) == nil)
        _ = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "m2"))
        let all = try await store.storedEvents(after: 0, limit: 100)
        let oldLast = try #require(old.last?.sequence)
        #expect(store.tail.events(after: oldLast, limit: 100) == all.filter { $0.sequence > oldLast })
        #expect(try await store.events(after: 0, limit: 100) == all)
    }

    /// The set of customers known to have no ticket is bounded: past its capacity it starts
    /// again, and whatever it forgot is read from the database.
    @Test func ticketlessCustomersBounded() {
        let set = TicketlessCustomers(capacity: 3)
        for index in 0..<3 { set.created(Customer.ID("cus_\(index)")) }
        #expect(set.count == 3 && set.contains("cus_0"))
        set.created("cus_3")
        #expect(set.count == 1 && set.contains("cus_3") && !set.contains("cus_0"))
        set.gainsTicket("cus_3")
        #expect(!set.contains("cus_3"))
        set.created("cus_4")
        set.forgetAll()
        #expect(set.count == 0)
    }

    /// A customer the ingest created is known to have no ticket until one is created for it.
    @Test func newCustomersAreTicketless() async throws {
        try await StoreBackend.sqlite.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            #expect(sqlite.ticketless.contains(chat.customerID))
            let again = try await store.ingestOne(Fixture.inbound(providerID: "m2"))
            #expect(!again.customerCreated && sqlite.ticketless.contains(chat.customerID))
            _ = try await store.createTicket(TicketDraft(subject: "Help", customerID: chat.customerID), at: Fixture.date(1), actor: .admin)
            #expect(!sqlite.ticketless.contains(chat.customerID))
        }
    }
}
