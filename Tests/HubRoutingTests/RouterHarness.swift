import HubModel
import Testing

@testable import HubRouting

/// A router on a virtual clock, with the decisions it made and helpers to read them.
struct RouterHarness {
    var router: RoutingEngine
    var clock = RoutingInstant.zero
    var log: [RoutingDecision] = []

    init(configuration: RouterConfiguration = RouterConfiguration(), queues: [QueuePolicy], agents: [AgentProfile], available: Bool = true) {
        router = RoutingEngine(configuration: configuration, queues: queues, agents: agents)
        if available {
            for agent in agents { _ = send(.agentPresence(agentID: agent.id, .available)) }
        }
    }

    /// Applies an event at the current clock; returns its decisions.
    @discardableResult
    mutating func send(_ event: RoutingEvent, sourceLocation: SourceLocation = #_sourceLocation) -> [RoutingDecision] {
        do {
            let decisions = try router.handle(event, at: clock)
            log += decisions
            #expect(router.unmatchedPairs().isEmpty, "work conservation after \(event)", sourceLocation: sourceLocation)
            return decisions
        } catch {
            Issue.record("refused: \(error)", sourceLocation: sourceLocation)
            return []
        }
    }

    /// Moves the clock forward and fires what is due.
    @discardableResult
    mutating func wait(_ duration: Duration) -> [RoutingDecision] {
        clock = clock + duration
        let decisions = router.advance(to: clock)
        log += decisions
        #expect(router.unmatchedPairs().isEmpty, "work conservation after waiting")
        return decisions
    }

    @discardableResult
    mutating func arrive(
        _ id: String, channel: ChannelKind = .voice, queue: String = "support", priority: Int = 0,
        attributes: [String: AttributeValue] = [:], requirements: [SkillRequirement] = [], steps: [RoutingStep] = [],
        resumeKey: String? = nil
    ) -> [RoutingDecision] {
        send(
            .taskArrived(
                TaskRequest(
                    id: id, channel: channel, queue: queue, priority: priority, attributes: attributes, requirements: requirements,
                    steps: steps, resumeKey: resumeKey)))
    }

    /// The open offer of `task` (the only one), if any.
    func offer(of task: String) -> Offer? {
        guard let snapshot = router.task(task), case .offered(let ids) = snapshot.phase, let id = ids.first else { return nil }
        return router.offer(id)
    }

    /// Agents the task is offered to now, sorted.
    func offeredAgents(_ task: String) -> [String] {
        guard let snapshot = router.task(task), case .offered(let ids) = snapshot.phase else { return [] }
        return ids.compactMap { router.offer($0)?.agentID }.sorted()
    }

    func assignee(_ task: String) -> String? {
        guard let snapshot = router.task(task), case .assigned(let agent) = snapshot.phase else { return nil }
        return agent
    }

    /// Accepts the open offer of `task`.
    @discardableResult
    mutating func accept(_ task: String, sourceLocation: SourceLocation = #_sourceLocation) -> [RoutingDecision] {
        guard let offer = offer(of: task) else {
            Issue.record("\(task) has no open offer", sourceLocation: sourceLocation)
            return []
        }
        return send(.offerAccepted(offerID: offer.id), sourceLocation: sourceLocation)
    }

    @discardableResult
    mutating func reject(_ task: String, _ reason: RejectReason = .declined, sourceLocation: SourceLocation = #_sourceLocation) -> [RoutingDecision] {
        guard let offer = offer(of: task) else {
            Issue.record("\(task) has no open offer", sourceLocation: sourceLocation)
            return []
        }
        return send(.offerRejected(offerID: offer.id, reason: reason), sourceLocation: sourceLocation)
    }

    /// Arrives, is offered, accepted: returns the agent.
    @discardableResult
    mutating func serve(_ task: String, channel: ChannelKind = .voice, queue: String = "support") -> String? {
        arrive(task, channel: channel, queue: queue)
        guard offer(of: task) != nil else { return nil }
        accept(task)
        return assignee(task)
    }
}

extension AgentProfile {
    /// An agent in `queues` (tier 1 unless given), with `skills`.
    static func member(
        _ id: String, of queues: [String: Int] = ["support": 1], skills: [String: Int] = [:], position: Int = 1,
        capacity: PerMedium<Int> = AgentProfile.defaultCapacity, attributes: [String: AttributeValue] = [:],
        delay: Duration = .zero
    ) -> AgentProfile {
        AgentProfile(
            id: id, skills: skills, attributes: attributes,
            memberships: queues.mapValues { RoutingMembership(tier: $0, position: position, delay: delay) }, capacity: capacity,
            wrapUp: PerMedium(.zero))
    }
}

extension QueuePolicy {
    /// A queue without wrap-up (tests set it where they test it).
    static func plain(_ id: String = "support", strategy: AgentStrategy = .longestIdle, priority: Int = 0) -> QueuePolicy {
        QueuePolicy(id: id, priority: priority, strategy: PerMedium(strategy), wrapUp: PerMedium(.zero))
    }
}
