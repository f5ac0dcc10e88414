import HubModel
import Testing

@testable import HubRouting

/// Changes while tasks wait: what a review of the engine found could go wrong.
@Suite("Router: reconfiguration while tasks wait")
struct ReconfigurationTests {
    @Test("a reload that removes overflow rules leaves no timer pointing at a rule that is gone")
    func overflowRulesRemoved() {
        var queue = QueuePolicy.plain()
        queue.overflow = [
            OverflowRule(name: "nudge", trigger: .waited(.seconds(60)), action: .raisePriority(1)),
            OverflowRule(name: "give up", trigger: .waited(.seconds(300)), action: .cancel),
        ]
        var h = RouterHarness(queues: [queue], agents: [.member("a")])
        h.send(.agentPresence(agentID: "a", .away(reason: "x")))
        h.arrive("t")
        queue.overflow = [OverflowRule(name: "nudge", trigger: .waited(.seconds(60)), action: .raisePriority(1))]
        h.wait(.seconds(10))
        h.send(.queueConfigured(queue))
        h.wait(.seconds(600))
        #expect(h.router.task("t") != nil, "the removed cancel rule does not fire")
        #expect(h.log.filter { if case .overflowed("t", "nudge", _, _) = $0 { true } else { false } }.count == 1)
    }

    @Test("a task offered during a reload still moves to its next step")
    func offeredDuringReload() {
        var queue = QueuePolicy.plain()
        queue.steps = [RoutingStep(name: "tier 1", filter: AgentFilter(tierAtMost: 1), duration: .seconds(30))]
        var h = RouterHarness(queues: [queue], agents: [.member("a"), .member("b", of: ["support": 2])])
        h.arrive("t")
        #expect(h.offeredAgents("t") == ["a"])
        h.wait(.seconds(5))
        h.send(.queueConfigured(queue))
        h.wait(.seconds(1))
        h.reject("t")
        h.wait(.seconds(24))
        #expect(h.offeredAgents("t") == ["b"], "tier 2 opens at 30 s as before the reload")
    }

    @Test("a named agent must still pass the queue's requirements, as in the full scan")
    func namedAgentAndRequirements() {
        var queue = QueuePolicy.plain()
        queue.requirements = [SkillRequirement(skill: "billing", minLevel: 3)]
        let owner = RoutingStep(name: "owner", filter: AgentFilter(agents: [.taskAttribute(TaskAttribute.ownerAgent)]), duration: .seconds(30))
        for fullScan in [false, true] {
            var h = RouterHarness(
                configuration: RouterConfiguration(fullScan: fullScan), queues: [queue],
                agents: [.member("owner"), .member("expert", skills: ["billing": 5])])
            h.arrive("t", attributes: [TaskAttribute.ownerAgent: .string("owner")], steps: [owner])
            #expect(h.offeredAgents("t") == ["expert"], "fullScan: \(fullScan)")
        }
    }

    @Test("an agent named by a step who is configured later is offered the task")
    func namedAgentConfiguredLater() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("other")])
        h.send(.agentPresence(agentID: "other", .away(reason: "x")))
        let step = RoutingStep(name: "bob", filter: AgentFilter(agents: [.agent("bob")]), duration: nil, skipIfNoneLoggedIn: false)
        h.arrive("t", steps: [step])
        #expect(h.offer(of: "t") == nil)
        h.send(.agentConfigured(.member("bob")))
        h.send(.agentPresence(agentID: "bob", .available))
        #expect(h.offeredAgents("t") == ["bob"])
    }

    @Test("progressive ringing after a decline runs one round, not two")
    func progressiveAfterDecline() {
        var queue = QueuePolicy.plain(strategy: .progressive)
        queue.progressiveInterval = .seconds(10)
        queue.offerTimeout = PerMedium(.seconds(60))
        let agents: [AgentProfile] = (1...5).map { .member("p\($0)", position: $0) }
        var h = RouterHarness(queues: [queue], agents: agents)
        h.arrive("call")
        h.wait(.seconds(2))
        h.reject("call")
        #expect(h.offeredAgents("call") == ["p2"])
        h.wait(.seconds(8))
        #expect(h.offeredAgents("call") == ["p2"], "the first round's timer is void")
        h.wait(.seconds(2))
        #expect(h.offeredAgents("call") == ["p2", "p3"])
        h.wait(.seconds(10))
        #expect(h.offeredAgents("call") == ["p2", "p3", "p4"])
    }

    @Test("progressive ringing also starts when a freed agent takes the task")
    func progressiveFromTheAgentSide() {
        var queue = QueuePolicy.plain(strategy: .progressive)
        queue.progressiveInterval = .seconds(10)
        var h = RouterHarness(queues: [queue], agents: [.member("p1", position: 1), .member("p2", position: 2)])
        h.send(.agentPresence(agentID: "p2", .away(reason: "x")))
        h.serve("busy")
        h.arrive("call")
        h.send(.agentPresence(agentID: "p2", .available))
        #expect(h.offeredAgents("call") == ["p2"])
        h.send(.taskCompleted(taskID: "busy"))
        h.wait(.seconds(10))
        #expect(h.offeredAgents("call") == ["p1", "p2"])
    }

    @Test("a change of costs keeps the units in use right")
    func costChange() {
        var agent = AgentProfile.member("a")
        var h = RouterHarness(queues: [.plain()], agents: [agent])
        h.serve("chat", channel: .sms)
        agent.cost = PerMedium(voice: 100, messaging: 50, email: 20)
        h.send(.agentConfigured(agent))
        h.send(.taskCompleted(taskID: "chat"))
        h.arrive("call")
        #expect(h.offeredAgents("call") == ["a"], "no units left over after the chat")
    }
}

@Suite("Router: what happens at one instant")
struct SameInstantTests {
    @Test("an agent's delay ending and a step opening at the same instant: decided with both, in both modes")
    func sameInstant() {
        for fullScan in [false, true] {
            var queue = QueuePolicy.plain()
            queue.steps = [RoutingStep(name: "tier 1", filter: AgentFilter(tierAtMost: 1), duration: .seconds(10), skipIfNoneLoggedIn: false)]
            var h = RouterHarness(
                configuration: RouterConfiguration(fullScan: fullScan), queues: [queue],
                agents: [.member("first"), .member("second", of: ["support": 2])])
            h.send(.agentPresence(agentID: "second", .away(reason: "x")))
            h.arrive("declined")
            h.reject("declined")  // first: no offers until t+10
            h.send(.taskCancelled(taskID: "declined", reason: .withdrawn))
            h.arrive("t")  // tier 1 until t+10, then everyone
            h.send(.agentPresence(agentID: "second", .available))
            #expect(h.offer(of: "t") == nil)
            h.wait(.seconds(10))
            #expect(h.offeredAgents("t") == ["first"], "the tier-1 agent, ready again at this instant, still comes first (fullScan: \(fullScan))")
        }
    }
}
