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
            self.ticketless.gainsTicket(draft.customerID)
            let subject = draft.subject.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !subject.isEmpty else { throw StoreError.invalid("a ticket needs a subject") }
            guard draft.status != .solved, draft.status != .closed else {
                throw StoreError.invalid("a ticket starts new, open, pending or on-hold, not \(draft.status.rawValue)")
            }
            let number = try Int.fetchOne(
                db,
                sql: """
                    INSERT INTO counter (name, value) VALUES ('ticket', 1)
                    ON CONFLICT(name) DO UPDATE SET value = value + 1
                    RETURNING value
                    """)!
            var conversations: [Conversation] = []
            for conversationID in Self.unique(draft.conversationIDs) {
                guard let conversation = try SQLiteWrites.conversation(conversationID, db, json: json) else {
                    throw StoreError.notFound("no conversation \(conversationID)")
                }
                guard conversation.customerID == draft.customerID else {
                    throw StoreError.invalid("conversation \(conversationID) is another customer's")
                }
                conversations.append(conversation)
            }
            let ticket = Ticket(
                id: draft.id, number: TicketNumber(rawValue: number), subject: subject, status: draft.status, priority: draft.priority,
                customerID: draft.customerID, assigneeID: draft.assigneeID, queueID: draft.queueID,
                conversationIDs: conversations.map(\.id), firstResponseDueAt: draft.firstResponseDueAt, dueAt: draft.dueAt,
                createdAt: date, channelAccountID: draft.channelAccountID ?? conversations.first?.channelAccountID)
            try db.execute(
                sql: """
                    INSERT INTO ticket (id, number, subject, status, priority, customerID, assigneeID, queueID, firstResponseDueAt,
                        dueAt, createdAt, updatedAt, channelAccountID)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    ticket.id.rawValue, number, ticket.subject, ticket.status.rawValue, ticket.priority.rawValue,
                    ticket.customerID.rawValue, ticket.assigneeID?.rawValue, ticket.queueID, ticket.firstResponseDueAt?.millisecondsSince1970,
                    ticket.dueAt?.millisecondsSince1970, date.millisecondsSince1970, date.millisecondsSince1970, ticket.channelAccountID,
                ])
            for conversation in conversations {
                try db.execute(
                    sql: "INSERT INTO ticket_conversation (ticketID, conversationID, linkedAt) VALUES (?, ?, ?)",
                    arguments: [ticket.id.rawValue, conversation.id.rawValue, date.millisecondsSince1970])
            }
            try events.append(
                .ticketCreated, at: date, actor: actor,
                refs: EventRefs(
                    customerID: ticket.customerID, conversationID: conversations.first?.id, ticketID: ticket.id, agentID: ticket.assigneeID),
                payload: ticket)
            if let note = draft.note?.trimmingCharacters(in: .whitespacesAndNewlines), !note.isEmpty {
                _ = try Self.insertComment(
                    TicketCommentDraft(ticketID: ticket.id, author: Self.author(of: actor), visibility: .internal, body: note), ticket: ticket,
                    at: date, actor: actor, db, &events)
            }
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
        try await write { db, events in try Self.changeTicket(id, change, at: date, actor: actor, db, &events) }
    }

    /// `updateTicket` inside a transaction.
    static func changeTicket(_ id: Ticket.ID, _ change: TicketChange, at date: Date, actor: Actor, _ db: Database, _ events: inout EventWriter)
        throws -> Ticket
    {
        guard var ticket = try Self.ticket(where: "id = ?", [id.rawValue], db) else { throw StoreError.notFound("no ticket \(id)") }
        if let key = change.onceKey, try !Self.claim("once:" + key, db) { return ticket }
        let previous = ticket.status
        if let expected = change.expectedStatus, previous != expected {
            throw StoreError.conflict("ticket \(ticket.number) is \(previous.rawValue) now, not \(expected.rawValue)")
        }
        if let status = change.status, !previous.allows(status) {
            throw StoreError.conflict(Self.refusal(ticket, to: status))
        }
        // A closed ticket is history: nothing of it changes any more.
        if previous == .closed {
            throw StoreError.conflict(Self.refusal(ticket, to: change.status ?? .closed))
        }
        if let subject = change.subject, subject.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw StoreError.invalid("a ticket needs a subject")
        }
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
            payload: TicketUpdatedPayload(
                ticket: ticket, changes: changes.names, previousStatus: changes.names.contains("status") ? previous : nil, reason: change.reason))
        return ticket
    }

    /// Why a status change is refused, in words.
    static func refusal(_ ticket: Ticket, to status: TicketStatus) -> String {
        switch (ticket.status, status) {
        case (.closed, _):
            if let target = ticket.mergedIntoID { return "ticket \(ticket.number) was merged into \(target) and is closed" }
            return "ticket \(ticket.number) is closed: closed tickets do not change (open a new one)"
        case (_, .new): return "a ticket is new only when it is created"
        case (_, .closed): return "ticket \(ticket.number) is \(ticket.status.rawValue): only a solved ticket can be closed"
        default: return "ticket \(ticket.number) cannot go from \(ticket.status.rawValue) to \(status.rawValue)"
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
            guard ticket.status != .closed || ticket.conversationIDs.contains(conversation.id) else {
                throw StoreError.conflict("ticket \(ticket.number) is closed: closed tickets do not change (open a new one)")
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

    public func tickets(matching filter: TicketFilter, after cursor: PageCursor?, limit: Int) async throws -> [Ticket] {
        try await read { db in try Self.tickets(matching: filter, after: cursor, limit: limit, db) }
    }

    public func customerMessageContext(_ conversationID: Conversation.ID, pendingLimit: Int) async throws -> CustomerMessageContext? {
        try readNow { db in
            guard let conversation = try SQLiteWrites.conversation(conversationID, db, json: JSONColumns()) else { return nil }
            let customer = conversation.customerID
            if ticketless.contains(customer) {
                return CustomerMessageContext(conversation: conversation, linkedTickets: [], pendingTickets: [])
            }
            return CustomerMessageContext(
                conversation: conversation,
                linkedTickets: try Self.tickets(linkedTo: conversationID, db).filter { $0.customerID == customer },
                pendingTickets: try Self.tickets(matching: TicketFilter(customerID: customer, statuses: [.pending]), after: nil, limit: pendingLimit, db))
        }
    }

    static func tickets(matching filter: TicketFilter, after cursor: PageCursor?, limit: Int, _ db: Database) throws -> [Ticket] {
        var conditions = ["number < ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [cursor?.key ?? Int64.max]
        if let customer = filter.customerID {
            conditions.append("customerID = ?")
            arguments.append(customer.rawValue)
        }
        if !filter.statuses.isEmpty {
            let statuses = filter.statuses.map(\.rawValue).sorted()
            conditions.append("status IN (\(statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += statuses.map { $0 as (any DatabaseValueConvertible)? }
        }
        if let agent = filter.assigneeID {
            conditions.append("assigneeID = ?")
            arguments.append(agent.rawValue)
        }
        if let queues = filter.queueIDs {
            guard !queues.isEmpty else { return [] }
            conditions.append("queueID IN (\(queues.map { _ in "?" }.joined(separator: ", ")))")
            arguments += queues.map { $0 as (any DatabaseValueConvertible)? }
        }
        arguments.append(limit)
        // Cached: the ticket and SLA services ask this of every customer's message, and the
        // filters come in a few shapes only.
        return try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM ticket WHERE \(conditions.joined(separator: " AND ")) ORDER BY number DESC LIMIT ?"),
            arguments: StatementArguments(arguments)
        ).map { row in try SQLiteRows.ticket(row, conversationIDs: try Self.linkedConversations(row["id"], db)) }
    }

    public func tickets(linkedTo conversationID: Conversation.ID) async throws -> [Ticket] {
        try readNow { db in try Self.tickets(linkedTo: conversationID, db) }
    }

    public func tickets(linkedTo conversationID: Conversation.ID, of customerID: Customer.ID) async throws -> [Ticket] {
        if ticketless.contains(customerID) { return [] }
        return try readNow { db in try Self.tickets(linkedTo: conversationID, db).filter { $0.customerID == customerID } }
    }

    static func tickets(linkedTo conversationID: Conversation.ID, _ db: Database) throws -> [Ticket] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT ticket.* FROM ticket_conversation JOIN ticket ON ticket.id = ticket_conversation.ticketID
                    WHERE ticket_conversation.conversationID = ? ORDER BY ticket.number DESC
                    """),
            arguments: [conversationID.rawValue]
        ).map { row in try SQLiteRows.ticket(row, conversationIDs: try linkedConversations(row["id"], db)) }
    }

    public func addTicketComment(_ draft: TicketCommentDraft, at date: Date, actor: Actor) async throws -> TicketComment {
        try await write { db, events in
            guard let ticket = try Self.ticket(where: "id = ?", [draft.ticketID.rawValue], db) else {
                throw StoreError.notFound("no ticket \(draft.ticketID)")
            }
            guard ticket.status != .closed else { throw StoreError.conflict("ticket \(ticket.number) is closed") }
            return try Self.insertComment(draft, ticket: ticket, at: date, actor: actor, db, &events)
        }
    }

    static func insertComment(
        _ draft: TicketCommentDraft, ticket: Ticket, at date: Date, actor: Actor, _ db: Database, _ events: inout EventWriter
    ) throws -> TicketComment {
        let body = draft.body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw StoreError.invalid("a comment needs a body") }
        let comment = TicketComment(
            id: draft.id, ticketID: ticket.id, author: draft.author, visibility: draft.visibility, body: body, createdAt: date)
        try db.execute(
            sql: "INSERT INTO ticket_comment (id, ticketID, authorKind, authorID, visibility, body, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                comment.id.rawValue, ticket.id.rawValue, comment.author.kind, comment.author.authorID, comment.visibility.rawValue, body,
                date.millisecondsSince1970,
            ])
        var agent: Agent.ID?
        if case .agent(let id) = draft.author { agent = id }
        try events.append(
            .ticketCommented, at: date, actor: actor,
            refs: EventRefs(customerID: ticket.customerID, ticketID: ticket.id, agentID: agent ?? ticket.assigneeID),
            payload: TicketCommentedPayload(comment: comment, ticketNumber: ticket.number))
        return comment
    }

    /// Who writes a comment made by `actor`.
    static func author(of actor: Actor) -> MessageAuthor {
        if actor.kind == .agent, let id = actor.id { return .agent(Agent.ID(id)) }
        return .system
    }

    public func ticketComments(of ticketID: Ticket.ID, includeInternal: Bool) async throws -> [TicketComment] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM ticket_comment WHERE ticketID = ?\(includeInternal ? "" : " AND visibility = 'public'") ORDER BY createdAt, id",
                arguments: [ticketID.rawValue]
            ).map { row in
                guard let visibility = TicketComment.Visibility(rawValue: row["visibility"]) else {
                    throw StoreError.invalid("corrupt comment visibility \(String(describing: row["visibility"]))")
                }
                guard let author = MessageAuthor(kind: row["authorKind"], id: row["authorID"]) else {
                    throw StoreError.invalid("corrupt comment author \(String(describing: row["authorKind"]))")
                }
                return TicketComment(
                    id: TicketComment.ID(row["id"] as String), ticketID: ticketID, author: author, visibility: visibility, body: row["body"],
                    createdAt: Date(millisecondsSince1970: row["createdAt"]))
            }
        }
    }

    public func mergeTicket(_ sourceID: Ticket.ID, into targetID: Ticket.ID, at date: Date, actor: Actor) async throws -> TicketMerge {
        try await write { db, events in
            guard sourceID != targetID else { throw StoreError.conflict("a ticket cannot be merged into itself") }
            guard var source = try Self.ticket(where: "id = ?", [sourceID.rawValue], db) else { throw StoreError.notFound("no ticket \(sourceID)") }
            guard var target = try Self.ticket(where: "id = ?", [targetID.rawValue], db) else { throw StoreError.notFound("no ticket \(targetID)") }
            guard source.status != .closed else { throw StoreError.conflict("ticket \(source.number) is closed") }
            guard target.status != .closed else { throw StoreError.conflict("ticket \(target.number) is closed") }
            guard source.customerID == target.customerID else {
                throw StoreError.conflict("tickets \(source.number) and \(target.number) belong to two customers: merge the customers first")
            }
            for conversation in source.conversationIDs {
                try Self.link(conversation, to: &target, at: date, actor: actor, db, &events)
            }
            try db.execute(sql: "DELETE FROM ticket_conversation WHERE ticketID = ?", arguments: [source.id.rawValue])
            let previous = source.status
            source.conversationIDs = []
            source.status = .closed
            source.mergedIntoID = target.id
            source.solvedAt = source.solvedAt ?? date
            source.closedAt = date
            source.updatedAt = date
            target.updatedAt = date
            try db.execute(
                sql: "UPDATE ticket SET status = 'closed', mergedIntoID = ?, solvedAt = ?, closedAt = ?, updatedAt = ? WHERE id = ?",
                arguments: [target.id.rawValue, source.solvedAt?.millisecondsSince1970, date.millisecondsSince1970, date.millisecondsSince1970, source.id.rawValue])
            try db.execute(sql: "UPDATE ticket SET updatedAt = ? WHERE id = ?", arguments: [date.millisecondsSince1970, target.id.rawValue])
            let payload = TicketMergedPayload(source: source, target: target)
            try events.append(
                .ticketUpdated, at: date, actor: actor,
                refs: EventRefs(customerID: source.customerID, ticketID: source.id, agentID: source.assigneeID),
                payload: TicketUpdatedPayload(
                    ticket: source, changes: ["status", "mergedIntoID"], previousStatus: previous, reason: "merged into \(target.number)"))
            try events.append(
                .ticketMerged, at: date, actor: actor, refs: EventRefs(customerID: target.customerID, ticketID: target.id, agentID: target.assigneeID),
                payload: payload)
            return TicketMerge(source: source, target: target)
        }
    }

    public func ticketEvents(_ ticketID: Ticket.ID, after sequence: Int64, limit: Int) async throws -> [HubEvent] {
        try await read { db in
            let json = JSONColumns()
            var rows = try Row.fetchAll(
                db, sql: "SELECT * FROM event WHERE ticketID = ? AND seq > ? ORDER BY seq LIMIT ?", arguments: [ticketID.rawValue, sequence, limit])
            // The merge is told on the target; the source's history names it too.
            rows += try Row.fetchAll(
                db,
                sql: """
                    SELECT event.* FROM ticket JOIN event ON event.ticketID = ticket.mergedIntoID AND event.kind = 'ticket.merged'
                    WHERE ticket.id = ? AND event.seq > ? AND json_extract(event.payload, '$.source.id') = ?
                    """,
                arguments: [ticketID.rawValue, sequence, ticketID.rawValue])
            rows.sort { ($0["seq"] as Int64) < ($1["seq"] as Int64) }
            return try rows.prefix(limit).map { try SQLiteRows.event($0, json: json) }
        }
    }

    public func closeUnattended(_ conversationID: Conversation.ID, ifLatestInboundIs messageID: Message.ID, at date: Date, actor: Actor)
        async throws -> Bool
    {
        try await write { db, events in
            guard let conversation = try SQLiteWrites.conversation(conversationID, db, json: events.json) else { return false }
            // By the order of commits, not by the clock: two messages may share a millisecond.
            let newest = try String.fetchOne(
                db, sql: "SELECT id FROM message WHERE conversationID = ? AND direction = 'inbound' ORDER BY seq DESC LIMIT 1",
                arguments: [conversationID.rawValue])
            guard conversation.status != .closed, conversation.queueID == nil, conversation.assigneeID == nil, newest == messageID.rawValue
            else { return false }
            _ = try Self.change(conversationID, ConversationChange(status: .closed), at: date, actor: actor, db, &events)
            return true
        }
    }

    public func solvedTickets(solvedAtOrBefore date: Date, limit: Int) async throws -> [Ticket] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM ticket WHERE status = 'solved' AND solvedAt <= ? ORDER BY solvedAt LIMIT ?",
                arguments: [date.millisecondsSince1970, limit]
            ).map { row in try SQLiteRows.ticket(row, conversationIDs: try Self.linkedConversations(row["id"], db)) }
        }
    }

    public func notificationChannels(of customerID: Customer.ID) async throws -> [NotificationChannel] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT channelAccountID, subscribed FROM notification_channel WHERE customerID = ? ORDER BY position",
                arguments: [customerID.rawValue]
            ).map { NotificationChannel(channelAccountID: $0[0], subscribed: $0[1]) }
        }
    }

    public func setNotificationChannels(_ channels: [NotificationChannel], of customerID: Customer.ID, at date: Date, actor: Actor) async throws {
        try await write { db, events in
            guard try SQLiteWrites.customer(customerID, db, json: events.json) != nil else { throw StoreError.notFound("no customer \(customerID)") }
            var seen = Set<String>()
            let channels = channels.filter { seen.insert($0.channelAccountID).inserted }
            try db.execute(sql: "DELETE FROM notification_channel WHERE customerID = ?", arguments: [customerID.rawValue])
            for (position, channel) in channels.enumerated() {
                try db.execute(
                    sql: "INSERT INTO notification_channel (customerID, position, channelAccountID, subscribed) VALUES (?, ?, ?, ?)",
                    arguments: [customerID.rawValue, position, channel.channelAccountID, channel.subscribed])
            }
            try events.append(
                .customerNotifications, at: date, actor: actor, refs: EventRefs(customerID: customerID), payload: ["channels": channels])
        }
    }

    public func recordUnnotified(_ ticket: Ticket, key: String, reasons: [String: String], at date: Date, actor: Actor) async throws -> Bool {
        try await write { db, events in
            guard try Self.claim("unnotified:" + key, db) else { return false }
            try events.append(
                .ticketUnnotified, at: date, actor: actor,
                refs: EventRefs(customerID: ticket.customerID, ticketID: ticket.id, agentID: ticket.assigneeID),
                payload: TicketUnnotifiedPayload(ticket: ticket, key: key, reasons: reasons))
            return true
        }
    }

    public func readerPosition(_ name: String) async throws -> Int64? {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT value FROM counter WHERE name = ?", arguments: ["reader:" + name]) }
    }

    public func setReaderPosition(_ name: String, to sequence: Int64) async throws {
        try await write { db, _ in
            try db.execute(
                sql: "INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                arguments: ["reader:" + name, sequence])
        }
    }

    static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }

    static func ticket(where condition: String, _ arguments: StatementArguments, _ db: Database) throws -> Ticket? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM ticket WHERE \(condition)"), arguments: arguments) else { return nil }
        return try SQLiteRows.ticket(row, conversationIDs: try linkedConversations(row["id"], db))
    }

    static func linkedConversations(_ ticketID: String, _ db: Database) throws -> [Conversation.ID] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT conversationID FROM ticket_conversation WHERE ticketID = ? ORDER BY linkedAt, conversationID"),
            arguments: [ticketID]
        ).map(Conversation.ID.init(rawValue:))
    }
}
