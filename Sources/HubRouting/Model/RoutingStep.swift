import HubModel

/// One step of a task's routing: which agents it admits and for how long it is the newest step.
/// Steps are cumulative: while step k is the newest, the agents of steps 0...k are all eligible,
/// and an agent admitted by an earlier step is preferred over one admitted only by a later step
/// (bullseye rings). One mechanism covers FreeSWITCH tier rules, Asterisk penalty rules, Twilio
/// workflow targets, Genesys rings and Salesforce skill relaxation.
public struct RoutingStep: Sendable, Hashable {
    public var name: String
    public var filter: AgentFilter
    /// How long this step stays the newest before the next one opens; nil: until the task is
    /// served (no later step opens).
    public var duration: PerMedium<Duration?>
    /// Skip the step at once when no agent it admits is logged in (FreeSWITCH's
    /// `tier-rule-no-agent-no-wait`): nobody would answer, so waiting only delays the task.
    public var skipIfNoneLoggedIn: Bool
    /// Skip the step at once when, on entering it, no agent it admits is free (Twilio's
    /// `skip_if: workers.available == 0`).
    public var skipIfNoneFree: Bool
    /// Added to the task's priority while this is its newest step.
    public var priorityBoost: Int

    public init(
        name: String, filter: AgentFilter = AgentFilter(), duration: PerMedium<Duration?> = PerMedium(nil),
        skipIfNoneLoggedIn: Bool = true, skipIfNoneFree: Bool = false, priorityBoost: Int = 0
    ) {
        self.name = name
        self.filter = filter
        self.duration = duration
        self.skipIfNoneLoggedIn = skipIfNoneLoggedIn
        self.skipIfNoneFree = skipIfNoneFree
        self.priorityBoost = priorityBoost
    }

    /// A step for one duration on every medium.
    public init(name: String, filter: AgentFilter = AgentFilter(), duration: Duration?, skipIfNoneLoggedIn: Bool = true) {
        self.init(name: name, filter: filter, duration: PerMedium(duration), skipIfNoneLoggedIn: skipIfNoneLoggedIn)
    }
}

/// Which agents a step admits: every condition given must hold.
public struct AgentFilter: Sendable, Hashable {
    /// Agents whose tier in the task's queue is at most this (1 is the first tier).
    public var tierAtMost: Int?
    /// Skills the agent must have, at least at the given level.
    public var skills: [SkillRequirement]
    /// Only these agents (the owner agent, the last agent, a transfer target).
    public var agents: [AgentReference]
    /// A condition over `agent.` (and `task.`) attributes.
    public var expression: AttributeExpression?

    public init(
        tierAtMost: Int? = nil, skills: [SkillRequirement] = [], agents: [AgentReference] = [], expression: AttributeExpression? = nil
    ) {
        self.tierAtMost = tierAtMost
        self.skills = skills
        self.agents = agents
        self.expression = expression
    }
}

/// An agent named in a step: directly, or by a task attribute that holds an agent id.
public enum AgentReference: Sendable, Hashable, CustomStringConvertible {
    case agent(String)
    /// `ownerAgent`, `lastAgent`: resolved per task; a task without the attribute has no agent
    /// here, and the step admits nobody (it is skipped if it skips when none is logged in).
    case taskAttribute(String)

    public var description: String {
        switch self {
        case .agent(let id): id
        case .taskAttribute(let name): "task.\(name)"
        }
    }
}

/// A skill an agent must have to take a task. The name may use task attributes:
/// `lang-${task.language}`.
public struct SkillRequirement: Sendable, Hashable {
    public var skill: String
    /// 1...10.
    public var minLevel: Int
    /// Optional requirements are dropped when the task's step number `dropOrder` expires (the
    /// first step is 1), so a task that found nobody with the extra skill widens to agents
    /// without it (Salesforce's additional skills). A required one is never dropped.
    public var optional: Bool
    public var dropOrder: Int

    public init(skill: String, minLevel: Int = 1, optional: Bool = false, dropOrder: Int = 1) {
        self.skill = skill
        self.minLevel = minLevel
        self.optional = optional
        self.dropOrder = dropOrder
    }
}
