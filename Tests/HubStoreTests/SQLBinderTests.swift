import Foundation
import GRDB
import HubModel
@testable import HubStore
import Testing

/// The writer's direct binding (`Statement.run`) against GRDB's own: the same rows, the same
/// errors, and a statement left ready for either.
@Suite("SQL binder")
struct SQLBinderTests {
    static func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, count INTEGER, ratio REAL, note TEXT NOT NULL, UNIQUE (name))")
        }
        return queue
    }

    static let texts = ["", "plain", "ünïcödé 中文 🙂", "with\u{0}nul inside", String(repeating: "x", count: 70_000), "'quoted' \"twice\""]

    @Test("every kind of value reads back as GRDB's binding writes it")
    func valuesReadBack() throws {
        let queue = try Self.database()
        try queue.write { db in
            let direct = try db.cachedStatement(sql: "INSERT INTO t (id, name, count, ratio, note) VALUES (?, ?, ?, ?, ?)")
            for (index, text) in Self.texts.enumerated() {
                let counts: [Int64?] = [nil, 0, -1, .max, .min, 42]
                let ratios: [Double?] = [nil, 0, -0.5, 1e300, .pi, 3]
                // Rows 1... through the binder, 101... through GRDB, with the same values (names prefixed).
                try direct.run { row in
                    row.bind(Int64(index + 1))
                    row.bind(index == 1 ? nil : text)
                    row.bind(counts[index])
                    row.bind(ratios[index])
                    row.bind(text)
                }
                try db.execute(
                    sql: "INSERT INTO t (id, name, count, ratio, note) VALUES (?, ?, ?, ?, ?)",
                    arguments: [Int64(index + 101), index == 1 ? nil : "grdb/" + text, counts[index], ratios[index], text])
            }
            // Compared as bytes (`hex`): text is bound up to a NUL by both, as a C string.
            let prefix = "grdb/".utf8.map { String(format: "%02X", $0) }.joined()
            for index in Self.texts.indices {
                let sql = "SELECT hex(name) AS name, count, ratio, hex(note) AS note, typeof(name) AS kind FROM t WHERE id = ?"
                let mine = try Row.fetchOne(db, sql: sql, arguments: [index + 1])
                let theirs = try Row.fetchOne(db, sql: sql, arguments: [index + 101])
                #expect(mine?["note"] as String? == Self.texts[index].utf8.prefix { $0 != 0 }.map { String(format: "%02X", $0) }.joined())
                #expect(mine?["note"] as String? == theirs?["note"] as String?)
                #expect(mine?["count"] as Int64? == theirs?["count"] as Int64?)
                #expect(mine?["ratio"] as Double? == theirs?["ratio"] as Double?)
                #expect(mine?["kind"] as String? == theirs?["kind"] as String?)
                if index != 1 { #expect((mine?["name"] as String?).map { prefix + $0 } == theirs?["name"] as String?) }
            }
            // The empty text is text, not NULL.
            #expect(try String.fetchOne(db, sql: "SELECT typeof(note) FROM t WHERE id = 1") == "text")
            #expect(try Int.fetchOne(db, sql: "SELECT length(CAST(note AS BLOB)) FROM t WHERE id = 5") == 70_000)
        }
    }

    @Test("a refused row throws GRDB's error, writes nothing, and the statement runs again after it")
    func refusals() throws {
        let queue = try Self.database()
        try queue.write { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO t (id, name, note) VALUES (?, ?, ?)")
            try statement.run([.integer(1), .text("a"), .text("first")])
            do {
                try statement.run([.integer(2), .text("a"), .text("same name")])
                Issue.record("a duplicate name was accepted")
            } catch let error as DatabaseError {
                #expect(error.resultCode == .SQLITE_CONSTRAINT)
                #expect(error.message?.contains("UNIQUE") == true)
            }
            do {
                try statement.run([.integer(3), .text("b"), .null])
                Issue.record("a NULL note was accepted")
            } catch let error as DatabaseError {
                #expect(error.resultCode == .SQLITE_CONSTRAINT)
            }
            // Too few and too many values: refused before anything runs.
            for values: [SQLValue] in [[.integer(4), .text("c")], [.integer(4), .text("c"), .text("n"), .text("extra")]] {
                do {
                    try statement.run(values)
                    Issue.record("\(values.count) values for 3 parameters were accepted")
                } catch let error as DatabaseError {
                    #expect(error.resultCode == .SQLITE_MISUSE)
                }
            }
            // The same statement, by the binder and then by GRDB, after the failures.
            try statement.run([.integer(5), .text("d"), .text("after")])
            try statement.execute(arguments: [6, "e", "grdb after"])
            #expect(try Int.fetchAll(db, sql: "SELECT id FROM t ORDER BY id") == [1, 5, 6])
        }
    }

    @Test("a row read by position from SQLite decodes as the same row read through GRDB; no row is nil; a NULL where a value must be is an error")
    func rowsByPosition() throws {
        let queue = try DatabaseQueue()
        try SQLiteSchema.migrator.migrate(queue)
        let json = JSONColumns()
        let date = Date(millisecondsSince1970: 1_795_000_000_123)
        let customer = Customer(id: "cus_1", name: "Wáng Fāng", tags: ["vip", "angry"], createdAt: date)
        let conversations = [
            Conversation(
                id: "cnv_1", customerID: customer.id, handleID: nil, channelKind: .voice, channelAccountID: "trunk", status: .open, queueID: "support",
                priority: 3, assigneeID: "alice", subject: "Bill", attributes: ["intent": "billing"], createdAt: date, lastMessageAt: date,
                lastInboundAt: date),
            Conversation(id: "cnv_2", customerID: customer.id, handleID: nil, channelKind: .sms, channelAccountID: "sms", createdAt: date),
        ]
        let calls = [
            CallRecord(
                id: "call_1", conversationID: "cnv_1", direction: .inbound, from: "+8613800000000", to: "+861088886666", state: .ended,
                sipCallID: "abc@h", agentID: "alice", startedAt: date, queuedAt: date, offeredAt: date, answeredAt: date, endedAt: date,
                hangupCause: "normal", hungUpBy: .customer, recordingReference: nil),
            CallRecord(id: "call_2", conversationID: "cnv_2", direction: .inbound, from: "+8613800000001", to: "+861088886666", state: .queued, startedAt: date),
        ]
        try queue.write { db in
            try SQLiteWrites.insert(customer, db, json: json)
            for conversation in conversations { try SQLiteWrites.insert(conversation, db, json: json) }
            for call in calls {
                try db.execute(
                    sql: "INSERT INTO call (id, conversationID, direction, fromAddress, toAddress, state, sipCallID, agentID, startedAt, queuedAt, offeredAt, answeredAt, endedAt, hangupCause, hungUpBy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        call.id.rawValue, call.conversationID.rawValue, call.direction.rawValue, call.from, call.to, call.state.rawValue, call.sipCallID,
                        call.agentID?.rawValue, call.startedAt.millisecondsSince1970, call.queuedAt?.millisecondsSince1970,
                        call.offeredAt?.millisecondsSince1970, call.answeredAt?.millisecondsSince1970, call.endedAt?.millisecondsSince1970,
                        call.hangupCause, call.hungUpBy?.rawValue,
                    ])
            }
            let byPosition = try db.cachedStatement(sql: "SELECT * FROM customer WHERE id = ?")
                .fetchOne(binding: { $0.bind("cus_1") }) { try SQLiteRows.customer($0, json: json) }
            #expect(byPosition == customer)
            #expect(try Row.fetchOne(db, sql: "SELECT * FROM customer WHERE id = ?", arguments: ["cus_1"]).map { try SQLiteRows.customer($0, json: json) } == customer)
            for conversation in conversations {
                let mine = try SQLiteWrites.conversation(conversation.id, db, json: json)
                let grdb = try Row.fetchOne(db, sql: "SELECT * FROM conversation WHERE id = ?", arguments: [conversation.id.rawValue])
                    .map { try SQLiteRows.conversation($0, json: json) }
                #expect(mine == conversation)
                #expect(grdb == conversation)
            }
            for call in calls {
                let mine = try db.cachedStatement(sql: "SELECT * FROM call WHERE id = ?").fetchOne(binding: { $0.bind(call.id.rawValue) }, SQLiteRows.call)
                #expect(mine == call)
                #expect(try Row.fetchOne(db, sql: "SELECT * FROM call WHERE id = ?", arguments: [call.id.rawValue]).map(SQLiteRows.call) == call)
            }
            #expect(try SQLiteWrites.conversation("cnv_none", db, json: json) == nil)
            // A NULL where the model needs a value: an error, not a crash.
            try db.execute(sql: "CREATE TABLE loose (id TEXT, state TEXT)")
            try db.execute(sql: "INSERT INTO loose VALUES (NULL, 'x')")
            #expect(throws: StoreError.self) {
                try db.cachedStatement(sql: "SELECT id FROM loose").fetchOne(binding: { _ in }) { try $0.requiredText(at: 0, "loose id") }
            }
            #expect(try db.cachedStatement(sql: "SELECT id, state FROM loose").fetchOne(binding: { _ in }) { [$0.text(at: 0), $0.text(at: 1)] } == [nil, "x"])
        }
    }

    @Test("values compare as their columns would: a changed column is one whose value differs")
    func valueEquality() {
        #expect(SQLValue(nil as String?) == .null)
        #expect(SQLValue(nil as Int64?) == SQLValue(nil as Int?))
        #expect(SQLValue(5 as Int) == SQLValue(5 as Int64?))
        #expect(SQLValue("5") != SQLValue(5 as Int))
        #expect(SQLValue("") != .null)
    }
}
