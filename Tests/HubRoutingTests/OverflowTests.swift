import HubModel
import Testing

@testable import HubRouting

@Suite("RoutingEngine: overflow, abandon and resume, transfer, reload")
struct OverflowTests {
    @Test("queue length: the next caller is requeued to the overflow queue and keeps its age")
    func queueLengthRequeue() {
        var support = QueuePolicy.plain()
        support.overflow = [OverflowRule(name: "full", trigger: .queueLength(atLeast: 2), action: .requeue(queue: "overflow", keepAge: true))]
        var h = RouterHarness(
            queues: [support, .plain("overflow")],
            agents: [.member("main"), .member("spare", of: ["overflow": 1])])
        h.send(.agentPresence(agentID: "spare", .away(reason: "x")))
        h.serve("busy")
        h.arrive("w1")
        h.arrive("w2")
        let decisions = h.arrive("w3")
        #expect(
            decisions.contains(
                .overflowed(taskID: "w3", rule: "full", trigger: .queueLength(atLeast: 2), action: .requeue(queue: "overflow", keepAge: true))))
        #expect(decisions.contains(.queued(taskID: "w3", queue: "overflow", resumed: false, estimatedWait: nil)))
        #expect(h.router.task("w3")!.queue == "overflow")
        #expect(h.router.task("w3")!.ageBase == .zero)
        h.send(.agentPresence(agentID: "spare", .available))
        #expect(h.offeredAgents("w3") == ["spare"])
    }

    @Test("waited too long: the task becomes a ticket; other limits per medium")
    func waitedTooLong() {
        var queue = QueuePolicy.plain()
        queue.overflow = [
            OverflowRule(name: "voice-callback", trigger: .waited(.seconds(120)), media: [.voice], action: .offerCallback),
            OverflowRule(name: "mail-ticket", trigger: .waited(.seconds(3600)), media: [.email], action: .ticket),
        ]
        var h = RouterHarness(queues: [queue], agents: [.member("a")])
        h.send(.agentPresence(agentID: "a", .away(reason: "x")))
        h.arrive("call")
        h.arrive("mail", channel: .email)
        let first = h.wait(.seconds(120))
        #expect(first.contains(.taskEnded(taskID: "call", reason: .overflow(rule: "voice-callback", action: .offerCallback))))
        #expect(h.router.task("mail") != nil)
        let second = h.wait(.seconds(3480))
        #expect(second.contains(.taskEnded(taskID: "mail", reason: .overflow(rule: "mail-ticket", action: .ticket))))
        #expect(h.router.taskCount == 0)
    }

    @Test("nobody logged in: refused at the door, or after a grace time with no agent")
    func noAgent() {
        var queue = QueuePolicy.plain()
        queue.overflow = [OverflowRule(name: "closed", trigger: .noAgentLoggedIn, media: [.voice], action: .cancel)]
        var h = RouterHarness(queues: [queue], agents: [.member("a")])
        h.send(.agentPresence(agentID: "a", .offline))
        let refused = h.arrive("call")
        #expect(refused.contains(.taskEnded(taskID: "call", reason: .overflow(rule: "closed", action: .cancel))))
        h.arrive("chat", channel: .sms)
        #expect(h.router.task("chat") != nil, "the rule is for voice only")

        var later = QueuePolicy.plain()
        later.overflow = [OverflowRule(name: "no-agent", trigger: .noAgentFor(.seconds(60)), action: .ticket)]
        var g = RouterHarness(queues: [later], agents: [.member("a")])
        g.serve("busy")
        g.arrive("waiting")
        g.wait(.seconds(100))
        #expect(g.router.task("waiting") != nil, "the agent is logged in (busy): no clock")
        g.send(.agentPresence(agentID: "a", .offline))
        g.wait(.seconds(59))
        #expect(g.router.task("waiting") != nil)
        // Someone logs in and out again: the clock starts over.
        g.send(.agentConfigured(.member("b")))
        g.send(.agentPresence(agentID: "b", .available))
        #expect(g.offeredAgents("waiting") == ["b"])
        g.send(.agentPresence(agentID: "b", .offline))
        g.wait(.seconds(30))
        #expect(g.router.task("waiting") != nil)
        let ended = g.wait(.seconds(30))
        #expect(ended.contains(.taskEnded(taskID: "waiting", reason: .overflow(rule: "no-agent", action: .ticket))))
    }

    @Test("estimated wait over a limit at arrival: raise priority, add steps")
    func estimatedWait() {
        var queue = QueuePolicy.plain()
        queue.expectedHandleTime = PerMedium(.seconds(300))
        queue.overflow = [
            OverflowRule(name: "long-wait", trigger: .estimatedWait(over: .seconds(200)), action: .raisePriority(5)),
            OverflowRule(
                name: "widen", trigger: .estimatedWait(over: .seconds(200)),
                action: .addSteps([RoutingStep(name: "backoffice", filter: AgentFilter(tierAtMost: 5), duration: nil)])),
        ]
        queue.steps = [RoutingStep(name: "front", filter: AgentFilter(tierAtMost: 1), duration: .seconds(10))]
        var h = RouterHarness(queues: [queue], agents: [.member("front"), .member("back", of: ["support": 5])])
        h.send(.agentPresence(agentID: "back", .away(reason: "x")))
        h.serve("busy")
        // One server busy, handle time 300 s: a new call expects 300 s.
        let decisions = h.arrive("t")
        #expect(decisions.contains(.queued(taskID: "t", queue: "support", resumed: false, estimatedWait: .seconds(300))))
        #expect(decisions.contains { if case .overflowed("t", "long-wait", _, .raisePriority(5)) = $0 { true } else { false } })
        #expect(h.router.task("t")!.effectivePriority == 5)
        h.wait(.seconds(10))
        #expect(h.router.task("t")!.stepName == "backoffice")
        h.send(.agentPresence(agentID: "back", .available))
        #expect(h.offeredAgents("t") == ["back"])
    }

    @Test("a customer who hangs up and calls back within the window keeps their place")
    func abandonAndResume() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("a")])
        h.serve("busy")
        h.arrive("first-try", resumeKey: "customer-1")
        h.wait(.seconds(50))
        h.arrive("other")
        h.wait(.seconds(5))
        h.send(.taskCancelled(taskID: "first-try", reason: .abandoned))
        h.wait(.seconds(30))
        let decisions = h.arrive("second-try", resumeKey: "customer-1")
        #expect(decisions.contains(.queued(taskID: "second-try", queue: "support", resumed: true, estimatedWait: .seconds(360))))
        #expect(h.router.task("second-try")!.ageBase == .zero)
        h.send(.taskCompleted(taskID: "busy"))
        #expect(h.offeredAgents("second-try") == ["a"], "ahead of the call that came in after its first try")

        // After the window (60 s by default) the place is gone.
        h.arrive("third", resumeKey: "customer-2")
        h.send(.taskCancelled(taskID: "third", reason: .abandoned))
        h.wait(.seconds(61))
        let late = h.arrive("fourth", resumeKey: "customer-2")
        #expect(late.contains { if case .queued("fourth", _, false, _) = $0 { true } else { false } })
    }

    @Test("a transfer to a queue keeps the age; to an agent, that agent first, then the queue")
    func transfers() {
        var h = RouterHarness(
            queues: [.plain("support"), .plain("billing")],
            agents: [.member("first"), .member("expert", of: ["billing": 1]), .member("colleague")])
        h.send(.agentPresence(agentID: "colleague", .away(reason: "x")))
        #expect(h.serve("t") == "first")
        h.wait(.seconds(40))
        h.send(.taskTransferred(taskID: "t", to: .queue("billing"), keepAge: true))
        #expect(h.offeredAgents("t") == ["expert"])
        #expect(h.router.task("t")!.ageBase == .zero)
        #expect(h.router.agent("first")!.counters.transferred == 1)
        h.accept("t")

        h.send(.agentPresence(agentID: "colleague", .available))
        h.send(.taskTransferred(taskID: "t", to: .agent("colleague", queue: "support", within: .seconds(30)), keepAge: true))
        #expect(h.offeredAgents("t") == ["colleague"])
        h.reject("t")
        #expect(h.offer(of: "t") == nil, "the expert who passed it on and the colleague who declined are excluded")
        h.wait(.seconds(30))
        #expect(h.offeredAgents("t") == ["first"])
    }

    @Test("time to live ends a task that found nobody")
    func timeToLive() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("a")])
        h.send(.agentPresence(agentID: "a", .offline))
        h.send(.taskArrived(TaskRequest(id: "t", channel: .sms, queue: "support", timeToLive: .seconds(3600))))
        let decisions = h.wait(.seconds(3600))
        #expect(decisions == [.taskEnded(taskID: "t", reason: .timeToLive)])
    }

    @Test("a queue changed while running re-routes its waiting tasks under the new policy")
    func reload() {
        var queue = QueuePolicy.plain()
        queue.steps = [RoutingStep(name: "tier 1", filter: AgentFilter(tierAtMost: 1), duration: nil)]
        var h = RouterHarness(queues: [queue], agents: [.member("one"), .member("two", of: ["support": 2])])
        h.serve("busy")
        h.arrive("t")
        #expect(h.offer(of: "t") == nil)
        h.send(.queueConfigured(.plain()))
        #expect(h.offeredAgents("t") == ["two"])
        // A new queue that agents already name.
        var late = AgentProfile.member("late", of: ["new": 1])
        late.wrapUp = PerMedium(.zero)
        h.send(.agentConfigured(late))
        h.send(.agentPresence(agentID: "late", .available))
        h.send(.queueConfigured(.plain("new")))
        h.arrive("n", queue: "new")
        #expect(h.offeredAgents("n") == ["late"])
    }

    @Test("requeues between two queues that overflow into each other stop")
    func overflowCycle() {
        var a = QueuePolicy.plain("a")
        a.overflow = [OverflowRule(name: "to-b", trigger: .noAgentLoggedIn, action: .requeue(queue: "b", keepAge: true))]
        var b = QueuePolicy.plain("b")
        b.overflow = [OverflowRule(name: "to-a", trigger: .noAgentLoggedIn, action: .requeue(queue: "a", keepAge: true))]
        var h = RouterHarness(queues: [a, b], agents: [])
        h.arrive("t", queue: "a")
        #expect(h.router.task("t") != nil)
        let hops = h.log.filter { if case .overflowed = $0 { true } else { false } }.count
        #expect(hops == RoutingEngine.maxOverflowHops)
    }
}
