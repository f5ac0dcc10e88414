import Foundation
import HubModel
import HubRouting

/// Reads a simulation scenario (`hub simulate`): the queues as in `routing-rules/`, groups of
/// agents with shifts and answering habits, and streams of arriving work.
///
///     name: weekday morning
///     duration: 8h
///     warmup: 30m
///     seed: 7
///     queues: [...]                     # as in routing-rules/
///     agents:
///       - group: senior
///         count: 12
///         skills: { lang-zh: 9 }
///         queues: { support: 1 }
///         shifts: [{ from: 0h, to: 4h }, { from: 5h, to: 8h }]
///         answer: { delay: { uniform: [1s, 4s] }, decline: 0.05, miss: 0.02 }
///     arrivals:
///       - name: calls
///         queue: support
///         channel: voice
///         perHour: 120
///         handleTime: { exponential: 3m }
///         patience: { exponential: 2m }
public enum ScenarioReader {
    /// Parses a scenario file; every problem is a diagnostic with file and line.
    public static func read(file: String, text: String) -> (Scenario?, [ConfigDiagnostic]) {
        let document = ConfigDocument(file: file, text: text)
        guard let root = document.root,
            let mapping = root.mapping(allowedKeys: ["name", "duration", "warmup", "seed", "router", "queues", "agents", "arrivals", "skills"])
        else { return (nil, document.diagnostics) }
        let name = mapping["name"]?.nonEmptyString ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let duration = mapping.required("duration")?.duration
        let warmup = mapping["warmup"]?.duration ?? .zero
        let seed = mapping["seed"].flatMap { node -> UInt64? in
            guard let text = node.string, let value = UInt64(text) else {
                node.error("expected a whole number")
                return nil
            }
            return value
        } ?? 1
        let router = mapping["router"].flatMap(RoutingPolicyReader.routerConfiguration) ?? RouterConfiguration()
        var queues: [QueuePolicy] = []
        for item in mapping.required("queues")?.list ?? [] {
            if let queue = RoutingRulesReader.readQueue(item) { queues.append(queue.policy) }
        }
        let queueIDs = queues.map(\.id)
        var groups: [Scenario.AgentGroup] = []
        for item in mapping.required("agents")?.list ?? [] {
            if let group = agentGroup(item, queueIDs: queueIDs) { groups.append(group) }
        }
        var arrivals: [Scenario.ArrivalStream] = []
        for (index, item) in (mapping.required("arrivals")?.list ?? []).enumerated() {
            if let stream = arrival(item, index: index, queueIDs: queueIDs) { arrivals.append(stream) }
        }
        if let duration, warmup >= duration { mapping["warmup"]?.error("the warm-up must be shorter than the duration") }
        guard !document.hasErrors, let duration else { return (nil, document.diagnostics) }
        return (
            Scenario(name: name, duration: duration, warmup: warmup, seed: seed, router: router, queues: queues, agents: groups, arrivals: arrivals),
            document.diagnostics
        )
    }

    static func agentGroup(_ node: ConfigNode, queueIDs: [String]) -> Scenario.AgentGroup? {
        let keys = ["group", "count", "skills", "queues", "capacity", "shifts", "answer"] + RoutingPolicyReader.agentKeys
        guard let mapping = node.mapping(allowedKeys: keys) else { return nil }
        guard let prefix = mapping.required("group").flatMap(ChannelAccountReader.readID) else { return nil }
        let count = mapping["count"]?.int(in: 1...100_000) ?? 1
        let work = RoutingRulesReader.readWork(mapping)
        for (queue, node) in work.queueNodes where !queueIDs.contains(queue) {
            node.error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
        }
        let agent = Agent(id: Agent.ID(prefix), login: prefix, name: prefix, skills: work.skills, queues: work.queues, capacity: work.capacity)
        let profile = RoutingPolicyReader.profile(mapping, agent: agent, delays: work.delays)
        var shifts: [Scenario.Shift] = []
        for item in mapping["shifts"]?.list ?? [] {
            guard let shift = item.mapping(allowedKeys: ["from", "to"]) else { continue }
            guard let from = shift.required("from")?.duration, let to = shift.required("to")?.duration else { continue }
            if to <= from { item.error("a shift ends after it starts") } else { shifts.append(Scenario.Shift(start: from, end: to)) }
        }
        var behaviour = Scenario.AgentBehaviour()
        if let answer = mapping["answer"]?.mapping(allowedKeys: ["delay", "decline", "miss"]) {
            if let delay = answer["delay"].flatMap(distribution) { behaviour.answerDelay = delay }
            behaviour.declineProbability = answer["decline"].flatMap(probability) ?? 0
            behaviour.missProbability = answer["miss"].flatMap(probability) ?? 0
            if behaviour.declineProbability + behaviour.missProbability > 1 { answer.owner.error("decline and miss add up to more than 1") }
        }
        return Scenario.AgentGroup(prefix: prefix, count: count, profile: profile, shifts: shifts, behaviour: behaviour)
    }

    static func arrival(_ node: ConfigNode, index: Int, queueIDs: [String]) -> Scenario.ArrivalStream? {
        let keys = ["name", "queue", "channel", "perHour", "handleTime", "patience", "priority", "attributes", "requires", "steps"]
        guard let mapping = node.mapping(allowedKeys: keys) else { return nil }
        let name = mapping["name"]?.nonEmptyString ?? "stream-\(index + 1)"
        let queue = mapping.required("queue")?.nonEmptyString
        if let queue, !queueIDs.contains(queue), let node = mapping["queue"] {
            node.error("unknown queue '\(queue)'\(Suggestion.didYouMean(queue, among: queueIDs))")
        }
        let channel = mapping.required("channel")?.oneOf(ChannelKind.allCases.map(\.rawValue), what: "channel kind").flatMap(ChannelKind.init(rawValue:))
        let perHour = mapping.required("perHour").flatMap { node -> Double? in
            guard let text = node.string, let value = Double(text), value >= 0, value.isFinite else {
                node.error("expected a number of arrivals per hour")
                return nil
            }
            return value
        }
        let handleTime = mapping.required("handleTime").flatMap(distribution)
        let patience = mapping["patience"].flatMap(distribution)
        var attributes: [String: AttributeValue] = [:]
        for (key, value) in mapping["attributes"]?.mapping(allowedKeys: nil)?.entries ?? [] {
            if let text = value.string { attributes[key] = AttributeValue(parsing: text) }
        }
        guard let queue, let channel, let perHour, let handleTime else { return nil }
        return Scenario.ArrivalStream(
            name: name, queue: queue, channel: channel, perHour: perHour, handleTime: handleTime, patience: patience,
            priority: mapping["priority"]?.int(in: -100_000...100_000) ?? 0, attributes: attributes,
            requirements: mapping["requires"].map(RoutingPolicyReader.requirements) ?? [],
            steps: mapping["steps"].map(RoutingPolicyReader.steps) ?? [])
    }

    /// `3m` (fixed), `{ exponential: 3m }`, `{ uniform: [1m, 5m] }`, `{ logNormal: { mean: 4m, sd: 2m } }`.
    static func distribution(_ node: ConfigNode) -> Distribution? {
        if node.isScalar { return node.duration.map { .fixed($0) } }
        guard let mapping = node.mapping(allowedKeys: ["fixed", "exponential", "uniform", "logNormal"]), mapping.entries.count == 1,
            let entry = mapping.entries.first
        else {
            node.error("give one of fixed, exponential, uniform or logNormal")
            return nil
        }
        switch entry.key {
        case "fixed": return entry.value.duration.map { .fixed($0) }
        case "exponential": return entry.value.duration.map { .exponential(mean: $0) }
        case "uniform":
            guard let bounds = entry.value.list, bounds.count == 2, let low = bounds[0].duration, let high = bounds[1].duration, low <= high else {
                entry.value.error("expected [shortest, longest]")
                return nil
            }
            return .uniform(low, high)
        default:
            guard let parameters = entry.value.mapping(allowedKeys: ["mean", "sd"]), let mean = parameters.required("mean")?.duration,
                let deviation = parameters.required("sd")?.duration, mean > .zero
            else { return nil }
            return .logNormal(mean: mean, deviation: deviation)
        }
    }

    static func probability(_ node: ConfigNode) -> Double? {
        guard let text = node.string, let value = Double(text), (0...1).contains(value) else {
            node.error("expected a probability from 0 to 1")
            return nil
        }
        return value
    }
}
