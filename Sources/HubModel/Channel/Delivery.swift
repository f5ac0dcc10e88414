import Foundation

/// One outbound delivery in the durable outbox: what to send, to whom, through which channel
/// account, and how far the attempts have got.
public struct Delivery: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "dlv"
    public typealias ID = Identifier<Delivery>

    public var id: ID
    /// Unique across the outbox: enqueuing the same key twice yields the first delivery, and the
    /// key is passed to providers that deduplicate by it.
    public var idempotencyKey: String
    public var channelAccountID: String
    public var channelKind: ChannelKind
    public var messageID: Message.ID?
    public var conversationID: Conversation.ID?
    /// Deliveries with the same key go out one at a time, in order; nil means no ordering.
    public var orderingKey: String?
    public var recipient: HandleAddress
    public var content: OutboundContent
    public var state: DeliveryState
    /// Attempts started so far (an interrupted attempt counts).
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var providerMessageID: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var sentAt: Date?

    public init(
        id: ID, idempotencyKey: String, channelAccountID: String, channelKind: ChannelKind,
        messageID: Message.ID?, conversationID: Conversation.ID?, orderingKey: String?,
        recipient: HandleAddress, content: OutboundContent, state: DeliveryState = .pending,
        attempts: Int = 0, maxAttempts: Int, nextAttemptAt: Date, lastError: String? = nil,
        providerMessageID: String? = nil, createdAt: Date, updatedAt: Date? = nil, sentAt: Date? = nil
    ) {
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.channelAccountID = channelAccountID
        self.channelKind = channelKind
        self.messageID = messageID
        self.conversationID = conversationID
        self.orderingKey = orderingKey
        self.recipient = recipient
        self.content = content
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.providerMessageID = providerMessageID
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.sentAt = sentAt
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case idempotencyKey
        case channelAccountID = "channelAccountId"
        case channelKind
        case messageID = "messageId"
        case conversationID = "conversationId"
        case orderingKey
        case recipient
        case content
        case state
        case attempts
        case maxAttempts
        case nextAttemptAt
        case lastError
        case providerMessageID = "providerMessageId"
        case createdAt
        case updatedAt
        case sentAt
    }
}

/// The states of an outbox row.
public enum DeliveryState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for its first attempt.
    case pending
    /// Claimed by a worker; an attempt is in flight.
    case sending
    /// The provider accepted it. Final.
    case sent
    /// The last attempt failed; another is scheduled at `nextAttemptAt`.
    case failed
    /// Given up: attempts exhausted or a permanent error. Final.
    case dead

    /// Whether the worker may still pick this row up.
    public var isLive: Bool { self == .pending || self == .sending || self == .failed }
}

/// What an outbound delivery carries.
public struct OutboundContent: Sendable, Hashable, Codable {
    public var text: String?
    public var attachments: [Attachment]
    /// For channels with subjects (e-mail).
    public var subject: String?
    /// The provider message this one answers, where the channel threads replies.
    public var inReplyTo: String?
    /// Channel-specific instructions (a message tag, a template name) the adapter interprets.
    public var options: [String: JSONValue]

    public init(
        text: String?, attachments: [Attachment] = [], subject: String? = nil, inReplyTo: String? = nil,
        options: [String: JSONValue] = [:]
    ) {
        self.text = text
        self.attachments = attachments
        self.subject = subject
        self.inReplyTo = inReplyTo
        self.options = options
    }
}
