import Foundation
import GRDB
import HubModel

/// Decoding of stored rows into model values. Columns are read by name.
enum SQLiteRows {
    static func date(_ row: Row, _ column: String) -> Date? {
        (row[column] as Int64?).map(Date.init(millisecondsSince1970:))
    }

    static func requiredDate(_ row: Row, _ column: String) -> Date {
        Date(millisecondsSince1970: row[column])
    }

    static func customer(_ row: Row, json: JSONColumns) throws -> Customer {
        Customer(
            id: Customer.ID(row["id"] as String), name: row["name"], tier: CustomerTier(rawValue: row["tier"]),
            tags: try json.value([String].self, from: row["tags"]), locale: row["locale"],
            ownerAgentID: (row["ownerAgentID"] as String?).map(Agent.ID.init(rawValue:)),
            mergedInto: (row["mergedInto"] as String?).map(Customer.ID.init(rawValue:)),
            createdAt: requiredDate(row, "createdAt"), updatedAt: requiredDate(row, "updatedAt"))
    }

    static func handle(_ row: Row) throws -> Handle {
        guard let kind = HandleKind(rawValue: row["kind"]) else { throw corrupt("handle kind", row["kind"]) }
        return Handle(
            id: Handle.ID(row["id"] as String), customerID: Customer.ID(row["customerID"] as String),
            address: HandleAddress(kind: kind, scope: row["scope"], address: row["address"]), displayName: row["displayName"],
            optedOutAt: date(row, "optedOutAt"), createdAt: requiredDate(row, "createdAt"))
    }

    static func conversation(_ row: Row, json: JSONColumns) throws -> Conversation {
        guard let kind = ChannelKind(rawValue: row["channelKind"]) else { throw corrupt("channel kind", row["channelKind"]) }
        guard let status = ConversationStatus(rawValue: row["status"]) else { throw corrupt("conversation status", row["status"]) }
        return Conversation(
            id: Conversation.ID(row["id"] as String), customerID: Customer.ID(row["customerID"] as String),
            handleID: (row["handleID"] as String?).map(Handle.ID.init(rawValue:)), channelKind: kind,
            channelAccountID: row["channelAccountID"], threadKey: row["threadKey"], status: status, queueID: row["queueID"],
            priority: row["priority"], assigneeID: (row["assigneeID"] as String?).map(Agent.ID.init(rawValue:)),
            subject: row["subject"], attributes: try json.value([String: String].self, from: row["attributes"]),
            createdAt: requiredDate(row, "createdAt"), updatedAt: requiredDate(row, "updatedAt"),
            lastMessageAt: date(row, "lastMessageAt"), lastInboundAt: date(row, "lastInboundAt"),
            firstResponseAt: date(row, "firstResponseAt"), closedAt: date(row, "closedAt"))
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

    static func call(_ row: Row) throws -> CallRecord {
        guard let direction = MessageDirection(rawValue: row["direction"]) else { throw corrupt("direction", row["direction"]) }
        guard let state = CallState(rawValue: row["state"]) else { throw corrupt("call state", row["state"]) }
        return CallRecord(
            id: CallRecord.ID(row["id"] as String), conversationID: Conversation.ID(row["conversationID"] as String),
            direction: direction, from: row["fromAddress"], to: row["toAddress"], state: state, sipCallID: row["sipCallID"],
            agentID: (row["agentID"] as String?).map(Agent.ID.init(rawValue:)), startedAt: requiredDate(row, "startedAt"),
            queuedAt: date(row, "queuedAt"), offeredAt: date(row, "offeredAt"), answeredAt: date(row, "answeredAt"),
            endedAt: date(row, "endedAt"), hangupCause: row["hangupCause"],
            hungUpBy: (row["hungUpBy"] as String?).flatMap(CallParty.init(rawValue:)), recordingReference: row["recordingReference"])
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
