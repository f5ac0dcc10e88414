import Foundation
import GRDB
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

    @Test("values compare as their columns would: a changed column is one whose value differs")
    func valueEquality() {
        #expect(SQLValue(nil as String?) == .null)
        #expect(SQLValue(nil as Int64?) == SQLValue(nil as Int?))
        #expect(SQLValue(5 as Int) == SQLValue(5 as Int64?))
        #expect(SQLValue("5") != SQLValue(5 as Int))
        #expect(SQLValue("") != .null)
    }
}
