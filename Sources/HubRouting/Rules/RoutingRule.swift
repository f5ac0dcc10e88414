import HubModel

/// A rule from `routing-rules/`: when a task's attributes match, where it goes and how it is
/// adjusted. VIP customers first and to tier 1, angry customers to de-escalation experts,
/// complaints to senior agents, a language to agents who speak it.
public struct RoutingRule: Sendable, Hashable {
    public var name: String
    /// Over `task.` attributes (tier, vip, language, intent, sentiment, channel, ownerAgent...).
    public var condition: AttributeExpression
    /// The queue the task enters; the first matching rule that names one decides.
    public var queue: String?
    /// Added to the task's priority.
    public var priority: Int
    /// Put before the queue's steps, in rule order.
    public var steps: [RoutingStep]
    public var requirements: [SkillRequirement]
    /// No later rule is evaluated when this one matches.
    public var stop: Bool

    public init(
        name: String, condition: AttributeExpression, queue: String? = nil, priority: Int = 0, steps: [RoutingStep] = [],
        requirements: [SkillRequirement] = [], stop: Bool = false
    ) {
        self.name = name
        self.condition = condition
        self.queue = queue
        self.priority = priority
        self.steps = steps
        self.requirements = requirements
        self.stop = stop
    }
}

/// The rules of a hub, in file order.
public struct RoutingRuleSet: Sendable, Hashable {
    public var rules: [RoutingRule]

    public init(_ rules: [RoutingRule] = []) { self.rules = rules }

    /// A task after the rules, and which rules matched (for the explanation and the audit).
    public struct Classification: Sendable, Hashable {
        public var request: TaskRequest
        public var matched: [String]
    }

    /// Applies every matching rule in order: the first that names a queue decides it, priorities
    /// add up, steps and requirements accumulate; a matching rule with `stop` ends it.
    /// `request.queue` is the default when no rule names one.
    public func classify(_ request: TaskRequest) -> Classification {
        var result = request
        var matched: [String] = []
        var queueChosen = false
        for rule in rules {
            let holds = rule.condition.holds { path in
                guard path.scope == .task else { return nil }
                if path.name == TaskAttribute.channel { return .string(request.channel.rawValue) }
                return request.attributes[path.name]
            }
            guard holds else { continue }
            matched.append(rule.name)
            if let queue = rule.queue, !queueChosen {
                result.queue = queue
                queueChosen = true
            }
            result.priority += rule.priority
            result.steps += rule.steps
            result.requirements += rule.requirements
            if rule.stop { break }
        }
        return Classification(request: result, matched: matched)
    }
}
