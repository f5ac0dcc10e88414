import Foundation

/// What a service-level target measures on a ticket.
public enum SLAMetric: String, Sendable, Hashable, Codable, CaseIterable {
    /// From the ticket's creation to the first agent reply to the customer (a public message in
    /// one of its conversations, or a public comment).
    case firstResponse
    /// From a customer message that came after the last agent reply to the next agent reply.
    case nextResponse
    /// From creation to solved. The clock stops while the ticket is pending (waiting on the
    /// customer) and goes on from where it stopped when the ticket reopens.
    case resolution
    /// The ticket's own due time, set by an agent or by a low satisfaction score (wall-clock).
    case due
}

/// One SLA clock of one ticket. Business time already used is kept in `elapsed` while the clock
/// is stopped; a running clock has `runningSince` and its `dueAt`.
public struct SLATimer: Sendable, Hashable, Codable {
    public var ticketID: Ticket.ID
    public var metric: SLAMetric
    /// The policy whose target applies (`due`: none).
    public var policyID: String?
    /// The target, in business seconds (wall seconds for `due`).
    public var target: TimeInterval
    /// Business seconds counted before `runningSince`.
    public var elapsed: TimeInterval
    public var runningSince: Date?
    public var dueAt: Date?
    /// When the warning is due (`dueAt` less the policy's `warnBefore`, in business time).
    public var warnAt: Date?
    public var warnedAt: Date?
    public var breachedAt: Date?
    public var fulfilledAt: Date?
    /// The last event of the log applied to the ticket's clocks: reading the log again after a
    /// crash skips what is applied already.
    public var sequence: Int64

    public init(
        ticketID: Ticket.ID, metric: SLAMetric, policyID: String?, target: TimeInterval, elapsed: TimeInterval = 0, runningSince: Date? = nil,
        dueAt: Date? = nil, warnAt: Date? = nil, warnedAt: Date? = nil, breachedAt: Date? = nil, fulfilledAt: Date? = nil, sequence: Int64 = 0
    ) {
        self.sequence = sequence
        self.ticketID = ticketID
        self.metric = metric
        self.policyID = policyID
        self.target = target
        self.elapsed = elapsed
        self.runningSince = runningSince
        self.dueAt = dueAt
        self.warnAt = warnAt
        self.warnedAt = warnedAt
        self.breachedAt = breachedAt
        self.fulfilledAt = fulfilledAt
    }

    private enum CodingKeys: String, CodingKey {
        case ticketID = "ticketId"
        case metric, policyID = "policyId", target, elapsed, runningSince, dueAt, warnAt, warnedAt, breachedAt, fulfilledAt, sequence
    }
}

/// An SLA clock's warning or breach (payload of `sla.warning` and `sla.breached`).
public struct SLAAlertPayload: Sendable, Hashable, Codable {
    public var timer: SLATimer
    public var ticketNumber: TicketNumber
    /// The conversations whose routing priority the breach raised.
    public var raised: [Conversation.ID]

    public init(timer: SLATimer, ticketNumber: TicketNumber, raised: [Conversation.ID]) {
        self.timer = timer
        self.ticketNumber = ticketNumber
        self.raised = raised
    }
}
