/// A person who answers customers, with the skills, tiers and capacity the router uses.
public struct Agent: Sendable, Hashable, Codable, Identifiable {
    public typealias ID = Identifier<Agent>

    /// Chosen in configuration ("alice"), stable across restarts.
    public var id: ID
    public var login: String
    public var name: String
    public var role: AgentRole
    public var email: String?
    /// Skill name → level 1...10.
    public var skills: [String: Int]
    /// The queues this agent serves, with tier and position in each.
    public var queues: [QueueMembership]
    /// How many tasks of each medium at once.
    public var capacity: [ChannelMedium: Int]
    /// The agent's phone, when it is static (phones may also register).
    public var sipAddress: String?
    /// False when the agent was removed from configuration; kept so history still resolves.
    public var active: Bool
    /// Whether the agent may reveal customers' phone numbers and e-mail addresses (one at a time,
    /// each reveal audited); everyone else sees them masked. Default: supervisors and admins.
    public var canRevealContacts: Bool

    public init(
        id: ID, login: String, name: String, role: AgentRole = .agent, email: String? = nil,
        skills: [String: Int] = [:], queues: [QueueMembership] = [], capacity: [ChannelMedium: Int] = Agent.defaultCapacity,
        sipAddress: String? = nil, active: Bool = true, canRevealContacts: Bool? = nil
    ) {
        self.id = id
        self.login = login
        self.name = name
        self.role = role
        self.email = email
        self.skills = skills
        self.queues = queues
        self.capacity = capacity
        self.sipAddress = sipAddress
        self.active = active
        self.canRevealContacts = canRevealContacts ?? (role >= .supervisor)
    }

    /// One call, three chats, five mails.
    public static let defaultCapacity: [ChannelMedium: Int] = [.voice: 1, .messaging: 3, .email: 5]
}

/// What an agent may do. Each role includes the rights of the ones before it.
public enum AgentRole: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case agent
    case supervisor
    case admin

    private var rank: Int {
        switch self {
        case .agent: 0
        case .supervisor: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// An agent's place in a queue: tier 1 is offered first; position orders agents within a tier
/// for linear strategies.
public struct QueueMembership: Sendable, Hashable, Codable {
    public var queueID: String
    public var tier: Int
    public var position: Int

    public init(queueID: String, tier: Int = 1, position: Int = 1) {
        self.queueID = queueID
        self.tier = tier
        self.position = position
    }

    private enum CodingKeys: String, CodingKey {
        case queueID = "queueId"
        case tier
        case position
    }
}
