import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func createTicket(_ draft: TicketDraft, at date: Date, actor: Actor) async throws -> Ticket {
        try await write { db, events in
            let json = events.json
            guard try SQLiteWrites.customer(draft.customerID, db, json: json) != nil else {
                throw StoreError.notFound("no customer \(draft.customerID)")
            }
            let subject = draft.subject.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !subject.isEmpty else { throw StoreError.invalid("a ticket needs a subject") }
            let number = try Int.fetchOne(
                db,
                sql: """
                    INSERT INTO counter (name, value) VALUES ('ticket', 1)
                    ON CONFLICT(name) DO UPDATE SET value = value + 1
                    RETURNING value
                    """)!
            let ticket = Ticket(
                id: draft.id, number: TicketNumber(rawValue: number), subject: subject, priority: draft.priority,
                customerID: draft.customerID, assigneeID: draft.assigneeID, queueID: draft.queueID,
                conversationIDs: draft.conversationIDs, firstResponseDueAt: draft.firstResponseDueAt, dueAt: draft.dueAt,
                createdAt: date)
            try db.execute(
                sql: """
                    INSERT INTO ticket (id, number, subject, status, priority, customerID, assigneeID, queueID, firstResponseDueAt,
                        dueAt, createdAt, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    ticket.id.rawValue, number, ticket.subject, ticket.status.rawValue, ticket.priority.rawValue,
                    ticket.customerID.rawValue, ticket.assigneeID?.rawValue, ticket.queueID, ticket.firstResponseDueAt?.millisecondsSince1970,
                    ticket.dueAt?.millisecondsSince1970, date.millisecondsSince1970, date.millisecondsSince1970,
                ])
            for conversationID in draft.conversationIDs {
                guard try SQLiteWrites.conversation(conversationID, db, json: json) != nil else {
                    throw StoreError.notFound("no conversation \(conversationID)")
                }
                try db.execute(
                    sql: "INSERT INTO ticket_conversation (ticketID, conversationID, linkedAt) VALUES (?, ?, ?)",
                    arguments: [ticket.id.rawValue, conversationID.rawValue, date.millisecondsSince1970])
            }
            try events.append(
                .ticketCreated, at: date, actor: actor,
                refs: EventRefs(customerID: ticket.customerID, ticketID: ticket.id, agentID: ticket.assigneeID), payload: ticket)
            return ticket
        }
    }

    public func ticket(_ id: Ticket.ID) async throws -> Ticket? {
        try await read { db in try Self.ticket(where: "id = ?", [id.rawValue], db) }
    }

    public func ticket(number: TicketNumber) async throws -> Ticket? {
        try await read { db in try Self.ticket(where: "number = ?", [number.rawValue], db) }
    }

    public func tickets(of customerID: Customer.ID, after cursor: PageCursor?, limit: Int) async throws -> [Ticket] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM ticket WHERE customerID = ? AND number < ? ORDER BY number DESC LIMIT ?",
                arguments: [customerID.rawValue, cursor?.key ?? Int64.max, limit]
            ).map { row in try SQLiteRows.ticket(row, conversationIDs: try Self.linkedConversations(row["id"], db)) }
        }
    }

    public func updateTicket(_ id: Ticket.ID, _ change: TicketChange, at date: Date, actor: Actor) async throws -> Ticket {
        try await write { db, events in
            guard var ticket = try Self.ticket(where: "id = ?", [id.rawValue], db) else { throw StoreError.notFound("no ticket \(id)") }
            var changes = FieldChanges(ticket)
            changes.set(\.status, to: change.status, name: "status")
            changes.set(\.priority, to: change.priority, name: "priority")
            changes.set(\.subject, to: change.subject, name: "subject")
            changes.set(\.assigneeID, to: change.assigneeID, name: "assigneeID")
            changes.set(\.queueID, to: change.queueID, name: "queueID")
            changes.set(\.firstResponseDueAt, to: change.firstResponseDueAt, name: "firstResponseDueAt")
            changes.set(\.dueAt, to: change.dueAt, name: "dueAt")
            ticket = changes.record
            if changes.names.contains("status") {
                switch ticket.status {
                case .solved: ticket.solvedAt = date
                case .closed:
                    ticket.closedAt = date
                    ticket.solvedAt = ticket.solvedAt ?? date
                case .new, .open, .pending, .onHold:
                    ticket.solvedAt = nil
                    ticket.closedAt = nil
                }
            }
            guard !changes.isEmpty else { return ticket }
            ticket.updatedAt = date
            try db.execute(
                sql: """
                    UPDATE ticket SET subject = ?, status = ?, priority = ?, assigneeID = ?, queueID = ?, firstResponseDueAt = ?,
                        dueAt = ?, updatedAt = ?, solvedAt = ?, closedAt = ?
                    WHERE id = ?
                    """,
                arguments: [
                    ticket.subject, ticket.status.rawValue, ticket.priority.rawValue, ticket.assigneeID?.rawValue, ticket.queueID,
                    ticket.firstResponseDueAt?.millisecondsSince1970, ticket.dueAt?.millisecondsSince1970, date.millisecondsSince1970,
                    ticket.solvedAt?.millisecondsSince1970, ticket.closedAt?.millisecondsSince1970, id.rawValue,
                ])
            try events.append(
                .ticketUpdated, at: date, actor: actor,
                refs: EventRefs(customerID: ticket.customerID, ticketID: ticket.id, agentID: ticket.assigneeID),
                payload: TicketUpdatedPayload(ticket: ticket, changes: changes.names))
            return ticket
        }
    }

    public func linkConversation(_ conversationID: Conversation.ID, toTicket ticketID: Ticket.ID, at date: Date, actor: Actor)
        async throws -> Ticket
    {
        try await write { db, events in
            guard var ticket = try Self.ticket(where: "id = ?", [ticketID.rawValue], db) else {
                throw StoreError.notFound("no ticket \(ticketID)")
            }
            guard let conversation = try SQLiteWrites.conversation(conversationID, db, json: events.json) else {
                throw StoreError.notFound("no conversation \(conversationID)")
            }
            try Self.link(conversation.id, to: &ticket, at: date, actor: actor, db, &events)
            return ticket
        }
    }

    /// Links a conversation to a ticket (nothing when it already is), with a `ticket.linked` event.
    static func link(
        _ conversationID: Conversation.ID, to ticket: inout Ticket, at date: Date, actor: Actor, _ db: Database, _ events: inout EventWriter
    ) throws {
        guard !ticket.conversationIDs.contains(conversationID) else { return }
        try db.execute(
            sql: "INSERT INTO ticket_conversation (ticketID, conversationID, linkedAt) VALUES (?, ?, ?)",
            arguments: [ticket.id.rawValue, conversationID.rawValue, date.millisecondsSince1970])
        ticket.conversationIDs.append(conversationID)
        try events.append(
            .ticketLinked, at: date, actor: actor,
            refs: EventRefs(customerID: ticket.customerID, conversationID: conversationID, ticketID: ticket.id),
            payload: TicketUpdatedPayload(ticket: ticket, changes: ["conversationIDs"]))
    }

    static func ticket(where condition: String, _ arguments: StatementArguments, _ db: Database) throws -> Ticket? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM ticket WHERE \(condition)", arguments: arguments) else { return nil }
        return try SQLiteRows.ticket(row, conversationIDs: try linkedConversations(row["id"], db))
    }

    static func linkedConversations(_ ticketID: String, _ db: Database) throws -> [Conversation.ID] {
        try String.fetchAll(
            db, sql: "SELECT conversationID FROM ticket_conversation WHERE ticketID = ? ORDER BY linkedAt, conversationID",
            arguments: [ticketID]
        ).map(Conversation.ID.init(rawValue:))
    }
}
