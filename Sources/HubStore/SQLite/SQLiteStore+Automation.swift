import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func recordEvent(onceFor key: String, _ kind: EventKind, refs: EventRefs, payload: JSONValue, at date: Date, actor: Actor) async throws -> Bool {
        try await write { db, events in
            guard try Self.claim("once:" + key, db) else { return false }
            try events.append(kind, at: date, actor: actor, refs: refs, payload: payload)
            return true
        }
    }

    public func addCustomerTags(_ tags: [String], to customerID: Customer.ID, onceFor key: String, at date: Date, actor: Actor) async throws -> Customer? {
        try await write { db, events in
            guard let current = try SQLiteWrites.customer(customerID, db, json: events.json) else { return nil }
            guard try Self.claim("once:" + key, db) else { return current }
            let missing = tags.filter { !current.tags.contains($0) }
            guard !missing.isEmpty else { return current }
            var updated = current
            updated.tags += missing
            updated.updatedAt = date
            try SQLiteWrites.update(updated, db, json: events.json)
            try events.append(
                .customerUpdated, at: date, actor: actor, refs: EventRefs(customerID: updated.id),
                payload: CustomerUpdatedPayload(customer: updated, changes: ["tags"]))
            return updated
        }
    }

    /// Claims `name` in the transaction (a row in `counter`): true the first time, false ever
    /// after. What is done once per key commits with its claim.
    static func claim(_ name: String, _ db: Database) throws -> Bool {
        try db.execute(sql: "INSERT OR IGNORE INTO counter (name, value) VALUES (?, 1)", arguments: [name])
        return db.changesCount > 0
    }
}
