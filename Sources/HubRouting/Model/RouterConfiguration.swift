/// Router-wide settings: how offers that fail are penalized, and limits.
public struct RouterConfiguration: Sendable, Hashable {
    /// After a decline the agent gets no offer for this long.
    public var rejectDelay: Duration
    /// After an offer rang out.
    public var noAnswerDelay: Duration
    /// After the agent's device was busy (voice).
    public var busyDelay: Duration
    /// After the agent's device could not be reached.
    public var unreachableDelay: Duration
    /// Consecutive missed offers before the agent is set `away(noAnswer)`; 0: never.
    public var maxNoAnswer: Int
    /// Upper bound of parallel offers for ring-all and progressive.
    public var maxParallelOffers: Int
    /// How many runners-up an explanation lists.
    public var explainAlternatives: Int
    /// Seed of the `random` strategy's generator.
    public var seed: UInt64
    /// The window over which arrival rates are measured for the estimated wait.
    public var rateWindow: Duration
    /// Decide by scanning every task and agent instead of the indexes: the same decisions,
    /// slowly. The baseline of the routing benchmark and an oracle in tests.
    public var fullScan: Bool

    public init(
        rejectDelay: Duration = .seconds(10), noAnswerDelay: Duration = .seconds(10), busyDelay: Duration = .seconds(30),
        unreachableDelay: Duration = .seconds(5), maxNoAnswer: Int = 3, maxParallelOffers: Int = 50, explainAlternatives: Int = 3,
        seed: UInt64 = 0x5157_4954_4348_424F, rateWindow: Duration = .seconds(900), fullScan: Bool = false
    ) {
        self.rejectDelay = rejectDelay
        self.noAnswerDelay = noAnswerDelay
        self.busyDelay = busyDelay
        self.unreachableDelay = unreachableDelay
        self.maxNoAnswer = maxNoAnswer
        self.maxParallelOffers = maxParallelOffers
        self.explainAlternatives = explainAlternatives
        self.seed = seed
        self.rateWindow = rateWindow
        self.fullScan = fullScan
    }
}

/// Why the router refused an event. It changes nothing when it refuses.
public enum RoutingError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownTask(String)
    case duplicateTask(String)
    case unknownAgent(String)
    case unknownQueue(String)
    case unknownOffer(String)
    /// The event does not fit the state (accepting an offer of a task that is no longer offered,
    /// completing a task that is not assigned).
    case invalidState(String)

    public var description: String {
        switch self {
        case .unknownTask(let id): "no task \(id) is in the router"
        case .duplicateTask(let id): "task \(id) is already in the router"
        case .unknownAgent(let id): "no agent \(id) is configured"
        case .unknownQueue(let id): "no queue \(id) is configured"
        case .unknownOffer(let id): "no offer \(id) is open"
        case .invalidState(let why): why
        }
    }
}
