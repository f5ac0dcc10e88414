import HubModel

/// An agent as configured: what they can do and how much at once. Presence, load and counters
/// are the router's state, not part of the profile.
public struct AgentProfile: Sendable, Hashable {
    public var id: String
    /// Skill → level 1...10.
    public var skills: [String: Int]
    /// Anything rules may test with `agent.<name>` (seniority, languages, team...).
    public var attributes: [String: AttributeValue]
    /// Queue id → tier and position in it.
    public var memberships: [String: RoutingMembership]
    /// Tasks of each medium at once.
    public var capacity: PerMedium<Int>
    /// The agent's total capacity units; each task costs `cost[medium]` of them. With the
    /// defaults a call takes the whole agent (100 of 100) while chats (33) and mails (20) share.
    public var capacityUnits: Int
    public var cost: PerMedium<Int>
    /// `interruptibleBy[m]`: media that may be offered on top of open work of medium `m` even
    /// when the units do not allow it (Genesys "interrupted by": a call on top of mails).
    public var interruptibleBy: PerMedium<Set<ChannelMedium>>
    /// Overrides the queue's wrap-up per medium.
    public var wrapUp: PerMedium<Duration?>
    /// Media whose offers this agent accepts without answering.
    public var autoAccept: Set<ChannelMedium>
    /// Overrides the router's consecutive no-answers before the agent is set away.
    public var maxNoAnswer: Int?

    public init(
        id: String, skills: [String: Int] = [:], attributes: [String: AttributeValue] = [:],
        memberships: [String: RoutingMembership] = [:], capacity: PerMedium<Int> = AgentProfile.defaultCapacity,
        capacityUnits: Int = 100, cost: PerMedium<Int> = AgentProfile.defaultCost,
        interruptibleBy: PerMedium<Set<ChannelMedium>> = PerMedium([]), wrapUp: PerMedium<Duration?> = PerMedium(nil),
        autoAccept: Set<ChannelMedium> = [], maxNoAnswer: Int? = nil
    ) {
        self.id = id
        self.skills = skills
        self.attributes = attributes
        self.memberships = memberships
        self.capacity = capacity
        self.capacityUnits = capacityUnits
        self.cost = cost
        self.interruptibleBy = interruptibleBy
        self.wrapUp = wrapUp
        self.autoAccept = autoAccept
        self.maxNoAnswer = maxNoAnswer
    }

    /// One call, three chats, five mails.
    public static let defaultCapacity = PerMedium(voice: 1, messaging: 3, email: 5)
    /// A call takes all 100 units; a chat a third; a mail a fifth.
    public static let defaultCost = PerMedium(voice: 100, messaging: 33, email: 20)
}

/// An agent's place in a queue.
public struct RoutingMembership: Sendable, Hashable {
    /// 1 is offered first; higher tiers only when no lower-tier agent can take the task.
    public var tier: Int
    /// Order within the tier for `linear` and `topDown`.
    public var position: Int
    /// The agent sees the queue's tasks only once they have waited this long (Amazon Connect's
    /// routing-profile delay): an overflow agent.
    public var delay: Duration

    public init(tier: Int = 1, position: Int = 1, delay: Duration = .zero) {
        self.tier = tier
        self.position = position
        self.delay = delay
    }
}

/// Whether an agent takes work.
public enum Presence: Sendable, Hashable, CustomStringConvertible {
    case offline
    case available
    /// Logged in but not taking new work: a break, a meeting, "noAnswer" after missed offers.
    case away(reason: String)

    public var isLoggedIn: Bool { self != .offline }
    public var isAvailable: Bool { self == .available }

    public var description: String {
        switch self {
        case .offline: "offline"
        case .available: "available"
        case .away(let reason): "away(\(reason))"
        }
    }
}
