import HubModel
import Testing

@testable import HubRouting

@Suite("RoutingEngine: routing steps, tiers, skills, capacity")
struct StepTests {
    static let ownerStep = RoutingStep(
        name: "owner", filter: AgentFilter(agents: [.taskAttribute(TaskAttribute.ownerAgent)]),
        duration: PerMedium(voice: .seconds(10), messaging: .seconds(60), email: .seconds(4 * 3600)))

    @Test("the pool widens step by step, and an inner-step agent who frees up still wins")
    func cumulativeSteps() {
        var queue = QueuePolicy.plain()
        queue.steps = [
            RoutingStep(name: "tier 1", filter: AgentFilter(tierAtMost: 1), duration: .seconds(30)),
            RoutingStep(name: "tier 2", filter: AgentFilter(tierAtMost: 2), duration: .seconds(30)),
        ]
        var h = RouterHarness(
            queues: [queue], agents: [.member("one"), .member("two", of: ["support": 2]), .member("three", of: ["support": 3])])
        h.serve("busy")  // one is busy now
        h.arrive("t")
        #expect(h.offer(of: "t") == nil, "only tier 1 for 30 s")
        let opened = h.wait(.seconds(30))
        #expect(opened.contains(.stepAdvanced(taskID: "t", step: 1, name: "tier 2", reason: .expired)))
        #expect(h.offeredAgents("t") == ["two"])
        h.reject("t")
        // Tier 2 step, but tier 3 not yet: nobody.
        h.send(.taskCompleted(taskID: "busy"))
        #expect(h.offeredAgents("t") == ["one"], "tier 1 freed: preferred over later steps")
        h.reject("t")
        let open = h.wait(.seconds(30))
        #expect(open.contains(.stepAdvanced(taskID: "t", step: 2, name: "queue", reason: .expired)))
        #expect(h.offeredAgents("t") == ["three"], "one and two declined: demoted behind the newly admitted tier 3")
        h.reject("t")
        #expect(h.offeredAgents("t") == ["one"], "three is excluded now; the demoted agents are the last resort, inner step first")
    }

    @Test("the owner agent gets the first offer for a while; busy owner: the task waits for the step")
    func ownerAgentBusy() {
        var queue = QueuePolicy.plain()
        queue.steps = [Self.ownerStep]
        var h = RouterHarness(queues: [queue], agents: [.member("owner"), .member("other")])
        // The owner is on a call (logged in, busy).
        h.send(.agentPresence(agentID: "other", .away(reason: "x")))
        h.serve("busy")
        h.send(.agentPresence(agentID: "other", .available))
        h.arrive("t", attributes: [TaskAttribute.ownerAgent: .string("owner")])
        #expect(h.offer(of: "t") == nil, "waits for the owner, who is logged in")
        h.wait(.seconds(5))
        h.send(.taskCompleted(taskID: "busy"))
        #expect(h.offeredAgents("t") == ["owner"])
        #expect(h.offer(of: "t")!.explanation.stepName == "owner")
        #expect(h.offer(of: "t")!.explanation.step == 0)
    }

    @Test("'no agent' means none logged in: an offline owner is skipped at once, a busy one is waited for")
    func ownerOffline() {
        var queue = QueuePolicy.plain()
        queue.steps = [Self.ownerStep]
        var h = RouterHarness(queues: [queue], agents: [.member("owner"), .member("other")])
        h.send(.agentPresence(agentID: "owner", .offline))
        let decisions = h.arrive("t", attributes: [TaskAttribute.ownerAgent: .string("owner")])
        #expect(decisions.contains(.stepAdvanced(taskID: "t", step: 1, name: "queue", reason: .noneLoggedIn)))
        #expect(h.offeredAgents("t") == ["other"])
        // A task whose customer has no owner skips the step too.
        h.arrive("u")
        #expect(h.log.contains(.stepAdvanced(taskID: "u", step: 1, name: "queue", reason: .noneLoggedIn)))
        // An away owner counts as not logged in (FreeSWITCH counts agents on break as present).
        h.send(.agentPresence(agentID: "owner", .away(reason: "break")))
        h.arrive("v", attributes: [TaskAttribute.ownerAgent: .string("owner")])
        #expect(h.log.contains(.stepAdvanced(taskID: "v", step: 1, name: "queue", reason: .noneLoggedIn)))
    }

    @Test("skip-if-none-free skips a step whose agents are all busy on entry")
    func skipIfNoneFree() {
        var queue = QueuePolicy.plain()
        var step = RoutingStep(name: "experts", filter: AgentFilter(skills: [SkillRequirement(skill: "expert", minLevel: 5)]), duration: .seconds(60))
        step.skipIfNoneFree = true
        queue.steps = [step]
        var h = RouterHarness(queues: [queue], agents: [.member("expert", skills: ["expert": 9]), .member("generalist")])
        h.send(.agentPresence(agentID: "generalist", .away(reason: "x")))
        h.serve("busy")
        h.send(.agentPresence(agentID: "generalist", .available))
        let decisions = h.arrive("t")
        #expect(decisions.contains(.stepAdvanced(taskID: "t", step: 1, name: "queue", reason: .noneFree)))
        #expect(h.offeredAgents("t") == ["generalist"])
    }

    @Test("optional skills are dropped when their step expires; required ones never")
    func optionalSkillsDrop() {
        var queue = QueuePolicy.plain()
        queue.steps = [RoutingStep(name: "first", duration: .seconds(20)), RoutingStep(name: "second", duration: .seconds(20))]
        let requirements = [
            SkillRequirement(skill: "lang-${task.language}", minLevel: 5),
            SkillRequirement(skill: "billing", minLevel: 5, optional: true, dropOrder: 2),
        ]
        let agents: [AgentProfile] = [
            .member("billing-expert", skills: ["lang-en": 9, "billing": 9]), .member("en-only", skills: ["lang-en": 9]),
            .member("zh-only", skills: ["lang-zh": 9]),
        ]
        var h = RouterHarness(queues: [queue], agents: agents)
        h.serve("busy")  // the billing expert (first in order) is busy, but logged in
        #expect(h.assignee("busy") == "billing-expert")
        h.arrive("t", attributes: [TaskAttribute.language: .string("en")], requirements: requirements)
        #expect(h.offer(of: "t") == nil, "the only agent with billing is busy")
        h.wait(.seconds(20))
        #expect(h.offer(of: "t") == nil, "step 1 expired, but billing drops with step 2")
        let dropped = h.wait(.seconds(20))
        #expect(dropped.contains(.requirementsRelaxed(taskID: "t", dropped: ["billing"])))
        #expect(h.offeredAgents("t") == ["en-only"], "the language stays required")

        // With nobody who has billing logged in, waiting is pointless: the steps are skipped at
        // once and the optional skill dropped with them.
        var empty = RouterHarness(queues: [queue], agents: Array(agents.dropFirst()))
        let decisions = empty.arrive("u", attributes: [TaskAttribute.language: .string("en")], requirements: requirements)
        #expect(decisions.contains(.stepAdvanced(taskID: "u", step: 1, name: "second", reason: .noneLoggedIn)))
        #expect(decisions.contains(.requirementsRelaxed(taskID: "u", dropped: ["billing"])))
        #expect(empty.offeredAgents("u") == ["en-only"])
    }

    @Test("an attribute expression filters agents: complaints to senior agents")
    func expressionFilter() throws {
        var queue = QueuePolicy.plain()
        queue.steps = [
            RoutingStep(
                name: "senior", filter: AgentFilter(expression: try AttributeExpression(parsing: "agent.seniority >= 3")), duration: nil)
        ]
        var h = RouterHarness(
            queues: [queue],
            agents: [.member("junior", attributes: ["seniority": .number(1)]), .member("senior", attributes: ["seniority": .number(5)])])
        h.arrive("complaint")
        #expect(h.offeredAgents("complaint") == ["senior"])
        h.reject("complaint")
        #expect(h.offer(of: "complaint") == nil, "strict by duration: the step never expires")
    }

    @Test("a membership delay keeps an overflow agent away until the task has waited that long")
    func membershipDelay() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("main"), .member("overflow", delay: .seconds(45))])
        h.send(.agentPresence(agentID: "overflow", .away(reason: "x")))
        h.serve("busy")
        h.send(.agentPresence(agentID: "overflow", .available))
        h.arrive("t")
        #expect(h.offer(of: "t") == nil)
        h.wait(.seconds(44))
        #expect(h.offer(of: "t") == nil)
        h.wait(.seconds(1))
        #expect(h.offeredAgents("t") == ["overflow"])
    }

    @Test("capacity: three chats at once; a call takes the whole agent; calls may interrupt mails where allowed")
    func capacity() {
        var agent = AgentProfile.member("a")
        agent.interruptibleBy = PerMedium(voice: [], messaging: [], email: [.voice])
        var h = RouterHarness(queues: [.plain()], agents: [agent])
        for index in 1...3 { #expect(h.serve("chat\(index)", channel: .wechat) == "a") }
        h.arrive("chat4", channel: .wechat)
        #expect(h.offer(of: "chat4") == nil, "three chats at most")
        h.arrive("call")
        #expect(h.offer(of: "call") == nil, "99 units in use: no call on top of chats")
        for index in 1...3 { h.send(.taskCompleted(taskID: "chat\(index)")) }
        // chat4 is older and takes the freed slot first; then the call cannot fit on top of it.
        #expect(h.offeredAgents("chat4") == ["a"])
        h.accept("chat4")
        h.send(.taskCompleted(taskID: "chat4"))
        #expect(h.offeredAgents("call") == ["a"])
        h.accept("call")
        h.arrive("mail", channel: .email)
        #expect(h.offer(of: "mail") == nil, "a call takes the whole agent")
        h.send(.taskCompleted(taskID: "call"))
        h.accept("mail")
        h.arrive("call2")
        #expect(h.offeredAgents("call2") == ["a"], "a call may interrupt mails")
    }

    @Test("a step's timer is kept only while its task waits in the step; steps still end on time, a step of no duration in the same instant")
    func stepTimersOfWaitingTasks() {
        var queue = QueuePolicy.plain()
        queue.steps = [
            RoutingStep(name: "tier 1", filter: AgentFilter(tierAtMost: 1), duration: .seconds(30)),
            RoutingStep(name: "tier 2 at once", filter: AgentFilter(tierAtMost: 2), duration: .zero),
        ]
        var one = AgentProfile.member("one")
        one.autoAccept = [.voice]
        var h = RouterHarness(queues: [queue], agents: [one, .member("three", of: ["support": 3])])
        // Assigned in the event it arrives (auto-accept): no timer is left behind for its step.
        h.arrive("first")
        #expect(h.assignee("first") == "one")
        #expect(h.router.timers.count == 0)
        // Two tasks that wait: each keeps its step's timer, and the steps end in arrival order.
        h.wait(.seconds(1))
        h.arrive("t")
        h.arrive("u")
        #expect(h.router.timers.count == 2)
        #expect(!h.wait(.milliseconds(29_999)).contains { if case .stepAdvanced = $0 { true } else { false } })
        let ended = h.wait(.milliseconds(1))
        let advanced = ended.compactMap { decision -> String? in
            if case .stepAdvanced(let task, let step, _, .expired) = decision { "\(task)@\(step)" } else { nil }
        }
        // The steps of no duration, begun while the timers fired, end in that same instant, after
        // the timers that were due before them (the order of a heap that took them at once).
        #expect(advanced == ["t@1", "u@1", "t@2", "u@2"])
        #expect(h.offeredAgents("t") == ["three"])
    }
}
