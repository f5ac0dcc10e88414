import HubModel
import Testing

@testable import HubRouting

@Suite("RoutingEngine: which task next, which agent")
struct OrderingTests {
    /// Three agents, all busy; then each frees up in turn.
    private func busyHarness(_ strategy: AgentStrategy = .longestIdle, queues: [QueuePolicy]? = nil, agents: [AgentProfile]? = nil)
        -> RouterHarness
    {
        RouterHarness(queues: queues ?? [.plain(strategy: strategy)], agents: agents ?? [.member("alice")])
    }

    @Test("higher priority first; within a priority, oldest first; then arrival order")
    func priorityThenAge() {
        var h = busyHarness()
        h.serve("busy")
        h.arrive("low-old", priority: 0)
        h.wait(.seconds(1))
        h.arrive("high-new", priority: 5)
        h.wait(.seconds(1))
        h.arrive("low-new", priority: 0)
        h.send(.taskCompleted(taskID: "busy"))
        #expect(h.offer(of: "high-new")?.agentID == "alice")
        h.accept("high-new")
        h.send(.taskCompleted(taskID: "high-new"))
        #expect(h.offer(of: "low-old")?.agentID == "alice")
    }

    @Test("aging lets an old task overtake a newer, more urgent one; the cap stops it")
    func aging() {
        var queue = QueuePolicy.plain()
        queue.aging = Aging(every: .seconds(10), max: 3)
        var h = RouterHarness(queues: [queue], agents: [.member("alice")])
        h.serve("busy")
        h.arrive("old", priority: 0)
        h.wait(.seconds(25))
        h.arrive("urgent", priority: 2)
        // old: 0 + 2.5 = 2.5 points; urgent: 2 + 0 = 2.
        h.send(.taskCompleted(taskID: "busy"))
        #expect(h.offer(of: "old")?.agentID == "alice")
        #expect(h.offer(of: "old")!.explanation.effectivePriority == 2.5)

        // With the cap at 3 points, a task of priority 4 always beats one of priority 0.
        var capped = RouterHarness(queues: [queue], agents: [.member("alice")])
        capped.serve("busy")
        capped.arrive("ancient", priority: 0)
        capped.wait(.seconds(600))
        capped.arrive("vip", priority: 4)
        capped.send(.taskCompleted(taskID: "busy"))
        #expect(capped.offer(of: "vip")?.agentID == "alice")
    }

    @Test("an agent in two queues serves the higher-priority queue first")
    func crossQueuePriority() {
        var h = RouterHarness(
            queues: [.plain("support"), .plain("vip", priority: 100)], agents: [.member("alice", of: ["support": 1, "vip": 1])])
        h.serve("busy")
        h.arrive("normal", queue: "support")
        h.wait(.seconds(60))
        h.arrive("important", queue: "vip")
        h.send(.taskCompleted(taskID: "busy"))
        #expect(h.offer(of: "important")?.agentID == "alice")
    }

    @Test("no head-of-line blocking: a task nobody free can take does not hold back the next one")
    func noHeadOfLineBlocking() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("alice", skills: ["lang-en": 9])])
        h.serve("busy")
        h.arrive("needs-zh", requirements: [SkillRequirement(skill: "lang-zh", minLevel: 5)])
        h.wait(.seconds(1))
        h.arrive("any")
        h.send(.taskCompleted(taskID: "busy"))
        #expect(h.offer(of: "any")?.agentID == "alice")
        #expect(h.router.task("needs-zh")!.phase == .waiting)
    }

    @Test("longest idle: the agent free longest; logging in or coming back from a break counts as fresh")
    func longestIdle() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("a"), .member("b"), .member("c")])
        // a, b and c logged in at t0 in this order (same instant: ties by id).
        #expect(h.serve("t1") == "a")
        h.wait(.seconds(10))
        #expect(h.serve("t2") == "b")
        h.wait(.seconds(10))
        h.send(.taskCompleted(taskID: "t1"))  // a free since t20
        h.wait(.seconds(10))
        h.send(.taskCompleted(taskID: "t2"))  // b free since t30; c idle since t0
        h.send(.agentPresence(agentID: "c", .away(reason: "break")))
        h.wait(.seconds(10))
        h.send(.agentPresence(agentID: "c", .available))  // c back at t40: fresh
        #expect(h.serve("t3") == "a")
        #expect(h.serve("t4") == "b")
        #expect(h.serve("t5") == "c")
    }

    @Test("tier dominates the strategy: a tier-2 agent idle for hours waits while a tier-1 agent is free")
    func tierDominates() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("second", of: ["support": 2])], available: true)
        h.wait(.seconds(3600))
        h.send(.agentConfigured(.member("first")))
        h.send(.agentPresence(agentID: "first", .available))
        #expect(h.serve("t1") == "first")
        #expect(h.serve("t2") == "second", "tier 2 only when tier 1 cannot")
        let explanation = h.log.compactMap { if case .offered(let o) = $0, o.taskID == "t1" { o.explanation } else { nil } }.first!
        #expect(explanation.tier == 1)
        #expect(explanation.alternatives.map(\.agentID) == ["second"])
        #expect(explanation.alternatives.first?.tier == 2)
    }

    @Test("most available: the largest spare share of the medium")
    func mostAvailable() {
        let agents: [AgentProfile] = [
            .member("small", capacity: PerMedium(voice: 1, messaging: 2, email: 5)),
            .member("large", capacity: PerMedium(voice: 1, messaging: 4, email: 5)),
        ]
        var h = RouterHarness(queues: [.plain(strategy: .mostAvailable)], agents: agents)
        // Both 100 % free: tie on spare share, then last assigned (same), then configuration order.
        #expect(h.serve("c1", channel: .sms) == "small")
        // small 1/2 = 50 % free, large 4/4.
        #expect(h.serve("c2", channel: .sms) == "large")
        // large 3/4 = 75 %, small 50 %.
        #expect(h.serve("c3", channel: .sms) == "large")
        // large 2/4 = 50 %, small 50 %: tie; small was assigned longer ago.
        #expect(h.serve("c4", channel: .sms) == "small")
    }

    @Test("least active counts open tasks now, not tasks ever handled (Rocket.Chat's trap)")
    func leastActiveIsCurrentLoad() {
        var h = RouterHarness(queues: [.plain(strategy: .leastActive)], agents: [.member("veteran"), .member("rookie")])
        h.send(.agentPresence(agentID: "rookie", .away(reason: "training")))
        for index in 0..<10 {
            #expect(h.serve("old\(index)", channel: .sms) == "veteran")
            h.send(.taskCompleted(taskID: "old\(index)"))
        }
        #expect(h.serve("open", channel: .sms) == "veteran")
        h.send(.agentPresence(agentID: "rookie", .available))
        #expect(h.serve("r1", channel: .sms) == "rookie", "0 open beats 1 open")
        h.send(.taskCompleted(taskID: "open"))
        // The veteran has handled 11 and has none open; the rookie has 1 open.
        #expect(h.serve("r2", channel: .sms) == "veteran")
    }

    @Test("fewest handled and least talk time count since login; logging in again resets them")
    func sinceLogin() {
        var h = RouterHarness(queues: [.plain(strategy: .fewestHandled)], agents: [.member("a"), .member("b")])
        for index in 0..<3 {
            h.send(.agentPresence(agentID: "b", .away(reason: "x")))
            #expect(h.serve("t\(index)") == "a")
            h.wait(.seconds(60))
            h.send(.taskCompleted(taskID: "t\(index)"))
            h.send(.agentPresence(agentID: "b", .available))
        }
        #expect(h.router.agent("a")!.counters.handled == 3)
        #expect(h.serve("u1") == "b", "b has handled none")
        h.send(.taskCompleted(taskID: "u1"))
        h.send(.agentPresence(agentID: "a", .offline))
        h.send(.agentPresence(agentID: "a", .available))
        #expect(h.router.agent("a")!.counters.handled == 0, "counters are since login")
        #expect(h.serve("u2") == "a")

        var talk = RouterHarness(queues: [.plain(strategy: .leastTalkTime)], agents: [.member("a"), .member("b")])
        talk.serve("long")
        talk.serve("short")
        talk.wait(.seconds(10))
        talk.send(.taskCompleted(taskID: "short"))
        talk.wait(.seconds(300))
        talk.send(.taskCompleted(taskID: "long"))
        let shortAgent = talk.log.compactMap { if case .assigned("short", let agent, _) = $0 { agent } else { nil } }.first!
        #expect(talk.serve("next") == shortAgent)
    }

    @Test("round robin: longest since last assignment on the medium")
    func roundRobin() {
        var h = RouterHarness(queues: [.plain(strategy: .roundRobin)], agents: [.member("a"), .member("b"), .member("c")])
        var order: [String] = []
        for index in 0..<6 {
            h.wait(.seconds(1))
            order.append(h.serve("t\(index)", channel: .sms)!)
            h.send(.taskCompleted(taskID: "t\(index)"))
        }
        #expect(order == ["a", "b", "c", "a", "b", "c"])
    }

    @Test("linear hunts from the top; top-down continues after the last position offered for the task")
    func huntGroups() {
        let agents: [AgentProfile] = [.member("p1", position: 1), .member("p2", position: 2), .member("p3", position: 3)]
        var linear = RouterHarness(queues: [.plain(strategy: .linear)], agents: agents)
        linear.arrive("t")
        #expect(linear.offeredAgents("t") == ["p1"])
        linear.reject("t")
        #expect(linear.offeredAgents("t") == ["p2"])

        var topDown = RouterHarness(queues: [.plain(strategy: .topDown)], agents: agents)
        topDown.arrive("t")
        #expect(topDown.offeredAgents("t") == ["p1"])
        topDown.reject("t")
        #expect(topDown.offeredAgents("t") == ["p2"])
        topDown.reject("t")
        #expect(topDown.offeredAgents("t") == ["p3"])
    }

    @Test("best skill: the highest sum of the levels the task asks for")
    func bestSkill() {
        let agents: [AgentProfile] = [
            .member("junior", skills: ["billing": 3, "lang-en": 9]), .member("senior", skills: ["billing": 9, "lang-en": 6]),
        ]
        var h = RouterHarness(queues: [.plain(strategy: .bestSkill)], agents: agents)
        h.arrive("refund", channel: .email, requirements: [SkillRequirement(skill: "billing", minLevel: 2)])
        #expect(h.offeredAgents("refund") == ["senior"])
        #expect(h.offer(of: "refund")!.explanation.strategyKey.description.hasPrefix("skill score 9"))
    }

    @Test("full load packs chats onto the busiest agent that has room")
    func fullLoad() {
        var h = RouterHarness(queues: [.plain(strategy: .fullLoad)], agents: [.member("a"), .member("b")])
        #expect(h.serve("c1", channel: .sms) == "a")
        #expect(h.serve("c2", channel: .sms) == "a")
        #expect(h.serve("c3", channel: .sms) == "a")
        #expect(h.serve("c4", channel: .sms) == "b", "a is full")
    }

    @Test("random is seeded: the same seed, the same choices")
    func seededRandom() {
        func run(seed: UInt64) -> [String] {
            var h = RouterHarness(
                configuration: RouterConfiguration(seed: seed), queues: [.plain(strategy: .random)],
                agents: (0..<8).map { .member("a\($0)") })
            var chosen: [String] = []
            for index in 0..<20 {
                chosen.append(h.serve("t\(index)", channel: .email)!)
                h.send(.taskCompleted(taskID: "t\(index)"))
            }
            return chosen
        }
        #expect(run(seed: 1) == run(seed: 1))
        #expect(run(seed: 1) != run(seed: 2))
        #expect(Set(run(seed: 3)).count > 3)
    }
}
