import HubModel

/// The routing configuration from `routing-rules/*.yaml`: skills, queues and agents. Any file may
/// hold any of the three sections; ids must be unique across all files.
public struct RoutingRules: Sendable {
    public var skills: [SkillConfig]
    public var queues: [QueueConfig]
    public var agents: [AgentConfig]

    public init(skills: [SkillConfig] = [], queues: [QueueConfig] = [], agents: [AgentConfig] = []) {
        self.skills = skills
        self.queues = queues
        self.agents = agents
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

/// A queue: where waiting work collects, with the strategy that picks an agent for it and the
/// service level it is measured against.
public struct QueueConfig: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The channel kinds the queue takes.
    public var channels: [ChannelKind]
    /// Cross-queue priority: higher is served first by agents in several queues.
    public var priority: Int
    /// How an agent is chosen: per medium, with a default for the others.
    public var strategy: [ChannelMedium: String]
    /// Answer within `threshold` for `percent` of the work, per medium.
    public var serviceLevel: [ChannelMedium: ServiceLevelTarget]
    public var location: ConfigLocation

    public init(
        id: String, name: String, channels: [ChannelKind], priority: Int, strategy: [ChannelMedium: String],
        serviceLevel: [ChannelMedium: ServiceLevelTarget], location: ConfigLocation
    ) {
        self.id = id
        self.name = name
        self.channels = channels
        self.priority = priority
        self.strategy = strategy
        self.serviceLevel = serviceLevel
        self.location = location
    }

    /// The agent-selection strategies the router knows (see ../docs/routing.md).
    public static let strategies = [
        "longestIdle", "mostAvailable", "leastActive", "roundRobin", "fewestHandled", "leastTalkTime", "topDown",
        "linear", "bestSkill", "fullLoad", "random", "ringAll", "progressive",
    ]

    /// Industry-default strategies: the longest-idle agent for calls, the most available one for
    /// chats and mails.
    public static let defaultStrategy: [ChannelMedium: String] = [
        .voice: "longestIdle", .messaging: "mostAvailable", .email: "mostAvailable",
    ]

    /// 80 % of calls in 20 s, 80 % of chats in 60 s, 90 % of mails in 4 h.
    public static let defaultServiceLevel: [ChannelMedium: ServiceLevelTarget] = [
        .voice: ServiceLevelTarget(threshold: .seconds(20), percent: 80),
        .messaging: ServiceLevelTarget(threshold: .seconds(60), percent: 80),
        .email: ServiceLevelTarget(threshold: .seconds(4 * 3600), percent: 90),
    ]
}

/// A service-level target: answer within `threshold` for `percent` of the work.
public struct ServiceLevelTarget: Sendable, Hashable {
    public var threshold: Duration
    public var percent: Int

    public init(threshold: Duration, percent: Int) {
        self.threshold = threshold
        self.percent = percent
    }
}

/// An agent as configured, with where it was configured.
public struct AgentConfig: Sendable, Hashable {
    public var agent: Agent
    public var location: ConfigLocation

    public init(agent: Agent, location: ConfigLocation) {
        self.agent = agent
        self.location = location
    }
}
