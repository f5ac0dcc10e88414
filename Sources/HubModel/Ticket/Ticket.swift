import Foundation

/// The company's promise to a customer: one case, followed across every channel it touches.
public struct Ticket: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "tkt"
    public typealias ID = Identifier<Ticket>

    public var id: ID
    /// The number customers quote ("T-000123").
    public var number: TicketNumber
    public var subject: String
    public var status: TicketStatus
    public var priority: TicketPriority
    public var customerID: Customer.ID
    public var assigneeID: Agent.ID?
    public var queueID: String?
    public var conversationIDs: [Conversation.ID]
    public var firstResponseDueAt: Date?
    public var dueAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var solvedAt: Date?
    public var closedAt: Date?
    /// The ticket this one was merged into (it is closed then, its conversations moved there).
    public var mergedIntoID: ID?
    /// The channel account the ticket was born on (its first conversation's), where the customer
    /// hears about it first.
    public var channelAccountID: String?

    public init(
        id: ID, number: TicketNumber, subject: String, status: TicketStatus = .new,
        priority: TicketPriority = .normal, customerID: Customer.ID, assigneeID: Agent.ID? = nil,
        queueID: String? = nil, conversationIDs: [Conversation.ID] = [], firstResponseDueAt: Date? = nil,
        dueAt: Date? = nil, createdAt: Date, updatedAt: Date? = nil, solvedAt: Date? = nil, closedAt: Date? = nil,
        mergedIntoID: ID? = nil, channelAccountID: String? = nil
    ) {
        self.id = id
        self.number = number
        self.subject = subject
        self.status = status
        self.priority = priority
        self.customerID = customerID
        self.assigneeID = assigneeID
        self.queueID = queueID
        self.conversationIDs = conversationIDs
        self.firstResponseDueAt = firstResponseDueAt
        self.dueAt = dueAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.solvedAt = solvedAt
        self.closedAt = closedAt
        self.mergedIntoID = mergedIntoID
        self.channelAccountID = channelAccountID
    }

    /// Whether the company still owes the customer something (not solved, not closed).
    public var isUnsolved: Bool { status != .solved && status != .closed }

    private enum CodingKeys: String, CodingKey {
        case id
        case number
        case subject
        case status
        case priority
        case customerID = "customerId"
        case assigneeID = "assigneeId"
        case queueID = "queueId"
        case conversationIDs = "conversationIds"
        case firstResponseDueAt
        case dueAt
        case createdAt
        case updatedAt
        case solvedAt
        case closedAt
        case mergedIntoID = "mergedIntoId"
        case channelAccountID = "channelAccountId"
    }
}

/// A ticket's human number, shown as `T-000123` (six digits at least, more when it grows).
public struct TicketNumber: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public var description: String {
        let digits = String(rawValue)
        return "T-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Reads a number as a customer might quote it: "T-000123", "t-123", "T000123", "#T-123".
    public init?(parsing text: String) {
        var rest = Substring(text.trimmingWhitespace())
        if rest.hasPrefix("#") { rest = rest.dropFirst() }
        guard let first = rest.first, first == "T" || first == "t" else { return nil }
        rest = rest.dropFirst()
        if rest.hasPrefix("-") { rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.count <= 12, rest.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(rest), value > 0
        else { return nil }
        self.rawValue = value
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let number = TicketNumber(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a ticket number such as T-000123")
        }
        self = number
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A ticket's lifecycle: new → open → pending (waiting on the customer) → on-hold (waiting on a
/// third party) → solved → closed.
public enum TicketStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case new
    case open
    case pending
    case onHold = "on-hold"
    case solved
    case closed

    /// Whether a ticket may move from this status to `next`. New only at birth; closed is final
    /// (a customer who writes again gets a new ticket) and comes only after solved; a solved
    /// ticket reopens to open, pending or on-hold, or closes. Any status may stay as it is.
    public func allows(_ next: TicketStatus) -> Bool {
        if next == self { return true }
        switch (self, next) {
        case (.closed, _), (_, .new): return false
        case (.solved, _): return true
        case (_, .closed): return false
        default: return true
        }
    }
}

/// How urgent a ticket is.
public enum TicketPriority: String, Sendable, Hashable, Codable, CaseIterable {
    case low
    case normal
    case high
    case urgent
}
