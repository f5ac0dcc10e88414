import Foundation

/// A satisfaction survey (CSAT) sent to a customer after their ticket was solved, and their score.
public struct Survey: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "srv"
    public typealias ID = Identifier<Survey>

    public var id: ID
    public var ticketID: Ticket.ID
    public var ticketNumber: TicketNumber
    public var customerID: Customer.ID
    /// The conversation it was sent in, and the account it went through.
    public var conversationID: Conversation.ID
    public var channelAccountID: String
    /// Whom and what the score is about: the ticket's agent and queue when it was solved.
    public var agentID: Agent.ID?
    public var queueID: String?
    /// The scale's top (5: scores 1 to 5).
    public var scale: Int
    public var sentAt: Date
    /// Answers after this are not scores.
    public var expiresAt: Date
    public var score: Int?
    public var answeredAt: Date?
    /// The channel account the answer came through (any of the customer's).
    public var answeredThrough: String?

    public init(
        id: ID, ticketID: Ticket.ID, ticketNumber: TicketNumber, customerID: Customer.ID, conversationID: Conversation.ID,
        channelAccountID: String, agentID: Agent.ID?, queueID: String?, scale: Int, sentAt: Date, expiresAt: Date, score: Int? = nil,
        answeredAt: Date? = nil, answeredThrough: String? = nil
    ) {
        self.id = id
        self.ticketID = ticketID
        self.ticketNumber = ticketNumber
        self.customerID = customerID
        self.conversationID = conversationID
        self.channelAccountID = channelAccountID
        self.agentID = agentID
        self.queueID = queueID
        self.scale = scale
        self.sentAt = sentAt
        self.expiresAt = expiresAt
        self.score = score
        self.answeredAt = answeredAt
        self.answeredThrough = answeredThrough
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case ticketID = "ticketId"
        case ticketNumber
        case customerID = "customerId"
        case conversationID = "conversationId"
        case channelAccountID = "channelAccountId"
        case agentID = "agentId"
        case queueID = "queueId"
        case scale, sentAt, expiresAt, score, answeredAt, answeredThrough
    }
}

/// A customer's answer to a survey: a number from 1 to 5 (ASCII or full-width, "4分", "5星",
/// "3/5"), or one of the faces (😡 1, 😞 2, 😐 3, 🙂 4, 😄 5).
public enum SurveyAnswer {
    static let faces: [Character: Int] = ["😡": 1, "😠": 1, "😞": 2, "🙁": 2, "😐": 3, "🙂": 4, "😊": 4, "😄": 5, "😁": 5, "😍": 5]

    public static func parse(_ text: String) -> Int? {
        var rest = text.trimmingWhitespace()
        guard !rest.isEmpty, rest.count <= 6 else { return nil }
        if rest.count == 1, let face = faces[rest.first!] { return face }
        for suffix in ["分", "星", "/5", "／5"] where rest.hasSuffix(suffix) {
            rest = String(rest.dropLast(suffix.count)).trimmingWhitespace()
            break
        }
        guard rest.unicodeScalars.count == 1, let scalar = rest.unicodeScalars.first else { return nil }
        switch scalar.value {
        case 0x31...0x35: return Int(scalar.value - 0x30)
        case 0xFF11...0xFF15: return Int(scalar.value - 0xFF10)
        default: return nil
        }
    }
}
