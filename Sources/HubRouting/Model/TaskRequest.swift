import HubModel

/// One routable unit entering the router: a call, a conversation waiting for an agent, an e-mail
/// thread.
public struct TaskRequest: Sendable, Hashable {
    /// The hub's conversation id (or any unique id in a simulation).
    public var id: String
    public var channel: ChannelKind
    public var queue: String
    /// Higher is more urgent; rules add to it (VIP +100, angry +50).
    public var priority: Int
    /// When the task started waiting, for its place by age; kept across requeues, transfers and
    /// resumes. nil: the arrival instant.
    public var ageBase: RoutingInstant?
    /// tier, vip, language, intent, sentiment, ownerAgent, lastAgent, customer... (`TaskAttribute`).
    public var attributes: [String: AttributeValue]
    /// Skills the task needs beyond its queue's.
    public var requirements: [SkillRequirement]
    /// Steps tried before the queue's own (owner agent, VIP tier 1, de-escalation...).
    public var steps: [RoutingStep]
    /// Who the task is for (the customer), for resuming an abandoned wait.
    public var resumeKey: String?
    /// The task leaves the router after this long without an agent.
    public var timeToLive: Duration?

    public init(
        id: String, channel: ChannelKind, queue: String, priority: Int = 0, ageBase: RoutingInstant? = nil,
        attributes: [String: AttributeValue] = [:], requirements: [SkillRequirement] = [], steps: [RoutingStep] = [],
        resumeKey: String? = nil, timeToLive: Duration? = nil
    ) {
        self.id = id
        self.channel = channel
        self.queue = queue
        self.priority = priority
        self.ageBase = ageBase
        self.attributes = attributes
        self.requirements = requirements
        self.steps = steps
        self.resumeKey = resumeKey
        self.timeToLive = timeToLive
    }
}

/// A change to a waiting or assigned task: new attributes (sentiment turned angry), a new
/// priority, requirements or steps from re-evaluated rules. Fields left nil stay.
public struct TaskUpdate: Sendable, Hashable {
    public var id: String
    public var priority: Int?
    public var attributes: [String: AttributeValue]?
    public var requirements: [SkillRequirement]?
    public var steps: [RoutingStep]?

    public init(
        id: String, priority: Int? = nil, attributes: [String: AttributeValue]? = nil, requirements: [SkillRequirement]? = nil,
        steps: [RoutingStep]? = nil
    ) {
        self.id = id
        self.priority = priority
        self.attributes = attributes
        self.requirements = requirements
        self.steps = steps
    }
}
