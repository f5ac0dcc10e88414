import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func events(after sequence: Int64, limit: Int) async throws -> [HubEvent] {
        // The followers of the log ask for what was just committed: the in-memory tail has it.
        if let recent = tail.events(after: sequence, limit: limit) { return recent }
        return try await storedEvents(after: sequence, limit: limit)
    }

    /// The events after `sequence` as the database has them.
    func storedEvents(after sequence: Int64, limit: Int) async throws -> [HubEvent] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(db, sql: "SELECT * FROM event WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [sequence, limit])
                .map { try SQLiteRows.event($0, json: json) }
        }
    }

    public func events(customerID: Customer.ID, after sequence: Int64, limit: Int) async throws -> [HubEvent] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(
                db, sql: Self.historySQL + "SELECT * FROM event WHERE customerID IN history AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [customerID.rawValue, sequence, limit]
            ).map { try SQLiteRows.event($0, json: json) }
        }
    }

    /// The customer and every customer merged into it (and not unmerged), transitively: their
    /// history is one history since the merge, though past events name the old ids.
    static let historySQL = """
        WITH RECURSIVE history(id) AS (
            SELECT ? UNION SELECT m.mergedID FROM customer_merge m JOIN history h ON m.survivorID = h.id WHERE m.unmergedAt IS NULL
        )

        """

    public func lastEventSequence() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM event") ?? 0 }
    }

    public func eventCommits() -> AsyncStream<Int64> { commits.subscribe() }
}
