import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func customer(_ id: Customer.ID) async throws -> Customer? {
        try await read { db in try SQLiteWrites.customer(id, db, json: JSONColumns()) }
    }

    public func routingFacts(of customers: [Customer.ID], recent: Int) async throws -> [Customer.ID: CustomerRoutingFacts] {
        guard !customers.isEmpty else { return [:] }
        // A page of new conversations' customers is a few look-ups: read at once (`readNow`); a
        // restart's backlog of hundreds goes to a reader's queue.
        let body: @Sendable (Database) throws -> [Customer.ID: CustomerRoutingFacts] = { db in
            let json = JSONColumns()
            let latest = try db.cachedStatement(
                sql: "SELECT id, assigneeID FROM conversation WHERE customerID = ? ORDER BY createdAt DESC, id DESC LIMIT ?")
            var facts: [Customer.ID: CustomerRoutingFacts] = [:]
            for id in customers where facts[id] == nil {
                guard let customer = try SQLiteWrites.customer(id, db, json: json) else { continue }
                let rows = try Row.fetchAll(latest, arguments: [id.rawValue, recent])
                facts[id] = CustomerRoutingFacts(
                    customer: customer,
                    recent: rows.map {
                        CustomerRoutingFacts.Recent(
                            conversationID: Conversation.ID($0["id"] as String), assigneeID: ($0["assigneeID"] as String?).map { Agent.ID($0) })
                    })
            }
            return facts
        }
        return customers.count <= 32 ? try readNow(body) : try await read(body)
    }

    public func customers(after: Customer.ID?, servedBy agentID: Agent.ID?, queues: [String], limit: Int) async throws -> [Customer] {
        try await read { db in
            let json = JSONColumns()
            guard let agentID else {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM customer WHERE id > ? AND mergedInto IS NULL ORDER BY id LIMIT ?",
                    arguments: [after?.rawValue ?? "", limit]
                ).map { try SQLiteRows.customer($0, json: json) }
            }
            // The same rule as `hasServed`: assigned now or before, or waiting in one of the queues.
            let marks = Array(repeating: "?", count: queues.count).joined(separator: ",")
            let inQueues = queues.isEmpty ? "" : " UNION SELECT customerID FROM conversation WHERE queueID IN (\(marks))"
            var arguments: [any DatabaseValueConvertible] = [after?.rawValue ?? "", agentID.rawValue]
            arguments += queues as [any DatabaseValueConvertible]
            arguments.append(limit)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM customer WHERE id > ? AND mergedInto IS NULL AND id IN (
                        SELECT c.customerID FROM conversation_agent ca JOIN conversation c ON c.id = ca.conversationID WHERE ca.agentID = ?\(inQueues))
                    ORDER BY id LIMIT ?
                    """,
                arguments: StatementArguments(arguments)
            ).map { try SQLiteRows.customer($0, json: json) }
        }
    }

    public func handles(of customerID: Customer.ID) async throws -> [Handle] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM handle WHERE customerID = ? ORDER BY createdAt, id", arguments: [customerID.rawValue])
                .map(SQLiteRows.handle)
        }
    }

    public func handle(_ key: HandleAddress) async throws -> Handle? {
        try await read { db in try SQLiteWrites.handle(key, db) }
    }

    public func createCustomer(_ customer: Customer, handles: [Handle], actor: Actor) async throws {
        try await write { db, events in
            for handle in handles {
                if let existing = try SQLiteWrites.handle(handle.key, db) {
                    throw StoreError.conflict("handle \(handle.key) already belongs to customer \(existing.customerID)")
                }
            }
            try SQLiteWrites.insert(customer, db, json: events.json)
            for handle in handles { try SQLiteWrites.insert(handle, db) }
            try events.append(
                .customerCreated, at: customer.createdAt, actor: actor, refs: EventRefs(customerID: customer.id),
                payload: CustomerCreatedPayload(customer: customer, handles: handles))
        }
    }

    public func updateCustomer(_ customer: Customer, actor: Actor) async throws -> Customer {
        try await write { db, events in
            guard let current = try SQLiteWrites.customer(customer.id, db, json: events.json) else {
                throw StoreError.notFound("no customer \(customer.id)")
            }
            var fields = FieldChanges(current)
            fields.set(\.name, to: .some(customer.name), name: "name")
            fields.set(\.tier, to: customer.tier, name: "tier")
            fields.set(\.tags, to: customer.tags, name: "tags")
            fields.set(\.locale, to: .some(customer.locale), name: "locale")
            fields.set(\.ownerAgentID, to: .some(customer.ownerAgentID), name: "ownerAgentID")
            guard !fields.isEmpty else { return current }
            var updated = fields.record
            let changes = fields.names
            updated.updatedAt = customer.updatedAt
            try SQLiteWrites.update(updated, db, json: events.json)
            try events.append(
                .customerUpdated, at: updated.updatedAt, actor: actor, refs: EventRefs(customerID: updated.id),
                payload: CustomerUpdatedPayload(customer: updated, changes: changes))
            return updated
        }
    }

    public func linkHandle(_ handle: Handle, actor: Actor) async throws -> Handle {
        try await write { db, events in
            guard let customer = try SQLiteWrites.customer(handle.customerID, db, json: events.json) else {
                throw StoreError.notFound("no customer \(handle.customerID)")
            }
            if let survivor = customer.mergedInto {
                throw StoreError.conflict("customer \(customer.id) was merged into \(survivor); link the handle there")
            }
            if let existing = try SQLiteWrites.handle(handle.key, db) {
                guard existing.customerID == handle.customerID else {
                    throw StoreError.conflict(
                        "handle \(handle.key) belongs to customer \(existing.customerID); merge the two customers instead")
                }
                return existing
            }
            try SQLiteWrites.insert(handle, db)
            try events.append(
                .handleLinked, at: handle.createdAt, actor: actor, refs: EventRefs(customerID: handle.customerID),
                payload: HandleLinkedPayload(handle: handle))
            return handle
        }
    }

    public func mergeCustomers(
        survivorID: Customer.ID, mergedID: Customer.ID, mergeID: CustomerMerge.ID, at date: Date, actor: Actor
    ) async throws -> CustomerMerge {
        try await write { db, events in
            let json = events.json
            guard survivorID != mergedID else { throw StoreError.invalid("a customer cannot be merged into itself") }
            guard let survivor = try SQLiteWrites.customer(survivorID, db, json: json) else {
                throw StoreError.notFound("no customer \(survivorID)")
            }
            guard let merged = try SQLiteWrites.customer(mergedID, db, json: json) else {
                throw StoreError.notFound("no customer \(mergedID)")
            }
            if let into = survivor.mergedInto { throw StoreError.conflict("customer \(survivorID) was itself merged into \(into)") }
            if let into = merged.mergedInto { throw StoreError.conflict("customer \(mergedID) is already merged into \(into)") }

            let handleIDs = try String.fetchAll(db, sql: "SELECT id FROM handle WHERE customerID = ? ORDER BY createdAt, id", arguments: [mergedID.rawValue])
            let conversationIDs = try String.fetchAll(
                db, sql: "SELECT id FROM conversation WHERE customerID = ? ORDER BY createdAt, id", arguments: [mergedID.rawValue])
            let ticketIDs = try String.fetchAll(db, sql: "SELECT id FROM ticket WHERE customerID = ? ORDER BY number", arguments: [mergedID.rawValue])
            self.ticketless.forgetAll()
            for table in ["handle", "conversation", "ticket"] {
                try db.execute(sql: "UPDATE \(table) SET customerID = ? WHERE customerID = ?", arguments: [survivorID.rawValue, mergedID.rawValue])
            }
            let absorbed = survivor.absorbing(merged, at: date)
            try SQLiteWrites.update(absorbed, db, json: json)
            var mergedAfter = merged
            mergedAfter.mergedInto = survivorID
            mergedAfter.updatedAt = date
            try SQLiteWrites.update(mergedAfter, db, json: json)

            let record = CustomerMerge(
                id: mergeID, survivorID: survivorID, mergedID: mergedID, handleIDs: handleIDs.map(Handle.ID.init(rawValue:)),
                conversationIDs: conversationIDs.map(Conversation.ID.init(rawValue:)), ticketIDs: ticketIDs.map(Ticket.ID.init(rawValue:)),
                survivorBefore: survivor, survivorAfter: absorbed, mergedAt: date, actor: actor)
            try db.execute(
                sql: "INSERT INTO customer_merge (id, survivorID, mergedID, record, mergedAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [mergeID.rawValue, survivorID.rawValue, mergedID.rawValue, try json.text(record), date.millisecondsSince1970])
            try events.append(.customerMerged, at: date, actor: actor, refs: EventRefs(customerID: survivorID), payload: record)
            return record
        }
    }

    public func unmergeCustomer(_ mergedID: Customer.ID, at date: Date, actor: Actor) async throws -> CustomerMerge {
        try await write { db, events in
            let json = events.json
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT record FROM customer_merge WHERE mergedID = ? AND unmergedAt IS NULL ORDER BY mergedAt DESC LIMIT 1",
                    arguments: [mergedID.rawValue])
            else {
                if try SQLiteWrites.customer(mergedID, db, json: json) == nil { throw StoreError.notFound("no customer \(mergedID)") }
                throw StoreError.conflict("customer \(mergedID) is not merged into anyone")
            }
            var record = try json.value(CustomerMerge.self, from: row["record"])
            let handleIDs = record.handleIDs.map(\.rawValue)
            // Conversations return if they were the merged customer's, or were opened since on
            // one of its handles.
            var conversationIDs = Set(record.conversationIDs.map(\.rawValue))
            if !handleIDs.isEmpty {
                let placeholders = Array(repeating: "?", count: handleIDs.count).joined(separator: ", ")
                conversationIDs.formUnion(
                    try String.fetchAll(
                        db, sql: "SELECT id FROM conversation WHERE handleID IN (\(placeholders))", arguments: StatementArguments(handleIDs)))
            }
            // Tickets return if they were the merged customer's, or all their conversations return.
            var ticketIDs = Set(record.ticketIDs.map(\.rawValue))
            let candidateTickets = try String.fetchAll(
                db, sql: "SELECT id FROM ticket WHERE customerID = ? AND createdAt >= ?",
                arguments: [record.survivorID.rawValue, record.mergedAt.millisecondsSince1970])
            for ticketID in candidateTickets {
                let linked = try String.fetchAll(db, sql: "SELECT conversationID FROM ticket_conversation WHERE ticketID = ?", arguments: [ticketID])
                if !linked.isEmpty, linked.allSatisfy(conversationIDs.contains) { ticketIDs.insert(ticketID) }
            }
            for id in handleIDs {
                try db.execute(sql: "UPDATE handle SET customerID = ? WHERE id = ?", arguments: [mergedID.rawValue, id])
            }
            for id in conversationIDs {
                try db.execute(sql: "UPDATE conversation SET customerID = ? WHERE id = ?", arguments: [mergedID.rawValue, id])
            }
            self.ticketless.forgetAll()
            for id in ticketIDs {
                try db.execute(sql: "UPDATE ticket SET customerID = ? WHERE id = ?", arguments: [mergedID.rawValue, id])
            }
            if let survivor = try SQLiteWrites.customer(record.survivorID, db, json: json) {
                let reverted = survivor.revertingMerge(before: record.survivorBefore, after: record.survivorAfter, at: date)
                if reverted.name != survivor.name || reverted.tier != survivor.tier || reverted.tags != survivor.tags
                    || reverted.locale != survivor.locale || reverted.ownerAgentID != survivor.ownerAgentID
                {
                    try SQLiteWrites.update(reverted, db, json: json)
                }
            }
            if var merged = try SQLiteWrites.customer(mergedID, db, json: json) {
                merged.mergedInto = nil
                merged.updatedAt = date
                try SQLiteWrites.update(merged, db, json: json)
            }
            record.unmergedAt = date
            try db.execute(
                sql: "UPDATE customer_merge SET record = ?, unmergedAt = ? WHERE id = ?",
                arguments: [try json.text(record), date.millisecondsSince1970, record.id.rawValue])
            try events.append(
                .customerUnmerged, at: date, actor: actor, refs: EventRefs(customerID: record.survivorID),
                payload: CustomerUnmergedPayload(
                    merge: record, handleIDs: record.handleIDs, conversationIDs: conversationIDs.sorted().map(Conversation.ID.init(rawValue:)),
                    ticketIDs: ticketIDs.sorted().map(Ticket.ID.init(rawValue:))))
            return record
        }
    }

    public func merges(involving customerID: Customer.ID) async throws -> [CustomerMerge] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(
                db, sql: "SELECT record FROM customer_merge WHERE survivorID = ? OR mergedID = ? ORDER BY mergedAt, id",
                arguments: [customerID.rawValue, customerID.rawValue]
            ).map { try json.value(CustomerMerge.self, from: $0["record"]) }
        }
    }
}
