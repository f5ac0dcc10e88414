import Foundation
import GRDB
import HubModel

/// Decoding of stored rows into model values. Columns are read by name, except in the rows read
/// for every call and message (customers, conversations, calls), which are read by position: GRDB
/// finds a column by name by lower-casing it and comparing it with each column's, which cost more
/// than the rest of the decoding. Those rows come from `SELECT *` on their table, whose columns
/// are in the order of `customerColumns`, `conversationColumns` and `callColumns` (the tables were
/// created so and never altered; a column added later would come after them; a test checks).
enum SQLiteRows {
    static func date(_ row: Row, _ column: String) -> Date? {
        (row[column] as Int64?).map(Date.init(millisecondsSince1970:))
    }

    static func requiredDate(_ row: Row, _ column: String) -> Date {
        Date(millisecondsSince1970: row[column])
    }

    static let customerColumns = ["id", "name", "tier", "tags", "locale", "ownerAgentID", "mergedInto", "createdAt", "updatedAt"]

    static func customer(_ row: some PositionalRow, json: JSONColumns) throws -> Customer {
        Customer(
            id: Customer.ID(try row.requiredText(at: 0, "customer id")), name: row.text(at: 1),
            tier: CustomerTier(rawValue: try row.requiredText(at: 2, "customer tier")),
            tags: try json.value([String].self, from: row.requiredText(at: 3, "customer tags")), locale: row.text(at: 4),
            ownerAgentID: row.text(at: 5).map(Agent.ID.init(rawValue:)),
            mergedInto: row.text(at: 6).map(Customer.ID.init(rawValue:)),
            createdAt: try row.requiredDate(at: 7, "customer createdAt"), updatedAt: try row.requiredDate(at: 8, "customer updatedAt"))
    }

    static func handle(_ row: Row) throws -> Handle {
        guard let kind = HandleKind(rawValue: row["kind"]) else { throw corrupt("handle kind", row["kind"]) }
        return Handle(
            id: Handle.ID(row["id"] as String), customerID: Customer.ID(row["customerID"] as String),
            address: HandleAddress(kind: kind, scope: row["scope"], address: row["address"]), displayName: row["displayName"],
            optedOutAt: date(row, "optedOutAt"), createdAt: requiredDate(row, "createdAt"))
    }

    static let conversationColumns = [
        "id", "customerID", "handleID", "channelKind", "channelAccountID", "threadKey", "status", "queueID", "priority", "assigneeID",
        "subject", "attributes", "createdAt", "updatedAt", "lastMessageAt", "lastInboundAt", "firstResponseAt", "closedAt",
    ]

    static func conversation(_ row: some PositionalRow, json: JSONColumns) throws -> Conversation {
        guard let kind = ChannelKind(rawValue: try row.requiredText(at: 3, "channel kind")) else { throw corrupt("channel kind", row.text(at: 3)) }
        guard let status = ConversationStatus(rawValue: try row.requiredText(at: 6, "conversation status")) else {
            throw corrupt("conversation status", row.text(at: 6))
        }
        return Conversation(
            id: Conversation.ID(try row.requiredText(at: 0, "conversation id")),
            customerID: Customer.ID(try row.requiredText(at: 1, "conversation customerID")),
            handleID: row.text(at: 2).map(Handle.ID.init(rawValue:)), channelKind: kind,
            channelAccountID: try row.requiredText(at: 4, "conversation channelAccountID"),
            threadKey: try row.requiredText(at: 5, "conversation threadKey"), status: status, queueID: row.text(at: 7),
            priority: Int(try row.requiredInteger(at: 8, "conversation priority")), assigneeID: row.text(at: 9).map(Agent.ID.init(rawValue:)),
            subject: row.text(at: 10), attributes: try json.value([String: String].self, from: row.requiredText(at: 11, "conversation attributes")),
            createdAt: try row.requiredDate(at: 12, "conversation createdAt"), updatedAt: try row.requiredDate(at: 13, "conversation updatedAt"),
            lastMessageAt: row.date(at: 14), lastInboundAt: row.date(at: 15), firstResponseAt: row.date(at: 16), closedAt: row.date(at: 17))
    }

    static func message(_ row: Row, json: JSONColumns) throws -> Message {
        guard let direction = MessageDirection(rawValue: row["direction"]) else { throw corrupt("direction", row["direction"]) }
        guard let author = MessageAuthor(kind: row["authorKind"], id: row["authorID"]) else { throw corrupt("author", row["authorKind"]) }
        guard let visibility = MessageVisibility(rawValue: row["visibility"]) else { throw corrupt("visibility", row["visibility"]) }
        return Message(
            id: Message.ID(row["id"] as String), conversationID: Conversation.ID(row["conversationID"] as String),
            direction: direction, author: author, visibility: visibility, text: row["text"],
            attachments: try json.value([Attachment].self, from: row["attachments"]), channelAccountID: row["channelAccountID"],
            providerMessageID: row["providerMessageID"], deliveryStatus: (row["deliveryStatus"] as String?).flatMap(DeliveryStatus.init(rawValue:)),
            deliveryError: row["deliveryError"], metadata: try json.value([String: JSONValue].self, from: row["metadata"]),
            createdAt: requiredDate(row, "createdAt"), sentAt: date(row, "sentAt"), deliveredAt: date(row, "deliveredAt"),
            readAt: date(row, "readAt"))
    }

    static func delivery(_ row: Row, json: JSONColumns) throws -> Delivery {
        guard let kind = ChannelKind(rawValue: row["channelKind"]) else { throw corrupt("channel kind", row["channelKind"]) }
        guard let state = DeliveryState(rawValue: row["state"]) else { throw corrupt("delivery state", row["state"]) }
        return Delivery(
            id: Delivery.ID(row["id"] as String), idempotencyKey: row["idempotencyKey"], channelAccountID: row["channelAccountID"],
            channelKind: kind, messageID: (row["messageID"] as String?).map(Message.ID.init(rawValue:)),
            conversationID: (row["conversationID"] as String?).map(Conversation.ID.init(rawValue:)), orderingKey: row["orderingKey"],
            recipient: try json.value(HandleAddress.self, from: row["recipient"]),
            content: try json.value(OutboundContent.self, from: row["content"]), state: state, attempts: row["attempts"],
            maxAttempts: row["maxAttempts"], nextAttemptAt: requiredDate(row, "nextAttemptAt"), lastError: row["lastError"],
            providerMessageID: row["providerMessageID"], createdAt: requiredDate(row, "createdAt"),
            updatedAt: requiredDate(row, "updatedAt"), sentAt: date(row, "sentAt"))
    }

    static func ticket(_ row: Row, conversationIDs: [Conversation.ID]) throws -> Ticket {
        guard let status = TicketStatus(rawValue: row["status"]) else { throw corrupt("ticket status", row["status"]) }
        guard let priority = TicketPriority(rawValue: row["priority"]) else { throw corrupt("ticket priority", row["priority"]) }
        return Ticket(
            id: Ticket.ID(row["id"] as String), number: TicketNumber(rawValue: row["number"]), subject: row["subject"],
            status: status, priority: priority, customerID: Customer.ID(row["customerID"] as String),
            assigneeID: (row["assigneeID"] as String?).map(Agent.ID.init(rawValue:)), queueID: row["queueID"],
            conversationIDs: conversationIDs, firstResponseDueAt: date(row, "firstResponseDueAt"), dueAt: date(row, "dueAt"),
            createdAt: requiredDate(row, "createdAt"), updatedAt: requiredDate(row, "updatedAt"), solvedAt: date(row, "solvedAt"),
            closedAt: date(row, "closedAt"), mergedIntoID: (row["mergedIntoID"] as String?).map(Ticket.ID.init(rawValue:)),
            channelAccountID: row["channelAccountID"])
    }

    static let callColumns = [
        "id", "conversationID", "direction", "fromAddress", "toAddress", "state", "sipCallID", "agentID", "startedAt", "queuedAt",
        "offeredAt", "answeredAt", "endedAt", "hangupCause", "hungUpBy", "recordingReference",
    ]

    static func call(_ row: some PositionalRow) throws -> CallRecord {
        guard let direction = MessageDirection(rawValue: try row.requiredText(at: 2, "call direction")) else { throw corrupt("direction", row.text(at: 2)) }
        guard let state = CallState(rawValue: try row.requiredText(at: 5, "call state")) else { throw corrupt("call state", row.text(at: 5)) }
        return CallRecord(
            id: CallRecord.ID(try row.requiredText(at: 0, "call id")), conversationID: Conversation.ID(try row.requiredText(at: 1, "call conversationID")),
            direction: direction, from: try row.requiredText(at: 3, "call fromAddress"), to: try row.requiredText(at: 4, "call toAddress"),
            state: state, sipCallID: row.text(at: 6), agentID: row.text(at: 7).map(Agent.ID.init(rawValue:)),
            startedAt: try row.requiredDate(at: 8, "call startedAt"), queuedAt: row.date(at: 9), offeredAt: row.date(at: 10),
            answeredAt: row.date(at: 11), endedAt: row.date(at: 12), hangupCause: row.text(at: 13),
            hungUpBy: row.text(at: 14).flatMap(CallParty.init(rawValue:)), recordingReference: row.text(at: 15))
    }

    static func agent(_ row: Row, json: JSONColumns) throws -> Agent {
        guard let role = AgentRole(rawValue: row["role"]) else { throw corrupt("role", row["role"]) }
        return Agent(
            id: Agent.ID(row["id"] as String), login: row["login"], name: row["name"], role: role, email: row["email"],
            skills: try json.value([String: Int].self, from: row["skills"]),
            queues: try json.value([QueueMembership].self, from: row["queues"]),
            capacity: try json.value([ChannelMedium: Int].self, from: row["capacity"]), sipAddress: row["sipAddress"],
            active: row["active"], canRevealContacts: row["revealContacts"])
    }

    static func event(_ row: Row, json: JSONColumns) throws -> HubEvent {
        let actorText: String = row["actor"]
        return HubEvent(
            sequence: row["seq"], kind: EventKind(rawValue: row["kind"]), occurredAt: requiredDate(row, "occurredAt"),
            actor: Actor(parsing: actorText) ?? .system,
            refs: EventRefs(
                customerID: (row["customerID"] as String?).map(Customer.ID.init(rawValue:)),
                conversationID: (row["conversationID"] as String?).map(Conversation.ID.init(rawValue:)),
                messageID: (row["messageID"] as String?).map(Message.ID.init(rawValue:)),
                ticketID: (row["ticketID"] as String?).map(Ticket.ID.init(rawValue:)),
                callID: (row["callID"] as String?).map(CallRecord.ID.init(rawValue:)),
                agentID: (row["agentID"] as String?).map(Agent.ID.init(rawValue:)),
                deliveryID: (row["deliveryID"] as String?).map(Delivery.ID.init(rawValue:))),
            payload: try JSONReader.parse(row["payload"] as String))
    }

    private static func corrupt(_ what: String, _ value: String?) -> StoreError {
        StoreError(.unavailable, "stored \(what) '\(value ?? "NULL")' is not known to this version of the hub")
    }
}
