import Foundation
import HubModel

/// Satisfaction surveys: one per ticket, answered once.
public protocol CSATStore: Sendable {
    /// Creates the ticket's survey with a `csat.sent` event, or returns the one it already has
    /// (a ticket is surveyed once, however often it is solved).
    /// - Throws: `notFound` ticket.
    func createSurvey(_ draft: CSATSurveyDraft, at date: Date, actor: Actor) async throws -> CSATSurvey
    func survey(_ id: CSATSurvey.ID) async throws -> CSATSurvey?
    func survey(token: String) async throws -> CSATSurvey?
    func survey(ticketID: Ticket.ID) async throws -> CSATSurvey?
    /// The survey `messageID` answered.
    func survey(answeredBy messageID: Message.ID) async throws -> CSATSurvey?
    /// A customer's surveys open at `date` (unanswered, sent at or before it, not expired), the
    /// newest first.
    func openSurveys(of customerID: Customer.ID, at date: Date) async throws -> [CSATSurvey]
    /// Records a score with a `csat.answered` event and, for a low score with an escalation, reopens
    /// the solved ticket to the escalation queue, due at its follow-up time: all in one
    /// transaction. Answering again with the same message returns the recorded answer (a log
    /// read twice); with anything else it is a `conflict`.
    /// - Throws: `notFound`, `invalid` score, `conflict` (answered already, expired).
    func answerSurvey(_ answer: CSATAnswer, at date: Date, actor: Actor) async throws -> CSATAnswerResult
    /// Withdraws a survey nobody could be told about (see `CSATSurvey.withdrawnAt`), with a
    /// `csat.withdrawn` event; nothing for one answered or withdrawn already.
    /// - Returns: whether it was withdrawn now.
    func withdrawSurvey(_ id: CSATSurvey.ID, at date: Date, actor: Actor) async throws -> Bool
    /// Scores of surveys sent (and not withdrawn) in `from..<to`, by agent, queue or channel.
    func csatSummary(from: Date, to: Date, by grouping: CSATGrouping) async throws -> [CSATGroup]
}

public struct CSATSurveyDraft: Sendable, Hashable {
    public var id: CSATSurvey.ID
    public var ticketID: Ticket.ID
    public var token: String
    /// The `ticket.updated` event that solved the ticket.
    public var eventSequence: Int64
    public var expiresAt: Date

    public init(id: CSATSurvey.ID = .generate(), ticketID: Ticket.ID, token: String, eventSequence: Int64, expiresAt: Date) {
        self.id = id
        self.ticketID = ticketID
        self.token = token
        self.eventSequence = eventSequence
        self.expiresAt = expiresAt
    }
}

public struct CSATAnswer: Sendable, Hashable {
    public var surveyID: CSATSurvey.ID
    public var score: Int
    /// The message that answered; nil for the survey page.
    public var messageID: Message.ID?
    /// The channel account it came in on (`web` for the page).
    public var channelAccountID: String
    /// What a low score does to the ticket.
    public var escalation: CSATEscalation?

    public init(surveyID: CSATSurvey.ID, score: Int, messageID: Message.ID?, channelAccountID: String, escalation: CSATEscalation?) {
        self.surveyID = surveyID
        self.score = score
        self.messageID = messageID
        self.channelAccountID = channelAccountID
        self.escalation = escalation
    }
}

/// A low score reopens the ticket to `queueID`, due at `dueAt`, at priority high at least.
public struct CSATEscalation: Sendable, Hashable {
    public var lowScore: Int
    public var queueID: String
    public var dueAt: Date

    public init(lowScore: Int, queueID: String, dueAt: Date) {
        self.lowScore = lowScore
        self.queueID = queueID
        self.dueAt = dueAt
    }
}

public struct CSATAnswerResult: Sendable, Hashable {
    public var survey: CSATSurvey
    /// The ticket as the low score reopened it.
    public var reopened: Ticket?
    /// The answer was recorded before (by this message): nothing changed now.
    public var repeated: Bool

    public init(survey: CSATSurvey, reopened: Ticket?, repeated: Bool) {
        self.survey = survey
        self.reopened = reopened
        self.repeated = repeated
    }
}

public enum CSATGrouping: String, Sendable, Hashable, CaseIterable {
    case agent, queue, channel
}

/// Scores of one agent, queue or channel (the channel account the ticket was born on).
public struct CSATGroup: Sendable, Hashable, Codable {
    /// The agent, queue or channel account; nil for tickets with none.
    public var key: String?
    public var sent: Int
    public var answered: Int
    /// Mean score of the answered ones; nil when none is.
    public var average: Double?
    /// Answers at each score, 1 to 5.
    public var scores: [Int]

    public init(key: String?, sent: Int, answered: Int, average: Double?, scores: [Int]) {
        self.key = key
        self.sent = sent
        self.answered = answered
        self.average = average
        self.scores = scores
    }

    /// Answered over sent.
    public var responseRate: Double { sent == 0 ? 0 : Double(answered) / Double(sent) }
}

/// Payload of `csat.answered`.
public struct CSATAnsweredPayload: Sendable, Hashable, Codable {
    public var survey: CSATSurvey
    public var ticketNumber: TicketNumber
    /// Whether the score reopened the ticket.
    public var reopened: Bool

    public init(survey: CSATSurvey, ticketNumber: TicketNumber, reopened: Bool) {
        self.survey = survey
        self.ticketNumber = ticketNumber
        self.reopened = reopened
    }
}
