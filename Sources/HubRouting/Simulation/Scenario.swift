import HubModel

/// A contact-center scenario for the simulator: who calls and writes, how often, how long the
/// work takes, how patient customers are, and who answers when.
public struct Scenario: Sendable, Hashable {
    public var name: String
    /// Simulated time during which work arrives; the run then drains what is still waiting.
    public var duration: Duration
    /// Work arriving before this is simulated but not counted.
    public var warmup: Duration
    public var seed: UInt64
    public var router: RouterConfiguration
    public var queues: [QueuePolicy]
    public var agents: [AgentGroup]
    public var arrivals: [ArrivalStream]
    /// Checks after every event that no free agent is left idle beside a task it could take
    /// (slow: for tests).
    public var checkWorkConservation: Bool

    public init(
        name: String, duration: Duration, warmup: Duration = .zero, seed: UInt64 = 1, router: RouterConfiguration = RouterConfiguration(),
        queues: [QueuePolicy], agents: [AgentGroup], arrivals: [ArrivalStream], checkWorkConservation: Bool = false
    ) {
        self.name = name
        self.duration = duration
        self.warmup = warmup
        self.seed = seed
        self.router = router
        self.queues = queues
        self.agents = agents
        self.arrivals = arrivals
        self.checkWorkConservation = checkWorkConservation
    }

    /// `count` agents sharing a profile (ids `prefix-1`, `prefix-2`, ...).
    public struct AgentGroup: Sendable, Hashable {
        public var prefix: String
        public var count: Int
        public var profile: AgentProfile
        /// When they are logged in; empty: the whole run.
        public var shifts: [Shift]
        public var behaviour: AgentBehaviour

        public init(prefix: String, count: Int, profile: AgentProfile, shifts: [Shift] = [], behaviour: AgentBehaviour = AgentBehaviour()) {
            self.prefix = prefix
            self.count = count
            self.profile = profile
            self.shifts = shifts
            self.behaviour = behaviour
        }
    }

    public struct Shift: Sendable, Hashable {
        public var start: Duration
        public var end: Duration

        public init(start: Duration, end: Duration) {
            self.start = start
            self.end = end
        }
    }

    /// How agents answer offers.
    public struct AgentBehaviour: Sendable, Hashable {
        /// Time to accept an offer (ringing, reading the screen pop).
        public var answerDelay: Distribution
        public var declineProbability: Double
        /// Offers left to ring out.
        public var missProbability: Double

        public init(answerDelay: Distribution = .fixed(.zero), declineProbability: Double = 0, missProbability: Double = 0) {
            self.answerDelay = answerDelay
            self.declineProbability = declineProbability
            self.missProbability = missProbability
        }
    }

    /// Work of one kind arriving as a Poisson process.
    public struct ArrivalStream: Sendable, Hashable {
        public var name: String
        public var queue: String
        public var channel: ChannelKind
        public var perHour: Double
        public var handleTime: Distribution
        /// Time a customer waits before giving up; nil: never.
        public var patience: Distribution?
        public var priority: Int
        public var attributes: [String: AttributeValue]
        public var requirements: [SkillRequirement]
        /// Steps put before the queue's (as rules would).
        public var steps: [RoutingStep]

        public init(
            name: String, queue: String, channel: ChannelKind, perHour: Double, handleTime: Distribution, patience: Distribution? = nil,
            priority: Int = 0, attributes: [String: AttributeValue] = [:], requirements: [SkillRequirement] = [], steps: [RoutingStep] = []
        ) {
            self.name = name
            self.queue = queue
            self.channel = channel
            self.perHour = perHour
            self.handleTime = handleTime
            self.patience = patience
            self.priority = priority
            self.attributes = attributes
            self.requirements = requirements
            self.steps = steps
        }
    }
}

/// A random duration.
public enum Distribution: Sendable, Hashable, CustomStringConvertible {
    case fixed(Duration)
    case exponential(mean: Duration)
    case uniform(Duration, Duration)
    /// Log-normal with this mean and standard deviation (handle times are often so).
    case logNormal(mean: Duration, deviation: Duration)

    public var mean: Duration {
        switch self {
        case .fixed(let value): value
        case .exponential(let mean): mean
        case .uniform(let low, let high): (low + high) / 2
        case .logNormal(let mean, _): mean
        }
    }

    public var description: String {
        switch self {
        case .fixed(let value): "\(value.secondsValue)s"
        case .exponential(let mean): "exponential(mean \(mean.secondsValue)s)"
        case .uniform(let low, let high): "uniform(\(low.secondsValue)s...\(high.secondsValue)s)"
        case .logNormal(let mean, let deviation): "lognormal(mean \(mean.secondsValue)s, sd \(deviation.secondsValue)s)"
        }
    }
}
