import Foundation
import HubModel
import HubRouting

/// Loads and validates `channels/*.yaml` and `routing-rules/*.yaml`.
public struct ConfigLoader: Sendable {
    /// The channel kinds this build supports, with their option schemas.
    public var schemas: [ChannelKind: ChannelKindSchema]
    /// Where secrets are looked up.
    public var environment: [String: String]

    public init(schemas: [ChannelKindSchema], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.schemas = Dictionary(schemas.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.environment = environment
    }

    /// Loads both directories. Paths in diagnostics are shown as given.
    public func load(channelsDirectory: String, routingRulesDirectory: String) -> ConfigLoadResult {
        var diagnostics: [ConfigDiagnostic] = []
        let channelDocuments = documents(in: channelsDirectory, what: "channel accounts", diagnostics: &diagnostics)
        let ruleDocuments = documents(in: routingRulesDirectory, what: "routing rules", diagnostics: &diagnostics)

        var channels: [(ChannelAccountConfig, ConfigNode)] = []
        for document in channelDocuments {
            guard let root = document.root else { continue }
            if let account = ChannelAccountReader.read(root, schemas: schemas, environment: environment) {
                channels.append((account, root))
            }
        }
        var content = RoutingRulesReader.FileContent()
        for document in ruleDocuments {
            guard let root = document.root else { continue }
            let file = RoutingRulesReader.read(root, environment: environment)
            content.skills += file.skills
            content.queues += file.queues
            content.agents += file.agents
            content.rules += file.rules
            content.router += file.router
            content.tickets += file.tickets
            content.sla += file.sla
            content.automations += file.automations
            content.metrics += file.metrics
        }
        let rules = crossCheck(channels: channels, content: content)
        for document in channelDocuments + ruleDocuments { diagnostics += document.diagnostics }
        if channelDocuments.isEmpty, !diagnostics.contains(where: { $0.location.file == channelsDirectory }) {
            diagnostics.append(
                ConfigDiagnostic(
                    severity: .warning, location: ConfigLocation(file: channelsDirectory, line: 0, column: 0), path: "",
                    message: "no channel accounts are configured: the hub will receive nothing"))
        }
        let hasErrors = diagnostics.contains { $0.severity == .error }
        return ConfigLoadResult(
            configuration: hasErrors ? nil : HubConfiguration(channels: channels.map(\.0), routing: rules),
            diagnostics: diagnostics)
    }

    private func documents(in directory: String, what: String, diagnostics: inout [ConfigDiagnostic]) -> [ConfigDocument] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            diagnostics.append(
                ConfigDiagnostic(
                    severity: .error, location: ConfigLocation(file: directory, line: 0, column: 0), path: "",
                    message: "the \(what) directory does not exist"))
            return []
        }
        let names = ((try? manager.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
            .sorted()
        return names.map { name in
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let data = manager.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                let document = ConfigDocument(file: path, text: "{}")
                document.report(.error, at: ConfigLocation(file: path, line: 0, column: 0), path: "", "cannot read the file as UTF-8 text")
                return document
            }
            return ConfigDocument(file: path, text: text)
        }
    }

    /// Checks what spans files: unique ids, and that every reference names something that exists.
    private func crossCheck(channels: [(ChannelAccountConfig, ConfigNode)], content: RoutingRulesReader.FileContent) -> RoutingRules {
        func firstByID<T>(_ items: [(T, ConfigNode)], id: (T) -> String, what: String) -> [T] {
            var seen: [String: ConfigLocation] = [:]
            var result: [T] = []
            for (item, node) in items {
                let key = id(item)
                if let first = seen[key] {
                    node.error("duplicate \(what) id '\(key)' (first defined at \(first))")
                } else {
                    seen[key] = node.location
                    result.append(item)
                }
            }
            return result
        }
        let skills = firstByID(content.skills, id: \.id, what: "skill")
        let queues = firstByID(content.queues, id: \.id, what: "queue")
        let agents = firstByID(content.agents.map { ($0.0, $0.1.node) }, id: \.agent.id.rawValue, what: "agent")
        _ = firstByID(channels, id: \.id, what: "channel account")

        let skillIDs = skills.map(\.id)
        let queueIDs = queues.map(\.id)
        var logins: [String: ConfigLocation] = [:]
        var phoneUsers: [String: ConfigLocation] = [:]
        for (agent, references) in content.agents {
            for (skill, node) in references.skills where !skillIDs.contains(skill) {
                node.error("unknown skill '\(skill)'\(Suggestion.didYouMean(skill, among: skillIDs)) (declare it under skills:)")
            }
            for (queue, node) in references.queues where !queueIDs.contains(queue) {
                node.error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
            }
            let login = agent.agent.login.lowercased()
            if let first = logins[login] {
                (references.login ?? references.node).error("login '\(agent.agent.login)' is already used by another agent (at \(first))")
            } else {
                logins[login] = agent.location
            }
            // A phone registers by the user part of its address: two phones with one user name
            // could not tell which agent registers.
            if let phone = agent.phone, phone.password != nil || phone.staticContact == nil,
                let user = phone.addressOfRecord.dropFirst(phone.addressOfRecord.hasPrefix("sips:") ? 5 : 4).split(separator: "@").first
            {
                if let first = phoneUsers[String(user)] {
                    references.node.error("the SIP user name '\(user)' is already another agent's phone (at \(first))")
                } else {
                    phoneUsers[String(user)] = agent.location
                }
            }
        }
        for (account, node) in channels {
            guard let queue = account.queueID else { continue }
            let queueNode = (node.mapping(allowedKeys: nil)?["queue"]) ?? node
            if let config = queues.first(where: { $0.id == queue }) {
                if !config.channels.contains(account.kind) {
                    queueNode.error("queue '\(queue)' does not take \(account.kind.rawValue) conversations (its channels: \(config.channels.map(\.rawValue).joined(separator: ", ")))")
                }
            } else {
                queueNode.error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
            }
        }
        checkRouting(content: content, queues: queues, skillIDs: skillIDs, agentIDs: agents.map(\.agent.id.rawValue))
        for (_, node) in content.router.dropFirst() { node.error("router: is already set in another file (\(content.router[0].1.location))") }
        if let (settings, node) = content.tickets.first, let queue = settings.csat?.escalationQueue, !queueIDs.contains(queue) {
            let blamed = node.mapping(allowedKeys: nil)?["csat"]?.mapping(allowedKeys: nil)?["escalateTo"] ?? node
            blamed.error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
        }
        if let (settings, node) = content.sla.first {
            let policies = node.mapping(allowedKeys: nil)?["policies"]?.list ?? []
            for (policy, policyNode) in zip(settings.policies, policies) {
                for queue in policy.queues ?? [] where !queueIDs.contains(queue) {
                    let blamed = policyNode.mapping(allowedKeys: nil)?["when"] ?? policyNode
                    blamed.error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
                }
            }
        }
        var automationIDs: [String: ConfigLocation] = [:]
        for (rule, node) in content.automations {
            if let first = automationIDs[rule.id] {
                node.error("automation '\(rule.id)' is already defined (at \(first))")
            } else {
                automationIDs[rule.id] = rule.location
            }
            let actions = node.mapping(allowedKeys: nil)?["do"]?.mapping(allowedKeys: nil)
            for (queue, key) in [(rule.actions.assignQueue, "assignQueue"), (rule.actions.createTicket?.queueID, "createTicket")] {
                guard let queue, !queueIDs.contains(queue) else { continue }
                (actions?[key] ?? node).error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
            }
        }
        if let (settings, node) = content.metrics.first {
            let alerts = node.mapping(allowedKeys: nil)?["alerts"]?.list ?? []
            for (alert, alertNode) in zip(settings.alerts, alerts) {
                guard let queue = alert.queue, !queueIDs.contains(queue) else { continue }
                let blamed = alertNode.mapping(allowedKeys: nil)?["queue"] ?? alertNode
                blamed.error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
            }
        }
        for (_, node) in content.metrics.dropFirst() { node.error("metrics: is already set in another file (\(content.metrics[0].1.location))") }
        for (_, node) in content.sla.dropFirst() { node.error("sla: is already set in another file (\(content.sla[0].1.location))") }
        for (_, node) in content.tickets.dropFirst() { node.error("tickets: is already set in another file (\(content.tickets[0].1.location))") }
        return RoutingRules(
            skills: skills, queues: queues, agents: agents, rules: RoutingRuleSet(content.rules.map(\.0)),
            router: content.router.first?.0 ?? RouterConfiguration(), tickets: content.tickets.first?.0 ?? TicketSettings(),
            sla: content.sla.first?.0 ?? SLASettings(), automations: content.automations.map(\.0),
            metrics: content.metrics.first?.0 ?? MetricsSettings())
    }

    /// References inside routing policies and rules: queues, agents and skills they name.
    private func checkRouting(content: RoutingRulesReader.FileContent, queues: [QueueConfig], skillIDs: [String], agentIDs: [String]) {
        let queueIDs = queues.map(\.id)
        func child(_ node: ConfigNode, _ key: String) -> ConfigNode? { node.mapping(allowedKeys: nil)?[key] }
        func checkSkills(_ requirements: [SkillRequirement], at node: ConfigNode) {
            for requirement in requirements where !requirement.skill.contains("${") && !skillIDs.contains(requirement.skill) {
                node.error("unknown skill '\(requirement.skill)'\(Suggestion.didYouMean(requirement.skill, among: skillIDs)) (declare it under skills:)")
            }
        }
        func checkSteps(_ steps: [RoutingStep], at node: ConfigNode?) {
            guard let node else { return }
            let items = node.list ?? []
            for (step, item) in zip(steps, items) {
                checkSkills(step.filter.skills, at: child(item, "skills") ?? item)
                for case .agent(let id) in step.filter.agents where !agentIDs.contains(id) {
                    (child(item, "agents") ?? item).error("unknown agent '\(id)'\(Suggestion.didYouMean(id, among: agentIDs)) (or task.<attribute>)")
                }
            }
        }
        for (queue, node) in content.queues {
            checkSkills(queue.policy.requirements, at: child(node, "requires") ?? node)
            checkSteps(queue.policy.steps, at: child(node, "steps"))
            let overflowItems = child(node, "overflow")?.list ?? []
            for (rule, item) in zip(queue.policy.overflow, overflowItems) {
                switch rule.action {
                case .requeue(let target, _):
                    if !queueIDs.contains(target) {
                        (child(item, "do") ?? item).error("unknown queue '\(target)'\(Suggestion.didYouMean(target, among: queueIDs))")
                    } else if target == queue.id {
                        (child(item, "do") ?? item).error("a queue cannot overflow into itself")
                    }
                case .addSteps(let steps):
                    checkSteps(steps, at: child(item, "do").flatMap { child($0, "addSteps") })
                default: break
                }
            }
        }
        for (rule, node) in content.rules {
            if let queue = rule.queue, !queueIDs.contains(queue) {
                (child(node, "queue") ?? node).error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
            }
            checkSkills(rule.requirements, at: child(node, "requires") ?? node)
            checkSteps(rule.steps, at: child(node, "steps"))
        }
    }
}
