import HubModel
import HubRouting

/// Reads the router's part of `routing-rules/*.yaml`: queue policies (steps, offers, overflow,
/// wrap-up...), rules, agents' routing profiles and router-wide settings. Each read records its
/// problems at the node where they are, and returns nil or a default so that one pass reports
/// everything.
enum RoutingPolicyReader {
    static let mediumKeys = ChannelMedium.allCases.map(\.rawValue) + ["default"]

    // MARK: Per-medium values

    /// `30s`, or `{ voice: 20s, default: 30s }`.
    static func durations(_ node: ConfigNode, base: PerMedium<Duration>) -> PerMedium<Duration> {
        perMedium(node, base: base) { $0.duration }
    }

    /// As `durations`, where `forever` (or `null`) means no limit.
    static func optionalDurations(_ node: ConfigNode) -> PerMedium<Duration?> {
        perMedium(node, base: PerMedium<Duration?>(nil)) { value -> Duration?? in
            if value.isNull { return .some(nil) }
            if value.isScalar, value.string == "forever" { return .some(nil) }
            return value.duration.map { .some($0) }
        }
    }

    static func perMedium<Value>(_ node: ConfigNode, base: PerMedium<Value>, read: (ConfigNode) -> Value?) -> PerMedium<Value> {
        var result = base
        if node.isScalar {
            if let value = read(node) { result = PerMedium(value) }
            return result
        }
        guard let mapping = node.mapping(allowedKeys: mediumKeys) else { return result }
        if let fallback = mapping["default"].flatMap(read) { result = PerMedium(fallback) }
        for medium in ChannelMedium.allCases {
            if let value = mapping[medium.rawValue].flatMap(read) { result[medium] = value }
        }
        return result
    }

    // MARK: Skills, filters, steps

    /// `{ billing: 3, lang-zh: 5 }`, or a list of `{ skill, level, optional, dropOrder }`.
    static func requirements(_ node: ConfigNode) -> [SkillRequirement] {
        if node.isList {
            return (node.list ?? []).compactMap { item in
                guard let mapping = item.mapping(allowedKeys: ["skill", "level", "optional", "dropOrder"]) else { return nil }
                guard let skill = mapping.required("skill")?.nonEmptyString else { return nil }
                let level = mapping["level"]?.int(in: 1...10) ?? 1
                let optional = mapping["optional"]?.bool ?? false
                let dropOrder = mapping["dropOrder"]?.int(in: 1...99) ?? 1
                if mapping["dropOrder"] != nil, !optional { mapping.owner.warning("dropOrder applies to optional skills only") }
                return SkillRequirement(skill: skill, minLevel: level, optional: optional, dropOrder: dropOrder)
            }
        }
        guard let mapping = node.mapping(allowedKeys: nil) else { return [] }
        return mapping.entries.compactMap { entry in entry.value.int(in: 1...10).map { SkillRequirement(skill: entry.key, minLevel: $0) } }
    }

    static let filterKeys = ["tierAtMost", "skills", "agents", "expression"]
    static let stepKeys = ["name", "duration", "skipIfNoneLoggedIn", "skipIfNoneFree", "priorityBoost"] + filterKeys

    static func filter(_ mapping: ConfigMapping) -> AgentFilter {
        var filter = AgentFilter()
        filter.tierAtMost = mapping["tierAtMost"]?.int(in: 1...99)
        if let node = mapping["skills"] {
            filter.skills = requirements(node)
            for requirement in filter.skills where requirement.optional {
                node.error("a step's skills cannot be optional (put optional skills in the queue's or the rule's requires:)")
            }
        }
        if let node = mapping["agents"], let names = node.stringList {
            filter.agents = names.map { name in
                name.hasPrefix("task.") ? .taskAttribute(String(name.dropFirst(5))) : .agent(name)
            }
        }
        if let node = mapping["expression"] { filter.expression = expression(node) }
        return filter
    }

    static func step(_ node: ConfigNode, index: Int) -> RoutingStep? {
        guard let mapping = node.mapping(allowedKeys: stepKeys) else { return nil }
        let name = mapping["name"]?.nonEmptyString ?? "step \(index + 1)"
        var step = RoutingStep(name: name, filter: filter(mapping))
        if let duration = mapping["duration"] { step.duration = optionalDurations(duration) }
        step.skipIfNoneLoggedIn = mapping["skipIfNoneLoggedIn"]?.bool ?? true
        step.skipIfNoneFree = mapping["skipIfNoneFree"]?.bool ?? false
        step.priorityBoost = mapping["priorityBoost"]?.int(in: -10_000...10_000) ?? 0
        return step
    }

    static func steps(_ node: ConfigNode) -> [RoutingStep] {
        (node.list ?? []).enumerated().compactMap { step($1, index: $0) }
    }

    static func expression(_ node: ConfigNode) -> AttributeExpression? {
        guard let text = node.nonEmptyString else { return nil }
        do {
            return try AttributeExpression(parsing: text)
        } catch {
            node.error("invalid expression: \(error)")
            return nil
        }
    }

    // MARK: Queues

    static let queueKeys = [
        "offerTimeout", "parallelOffers", "progressiveInterval", "aging", "requires", "steps", "strict", "overflow", "wrapUp",
        "maxWrapUp", "resumeWindow", "expectedHandleTime", "maxWait", "maxWaitNoAgent", "maxLength",
    ]

    /// The routing part of a queue; `strategy`, `serviceLevel` and `priority` are read by the
    /// caller.
    static func policy(
        _ mapping: ConfigMapping, id: String, priority: Int, strategy: PerMedium<AgentStrategy>, serviceLevel: PerMedium<ServiceLevelTarget>
    ) -> QueuePolicy {
        var policy = QueuePolicy(id: id, priority: priority, strategy: strategy, serviceLevel: serviceLevel)
        if let node = mapping["offerTimeout"] { policy.offerTimeout = durations(node, base: policy.offerTimeout) }
        if let count = mapping["parallelOffers"]?.int(in: 1...50) { policy.parallelOffers = count }
        if let interval = mapping["progressiveInterval"]?.duration { policy.progressiveInterval = interval }
        if let node = mapping["aging"], let aging = node.mapping(allowedKeys: ["every", "max"]) {
            if let every = aging.required("every")?.duration {
                if every == .zero {
                    aging.owner.error("aging.every must be longer than 0s")
                } else {
                    policy.aging = Aging(every: every, max: aging["max"]?.int(in: 1...1_000_000))
                }
            }
        }
        if let node = mapping["requires"] { policy.requirements = requirements(node) }
        if let node = mapping["steps"] { policy.steps = steps(node) }
        if let strict = mapping["strict"]?.bool { policy.strict = strict }
        if let node = mapping["wrapUp"] { policy.wrapUp = durations(node, base: policy.wrapUp) }
        policy.maxWrapUp = mapping["maxWrapUp"]?.duration
        if let window = mapping["resumeWindow"]?.duration { policy.resumeWindow = window }
        if let node = mapping["expectedHandleTime"] { policy.expectedHandleTime = durations(node, base: policy.expectedHandleTime) }
        if let node = mapping["overflow"] { policy.overflow = (node.list ?? []).enumerated().compactMap { overflowRule($1, index: $0) } }
        // Shorthands, checked after the explicit rules.
        if let limit = mapping["maxWait"]?.duration {
            policy.overflow.append(OverflowRule(name: "maxWait", trigger: .waited(limit), action: .cancel))
        }
        if let limit = mapping["maxWaitNoAgent"]?.duration {
            policy.overflow.append(OverflowRule(name: "maxWaitNoAgent", trigger: .noAgentFor(limit), action: .cancel))
        }
        if let length = mapping["maxLength"]?.int(in: 1...1_000_000) {
            policy.overflow.append(OverflowRule(name: "maxLength", trigger: .queueLength(atLeast: length), action: .cancel))
        }
        if policy.overflow.count > 64 { mapping.owner.error("at most 64 overflow rules per queue") }
        return policy
    }

    /// `{ name, when: { waited: 5m }, media: [voice], do: ticket }`.
    static func overflowRule(_ node: ConfigNode, index: Int) -> OverflowRule? {
        guard let mapping = node.mapping(allowedKeys: ["name", "when", "media", "do"]) else { return nil }
        let name = mapping["name"]?.nonEmptyString ?? "overflow \(index + 1)"
        var trigger: OverflowTrigger?
        if let when = mapping.required("when"),
            let condition = when.mapping(allowedKeys: ["queueLength", "estimatedWait", "waited", "noAgentLoggedIn", "noAgentFor"])
        {
            if condition.entries.count != 1 {
                when.error("give exactly one condition: queueLength, estimatedWait, waited, noAgentLoggedIn or noAgentFor")
            } else if let entry = condition.entries.first {
                switch entry.key {
                case "queueLength": trigger = entry.value.int(in: 1...1_000_000).map { .queueLength(atLeast: $0) }
                case "estimatedWait": trigger = entry.value.duration.map { .estimatedWait(over: $0) }
                case "waited": trigger = entry.value.duration.map { .waited($0) }
                case "noAgentFor": trigger = entry.value.duration.map { .noAgentFor($0) }
                default:
                    if entry.value.bool == true { trigger = .noAgentLoggedIn } else { entry.value.error("only true is meaningful here") }
                }
            }
        }
        var media: Set<ChannelMedium>?
        if let node = mapping["media"], let names = node.stringList {
            media = Set(names.compactMap { name in
                guard let medium = ChannelMedium(rawValue: name) else {
                    node.error("unknown medium '\(name)' (expected voice, messaging or email)")
                    return nil
                }
                return medium
            })
        }
        guard let actionNode = mapping.required("do"), let action = overflowAction(actionNode), let trigger else { return nil }
        return OverflowRule(name: name, trigger: trigger, media: media, action: action)
    }

    static func overflowAction(_ node: ConfigNode) -> OverflowAction? {
        if node.isScalar {
            switch node.oneOf(["offerCallback", "ticket", "cancel"], what: "overflow action") {
            case "offerCallback": return .offerCallback
            case "ticket": return .ticket
            case "cancel": return .cancel
            default: return nil
            }
        }
        guard let mapping = node.mapping(allowedKeys: ["requeue", "keepAge", "addSteps", "raisePriority"]) else { return nil }
        if let queue = mapping["requeue"]?.nonEmptyString { return .requeue(queue: queue, keepAge: mapping["keepAge"]?.bool ?? true) }
        if let stepsNode = mapping["addSteps"] { return .addSteps(steps(stepsNode)) }
        if let points = mapping["raisePriority"]?.int(in: -10_000...10_000) { return .raisePriority(points) }
        node.error("give requeue (with keepAge), addSteps or raisePriority, or one of offerCallback, ticket, cancel")
        return nil
    }

    // MARK: Rules

    static func rule(_ node: ConfigNode, index: Int) -> RoutingRule? {
        guard let mapping = node.mapping(allowedKeys: ["name", "when", "queue", "priority", "steps", "requires", "stop"]) else { return nil }
        let name = mapping["name"]?.nonEmptyString ?? "rule \(index + 1)"
        guard let whenNode = mapping.required("when"), let condition = expression(whenNode) else { return nil }
        if condition.mentionsAgent { whenNode.error("a rule's condition is about the task: use task. paths (agent. belongs in step filters)") }
        var rule = RoutingRule(name: name, condition: condition)
        rule.queue = mapping["queue"]?.nonEmptyString
        if let node = mapping["priority"] {
            // "+100" and "100" both add.
            let text = node.string ?? ""
            if let value = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text), (-100_000...100_000).contains(value) {
                rule.priority = value
            } else {
                node.error("expected a number of priority points to add, such as +100, found '\(text)'")
            }
        }
        if let node = mapping["steps"] { rule.steps = steps(node) }
        if let node = mapping["requires"] { rule.requirements = requirements(node) }
        rule.stop = mapping["stop"]?.bool ?? false
        return rule
    }

    // MARK: Router-wide settings

    static func routerConfiguration(_ node: ConfigNode) -> RouterConfiguration? {
        let keys = ["rejectDelay", "noAnswerDelay", "busyDelay", "unreachableDelay", "maxNoAnswer", "maxParallelOffers", "explainAlternatives", "rateWindow"]
        guard let mapping = node.mapping(allowedKeys: keys) else { return nil }
        var configuration = RouterConfiguration()
        if let value = mapping["rejectDelay"]?.duration { configuration.rejectDelay = value }
        if let value = mapping["noAnswerDelay"]?.duration { configuration.noAnswerDelay = value }
        if let value = mapping["busyDelay"]?.duration { configuration.busyDelay = value }
        if let value = mapping["unreachableDelay"]?.duration { configuration.unreachableDelay = value }
        if let value = mapping["maxNoAnswer"]?.int(in: 0...100) { configuration.maxNoAnswer = value }
        if let value = mapping["maxParallelOffers"]?.int(in: 1...50) { configuration.maxParallelOffers = value }
        if let value = mapping["explainAlternatives"]?.int(in: 0...20) { configuration.explainAlternatives = value }
        if let value = mapping["rateWindow"]?.duration { configuration.rateWindow = value }
        return configuration
    }

    // MARK: Agents

    static let agentKeys = ["attributes", "capacityUnits", "cost", "interruptibleBy", "wrapUp", "autoAccept", "maxNoAnswer"]

    /// The router's view of an agent from its YAML mapping and the already read model fields.
    static func profile(_ mapping: ConfigMapping, agent: Agent, delays: [String: Duration]) -> AgentProfile {
        var memberships: [String: RoutingMembership] = [:]
        for membership in agent.queues {
            memberships[membership.queueID] = RoutingMembership(
                tier: membership.tier, position: membership.position, delay: delays[membership.queueID] ?? .zero)
        }
        var profile = AgentProfile(
            id: agent.id.rawValue, skills: agent.skills, memberships: memberships,
            capacity: PerMedium(
                voice: agent.capacity[.voice] ?? 1, messaging: agent.capacity[.messaging] ?? 3, email: agent.capacity[.email] ?? 5))
        if let node = mapping["attributes"], let attributes = node.mapping(allowedKeys: nil) {
            for (key, value) in attributes.entries {
                if value.isList, let items = value.stringList {
                    profile.attributes[key] = .list(items)
                } else if let text = value.string {
                    profile.attributes[key] = AttributeValue(parsing: text)
                }
            }
        }
        if let units = mapping["capacityUnits"]?.int(in: 1...10_000) { profile.capacityUnits = units }
        if let node = mapping["cost"] { profile.cost = perMedium(node, base: profile.cost) { $0.int(in: 0...10_000) } }
        if let node = mapping["interruptibleBy"] {
            profile.interruptibleBy = perMedium(node, base: profile.interruptibleBy) { value in
                value.stringList.map { names in Set(names.compactMap { medium(named: $0, at: value) }) }
            }
        }
        if let node = mapping["wrapUp"] { profile.wrapUp = perMedium(node, base: profile.wrapUp) { $0.duration.map { .some($0) } } }
        if let node = mapping["autoAccept"], let names = node.stringList { profile.autoAccept = Set(names.compactMap { medium(named: $0, at: node) }) }
        profile.maxNoAnswer = mapping["maxNoAnswer"]?.int(in: 0...100)
        return profile
    }

    static func medium(named name: String, at node: ConfigNode) -> ChannelMedium? {
        guard let medium = ChannelMedium(rawValue: name) else {
            node.error("unknown medium '\(name)' (expected voice, messaging or email)")
            return nil
        }
        return medium
    }
}
