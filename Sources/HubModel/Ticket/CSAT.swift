import Foundation

/// A satisfaction survey: sent once per ticket, with the notification that it is solved, and
/// answered by a score from 1 (poor) to 5 (excellent) in a message on any of the customer's
/// channels or on the survey's web page.
public struct CSATSurvey: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "csat"
    public typealias ID = Identifier<CSATSurvey>

    public var id: ID
    public var ticketID: Ticket.ID
    public var customerID: Customer.ID
    /// Who and where the ticket was solved: what the score is counted for.
    public var agentID: Agent.ID?
    public var queueID: String?
    /// The channel account the ticket was born on (the one the survey went out on first).
    public var channelAccountID: String?
    /// The secret in the survey's web link (`/csat/{token}`).
    public var token: String
    /// The `ticket.updated` event (to solved) that sent the survey.
    public var eventSequence: Int64
    public var sentAt: Date
    /// Answers after this are not taken.
    public var expiresAt: Date
    public var score: Int?
    public var answeredAt: Date?
    /// The message that answered (nil for the web page); each message answers at most once.
    public var answerMessageID: Message.ID?
    /// The channel account the answer came in on (`web` for the page).
    public var answerChannelAccountID: String?
    /// Set when no channel could carry the notification it went with: the customer never saw it,
    /// so it takes no answer and counts as not sent.
    public var withdrawnAt: Date?

    public init(
        id: ID, ticketID: Ticket.ID, customerID: Customer.ID, agentID: Agent.ID?, queueID: String?, channelAccountID: String?,
        token: String, eventSequence: Int64, sentAt: Date, expiresAt: Date, score: Int? = nil, answeredAt: Date? = nil,
        answerMessageID: Message.ID? = nil, answerChannelAccountID: String? = nil, withdrawnAt: Date? = nil
    ) {
        self.withdrawnAt = withdrawnAt
        self.id = id
        self.ticketID = ticketID
        self.customerID = customerID
        self.agentID = agentID
        self.queueID = queueID
        self.channelAccountID = channelAccountID
        self.token = token
        self.eventSequence = eventSequence
        self.sentAt = sentAt
        self.expiresAt = expiresAt
        self.score = score
        self.answeredAt = answeredAt
        self.answerMessageID = answerMessageID
        self.answerChannelAccountID = answerChannelAccountID
    }

    /// Whether an answer at `date` is taken: not answered yet, sent before and not expired.
    public func isOpen(at date: Date) -> Bool { score == nil && withdrawnAt == nil && sentAt <= date && date <= expiresAt }

    private enum CodingKeys: String, CodingKey {
        case id
        case ticketID = "ticketId"
        case customerID = "customerId"
        case agentID = "agentId"
        case queueID = "queueId"
        case channelAccountID = "channelAccountId"
        case token
        case eventSequence
        case sentAt
        case expiresAt
        case score
        case answeredAt
        case answerMessageID = "answerMessageId"
        case answerChannelAccountID = "answerChannelAccountId"
        case withdrawnAt
    }
}

/// Reads a survey answer: a message that is nothing but a score from 1 to 5, as customers write
/// one on a phone. "4", "４", "4分", "4 stars", "4/5", "⭐⭐⭐⭐", "😊". Anything more ("4 units
/// please", "3 days ago") is not an answer: it goes to an agent like any message.
public enum CSATScore {
    /// The emoji scale, 1 to 5, as the survey shows it.
    public static let emoji = ["😡", "😞", "😐", "🙂", "😍"]

    /// Faces customers use for each score besides the scale's own.
    static let faces: [String: Int] = [
        "😡": 1, "😠": 1, "🤬": 1, "👎": 1,
        "😞": 2, "🙁": 2, "☹️": 2, "☹": 2, "😟": 2,
        "😐": 3, "😑": 3,
        "🙂": 4, "😊": 4, "👍": 4,
        "😍": 5, "🥰": 5, "😀": 5, "😃": 5, "😄": 5, "🤩": 5,
    ]

    /// Words that may follow the digit ("4分", "4 stars", "4/5", "4 out of 5").
    static let suffixes: Set<String> = ["", "分", "星", "颗星", "stars", "star", "/5", "outof5", "of5", "points", "pts"]

    /// The score `text` gives, if that is all it says.
    public static func parse(_ text: String) -> Int? {
        guard text.utf8.count <= 64 else { return nil }
        var trimmed = text.trimmingWhitespace()
        while let last = trimmed.last, ".!。！~～".contains(last) { trimmed.removeLast() }
        guard !trimmed.isEmpty else { return nil }
        if let face = faces[trimmed] { return face }
        // A row of stars: as many as the score.
        if trimmed.allSatisfy({ $0 == "⭐" || $0 == "★" }) { return (1...5).contains(trimmed.count) ? trimmed.count : nil }
        var scalars = Substring(trimmed).unicodeScalars
        guard let first = scalars.first else { return nil }
        let digit: Int
        switch first.value {
        case 0x31...0x35: digit = Int(first.value - 0x30)  // 1-5
        case 0xFF11...0xFF15: digit = Int(first.value - 0xFF10)  // fullwidth １-５
        default: return nil
        }
        scalars.removeFirst()
        let rest = String(String.UnicodeScalarView(scalars.filter { !$0.properties.isWhitespace })).lowercased()
        return suffixes.contains(rest) ? digit : nil
    }
}
