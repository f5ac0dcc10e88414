import HubModel

/// A queue as the router sees it: where tasks wait, how agents are picked, how long offers ring,
/// how tasks widen over time and what happens when the queue cannot cope.
public struct QueuePolicy: Sendable, Hashable {
    public var id: String
    /// Served before lower-priority queues by agents in several queues (added to every task's
    /// priority).
    public var priority: Int
    public var strategy: PerMedium<AgentStrategy>
    public var serviceLevel: PerMedium<ServiceLevelTarget>
    /// How long an offer waits for the agent's answer.
    public var offerTimeout: PerMedium<Duration>
    /// Agents offered one task at once (Twilio `max_reserved_workers`); ring-all ignores it.
    public var parallelOffers: Int
    /// For `progressive`: the interval between adding agents.
    public var progressiveInterval: Duration
    /// Priority that grows with waiting: one point per `every`, at most `max` points.
    public var aging: Aging?
    /// Skills every task in the queue needs (a billing queue: `billing >= 3`).
    public var requirements: [SkillRequirement]
    /// The queue's routing steps; rules may put steps before them.
    public var steps: [RoutingStep]
    /// When every step has expired: false (default) opens the queue to all its agents, true keeps
    /// the pool of the steps and leaves the rest to overflow.
    public var strict: Bool
    /// Checked in order; each rule fires at most once per task and queue.
    public var overflow: [OverflowRule]
    /// After-contact work per medium; the agent's slot stays taken until it ends.
    public var wrapUp: PerMedium<Duration>
    /// Caps wrap-up, whatever agents' own settings say.
    public var maxWrapUp: Duration?
    /// A task that left without an agent (the caller hung up) and comes back within this window
    /// keeps its original age. Zero: off.
    public var resumeWindow: Duration
    /// Handle time assumed for the estimated wait until real handle times are measured.
    public var expectedHandleTime: PerMedium<Duration>

    public init(
        id: String, priority: Int = 0, strategy: PerMedium<AgentStrategy> = QueuePolicy.defaultStrategy,
        serviceLevel: PerMedium<ServiceLevelTarget> = QueuePolicy.defaultServiceLevel,
        offerTimeout: PerMedium<Duration> = QueuePolicy.defaultOfferTimeout, parallelOffers: Int = 1,
        progressiveInterval: Duration = .seconds(10), aging: Aging? = nil, requirements: [SkillRequirement] = [],
        steps: [RoutingStep] = [], strict: Bool = false, overflow: [OverflowRule] = [],
        wrapUp: PerMedium<Duration> = QueuePolicy.defaultWrapUp, maxWrapUp: Duration? = nil, resumeWindow: Duration = .seconds(60),
        expectedHandleTime: PerMedium<Duration> = QueuePolicy.defaultHandleTime
    ) {
        self.id = id
        self.priority = priority
        self.strategy = strategy
        self.serviceLevel = serviceLevel
        self.offerTimeout = offerTimeout
        self.parallelOffers = parallelOffers
        self.progressiveInterval = progressiveInterval
        self.aging = aging
        self.requirements = requirements
        self.steps = steps
        self.strict = strict
        self.overflow = overflow
        self.wrapUp = wrapUp
        self.maxWrapUp = maxWrapUp
        self.resumeWindow = resumeWindow
        self.expectedHandleTime = expectedHandleTime
    }

    /// Longest idle for calls; most available for chats and mails.
    public static let defaultStrategy = PerMedium<AgentStrategy>(voice: .longestIdle, messaging: .mostAvailable, email: .mostAvailable)
    /// 80 % of calls in 20 s, 80 % of chats in 60 s, 90 % of mails in 4 h.
    public static let defaultServiceLevel = PerMedium(
        voice: ServiceLevelTarget(threshold: .seconds(20), percent: 80),
        messaging: ServiceLevelTarget(threshold: .seconds(60), percent: 80),
        email: ServiceLevelTarget(threshold: .seconds(4 * 3600), percent: 90))
    /// A phone rings 20 s, a chat offer waits 30 s, a mail 2 min.
    public static let defaultOfferTimeout = PerMedium<Duration>(voice: .seconds(20), messaging: .seconds(30), email: .seconds(120))
    /// 15 s after a call; none after chats and mails.
    public static let defaultWrapUp = PerMedium<Duration>(voice: .seconds(15), messaging: .zero, email: .zero)
    public static let defaultHandleTime = PerMedium<Duration>(voice: .seconds(180), messaging: .seconds(600), email: .seconds(900))
}

/// A service-level target: answer `percent` % of the work within `threshold`.
public struct ServiceLevelTarget: Sendable, Hashable {
    public var threshold: Duration
    public var percent: Int

    public init(threshold: Duration, percent: Int) {
        self.threshold = threshold
        self.percent = percent
    }
}

/// Priority growing with waiting time: `min(waited / every, max)` points, continuous (so that
/// the order it makes is the same at every instant).
public struct Aging: Sendable, Hashable {
    public var every: Duration
    /// nil: no cap (FreeSWITCH's score: one point per second of waiting with `every: 1s`).
    public var max: Int?

    public init(every: Duration, max: Int? = nil) {
        self.every = every
        self.max = max
    }
}
