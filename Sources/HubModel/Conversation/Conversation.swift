import Foundation

/// An exchange between one customer and the company on one channel account.
public struct Conversation: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "cnv"
    public typealias ID = Identifier<Conversation>

    public var id: ID
    public var customerID: Customer.ID
    /// The customer's handle this conversation talks to.
    public var handleID: Handle.ID?
    public var channelKind: ChannelKind
    public var channelAccountID: String
    /// Separates parallel threads with one customer on one account (an e-mail thread's root
    /// Message-ID); empty for channels with one thread per customer.
    public var threadKey: String
    public var status: ConversationStatus
    public var queueID: String?
    public var priority: Int
    public var assigneeID: Agent.ID?
    public var subject: String?
    /// Facts the router and agents use: intent, sentiment, language, IVR input...
    public var attributes: [String: String]
    public var createdAt: Date
    public var updatedAt: Date
    public var lastMessageAt: Date?
    /// When the customer last wrote: messaging windows (WeChat 48 h, Messenger 24 h) start here.
    public var lastInboundAt: Date?
    /// The first public reply by an agent.
    public var firstResponseAt: Date?
    public var closedAt: Date?

    public init(
        id: ID, customerID: Customer.ID, handleID: Handle.ID?, channelKind: ChannelKind,
        channelAccountID: String, threadKey: String = "", status: ConversationStatus = .open,
        queueID: String? = nil, priority: Int = 0, assigneeID: Agent.ID? = nil, subject: String? = nil,
        attributes: [String: String] = [:], createdAt: Date, updatedAt: Date? = nil,
        lastMessageAt: Date? = nil, lastInboundAt: Date? = nil, firstResponseAt: Date? = nil,
        closedAt: Date? = nil
    ) {
        self.id = id
        self.customerID = customerID
        self.handleID = handleID
        self.channelKind = channelKind
        self.channelAccountID = channelAccountID
        self.threadKey = threadKey
        self.status = status
        self.queueID = queueID
        self.priority = priority
        self.assigneeID = assigneeID
        self.subject = subject
        self.attributes = attributes
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.lastMessageAt = lastMessageAt
        self.lastInboundAt = lastInboundAt
        self.firstResponseAt = firstResponseAt
        self.closedAt = closedAt
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case customerID = "customerId"
        case handleID = "handleId"
        case channelKind
        case channelAccountID = "channelAccountId"
        case threadKey
        case status
        case queueID = "queueId"
        case priority
        case assigneeID = "assigneeId"
        case subject
        case attributes
        case createdAt
        case updatedAt
        case lastMessageAt
        case lastInboundAt
        case firstResponseAt
        case closedAt
    }
}

/// Well-known conversation attribute names.
public enum ConversationAttribute {
    public static let intent = "intent"
    public static let sentiment = "sentiment"
    public static let language = "language"
    public static let ivrInput = "ivrInput"
}

/// Where a conversation stands. Every status but `closed` counts as open: a new message from the
/// customer lands in it.
public enum ConversationStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Needs the company's attention (waiting for or with an agent).
    case open
    /// Waiting on the customer.
    case pending
    /// Set aside until a time or the customer's next message.
    case snoozed
    case closed

    /// Whether new customer messages join this conversation.
    public var isOpen: Bool { self != .closed }
}
