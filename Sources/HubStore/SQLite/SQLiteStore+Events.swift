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
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM event WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [sequence, limit])
                .map { try SQLiteRows.event($0, json: json) }
        }
    }

    public func events(customerID: Customer.ID, after sequence: Int64, limit: Int) async throws -> [HubEvent] {
        try await read { db in try Self.historyEvents(of: customerID, after: sequence, before: nil, limit: limit, db) }
    }

    /// A customer's events with those of the customers merged into it, oldest first: after
    /// `after` (the first `limit`), or before `before` (the last `limit`). One indexed query per
    /// customer id, each reading at most `limit` rows in the index's order, merged here: a single
    /// query over the set of ids would make SQLite sort every event of the customer.
    static func historyEvents(of customerID: Customer.ID, after: Int64?, before: Int64?, limit: Int, _ db: Database) throws -> [HubEvent] {
        let json = JSONColumns()
        let ids = try String.fetchAll(db.cachedStatement(sql: historySQL + "SELECT id FROM history"), arguments: [customerID.rawValue])
        var rows: [Row] = []
        for id in ids {
            if let after {
                rows += try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT * FROM event WHERE customerID = ? AND seq > ? ORDER BY seq LIMIT ?"), arguments: [id, after, limit])
            } else {
                rows += try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT * FROM event WHERE customerID = ? AND seq < ? ORDER BY seq DESC LIMIT ?"),
                    arguments: [id, before ?? Int64.max, limit])
            }
        }
        var events = try rows.map { try SQLiteRows.event($0, json: json) }
        if after != nil {
            events.sort { $0.sequence < $1.sequence }
            return Array(events.prefix(limit))
        }
        events.sort { $0.sequence > $1.sequence }
        return events.prefix(limit).reversed()
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

    public func observeEventCommits(_ handler: @escaping @Sendable (Int64) -> Void) -> EventCommitObservation {
        commits.observe(handler)
    }
}
