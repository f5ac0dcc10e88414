import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func conversation(_ id: Conversation.ID) async throws -> Conversation? {
        try await read { db in try SQLiteWrites.conversation(id, db, json: JSONColumns()) }
    }

    public func conversations(of customerID: Customer.ID, after cursor: PageCursor?, limit: Int) async throws -> [Conversation] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM conversation WHERE customerID = ? AND (createdAt, id) < (?, ?)
                        ORDER BY createdAt DESC, id DESC LIMIT ?
                        """),
                arguments: [customerID.rawValue, cursor?.key ?? Int64.max, cursor?.id ?? "", limit]
            ).map { try SQLiteRows.conversation($0, json: json) }
        }
    }

    public func message(_ id: Message.ID) async throws -> Message? {
        try await read { db in try SQLiteWrites.message(id, db, json: JSONColumns()) }
    }

    public func content(_ reference: String) async throws -> [UInt8]? {
        try await read { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT bytes FROM content WHERE reference = ?"), arguments: [reference]).map { Array($0) }
        }
    }

    public func threadReferences(in conversationID: Conversation.ID, channelAccountID: String, limit: Int) async throws -> [ThreadReference] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT providerMessageID, direction FROM message
                        WHERE conversationID = ? AND channelAccountID = ? AND providerMessageID IS NOT NULL AND visibility = 'public'
                        ORDER BY seq DESC LIMIT ?
                        """),
                arguments: [conversationID.rawValue, channelAccountID, limit]
            ).reversed().compactMap { row in
                guard let direction = MessageDirection(rawValue: row[1]) else { return nil }
                return ThreadReference(providerMessageID: row[0], direction: direction)
            }
        }
    }

    public func messages(in conversationID: Conversation.ID, after: Message.ID?, limit: Int) async throws -> [Message] {
        try await read { db in
            let json = JSONColumns()
            var afterSequence: Int64 = 0
            if let after {
                guard let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM message WHERE id = ?", arguments: [after.rawValue]) else {
                    throw StoreError.notFound("no message \(after) to page after")
                }
                afterSequence = sequence
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM message WHERE conversationID = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [conversationID.rawValue, afterSequence, limit]
            ).map { try SQLiteRows.message($0, json: json) }
        }
    }

    public func updateConversation(_ id: Conversation.ID, _ change: ConversationChange, at date: Date, actor: Actor) async throws
        -> Conversation
    {
        try await write { db, events in try Self.change(id, change, at: date, actor: actor, db, &events) }
    }

    /// Applies a change to a conversation, with its `conversation.updated` event when anything
    /// changed.
    static func change(_ id: Conversation.ID, _ change: ConversationChange, at date: Date, actor: Actor, _ db: Database, _ events: inout EventWriter)
        throws -> Conversation
    {
        guard var conversation = try SQLiteWrites.conversation(id, db, json: events.json) else {
            throw StoreError.notFound("no conversation \(id)")
        }
        let previousAssignee = conversation.assigneeID
        var changes = FieldChanges(conversation)
        changes.set(\.status, to: change.status, name: "status")
        changes.set(\.queueID, to: change.queueID, name: "queueID")
        changes.set(\.priority, to: change.priority, name: "priority")
        changes.set(\.assigneeID, to: change.assigneeID, name: "assigneeID")
        changes.set(\.subject, to: change.subject, name: "subject")
        for (name, value) in change.attributes { changes.set(\.attributes[name], to: .some(value), name: "attributes.\(name)") }
        conversation = changes.record
        if changes.names.contains("status") { conversation.closedAt = conversation.status == .closed ? date : nil }
        guard !changes.isEmpty else { return conversation }
        conversation.updatedAt = date
        try SQLiteWrites.update(conversation, fields: changes.names, db, json: events.json)
        try events.append(
            .conversationUpdated, at: date, actor: actor,
            refs: EventRefs(customerID: conversation.customerID, conversationID: conversation.id, agentID: conversation.assigneeID),
            assigneeKnown: true,
            payload: ConversationUpdatedPayload(
                conversation: conversation, changes: changes.names,
                previousAssigneeID: previousAssignee != conversation.assigneeID ? previousAssignee : nil))
        return conversation
    }

    /// A routing record's change of its conversation (`change`); returns the assignee after it.
    /// A task queued in the queue its conversation names already (nearly every one: ingest sets
    /// it) changes nothing: that is found from the two columns, without reading the whole row
    /// and its JSON for a change that writes nothing.
    static func routingChange(
        _ id: Conversation.ID, _ change: ConversationChange, at date: Date, actor: Actor, _ db: Database, _ events: inout EventWriter
    ) throws -> Agent.ID? {
        if case .some(.some(let queue)) = change.queueID, change.status == nil, change.priority == nil, change.assigneeID == nil,
            change.subject == nil, change.attributes.isEmpty,
            let stored = try db.cachedStatement(sql: "SELECT queueID, assigneeID FROM conversation WHERE id = ?")
                .fetchOne(binding: { $0.bind(id.rawValue) }, { row in (queue: row.text(at: 0), assignee: row.text(at: 1)) }),
            stored.queue == queue
        {
            return stored.assignee.map(Agent.ID.init(rawValue:))
        }
        return try Self.change(id, change, at: date, actor: actor, db, &events).assigneeID
    }

    public func openConversations(limit: Int) async throws -> [Conversation] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(
                db, sql: "SELECT * FROM conversation WHERE status != 'closed' ORDER BY createdAt, id LIMIT ?", arguments: [limit]
            ).map { try SQLiteRows.conversation($0, json: json) }
        }
    }

    public func recordRouting(_ records: [RoutingRecord], at date: Date, actor: Actor) async throws {
        try await recordRouting([(records, actor)], at: date)
    }

    public func recordRouting(_ batches: [(records: [RoutingRecord], actor: Actor)], at date: Date) async throws {
        guard batches.contains(where: { !$0.records.isEmpty }) else { return }
        try await write { db, events in
            for (records, actor) in batches {
                for record in records {
                    var refs = record.refs
                    var assigneeKnown = false
                    if let change = record.conversationChange, let id = refs.conversationID {
                        // The conversation as it now is: its assignee is the record's agent when
                        // the record names none.
                        let assignee = try Self.routingChange(id, change, at: date, actor: actor, db, &events)
                        if refs.agentID == nil {
                            refs.agentID = assignee
                            assigneeKnown = true
                        }
                    }
                    _ = try events.append(record.kind, at: date, actor: actor, refs: refs, assigneeKnown: assigneeKnown, payload: record.payload)
                }
            }
        }
    }

    public func channelActivity(customerID: Customer.ID, channelAccountID: String) async throws -> ChannelActivity {
        try await read { db in
            func last(actions: Bool) throws -> Int64? {
                try Int64.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT MAX(createdAt) FROM message
                            WHERE conversationID IN (SELECT id FROM conversation WHERE customerID = ? AND channelAccountID = ?)
                              AND direction = 'inbound' AND (COALESCE(json_extract(metadata, '$.msgType'), '') = 'event') = ?
                            """),
                    arguments: [customerID.rawValue, channelAccountID, actions])
            }
            func replies(since time: Int64?) throws -> Int {
                guard let time else { return 0 }
                return try Int.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT COUNT(*) FROM message
                            WHERE conversationID IN (SELECT id FROM conversation WHERE customerID = ?)
                              AND channelAccountID = ? AND direction = 'outbound' AND visibility = 'public' AND createdAt > ?
                            """),
                    arguments: [customerID.rawValue, channelAccountID, time]) ?? 0
            }
            let message = try last(actions: false)
            let action = try last(actions: true)
            return ChannelActivity(
                lastInboundAt: message.map(Date.init(millisecondsSince1970:)), publicRepliesSince: try replies(since: message),
                lastActionAt: action.map(Date.init(millisecondsSince1970:)), publicRepliesSinceAction: try replies(since: action))
        }
    }

    public func outboundReceipt(idempotencyKey: String) async throws -> OutboundReceipt? {
        try await read { db in try Self.outboundReceipt(idempotencyKey, db, json: JSONColumns()) }
    }

    /// What a request with this key stored, as a duplicate's receipt.
    static func outboundReceipt(_ key: String, _ db: Database, json: JSONColumns) throws -> OutboundReceipt? {
        guard let messageID = try String.fetchOne(db, sql: "SELECT messageID FROM outbound_request WHERE idempotencyKey = ?", arguments: [key])
        else { return nil }
        guard let message = try SQLiteWrites.message(Message.ID(messageID), db, json: json) else {
            throw StoreError.conflict("idempotency key '\(key)' refers to a missing message")
        }
        let delivery = try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE messageID = ?", arguments: [messageID])
            .map { try SQLiteRows.delivery($0, json: json) }
        return OutboundReceipt(message: message, delivery: delivery, duplicate: true)
    }

    public func enqueueOutbound(_ command: OutboundCommand) async throws -> OutboundReceipt {
        try await write { db, events in
            let json = events.json
            // A repeated request (a client retrying after a timeout) returns what the first stored.
            if let receipt = try Self.outboundReceipt(command.idempotencyKey, db, json: json) { return receipt }
            guard var conversation = try SQLiteWrites.conversation(command.conversationID, db, json: json) else {
                throw StoreError.notFound("no conversation \(command.conversationID)")
            }
            let isPublic = command.visibility == .public
            guard !isPublic || command.delivery != nil else {
                throw StoreError.invalid("a public message needs a delivery plan")
            }
            let message = Message(
                id: command.messageID, conversationID: conversation.id, direction: .outbound, author: command.author,
                visibility: command.visibility, text: command.content.text, attachments: command.content.attachments,
                channelAccountID: command.delivery?.channelAccountID ?? conversation.channelAccountID,
                deliveryStatus: isPublic ? .queued : nil, metadata: command.metadata, createdAt: command.at)
            try SQLiteWrites.insert(message, db, json: json)
            try db.execute(
                sql: "INSERT INTO outbound_request (idempotencyKey, messageID, createdAt) VALUES (?, ?, ?)",
                arguments: [command.idempotencyKey, message.id.rawValue, command.at.millisecondsSince1970])

            var delivery: Delivery?
            if isPublic, let plan = command.delivery {
                let row = Delivery(
                    id: plan.deliveryID, idempotencyKey: command.idempotencyKey, channelAccountID: plan.channelAccountID,
                    channelKind: plan.channelKind, messageID: message.id, conversationID: conversation.id,
                    orderingKey: plan.orderingKey, recipient: plan.recipient, content: command.content,
                    maxAttempts: plan.maxAttempts, nextAttemptAt: max(command.at, plan.notBefore ?? command.at), createdAt: command.at)
                try SQLiteWrites.insert(row, db, json: json)
                delivery = row
                conversation.lastMessageAt = command.at
                if case .agent = command.author, conversation.firstResponseAt == nil { conversation.firstResponseAt = command.at }
                conversation.updatedAt = command.at
                try SQLiteWrites.update(conversation, db, json: json)
            }
            try events.append(
                isPublic ? .messageQueued : .messageNoted, at: command.at, actor: command.actor,
                refs: EventRefs(
                    customerID: conversation.customerID, conversationID: conversation.id, messageID: message.id,
                    deliveryID: delivery?.id),
                payload: message)
            return OutboundReceipt(message: message, delivery: delivery, duplicate: false)
        }
    }
}
