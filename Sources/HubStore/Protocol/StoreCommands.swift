import Foundation
import HubModel

/// An inbound message made ready for the store: the sender normalized, and the ids and defaults
/// to use should a customer or conversation have to be created.
public struct IngestCommand: Sendable, Hashable {
    public var event: InboundEvent
    /// The sender's normalized handle.
    public var sender: HandleAddress
    public var receivedAt: Date
    /// Used if no customer has the sender's handle (generated then when nil).
    public var newCustomerID: Customer.ID?
    public var newHandleID: Handle.ID?
    /// Used if the customer has no open conversation on the account (and thread).
    public var newConversationID: Conversation.ID?
    public var messageID: Message.ID
    /// For a new conversation.
    public var queueID: String?
    public var priority: Int
    /// A call the message announces (a voice channel's INVITE): created in the message's
    /// transaction, in the message's conversation (its `conversationID` is set to it), so that
    /// no stored call is ever without its record. Not created for a retry of a stored message.
    public var call: CallRecord?

    public init(
        event: InboundEvent, sender: HandleAddress, receivedAt: Date, newCustomerID: Customer.ID? = nil,
        newHandleID: Handle.ID? = nil, newConversationID: Conversation.ID? = nil,
        messageID: Message.ID = .generate(), queueID: String? = nil, priority: Int = 0, call: CallRecord? = nil
    ) {
        self.call = call
        self.event = event
        self.sender = sender
        self.receivedAt = receivedAt
        self.newCustomerID = newCustomerID
        self.newHandleID = newHandleID
        self.newConversationID = newConversationID
        self.messageID = messageID
        self.queueID = queueID
        self.priority = priority
    }
}

/// An outbound message (or private note) to record, and how to deliver it.
public struct OutboundCommand: Sendable, Hashable {
    public var messageID: Message.ID
    public var conversationID: Conversation.ID
    public var author: MessageAuthor
    public var visibility: MessageVisibility
    public var content: OutboundContent
    /// A second command with the same key returns the first one's message and delivery.
    public var idempotencyKey: String
    /// For public messages: where and how to deliver.
    public var delivery: DeliveryPlan?
    /// Kept with the message (how it was routed, when it did not take the conversation's channel).
    public var metadata: [String: JSONValue]
    public var at: Date
    public var actor: Actor

    public init(
        messageID: Message.ID = .generate(), conversationID: Conversation.ID, author: MessageAuthor,
        visibility: MessageVisibility = .public, content: OutboundContent, idempotencyKey: String, delivery: DeliveryPlan?,
        metadata: [String: JSONValue] = [:], at: Date, actor: Actor
    ) {
        self.metadata = metadata
        self.messageID = messageID
        self.conversationID = conversationID
        self.author = author
        self.visibility = visibility
        self.content = content
        self.idempotencyKey = idempotencyKey
        self.delivery = delivery
        self.at = at
        self.actor = actor
    }
}

/// Where an outbound message goes: through which account, to which handle.
public struct DeliveryPlan: Sendable, Hashable {
    public var deliveryID: Delivery.ID
    public var channelAccountID: String
    public var channelKind: ChannelKind
    public var recipient: HandleAddress
    public var orderingKey: String?
    public var maxAttempts: Int
    /// Not sent before this instant (a notification held over the customer's quiet hours).
    public var notBefore: Date?

    public init(
        deliveryID: Delivery.ID = .generate(), channelAccountID: String, channelKind: ChannelKind, recipient: HandleAddress,
        orderingKey: String?, maxAttempts: Int, notBefore: Date? = nil
    ) {
        self.notBefore = notBefore
        self.deliveryID = deliveryID
        self.channelAccountID = channelAccountID
        self.channelKind = channelKind
        self.recipient = recipient
        self.orderingKey = orderingKey
        self.maxAttempts = maxAttempts
    }
}

/// What `enqueueOutbound` stored (or found, for a repeated idempotency key).
public struct OutboundReceipt: Sendable, Hashable {
    public var message: Message
    public var delivery: Delivery?
    /// True when the idempotency key was already used: nothing new was stored.
    public var duplicate: Bool

    public init(message: Message, delivery: Delivery?, duplicate: Bool) {
        self.message = message
        self.delivery = delivery
        self.duplicate = duplicate
    }
}

/// How one delivery attempt ended, as decided by the outbox worker.
public enum DeliveryAttemptResult: Sendable, Hashable {
    /// The provider accepted it.
    case sent(providerMessageID: String?)
    /// It failed; try again at `retryAt`.
    case retry(error: String, retryAt: Date)
    /// It failed for good (permanent error or attempts exhausted).
    case dead(error: String)
}

/// Changes to a conversation; nil fields stay as they are.
public struct ConversationChange: Sendable, Hashable {
    public var status: ConversationStatus?
    public var queueID: String??
    public var priority: Int?
    public var assigneeID: Agent.ID??
    public var subject: String??
    /// Attributes to set (a nil value removes the attribute).
    public var attributes: [String: String?]

    public init(
        status: ConversationStatus? = nil, queueID: String?? = nil, priority: Int? = nil, assigneeID: Agent.ID?? = nil,
        subject: String?? = nil, attributes: [String: String?] = [:]
    ) {
        self.status = status
        self.queueID = queueID
        self.priority = priority
        self.assigneeID = assigneeID
        self.subject = subject
        self.attributes = attributes
    }
}

/// A ticket to create.
public struct TicketDraft: Sendable, Hashable {
    public var id: Ticket.ID
    public var subject: String
    public var customerID: Customer.ID
    public var priority: TicketPriority
    public var queueID: String?
    public var assigneeID: Agent.ID?
    public var conversationIDs: [Conversation.ID]
    public var firstResponseDueAt: Date?
    public var dueAt: Date?
    /// The channel account it was born on; nil: its first conversation's.
    public var channelAccountID: String?
    /// Its first internal comment (what the agent noted when opening it).
    public var note: String?
    /// New, or open when an agent takes it at once; pending and on-hold too. Never solved or closed.
    public var status: TicketStatus

    public init(
        id: Ticket.ID = .generate(), subject: String, customerID: Customer.ID, priority: TicketPriority = .normal,
        queueID: String? = nil, assigneeID: Agent.ID? = nil, conversationIDs: [Conversation.ID] = [],
        firstResponseDueAt: Date? = nil, dueAt: Date? = nil, channelAccountID: String? = nil, note: String? = nil, status: TicketStatus = .new
    ) {
        self.status = status
        self.channelAccountID = channelAccountID
        self.note = note
        self.id = id
        self.subject = subject
        self.customerID = customerID
        self.priority = priority
        self.queueID = queueID
        self.assigneeID = assigneeID
        self.conversationIDs = conversationIDs
        self.firstResponseDueAt = firstResponseDueAt
        self.dueAt = dueAt
    }
}

/// Which tickets to list; nil fields do not filter.
public struct TicketFilter: Sendable, Hashable {
    public var customerID: Customer.ID?
    /// Any of these statuses (empty: any status).
    public var statuses: Set<TicketStatus>
    public var assigneeID: Agent.ID?
    /// Any of these queues (nil: any queue, or none).
    public var queueIDs: [String]?

    public init(customerID: Customer.ID? = nil, statuses: Set<TicketStatus> = [], assigneeID: Agent.ID? = nil, queueIDs: [String]? = nil) {
        self.customerID = customerID
        self.statuses = statuses
        self.assigneeID = assigneeID
        self.queueIDs = queueIDs
    }
}

/// A comment to add to a ticket.
public struct TicketCommentDraft: Sendable, Hashable {
    public var id: TicketComment.ID
    public var ticketID: Ticket.ID
    public var author: MessageAuthor
    public var visibility: TicketComment.Visibility
    public var body: String

    public init(
        id: TicketComment.ID = .generate(), ticketID: Ticket.ID, author: MessageAuthor, visibility: TicketComment.Visibility, body: String
    ) {
        self.id = id
        self.ticketID = ticketID
        self.author = author
        self.visibility = visibility
        self.body = body
    }
}

/// One of the channels a customer hears about their tickets on. The list is in the customer's
/// order: a change goes out on the ticket's own channel and on every subscribed one, and when one
/// cannot take it (a closed reply window, an opt-out), on the next in the list instead.
public struct NotificationChannel: Sendable, Hashable, Codable {
    public var channelAccountID: String
    /// Hears about every change (false: only stands in for a channel that cannot be used).
    public var subscribed: Bool

    public init(channelAccountID: String, subscribed: Bool = true) {
        self.channelAccountID = channelAccountID
        self.subscribed = subscribed
    }

    private enum CodingKeys: String, CodingKey {
        case channelAccountID = "channelAccountId"
        case subscribed
    }

    /// `subscribed` may be left out: true.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        channelAccountID = try container.decode(String.self, forKey: .channelAccountID)
        subscribed = try container.decodeIfPresent(Bool.self, forKey: .subscribed) ?? true
    }
}

/// Two tickets after a merge.
public struct TicketMerge: Sendable, Hashable {
    public var source: Ticket
    public var target: Ticket

    public init(source: Ticket, target: Ticket) {
        self.source = source
        self.target = target
    }
}

/// Changes to a ticket; nil fields stay as they are.
public struct TicketChange: Sendable, Hashable {
    public var status: TicketStatus?
    public var priority: TicketPriority?
    public var subject: String?
    public var assigneeID: Agent.ID??
    public var queueID: String??
    public var firstResponseDueAt: Date??
    public var dueAt: Date??
    /// Why, in words, for the history ("the customer replied").
    public var reason: String?
    /// Made only if the ticket still has this status (else `conflict`): for changes decided from
    /// an earlier read, so that they never undo a newer one.
    public var expectedStatus: TicketStatus?
    /// Made at most once per key, in the change's transaction (an automation's action for one
    /// event): a second change with the key changes nothing.
    public var onceKey: String?

    public init(
        status: TicketStatus? = nil, priority: TicketPriority? = nil, subject: String? = nil, assigneeID: Agent.ID?? = nil,
        queueID: String?? = nil, firstResponseDueAt: Date?? = nil, dueAt: Date?? = nil, reason: String? = nil,
        expectedStatus: TicketStatus? = nil, onceKey: String? = nil
    ) {
        self.onceKey = onceKey
        self.reason = reason
        self.expectedStatus = expectedStatus
        self.status = status
        self.priority = priority
        self.subject = subject
        self.assigneeID = assigneeID
        self.queueID = queueID
        self.firstResponseDueAt = firstResponseDueAt
        self.dueAt = dueAt
    }
}

/// A routing decision as the store records it: its event, and the change it makes to its
/// conversation (assignee, queue).
public struct RoutingRecord: Sendable, Hashable {
    public var kind: EventKind
    public var refs: EventRefs
    /// The event's payload, written when the record is made (by the router's actor, not by the
    /// store's writing thread).
    public var payload: WrittenJSON
    public var conversationChange: ConversationChange?

    public init(kind: EventKind, refs: EventRefs, payload: some JSONWritable, conversationChange: ConversationChange? = nil) {
        self.kind = kind
        self.refs = refs
        self.payload = JSONWriter.written(payload)
        self.conversationChange = conversationChange
    }

    /// (The same, for a literal: `payload: .object([...])`.)
    public init(kind: EventKind, refs: EventRefs, payload: JSONValue, conversationChange: ConversationChange? = nil) {
        self.kind = kind
        self.refs = refs
        self.payload = JSONWriter.written(payload)
        self.conversationChange = conversationChange
    }
}

/// A customer's attachment the hub is to fetch from the provider into its own store.
public struct AttachmentFetch: Sendable, Hashable {
    public var messageID: Message.ID
    /// The attachment's index in the message.
    public var position: Int
    public var channelAccountID: String
    public var attachment: Attachment
    /// Attempts so far, this one included.
    public var attempts: Int

    public init(messageID: Message.ID, position: Int, channelAccountID: String, attachment: Attachment, attempts: Int) {
        self.messageID = messageID
        self.position = position
        self.channelAccountID = channelAccountID
        self.attachment = attachment
        self.attempts = attempts
    }
}

/// How fetching one attachment ended.
public enum AttachmentFetchOutcome: Sendable, Hashable {
    /// In the hub's store: the attachment as it is now (a `blob:` reference, size, type).
    case stored(Attachment)
    /// Failed; try again at `retryAt`.
    case retry(error: String, retryAt: Date)
    /// Not to be fetched, for good.
    case refused(reason: String)
}
