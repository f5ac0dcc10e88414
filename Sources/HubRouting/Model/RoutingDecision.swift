import HubModel

/// What the router decided, in the order it decided it. The hub performs these (rings a phone,
/// pushes an offer to the inbox, records events); the simulator replays them.
public enum RoutingDecision: Sendable, Hashable {
    /// The task entered a queue (on arrival, resume, requeue or transfer).
    case queued(taskID: String, queue: String, resumed: Bool, estimatedWait: Duration?)
    case offered(Offer)
    /// The task is the agent's: on acceptance, at once for auto-accept, or given directly
    /// (`taskAssigned`, no offer).
    case assigned(taskID: String, agentID: String, offerID: String?)
    /// An offer ended without an assignment.
    case offerEnded(offerID: String, taskID: String, agentID: String, reason: OfferEndReason)
    /// The router changed an agent's presence (away after missed offers).
    case presenceChanged(agentID: String, presence: Presence)
    /// The task's next step opened.
    case stepAdvanced(taskID: String, step: Int, name: String, reason: StepAdvanceReason)
    /// Optional skills were dropped from the task's requirements.
    case requirementsRelaxed(taskID: String, dropped: [String])
    case overflowed(taskID: String, rule: String, trigger: OverflowTrigger, action: OverflowAction)
    /// The task left the router without an agent.
    case taskEnded(taskID: String, reason: TaskEndReason)
    /// The agent's work on the task ended (completed, or the conversation closed); wrap-up follows
    /// when the agent has one.
    case completed(taskID: String, agentID: String)
    case wrapUpStarted(agentID: String, taskID: String, until: RoutingInstant)
    case wrapUpEnded(agentID: String, taskID: String)
}

/// An offer of a task to an agent, with why this agent.
public struct Offer: Sendable, Hashable {
    public var id: String
    public var taskID: String
    public var agentID: String
    public var expiresAt: RoutingInstant
    public var explanation: OfferExplanation
}

/// Why the router chose this agent, for the inbox and the REST API.
public struct OfferExplanation: Sendable, Hashable {
    /// What started the decision.
    public var cause: Cause
    public var queue: String
    /// The first step that admits the agent (0-based) and its name; `steps.count` for the
    /// queue's open pool after the last step.
    public var step: Int
    public var stepName: String
    public var tier: Int?
    public var strategy: AgentStrategy
    /// The strategy's key for the agent; its description is in words ("idle since t+120.000s",
    /// "2 of 3 messaging free").
    public var strategyKey: StrategyKey
    public var effectivePriority: Double
    public var waited: Duration
    /// Free eligible agents that were considered (for task-side decisions), including the chosen.
    public var eligibleCount: Int
    /// The next best of them, best first.
    public var alternatives: [Candidate]

    public enum Cause: String, Sendable, Hashable, Codable {
        /// A task arrived or its pool grew, and a free agent was there.
        case taskReady
        /// An agent became free, and this was the best waiting task for them.
        case agentFree
        /// Ring-all / progressive / parallel offers: one of several.
        case parallel
    }

    public struct Candidate: Sendable, Hashable {
        public var agentID: String
        public var step: Int
        public var tier: Int?
        public var strategyKey: StrategyKey
    }
}

/// Where an agent stood in a strategy's order when a decision was made.
public struct StrategyKey: Sendable, Hashable, CustomStringConvertible {
    public var strategy: AgentStrategy
    public var medium: ChannelMedium
    /// The strategy's first and second sort values (ascending is preferred): an instant in
    /// milliseconds, a count, a negated share, a position... as `description` spells out.
    public var first: Int64
    public var second: Int64
    /// For `bestSkill`: the sum of the agent's levels in the skills asked for.
    public var skillScore: Int?
    /// The agent's load and capacity on the medium at the time.
    public var load: Int
    public var capacity: Int

    public var description: String {
        switch strategy {
        case .longestIdle: "idle since \(RoutingInstant(milliseconds: first))"
        case .bestSkill: "skill score \(skillScore ?? 0), idle since \(RoutingInstant(milliseconds: first))"
        case .mostAvailable: "\(capacity - load) of \(capacity) \(medium.rawValue) free"
        case .leastActive: "\(first) open tasks"
        case .roundRobin: "last assigned \(RoutingInstant(milliseconds: first))"
        case .fewestHandled: "\(first) handled since login"
        case .leastTalkTime: "\(first / 1000) s handled since login"
        case .topDown, .linear, .ringAll, .progressive: "position \(first)"
        case .fullLoad: "\(load) of \(capacity) \(medium.rawValue) in hand"
        case .random: "random draw"
        }
    }
}

public enum OfferEndReason: String, Sendable, Hashable, Codable {
    case declined
    case busy
    case unreachable
    /// Nobody answered within the offer timeout.
    case expired
    /// Another agent accepted first (ring-all, parallel offers).
    case lostRace
    /// The task went away (the customer left) while it was offered.
    case taskGone
    /// The agent went away or offline, or was removed.
    case agentGone
}

public enum StepAdvanceReason: String, Sendable, Hashable, Codable {
    case expired
    /// Nobody the step admits is logged in.
    case noneLoggedIn
    /// Nobody the step admits was free on entry.
    case noneFree
}

public enum TaskEndReason: Sendable, Hashable {
    case cancelled(CancelReason)
    /// A queue-length overflow or an unknown queue refused it at the door.
    case refused(String)
    /// An overflow rule took it out (callback, ticket, cancel).
    case overflow(rule: String, action: OverflowAction)
    case timeToLive
}
