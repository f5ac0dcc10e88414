import Foundation
import GRDB
import HubModel

/// Row writes shared by the store's operations. Every function runs inside the caller's
/// transaction and writes whole rows, so a record is always stored exactly as the model holds it.
enum SQLiteWrites {
    static func insert(_ customer: Customer, _ db: Database, json: JSONColumns) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO customer (id, name, tier, tags, locale, ownerAgentID, mergedInto, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).run([
            SQLValue(customer.id.rawValue), SQLValue(customer.name), SQLValue(customer.tier.rawValue), SQLValue(try json.text(customer.tags)),
            SQLValue(customer.locale), SQLValue(customer.ownerAgentID?.rawValue), SQLValue(customer.mergedInto?.rawValue),
            SQLValue(customer.createdAt.millisecondsSince1970), SQLValue(customer.updatedAt.millisecondsSince1970),
        ])
    }

    static func update(_ customer: Customer, _ db: Database, json: JSONColumns) throws {
        try db.cachedStatement(
            sql: """
                UPDATE customer SET name = ?, tier = ?, tags = ?, locale = ?, ownerAgentID = ?, mergedInto = ?, updatedAt = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            customer.name, customer.tier.rawValue, try json.text(customer.tags), customer.locale, customer.ownerAgentID?.rawValue,
            customer.mergedInto?.rawValue, customer.updatedAt.millisecondsSince1970, customer.id.rawValue,
        ])
    }

    static func insert(_ handle: Handle, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO handle (id, customerID, kind, scope, address, displayName, optedOutAt, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).run([
            SQLValue(handle.id.rawValue), SQLValue(handle.customerID.rawValue), SQLValue(handle.kind.rawValue), SQLValue(handle.scope),
            SQLValue(handle.address), SQLValue(handle.displayName), SQLValue(handle.optedOutAt?.millisecondsSince1970),
            SQLValue(handle.createdAt.millisecondsSince1970),
        ])
    }

    static func insert(_ conversation: Conversation, _ db: Database, json: JSONColumns) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO conversation (id, customerID, handleID, channelKind, channelAccountID, threadKey, status, queueID,
                    priority, assigneeID, subject, attributes, createdAt, updatedAt, lastMessageAt, lastInboundAt,
                    firstResponseAt, closedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).run(conversationArguments(conversation, json: json))
        try noteAssignee(conversation, db)
    }

    static func update(_ conversation: Conversation, _ db: Database, json: JSONColumns) throws {
        try db.cachedStatement(
            sql: """
                UPDATE conversation SET customerID = ?, handleID = ?, channelKind = ?, channelAccountID = ?, threadKey = ?,
                    status = ?, queueID = ?, priority = ?, assigneeID = ?, subject = ?, attributes = ?, createdAt = ?,
                    updatedAt = ?, lastMessageAt = ?, lastInboundAt = ?, firstResponseAt = ?, closedAt = ?
                WHERE id = ?
                """
        ).run(conversationArguments(conversation, json: json, idLast: true))
        try noteAssignee(conversation, db)
    }

    /// Writes only the columns a change touched (and `updatedAt`): SQLite rewrites the entries of
    /// every index whose columns an UPDATE sets, changed or not, and the conversation has five.
    /// `fields`: the names `FieldChanges` gave (`attributes.x` for an attribute).
    static func update(_ conversation: Conversation, fields: [String], _ db: Database, json: JSONColumns) throws {
        var columns: Set<String> = ["updatedAt"]
        for field in fields {
            if field.hasPrefix("attributes.") {
                columns.insert("attributes")
            } else {
                columns.insert(field)
                if field == "status" { columns.insert("closedAt") }
            }
        }
        // In the table's order, so that each set of columns is one cached statement.
        let ordered = SQLiteRows.conversationColumns.filter(columns.contains)
        guard ordered.count == columns.count else {
            // A field this does not know: the whole row.
            try update(conversation, db, json: json)
            return
        }
        var values: [SQLValue] = []
        values.reserveCapacity(ordered.count + 1)
        for column in ordered {
            switch column {
            case "status": values.append(SQLValue(conversation.status.rawValue))
            case "queueID": values.append(SQLValue(conversation.queueID))
            case "priority": values.append(SQLValue(conversation.priority))
            case "assigneeID": values.append(SQLValue(conversation.assigneeID?.rawValue))
            case "subject": values.append(SQLValue(conversation.subject))
            case "attributes": values.append(SQLValue((try? json.text(conversation.attributes)) ?? "{}"))
            case "updatedAt": values.append(SQLValue(conversation.updatedAt.millisecondsSince1970))
            case "closedAt": values.append(SQLValue(conversation.closedAt?.millisecondsSince1970))
            default:
                try update(conversation, db, json: json)
                return
            }
        }
        values.append(.text(conversation.id.rawValue))
        try db.cachedStatement(sql: "UPDATE conversation SET \(ordered.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?")
            .run(values)
        if columns.contains("assigneeID") { try noteAssignee(conversation, db) }
    }

    /// Remembers every agent a conversation was assigned to (what agents may read).
    private static func noteAssignee(_ conversation: Conversation, _ db: Database) throws {
        guard let agent = conversation.assigneeID else { return }
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO conversation_agent (conversationID, agentID, firstAt) VALUES (?, ?, ?)")
            .run { row in
                row.bind(conversation.id.rawValue)
                row.bind(agent.rawValue)
                row.bind(conversation.updatedAt.millisecondsSince1970)
            }
    }

    private static func conversationArguments(_ c: Conversation, json: JSONColumns, idLast: Bool = false) -> [SQLValue] {
        let attributes = (try? json.text(c.attributes)) ?? "{}"
        var values: [SQLValue] = []
        values.reserveCapacity(18)
        if !idLast { values.append(SQLValue(c.id.rawValue)) }
        values += [
            SQLValue(c.customerID.rawValue), SQLValue(c.handleID?.rawValue), SQLValue(c.channelKind.rawValue), SQLValue(c.channelAccountID),
            SQLValue(c.threadKey), SQLValue(c.status.rawValue), SQLValue(c.queueID), SQLValue(c.priority), SQLValue(c.assigneeID?.rawValue),
            SQLValue(c.subject), SQLValue(attributes), SQLValue(c.createdAt.millisecondsSince1970),
            SQLValue(c.updatedAt.millisecondsSince1970), SQLValue(c.lastMessageAt?.millisecondsSince1970),
            SQLValue(c.lastInboundAt?.millisecondsSince1970), SQLValue(c.firstResponseAt?.millisecondsSince1970),
            SQLValue(c.closedAt?.millisecondsSince1970),
        ]
        if idLast { values.append(SQLValue(c.id.rawValue)) }
        return values
    }

    static func insert(_ message: Message, _ db: Database, json: JSONColumns) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO message (id, conversationID, direction, authorKind, authorID, visibility, text, attachments,
                    channelAccountID, providerMessageID, deliveryStatus, deliveryError, metadata, createdAt, sentAt,
                    deliveredAt, readAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).run([
            SQLValue(message.id.rawValue), SQLValue(message.conversationID.rawValue), SQLValue(message.direction.rawValue),
            SQLValue(message.author.kind), SQLValue(message.author.authorID), SQLValue(message.visibility.rawValue), SQLValue(message.text),
            SQLValue(try json.text(message.attachments)), SQLValue(message.channelAccountID), SQLValue(message.providerMessageID),
            SQLValue(message.deliveryStatus?.rawValue), SQLValue(message.deliveryError), SQLValue(try json.text(message.metadata)),
            SQLValue(message.createdAt.millisecondsSince1970), SQLValue(message.sentAt?.millisecondsSince1970),
            SQLValue(message.deliveredAt?.millisecondsSince1970), SQLValue(message.readAt?.millisecondsSince1970),
        ])
    }

    static func updateDelivery(of message: Message, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE message SET providerMessageID = ?, deliveryStatus = ?, deliveryError = ?, sentAt = ?, deliveredAt = ?,
                    readAt = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            message.providerMessageID, message.deliveryStatus?.rawValue, message.deliveryError,
            message.sentAt?.millisecondsSince1970, message.deliveredAt?.millisecondsSince1970,
            message.readAt?.millisecondsSince1970, message.id.rawValue,
        ])
    }

    static func insert(_ delivery: Delivery, _ db: Database, json: JSONColumns) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox (id, idempotencyKey, channelAccountID, channelKind, messageID, conversationID, orderingKey,
                    recipient, content, state, attempts, maxAttempts, nextAttemptAt, lastError, providerMessageID, createdAt,
                    updatedAt, sentAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            delivery.id.rawValue, delivery.idempotencyKey, delivery.channelAccountID, delivery.channelKind.rawValue,
            delivery.messageID?.rawValue, delivery.conversationID?.rawValue, delivery.orderingKey,
            try json.text(delivery.recipient), try json.text(delivery.content), delivery.state.rawValue, delivery.attempts,
            delivery.maxAttempts, delivery.nextAttemptAt.millisecondsSince1970, delivery.lastError,
            delivery.providerMessageID, delivery.createdAt.millisecondsSince1970, delivery.updatedAt.millisecondsSince1970,
            delivery.sentAt?.millisecondsSince1970,
        ])
    }

    // MARK: Reads inside a write transaction

    static func customer(_ id: Customer.ID, _ db: Database, json: JSONColumns) throws -> Customer? {
        try db.cachedStatement(sql: "SELECT * FROM customer WHERE id = ?")
            .fetchOne(binding: { $0.bind(id.rawValue) }) { try SQLiteRows.customer($0, json: json) }
    }

    static func conversation(_ id: Conversation.ID, _ db: Database, json: JSONColumns) throws -> Conversation? {
        try db.cachedStatement(sql: "SELECT * FROM conversation WHERE id = ?")
            .fetchOne(binding: { $0.bind(id.rawValue) }) { try SQLiteRows.conversation($0, json: json) }
    }

    static func message(_ id: Message.ID, _ db: Database, json: JSONColumns) throws -> Message? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM message WHERE id = ?"), arguments: [id.rawValue])
            .map { try SQLiteRows.message($0, json: json) }
    }

    static func delivery(_ id: Delivery.ID, _ db: Database, json: JSONColumns) throws -> Delivery? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM outbox WHERE id = ?"), arguments: [id.rawValue])
            .map { try SQLiteRows.delivery($0, json: json) }
    }

    static func handle(_ key: HandleAddress, _ db: Database) throws -> Handle? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM handle WHERE kind = ? AND scope = ? AND address = ?"),
            arguments: [key.kind.rawValue, key.scope, key.address]
        ).map(SQLiteRows.handle)
    }
}
