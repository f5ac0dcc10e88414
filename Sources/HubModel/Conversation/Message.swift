import Foundation

/// One message in a conversation, in either direction, on any channel.
public struct Message: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "msg"
    public typealias ID = Identifier<Message>

    public var id: ID
    public var conversationID: Conversation.ID
    public var direction: MessageDirection
    public var author: MessageAuthor
    /// Private notes are seen by agents only and never sent.
    public var visibility: MessageVisibility
    public var text: String?
    public var attachments: [Attachment]
    public var channelAccountID: String
    /// The provider's id: what a retried webhook is deduplicated by, and what status callbacks
    /// refer to.
    public var providerMessageID: String?
    /// Delivery progress of outbound messages; nil for inbound ones and notes.
    public var deliveryStatus: DeliveryStatus?
    public var deliveryError: String?
    /// Provider fields the model does not interpret, kept for audit and adapters.
    public var metadata: [String: JSONValue]
    /// When the hub stored it.
    public var createdAt: Date
    /// When the provider says it was sent (inbound) or when the provider accepted it (outbound).
    public var sentAt: Date?
    public var deliveredAt: Date?
    public var readAt: Date?

    public init(
        id: ID, conversationID: Conversation.ID, direction: MessageDirection, author: MessageAuthor,
        visibility: MessageVisibility = .public, text: String?, attachments: [Attachment] = [],
        channelAccountID: String, providerMessageID: String? = nil, deliveryStatus: DeliveryStatus? = nil,
        deliveryError: String? = nil, metadata: [String: JSONValue] = [:], createdAt: Date,
        sentAt: Date? = nil, deliveredAt: Date? = nil, readAt: Date? = nil
    ) {
        self.id = id
        self.conversationID = conversationID
        self.direction = direction
        self.author = author
        self.visibility = visibility
        self.text = text
        self.attachments = attachments
        self.channelAccountID = channelAccountID
        self.providerMessageID = providerMessageID
        self.deliveryStatus = deliveryStatus
        self.deliveryError = deliveryError
        self.metadata = metadata
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.deliveredAt = deliveredAt
        self.readAt = readAt
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case conversationID = "conversationId"
        case direction
        case author
        case visibility
        case text
        case attachments
        case channelAccountID = "channelAccountId"
        case providerMessageID = "providerMessageId"
        case deliveryStatus
        case deliveryError
        case metadata
        case createdAt
        case sentAt
        case deliveredAt
        case readAt
    }
}

/// Whether a message came from the customer or goes to them.
public enum MessageDirection: String, Sendable, Hashable, Codable {
    case inbound
    case outbound
}

/// Whether the customer sees a message.
public enum MessageVisibility: String, Sendable, Hashable, Codable {
    case `public`
    /// An agent's private note.
    case note
}

/// Who wrote a message.
public enum MessageAuthor: Sendable, Hashable, Codable, CustomStringConvertible {
    case customer
    case agent(Agent.ID)
    /// The hub itself: notifications, automatic replies.
    case system
    /// An external integration or bot, by name.
    case integration(String)

    private enum CodingKeys: String, CodingKey { case kind, id }

    /// The kind as stored ("customer", "agent", "system", "integration").
    public var kind: String {
        switch self {
        case .customer: "customer"
        case .agent: "agent"
        case .system: "system"
        case .integration: "integration"
        }
    }

    /// The agent id or integration name, if any.
    public var authorID: String? {
        switch self {
        case .customer, .system: nil
        case .agent(let id): id.rawValue
        case .integration(let name): name
        }
    }

    /// Rebuilds an author from its stored kind and id.
    public init?(kind: String, id: String?) {
        switch (kind, id) {
        case ("customer", _): self = .customer
        case ("system", _): self = .system
        case ("agent", let id?): self = .agent(Agent.ID(id))
        case ("integration", let name?): self = .integration(name)
        default: return nil
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        let id = try container.decodeIfPresent(String.self, forKey: .id)
        guard let author = MessageAuthor(kind: kind, id: id) else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "unknown author kind '\(kind)' or missing id")
        }
        self = author
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(authorID, forKey: .id)
    }

    public var description: String { authorID.map { "\(kind):\($0)" } ?? kind }
}

/// Delivery progress of an outbound message. It only moves forward (a late "sent" callback does
/// not undo "delivered"); `failed` is final unless a retry succeeds.
public enum DeliveryStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case queued
    case sent
    case delivered
    case read
    case failed

    private var rank: Int {
        switch self {
        case .queued: 0
        case .sent: 1
        case .delivered: 2
        case .read: 3
        case .failed: 1
        }
    }

    /// Whether a message in this status may move to `next`.
    public func canAdvance(to next: DeliveryStatus) -> Bool {
        switch (self, next) {
        case (.failed, .failed): false
        case (.failed, _): next.rank >= 1  // a provider may still report a "failed" message delivered
        case (_, .failed): self == .queued || self == .sent
        default: next.rank > rank
        }
    }
}

/// A file that belongs to a message, kept by reference (a URL or a blob-store key), never inline.
public struct Attachment: Sendable, Hashable, Codable {
    /// Where the content is: an `https:` URL or a `blob:` reference into the hub's store.
    public var reference: String
    public var contentType: String?
    public var byteCount: Int?
    public var filename: String?
    /// For a customer's attachment: whether the hub has its own copy yet (providers' links
    /// expire). Nil for attachments the hub does not fetch.
    public var status: AttachmentStatus?
    /// The provider's reference the content was fetched from, once it is in the hub's store.
    public var source: String?
    /// Why it was refused (too large, a type not accepted, gone at the provider).
    public var problem: String?

    public init(
        reference: String, contentType: String? = nil, byteCount: Int? = nil, filename: String? = nil, status: AttachmentStatus? = nil,
        source: String? = nil, problem: String? = nil
    ) {
        self.reference = reference
        self.contentType = contentType
        self.byteCount = byteCount
        self.filename = filename
        self.status = status
        self.source = source
        self.problem = problem
    }

    /// Whether the content is in the hub's own store.
    public var isStored: Bool { reference.hasPrefix("blob:") }
}

/// Where a customer's attachment stands.
public enum AttachmentStatus: String, Sendable, Hashable, Codable {
    /// To be fetched from the provider.
    case pending
    /// In the hub's store (`reference` is a `blob:`).
    case stored
    /// Not fetched, for good: `problem` says why.
    case refused
}
