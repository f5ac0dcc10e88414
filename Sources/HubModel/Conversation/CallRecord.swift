import Foundation

/// A voice call on the customer's timeline: who called whom, how it went, how it ended.
public struct CallRecord: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "cal"
    public typealias ID = Identifier<CallRecord>

    public var id: ID
    public var conversationID: Conversation.ID
    public var direction: MessageDirection
    /// Caller: E.164 when it is a phone number, else a SIP URI.
    public var from: String
    public var to: String
    public var state: CallState
    /// The SIP Call-ID of the customer leg.
    public var sipCallID: String?
    /// The agent who answered (or was last offered) the call.
    public var agentID: Agent.ID?
    public var startedAt: Date
    public var queuedAt: Date?
    public var offeredAt: Date?
    public var answeredAt: Date?
    public var endedAt: Date?
    /// Why it ended ("normal", "busy", "no-answer", "cancelled", a SIP status such as "486 Busy Here").
    public var hangupCause: String?
    public var hungUpBy: CallParty?
    /// Where the recording is (by reference), if there is one.
    public var recordingReference: String?

    public init(
        id: ID, conversationID: Conversation.ID, direction: MessageDirection, from: String, to: String,
        state: CallState = .ringing, sipCallID: String? = nil, agentID: Agent.ID? = nil, startedAt: Date,
        queuedAt: Date? = nil, offeredAt: Date? = nil, answeredAt: Date? = nil, endedAt: Date? = nil,
        hangupCause: String? = nil, hungUpBy: CallParty? = nil, recordingReference: String? = nil
    ) {
        self.id = id
        self.conversationID = conversationID
        self.direction = direction
        self.from = from
        self.to = to
        self.state = state
        self.sipCallID = sipCallID
        self.agentID = agentID
        self.startedAt = startedAt
        self.queuedAt = queuedAt
        self.offeredAt = offeredAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.hangupCause = hangupCause
        self.hungUpBy = hungUpBy
        self.recordingReference = recordingReference
    }

    /// Seconds from entering the queue to being answered (or to the end, if never answered).
    public var waitSeconds: Double? {
        guard let queuedAt else { return nil }
        guard let end = answeredAt ?? endedAt else { return nil }
        return end.timeIntervalSince(queuedAt)
    }

    /// Seconds from answer to hang-up.
    public var talkSeconds: Double? {
        guard let answeredAt, let endedAt else { return nil }
        return endedAt.timeIntervalSince(answeredAt)
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case conversationID = "conversationId"
        case direction
        case from
        case to
        case state
        case sipCallID = "sipCallId"
        case agentID = "agentId"
        case startedAt
        case queuedAt
        case offeredAt
        case answeredAt
        case endedAt
        case hangupCause
        case hungUpBy
        case recordingReference
    }
}

/// Where a call stands.
public enum CallState: String, Sendable, Hashable, Codable, CaseIterable {
    case ringing
    case queued
    case offered
    case answered
    case transferring
    case ended
}

/// Who ended a call.
public enum CallParty: String, Sendable, Hashable, Codable {
    case customer
    case agent
    case system
}
