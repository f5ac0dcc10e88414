import Foundation
import HubModel

/// Payload of `customer.created`.
public struct CustomerCreatedPayload: Sendable, Hashable, Codable {
    public var customer: Customer
    public var handles: [Handle]
}

/// Payload of `customer.updated` and `conversation.updated`: the record after the change, and the
/// names of the fields that changed.
public struct ConversationUpdatedPayload: Sendable, Hashable, Codable {
    public var conversation: Conversation
    public var changes: [String]
    /// The assignee before, when the change took the conversation from an agent: their feed
    /// learns it is no longer theirs.
    public var previousAssigneeID: Agent.ID?

    public init(conversation: Conversation, changes: [String], previousAssigneeID: Agent.ID? = nil) {
        self.conversation = conversation
        self.changes = changes
        self.previousAssigneeID = previousAssigneeID
    }

    private enum CodingKeys: String, CodingKey {
        case conversation
        case changes
        case previousAssigneeID = "previousAssigneeId"
    }
}

extension ConversationUpdatedPayload: CarriedEventPayload {
    public var carriedForm: ConversationUpdatedPayload {
        var form = self
        form.conversation = conversation.carriedForm
        return form
    }

    /// The payload from its JSON (an event's, already parsed), as `init(from:)` reads it.
    public init(json: JSONValue) throws(JSONFields.Failure) {
        let fields = try JSONFields(json)
        self.init(
            conversation: try Conversation(fields: fields.object("conversation")), changes: try fields.strings("changes"),
            previousAssigneeID: try fields.optionalString("previousAssigneeId").map { Agent.ID($0) })
    }
}

extension CustomerCreatedPayload: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("customer")
        customer.writeJSON(to: &writer)
        writer.key("handles")
        writer.beginArray()
        for handle in handles { handle.writeJSON(to: &writer) }
        writer.endArray()
        writer.endObject()
    }
}

extension ConversationUpdatedPayload: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("changes")
        writer.beginArray()
        for change in changes { writer.string(change) }
        writer.endArray()
        writer.field("conversation", conversation)
        writer.field("previousAssigneeId", previousAssigneeID?.rawValue)
        writer.endObject()
    }
}

/// Payload of `customer.updated`.
public struct CustomerUpdatedPayload: Sendable, Hashable, Codable {
    public var customer: Customer
    public var changes: [String]
}

/// Payload of `handle.consent`: a customer opted out of messages on a handle (SMS "STOP"), or
/// back in ("START").
public struct ConsentPayload: Sendable, Hashable, Codable {
    public var handleID: Handle.ID
    public var kind: HandleKind
    public var optedOut: Bool
    public var keyword: String
    public var channelAccountID: String
    /// The message that said so; nil for a provider event (an unfollow).
    public var messageID: Message.ID?

    private enum CodingKeys: String, CodingKey {
        case handleID = "handleId"
        case kind
        case optedOut
        case keyword
        case channelAccountID = "channelAccountId"
        case messageID = "messageId"
    }
}

/// Payload of `message.attachment`: a customer's attachment, now in the hub's store or refused.
public struct AttachmentPayload: Sendable, Hashable, Codable {
    public var messageID: Message.ID
    public var position: Int
    public var attachment: Attachment

    private enum CodingKeys: String, CodingKey {
        case messageID = "messageId"
        case position
        case attachment
    }
}

/// Payload of `message.status`.
public struct MessageStatusPayload: Sendable, Hashable, Codable {
    public var messageID: Message.ID
    public var status: DeliveryStatus
    public var previous: DeliveryStatus
    public var error: String?
    public var providerMessageID: String?
    /// The provider's report attached to the message (a bounce's DSN, as a `blob:` reference).
    public var report: String?

    private enum CodingKeys: String, CodingKey {
        case messageID = "messageId"
        case status
        case previous
        case error
        case providerMessageID = "providerMessageId"
        case report
    }
}

/// Payload of `delivery.attempted`: one attempt and how it ended.
public struct DeliveryAttemptPayload: Sendable, Hashable, Codable {
    public var deliveryID: Delivery.ID
    public var attempt: Int
    /// "sent", "retry" or "dead".
    public var outcome: String
    public var error: String?
    public var nextAttemptAt: Date?
    public var providerMessageID: String?

    private enum CodingKeys: String, CodingKey {
        case deliveryID = "deliveryId"
        case attempt
        case outcome
        case error
        case nextAttemptAt
        case providerMessageID = "providerMessageId"
    }
}

/// Payload of `delivery.recovered`: an attempt interrupted by a crash, made due again.
public struct DeliveryRecoveredPayload: Sendable, Hashable, Codable {
    public var deliveryID: Delivery.ID
    public var attempts: Int

    private enum CodingKeys: String, CodingKey {
        case deliveryID = "deliveryId"
        case attempts
    }
}

/// Payload of `handle.linked`.
public struct HandleLinkedPayload: Sendable, Hashable, Codable {
    public var handle: Handle
}

/// Payload of `customer.unmerged`: the merge undone and what returned.
public struct CustomerUnmergedPayload: Sendable, Hashable, Codable {
    public var merge: CustomerMerge
    public var handleIDs: [Handle.ID]
    public var conversationIDs: [Conversation.ID]
    public var ticketIDs: [Ticket.ID]

    private enum CodingKeys: String, CodingKey {
        case merge
        case handleIDs = "handleIds"
        case conversationIDs = "conversationIds"
        case ticketIDs = "ticketIds"
    }
}

/// Payload of `ticket.updated`.
public struct TicketUpdatedPayload: Sendable, Hashable, Codable {
    public var ticket: Ticket
    public var changes: [String]
    /// The status before, when the status changed.
    public var previousStatus: TicketStatus?
    /// Why, in words ("the customer replied").
    public var reason: String?

    public init(ticket: Ticket, changes: [String], previousStatus: TicketStatus? = nil, reason: String? = nil) {
        self.ticket = ticket
        self.changes = changes
        self.previousStatus = previousStatus
        self.reason = reason
    }
}

/// Payload of `ticket.commented`.
public struct TicketCommentedPayload: Sendable, Hashable, Codable {
    public var comment: TicketComment
    public var ticketNumber: TicketNumber
}

/// Payload of `ticket.unnotified`.
public struct TicketUnnotifiedPayload: Sendable, Hashable, Codable {
    public var ticket: Ticket
    /// Which change (`ticket-notify:<event sequence>`).
    public var key: String
    /// Why each channel tried could not be used, by channel account.
    public var reasons: [String: String]
}

/// Payload of `ticket.merged` (one event on each of the two tickets).
public struct TicketMergedPayload: Sendable, Hashable, Codable {
    public var source: Ticket
    public var target: Ticket
}
