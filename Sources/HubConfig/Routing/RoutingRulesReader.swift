import Foundation
import HubModel
import HubRouting

/// Reads the sections of one `routing-rules/*.yaml` file. Cross-file checks (unknown skills and
/// queues, duplicate ids) happen in `ConfigLoader` once every file is read.
enum RoutingRulesReader {
    struct FileContent {
        var skills: [(SkillConfig, ConfigNode)] = []
        var queues: [(QueueConfig, ConfigNode)] = []
        var agents: [(AgentConfig, AgentReferences)] = []
        var rules: [(RoutingRule, ConfigNode)] = []
        var router: [(RouterConfiguration, ConfigNode)] = []
        var tickets: [(TicketSettings, ConfigNode)] = []
        var sla: [(SLASettings, ConfigNode)] = []
        var automations: [(AutomationRule, ConfigNode)] = []
        var metrics: [(MetricsSettings, ConfigNode)] = []
    }

    /// Nodes of an agent's references, so unknown ones can be reported where they are written.
    struct AgentReferences {
        var node: ConfigNode
        var login: ConfigNode?
        var skills: [(String, ConfigNode)]
        var queues: [(String, ConfigNode)]
    }

    static func read(_ root: ConfigNode, environment: [String: String] = [:]) -> FileContent {
        var content = FileContent()
        guard let mapping = root.mapping(allowedKeys: ["skills", "queues", "agents", "rules", "router", "tickets", "sla", "automations", "metrics"]) else {
            return content
        }
        for item in mapping["skills"]?.list ?? [] {
            if let skill = readSkill(item) { content.skills.append((skill, item)) }
        }
        for item in mapping["queues"]?.list ?? [] {
            if let queue = readQueue(item) { content.queues.append((queue, item)) }
        }
        for item in mapping["agents"]?.list ?? [] {
            if let agent = readAgent(item, environment: environment) { content.agents.append(agent) }
        }
        for (index, item) in (mapping["rules"]?.list ?? []).enumerated() {
            if let rule = RoutingPolicyReader.rule(item, index: index) { content.rules.append((rule, item)) }
        }
        if let node = mapping["router"], let configuration = RoutingPolicyReader.routerConfiguration(node) {
            content.router.append((configuration, node))
        }
        if let node = mapping["tickets"], let settings = readTickets(node) { content.tickets.append((settings, node)) }
        if let node = mapping["sla"], let settings = SLAReader.read(node) { content.sla.append((settings, node)) }
        for item in mapping["automations"]?.list ?? [] {
            if let rule = AutomationReader.read(item) { content.automations.append((rule, item)) }
        }
        if let node = mapping["metrics"], let settings = MetricsReader.read(node) { content.metrics.append((settings, node)) }
        return content
    }

    /// The first `{name}` in `text` that is not one of `known`.
    static func unknownPlaceholder(in text: String, known: [String] = TicketSettings.placeholders) -> String? {
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { return nil }
            let name = String(after[..<close])
            if !known.contains(name) { return name }
            rest = after[after.index(after: close)...]
        }
        return nil
    }

    /// `from: "21:00"`, `to: "08:00"`, `timeZone: Asia/Shanghai`, `channels: [sms, wechat]`.
    static func readQuietHours(_ mapping: ConfigMapping) -> QuietHours? {
        func minutes(_ key: String) -> Int? {
            guard let node = mapping[key] else {
                mapping.owner.error("quietHours needs \(key) (a time such as 21:00)")
                return nil
            }
            let parts = (node.string ?? "").split(separator: ":")
            guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes) else {
                node.error("expected a time such as 21:00, found '\(node.string ?? "")'")
                return nil
            }
            return hours * 60 + minutes
        }
        let start = minutes("from")
        let end = minutes("to")
        var timeZone = TimeZone(identifier: "UTC")!
        if let node = mapping["timeZone"], let name = node.string {
            guard let zone = TimeZone(identifier: name) else {
                node.error("unknown time zone '\(name)' (an IANA name such as Asia/Shanghai)")
                return nil
            }
            timeZone = zone
        }
        var channels = QuietHours.defaultChannels
        if let list = mapping["channels"]?.list {
            channels = Set(list.compactMap { $0.oneOf(ChannelKind.allCases.map(\.rawValue), what: "channel kind").flatMap(ChannelKind.init(rawValue:)) })
        }
        guard let start, let end else { return nil }
        return QuietHours(start: start, end: end, timeZone: timeZone, channels: channels)
    }

    static func readTickets(_ node: ConfigNode) -> TicketSettings? {
        guard let mapping = node.mapping(allowedKeys: ["reopenWindow", "closeAfter", "statusReplies", "announce", "templates", "quietHours", "csat"]) else {
            return nil
        }
        var settings = TicketSettings()
        if let value = mapping["reopenWindow"]?.duration { settings.reopenWindow = value }
        if let value = mapping["closeAfter"]?.duration { settings.closeAfter = value }
        if let value = mapping["statusReplies"]?.bool { settings.statusReplies = value }
        if let list = mapping["announce"]?.list {
            settings.announce = Set(
                list.compactMap { item in item.oneOf(TicketStatus.allCases.map(\.rawValue), what: "ticket status").flatMap(TicketStatus.init(rawValue:)) })
        }
        if let templates = mapping["templates"]?.mapping(allowedKeys: TicketSettings.templateNames) {
            let locales = CustomerLocale.allCases.map(\.rawValue)
            let kinds = ChannelKind.allCases.map(\.rawValue)
            /// `en: "..."`, `zh-CN: "..."`.
            func texts(_ mapping: ConfigMapping) -> [CustomerLocale: String] {
                var found: [CustomerLocale: String] = [:]
                for locale in CustomerLocale.allCases {
                    guard let textNode = mapping[locale.rawValue], let text = textNode.string else { continue }
                    if let unknown = Self.unknownPlaceholder(in: text) {
                        textNode.error("unknown placeholder {\(unknown)} (known: \(TicketSettings.placeholders.map { "{\($0)}" }.joined(separator: ", ")))")
                        continue
                    }
                    found[locale] = text
                }
                return found
            }
            for name in TicketSettings.templateNames {
                // Locales for every channel, and channel kinds with their own locales.
                guard let entry = templates[name]?.mapping(allowedKeys: locales + kinds) else { continue }
                let general = texts(entry)
                if !general.isEmpty { settings.templates[name] = general }
                for kind in ChannelKind.allCases {
                    guard let perKind = entry[kind.rawValue]?.mapping(allowedKeys: locales) else { continue }
                    let found = texts(perKind)
                    if !found.isEmpty { settings.channelTemplates[name, default: [:]][kind] = found }
                }
            }
        }
        if let quiet = mapping["quietHours"]?.mapping(allowedKeys: ["from", "to", "timeZone", "channels"]) {
            settings.quietHours = readQuietHours(quiet)
        }
        if let node = mapping["csat"] {
            guard let csat = readCSAT(node, announce: settings.announce) else { return nil }
            settings.csat = csat
        }
        if settings.closeAfter < settings.reopenWindow, let blamed = mapping["closeAfter"] ?? mapping["reopenWindow"] {
            blamed.error(
                "closeAfter (\(mapping["closeAfter"]?.string ?? "7d, the default")) is shorter than reopenWindow (\(mapping["reopenWindow"]?.string ?? "7d, the default")): a solved ticket would close before its reopen window ends")
            return nil
        }
        return settings
    }

    /// `csat: { scale: numbers, expireAfter: 3d, lowScore: 2, escalateTo: supervisors, followUp: 2h, link: ... }`.
    static func readCSAT(_ node: ConfigNode, announce: Set<TicketStatus>) -> CSATSettings? {
        guard let mapping = node.mapping(allowedKeys: ["scale", "expireAfter", "lowScore", "escalateTo", "followUp", "link"]) else { return nil }
        var csat = CSATSettings()
        if let scale = mapping["scale"]?.oneOf(CSATSettings.Scale.allCases.map(\.rawValue), what: "survey scale") {
            csat.scale = CSATSettings.Scale(rawValue: scale) ?? .numbers
        }
        if let value = mapping["expireAfter"]?.duration { csat.expireAfter = value }
        if let value = mapping["lowScore"]?.int(in: 0...4) { csat.lowScore = value }
        if let value = mapping["escalateTo"]?.nonEmptyString { csat.escalationQueue = value }
        if let value = mapping["followUp"]?.duration { csat.followUp = value }
        if let node = mapping["link"], let link = node.nonEmptyString {
            guard link.contains("{token}"), link.hasPrefix("https://") || link.hasPrefix("http://") else {
                node.error("link must be an http(s) address with {token} in it, such as https://support.example.com/csat/{token}")
                return nil
            }
            csat.link = link
        }
        guard announce.contains(.solved) else {
            node.error("the survey goes out with the notification that a ticket is solved: add solved to announce")
            return nil
        }
        return csat
    }

    static func readSkill(_ node: ConfigNode) -> SkillConfig? {
        if node.isScalar, let id = ChannelAccountReader.readID(node) {
            return SkillConfig(id: id, name: id, location: node.location)
        }
        guard let mapping = node.mapping(allowedKeys: ["id", "name", "description"]) else { return nil }
        guard let id = mapping.required("id").flatMap(ChannelAccountReader.readID) else { return nil }
        _ = mapping["description"]?.string
        return SkillConfig(id: id, name: mapping["name"]?.nonEmptyString ?? id, location: node.location)
    }

    static func readQueue(_ node: ConfigNode) -> QueueConfig? {
        let keys = ["id", "name", "channels", "priority", "strategy", "serviceLevel"] + RoutingPolicyReader.queueKeys
        guard let mapping = node.mapping(allowedKeys: keys) else { return nil }
        let id = mapping.required("id").flatMap(ChannelAccountReader.readID)
        var channels = ChannelKind.allCases
        if let node = mapping["channels"], let names = node.stringList {
            channels = []
            for name in names {
                if let kind = ChannelKind(rawValue: name) {
                    channels.append(kind)
                } else {
                    node.error("unknown channel kind '\(name)'\(Suggestion.didYouMean(name, among: ChannelKind.allCases.map(\.rawValue)))")
                }
            }
        }
        let priority = mapping["priority"]?.int(in: -1000...1000) ?? 0
        let names = AgentStrategy.allCases.map(\.rawValue)
        var strategy = QueuePolicy.defaultStrategy
        if let node = mapping["strategy"] {
            strategy = RoutingPolicyReader.perMedium(node, base: strategy) { value in
                value.oneOf(names, what: "strategy").flatMap(AgentStrategy.init(rawValue:))
            }
        }
        var serviceLevel = QueuePolicy.defaultServiceLevel
        if let node = mapping["serviceLevel"], let perMedium = node.mapping(allowedKeys: ChannelMedium.allCases.map(\.rawValue)) {
            for (key, value) in perMedium.entries {
                guard let medium = ChannelMedium(rawValue: key) else { continue }
                if let target = readServiceLevel(value, default: serviceLevel[medium]) { serviceLevel[medium] = target }
            }
        }
        guard let id else { return nil }
        let policy = RoutingPolicyReader.policy(mapping, id: id, priority: priority, strategy: strategy, serviceLevel: serviceLevel)
        return QueueConfig(id: id, name: mapping["name"]?.nonEmptyString ?? id, channels: channels, policy: policy, location: node.location)
    }

    /// `20s` (keeping the default percentage) or `{ within: 20s, percent: 80 }`.
    static func readServiceLevel(_ node: ConfigNode, default target: ServiceLevelTarget) -> ServiceLevelTarget? {
        if node.isScalar {
            return node.duration.map { ServiceLevelTarget(threshold: $0, percent: target.percent) }
        }
        guard let mapping = node.mapping(allowedKeys: ["within", "percent"]) else { return nil }
        let threshold = mapping.required("within")?.duration
        let percent = mapping["percent"]?.int(in: 1...100) ?? target.percent
        return threshold.map { ServiceLevelTarget(threshold: $0, percent: percent) }
    }

    static func readAgent(_ node: ConfigNode, environment: [String: String] = [:]) -> (AgentConfig, AgentReferences)? {
        let keys = ["id", "login", "name", "role", "email", "skills", "queues", "capacity", "sip", "sipPassword", "sipContact", "revealContacts"]
            + RoutingPolicyReader.agentKeys
        guard let mapping = node.mapping(allowedKeys: keys) else { return nil }
        let id = mapping.required("id").flatMap(ChannelAccountReader.readID)
        let loginNode = mapping["login"]
        let login = loginNode?.nonEmptyString ?? id
        let name = mapping.required("name")?.nonEmptyString
        let role = mapping["role"]?.oneOf(AgentRole.allCases.map(\.rawValue), what: "role").flatMap(AgentRole.init(rawValue:)) ?? .agent
        let email: String? = mapping["email"].flatMap { node in
            guard let text = node.string else { return nil }
            do {
                return try HandleAddress.normalize(kind: .email, raw: text).address
            } catch {
                node.error("\(error)")
                return nil
            }
        }
        let work = readWork(mapping)
        let sip: String? = mapping["sip"].flatMap { node in
            guard let text = node.string else { return nil }
            guard let address = try? HandleAddress.normalize(kind: .sip, raw: text) else {
                node.error("'\(text)' is not a SIP URI (expected sip:user@host)")
                return nil
            }
            return address.address
        }
        let phone = readPhone(mapping, sip: sip, environment: environment)
        guard let id, let login, let name else { return nil }
        let agent = Agent(
            id: Agent.ID(id), login: login, name: name, role: role, email: email, skills: work.skills, queues: work.queues,
            capacity: work.capacity, sipAddress: sip, canRevealContacts: mapping["revealContacts"]?.bool)
        let profile = RoutingPolicyReader.profile(mapping, agent: agent, delays: work.delays)
        return (
            AgentConfig(agent: agent, profile: profile, phone: phone, location: node.location),
            AgentReferences(node: node, login: loginNode, skills: work.skillNodes, queues: work.queueNodes)
        )
    }

    /// What an agent (or a simulated group of agents) can do: skills, queues, capacity.
    struct Work {
        var skills: [String: Int] = [:]
        var skillNodes: [(String, ConfigNode)] = []
        var queues: [QueueMembership] = []
        var delays: [String: Duration] = [:]
        var queueNodes: [(String, ConfigNode)] = []
        var capacity = Agent.defaultCapacity
    }

    /// `sipPassword` (the environment variable holding the phone's digest password) and
    /// `sipContact` (a static contact): both need the agent's `sip` address.
    static func readPhone(_ mapping: ConfigMapping, sip: String?, environment: [String: String]) -> AgentPhone? {
        let passwordNode = mapping["sipPassword"]
        let contactNode = mapping["sipContact"]
        guard passwordNode != nil || contactNode != nil else { return nil }
        guard let sip else {
            (passwordNode ?? contactNode)?.error("a SIP phone needs the agent's 'sip' address (sip:user@domain)")
            return nil
        }
        // The address as written, scheme and host lower-cased: the user part is the digest user
        // name, which is case-sensitive (a phone sending `Alice` must find `Alice`).
        var phone = AgentPhone(addressOfRecord: sip)
        if let written = mapping["sip"]?.string, let at = written.lastIndex(of: "@") {
            let user = written[..<at].drop { $0 != ":" }.dropFirst()
            if !user.isEmpty { phone.addressOfRecord = sip.prefix { $0 != ":" } + ":" + user + sip[sip.lastIndex(of: "@")!...] }
        }
        if let passwordNode, let variable = passwordNode.nonEmptyString {
            guard SecretVariableName.isValid(variable) else {
                passwordNode.error("the phone's password is given by environment variable name (such as ALICE_SIP_PASSWORD), never inline")
                return nil
            }
            if let value = environment[variable], !value.isEmpty {
                phone.password = Secret(variable: variable, value: value)
            } else {
                passwordNode.warning("environment variable \(variable) is not set: the agent's phone cannot register until it is")
            }
        }
        if let contactNode, let text = contactNode.nonEmptyString {
            guard text.lowercased().hasPrefix("sip:") || text.lowercased().hasPrefix("sips:"), text.contains("@") || text.contains(".") else {
                contactNode.error("'\(text)' is not a SIP URI (expected sip:user@host:port)")
                return nil
            }
            phone.staticContact = text
        }
        return phone
    }

    static func readWork(_ mapping: ConfigMapping) -> Work {
        var work = Work()
        if let block = mapping["skills"]?.mapping(allowedKeys: nil) {
            for (skill, value) in block.entries {
                if let level = value.int(in: 1...10) {
                    work.skills[skill] = level
                    work.skillNodes.append((skill, value))
                }
            }
        }
        if let block = mapping["queues"] {
            if block.isList {
                for item in block.list ?? [] {
                    if let queue = item.string {
                        work.queues.append(QueueMembership(queueID: queue))
                        work.queueNodes.append((queue, item))
                    }
                }
            } else if let perQueue = block.mapping(allowedKeys: nil) {
                for (queue, value) in perQueue.entries {
                    if value.isScalar {
                        if let tier = value.int(in: 1...99) { work.queues.append(QueueMembership(queueID: queue, tier: tier)) }
                    } else if let membership = value.mapping(allowedKeys: ["tier", "position", "delay"]) {
                        let tier = membership["tier"]?.int(in: 1...99) ?? 1
                        let position = membership["position"]?.int(in: 1...9999) ?? 1
                        work.queues.append(QueueMembership(queueID: queue, tier: tier, position: position))
                        if let delay = membership["delay"]?.duration { work.delays[queue] = delay }
                    }
                    work.queueNodes.append((queue, value))
                }
            }
        }
        if let block = mapping["capacity"]?.mapping(allowedKeys: ChannelMedium.allCases.map(\.rawValue)) {
            for (key, value) in block.entries {
                if let medium = ChannelMedium(rawValue: key), let count = value.int(in: 0...100) { work.capacity[medium] = count }
            }
        }
        return work
    }
}
