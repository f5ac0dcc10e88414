import Foundation

/// A customer's message as every adapter hands it to ingest: the provider's wire format
/// translated into the one model, not yet resolved to a customer or conversation.
public struct InboundEvent: Sendable, Hashable {
    public var channelKind: ChannelKind
    public var channelAccountID: String
    /// Who wrote, as the provider names them; normalized by ingest.
    public var sender: InboundSender
    /// Our address the customer wrote to (a number, a mailbox, an app id), if the provider says.
    public var recipient: String?
    /// The provider's id for this message; a second event with the same id on the same account is
    /// a retry and is stored once.
    public var providerMessageID: String
    /// When the provider says the customer sent it.
    public var occurredAt: Date?
    public var text: String?
    public var attachments: [Attachment]
    /// Separates parallel threads (an e-mail thread root); nil for one thread per customer.
    public var threadKey: String?
    /// What the message says it answers (an e-mail's In-Reply-To and References, a reply address
    /// token, a ticket number in the subject): the conversation it continues, when that is one of
    /// the sender's own.
    public var thread: ThreadHints?
    public var subject: String?
    /// Conversation attributes learned on the way in (language, IVR input, intent).
    public var attributes: [String: String]
    /// Provider fields kept with the message.
    public var metadata: [String: JSONValue]
    /// The customer opted out of (or back into) messages on this handle with this message (an
    /// SMS "STOP" or "START"); recorded on the handle in the message's transaction.
    public var consent: ConsentChange?
    /// Content received whole that the message refers to by reference (an e-mail's original, its
    /// attachments): stored in the message's own transaction, so one commit makes both durable.
    public var contents: [KeptContent]

    public init(
        channelKind: ChannelKind, channelAccountID: String, sender: InboundSender, recipient: String? = nil,
        providerMessageID: String, occurredAt: Date? = nil, text: String?, attachments: [Attachment] = [],
        threadKey: String? = nil, thread: ThreadHints? = nil, subject: String? = nil, attributes: [String: String] = [:],
        metadata: [String: JSONValue] = [:], consent: ConsentChange? = nil, contents: [KeptContent] = []
    ) {
        self.channelKind = channelKind
        self.channelAccountID = channelAccountID
        self.sender = sender
        self.recipient = recipient
        self.providerMessageID = providerMessageID
        self.occurredAt = occurredAt
        self.text = text
        self.attachments = attachments
        self.threadKey = threadKey
        self.thread = thread
        self.subject = subject
        self.attributes = attributes
        self.metadata = metadata
        self.consent = consent
        self.contents = contents
    }
}

/// How an inbound message names the conversation it continues, strongest first. Ingest follows
/// the first hint that leads to an open conversation of the sender's own customer on the same
/// account; hints pointing at another customer's conversation are ignored, so a guessed id or
/// number never lets anyone write into someone else's thread.
public struct ThreadHints: Sendable, Hashable {
    /// Provider message ids the message answers, most recent first (an e-mail's In-Reply-To, then
    /// its References from the last): inbound ids as received, outbound ids as the hub sent them.
    public var references: [String]
    /// A conversation named by the address the customer wrote to (`support+c<token>@…`).
    public var conversationID: Conversation.ID?
    /// A ticket number the customer quoted ("[T-000123]" in a subject).
    public var ticketNumber: TicketNumber?

    public init(references: [String] = [], conversationID: Conversation.ID? = nil, ticketNumber: TicketNumber? = nil) {
        self.references = references
        self.conversationID = conversationID
        self.ticketNumber = ticketNumber
    }

    public var isEmpty: Bool { references.isEmpty && conversationID == nil && ticketNumber == nil }
}

/// A customer's opt-out or opt-in on the handle they wrote from, with the keyword that said so.
public struct ConsentChange: Sendable, Hashable, Codable {
    public var optedOut: Bool
    /// The keyword as the customer wrote it ("STOP", "退订", "START").
    public var keyword: String

    public init(optedOut: Bool, keyword: String) {
        self.optedOut = optedOut
        self.keyword = keyword
    }
}

/// The customer read everything the business sent them through an account up to a moment (a
/// Messenger read watermark).
public struct ReadReceipt: Sendable, Hashable {
    public var channelKind: ChannelKind
    public var channelAccountID: String
    public var reader: InboundSender
    public var upTo: Date

    public init(channelKind: ChannelKind, channelAccountID: String, reader: InboundSender, upTo: Date) {
        self.channelKind = channelKind
        self.channelAccountID = channelAccountID
        self.reader = reader
        self.upTo = upTo
    }
}

/// An opt-out or opt-in that arrives without a message (a WeChat follower unfollowing).
public struct ConsentUpdate: Sendable, Hashable {
    public var channelKind: ChannelKind
    public var channelAccountID: String
    public var sender: InboundSender
    public var consent: ConsentChange

    public init(channelKind: ChannelKind, channelAccountID: String, sender: InboundSender, consent: ConsentChange) {
        self.channelKind = channelKind
        self.channelAccountID = channelAccountID
        self.sender = sender
        self.consent = consent
    }
}

/// The sender of an inbound event, before normalization.
public struct InboundSender: Sendable, Hashable {
    /// Defaults to the channel's handle kind; an integrator may say "phone" or "email" so that
    /// its users join the customers already known by those handles.
    public var kind: HandleKind?
    public var address: String
    public var displayName: String?

    public init(kind: HandleKind? = nil, address: String, displayName: String? = nil) {
        self.kind = kind
        self.address = address
        self.displayName = displayName
    }
}

/// What ingest did with an inbound event.
public struct IngestReceipt: Sendable, Hashable, Codable {
    public var customerID: Customer.ID
    public var conversationID: Conversation.ID
    public var messageID: Message.ID
    /// True when the provider message id was already stored: nothing was written.
    public var duplicate: Bool
    public var customerCreated: Bool
    public var conversationCreated: Bool

    public init(
        customerID: Customer.ID, conversationID: Conversation.ID, messageID: Message.ID, duplicate: Bool,
        customerCreated: Bool, conversationCreated: Bool
    ) {
        self.customerID = customerID
        self.conversationID = conversationID
        self.messageID = messageID
        self.duplicate = duplicate
        self.customerCreated = customerCreated
        self.conversationCreated = conversationCreated
    }

    private enum CodingKeys: String, CodingKey {
        case customerID = "customerId"
        case conversationID = "conversationId"
        case messageID = "messageId"
        case duplicate
        case customerCreated
        case conversationCreated
    }
}

/// A provider's report on an outbound message (Twilio status callback, Meta delivery/read).
public struct DeliveryStatusUpdate: Sendable, Hashable {
    public var channelAccountID: String
    /// The provider's id of the outbound message, as returned when it was sent.
    public var providerMessageID: String
    /// The hub's delivery, when the provider echoes it back (a status callback URL that names
    /// it): the report then finds its message even before the provider's answer to the send
    /// request has been recorded.
    public var deliveryID: Delivery.ID?
    public var status: DeliveryStatus
    public var error: String?
    public var occurredAt: Date?
    /// The provider's report kept by the hub (a bounce's DSN, as a `blob:` reference), attached to
    /// the message.
    public var report: String?

    public init(
        channelAccountID: String, providerMessageID: String, deliveryID: Delivery.ID? = nil, status: DeliveryStatus, error: String? = nil,
        occurredAt: Date? = nil, report: String? = nil
    ) {
        self.channelAccountID = channelAccountID
        self.providerMessageID = providerMessageID
        self.deliveryID = deliveryID
        self.status = status
        self.error = error
        self.occurredAt = occurredAt
        self.report = report
    }
}
