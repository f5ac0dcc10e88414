import HubModel
import HubRouting

/// The routing configuration from `routing-rules/*.yaml`: skills, queues, agents, rules and the
/// router's settings. Any file may hold any section; ids must be unique across all files.
public struct RoutingRules: Sendable {
    public var skills: [SkillConfig]
    public var queues: [QueueConfig]
    public var agents: [AgentConfig]
    /// In file order (files sorted by name).
    public var rules: RoutingRuleSet
    public var router: RouterConfiguration

    public init(
        skills: [SkillConfig] = [], queues: [QueueConfig] = [], agents: [AgentConfig] = [], rules: RoutingRuleSet = RoutingRuleSet(),
        router: RouterConfiguration = RouterConfiguration()
    ) {
        self.skills = skills
        self.queues = queues
        self.agents = agents
        self.rules = rules
        self.router = router
    }

    /// The queue with `id`.
    public func queue(_ id: String) -> QueueConfig? { queues.first { $0.id == id } }
}

/// A skill agents can have, at a level from 1 to 10.
public struct SkillConfig: Sendable, Hashable {
    public var id: String
    public var name: String
    public var location: ConfigLocation

    public init(id: String, name: String, location: ConfigLocation) {
        self.id = id
        self.name = name
        self.location = location
    }
}

/// A queue: where waiting work collects, which channels it takes, and its routing policy.
public struct QueueConfig: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The channel kinds the queue takes.
    public var channels: [ChannelKind]
    /// Strategy, service level, steps, offers, overflow...: what the router uses.
    public var policy: QueuePolicy
    public var location: ConfigLocation

    public init(id: String, name: String, channels: [ChannelKind], policy: QueuePolicy, location: ConfigLocation) {
        self.id = id
        self.name = name
        self.channels = channels
        self.policy = policy
        self.location = location
    }

    /// Cross-queue priority: higher is served first by agents in several queues.
    public var priority: Int { policy.priority }
}

/// An agent as configured, with where it was configured.
public struct AgentConfig: Sendable, Hashable {
    public var agent: Agent
    /// The router's view: skills, memberships with tiers and delays, capacity, attributes.
    public var profile: AgentProfile
    /// The agent's SIP phone, when it has one (`sip` with `sipPassword` and/or `sipContact`).
    public var phone: AgentPhone?
    public var location: ConfigLocation

    public init(agent: Agent, profile: AgentProfile, phone: AgentPhone? = nil, location: ConfigLocation) {
        self.agent = agent
        self.profile = profile
        self.phone = phone
        self.location = location
    }
}

/// How the hub reaches an agent's SIP phone: it registers (digest user name: the user part of
/// the agent's `sip` address, with the password from the environment), or it sits at a static
/// contact, or both.
public struct AgentPhone: Sendable, Hashable {
    /// The agent's address of record (`sip:alice@switchboard.example`).
    public var addressOfRecord: String
    /// The digest password; nil when the variable is not set (the phone cannot register then).
    public var password: Secret?
    /// A contact the hub calls without any registration.
    public var staticContact: String?

    public init(addressOfRecord: String, password: Secret? = nil, staticContact: String? = nil) {
        self.addressOfRecord = addressOfRecord
        self.password = password
        self.staticContact = staticContact
    }
}
