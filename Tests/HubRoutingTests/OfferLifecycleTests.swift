import HubModel
import Testing

@testable import HubRouting

@Suite("RoutingEngine: offers, acceptance, rejection, wrap-up")
struct OfferLifecycleTests {
    @Test("a task with a free agent is offered at once; acceptance assigns it; completion frees the agent after wrap-up")
    func offerAcceptComplete() {
        var queue = QueuePolicy.plain()
        queue.wrapUp = PerMedium(voice: .seconds(15), messaging: .zero, email: .zero)
        var h = RouterHarness(queues: [queue], agents: [.member("alice")])
        // The agent keeps the queue's wrap-up (the helper sets none).
        var alice = AgentProfile.member("alice")
        alice.wrapUp = PerMedium(nil)
        h.send(.agentConfigured(alice))

        let decisions = h.arrive("t1")
        #expect(decisions.contains(.queued(taskID: "t1", queue: "support", resumed: false, estimatedWait: .zero)))
        let offer = try! #require(h.offer(of: "t1"))
        #expect(offer.agentID == "alice")
        #expect(offer.expiresAt == RoutingInstant.zero + .seconds(20))
        #expect(offer.explanation.cause == .taskReady)
        #expect(offer.explanation.stepName == "queue")
        #expect(h.router.agent("alice")!.load.voice == 1, "the offer reserves the agent")

        h.wait(.seconds(3))
        h.accept("t1")
        #expect(h.assignee("t1") == "alice")

        h.wait(.seconds(120))
        let completion = h.send(.taskCompleted(taskID: "t1"))
        #expect(completion == [.completed(taskID: "t1", agentID: "alice"), .wrapUpStarted(agentID: "alice", taskID: "t1", until: RoutingInstant.seconds(138))])
        // During wrap-up the call slot stays taken: a new call waits.
        h.arrive("t2")
        #expect(h.offer(of: "t2") == nil)
        let end = h.wait(.seconds(15))
        #expect(end.first == .wrapUpEnded(agentID: "alice", taskID: "t1"))
        #expect(h.offer(of: "t2")?.agentID == "alice")
        #expect(h.router.agent("alice")!.counters.handled == 1)
        #expect(h.router.agent("alice")!.counters.handleMilliseconds == 120_000)
    }

    @Test("an agent may end wrap-up early")
    func wrapUpEndsEarly() {
        var queue = QueuePolicy.plain()
        queue.wrapUp = PerMedium(.seconds(60))
        var alice = AgentProfile.member("alice")
        alice.wrapUp = PerMedium(nil)
        var h = RouterHarness(queues: [queue], agents: [alice])
        h.serve("t1")
        h.send(.taskCompleted(taskID: "t1"))
        h.arrive("t2")
        #expect(h.offer(of: "t2") == nil)
        h.wait(.seconds(5))
        h.send(.wrapUpEnded(agentID: "alice", taskID: "t1"))
        #expect(h.offer(of: "t2")?.agentID == "alice")
    }

    @Test("a declined task keeps its age and is not offered to the same agent again in its step; the agent gets a reject delay")
    func declineKeepsAge() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("alice")])
        h.arrive("old")
        h.wait(.seconds(15))
        h.reject("old")
        #expect(h.log.contains(.offerEnded(offerID: "offer-1", taskID: "old", agentID: "alice", reason: .declined)))
        // A newer task arrives; the agent is in its reject delay.
        h.wait(.seconds(1))
        h.arrive("new")
        #expect(h.offer(of: "new") == nil && h.offer(of: "old") == nil)
        #expect(h.router.task("old")!.excludedAgents == ["alice"])
        // A second agent logs in: the declined task, older, goes first.
        h.send(.agentConfigured(.member("bob")))
        h.send(.agentPresence(agentID: "bob", .available))
        #expect(h.offer(of: "old")?.agentID == "bob")
        #expect(h.router.task("old")!.ageBase == .zero)
        // After the reject delay (10 s from t+15) alice gets the newer task, never the one she
        // declined.
        h.wait(.seconds(9))
        #expect(h.offer(of: "new")?.agentID == "alice")
    }

    @Test("an offer nobody answers expires: no-answer delay, and after three in a row the agent is set away")
    func noAnswer() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("alice")])
        for index in 1...3 {
            h.arrive("t\(index)")
            #expect(h.offer(of: "t\(index)")?.agentID == "alice")
            let expiry = h.wait(.seconds(20))
            #expect(expiry.contains { if case .offerEnded(_, "t\(index)", "alice", .expired) = $0 { true } else { false } })
            h.send(.taskCancelled(taskID: "t\(index)", reason: .withdrawn))
            h.wait(.seconds(10))
        }
        #expect(h.log.contains(.presenceChanged(agentID: "alice", presence: .away(reason: "noAnswer"))))
        #expect(h.router.agent("alice")!.presence == .away(reason: "noAnswer"))
        #expect(h.router.agent("alice")!.counters.missed == 3)
        h.arrive("t4")
        #expect(h.offer(of: "t4") == nil, "an away agent gets nothing")
    }

    @Test("a busy device gets a busy delay and is not counted as a missed offer")
    func busy() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("alice")])
        h.arrive("t1")
        h.reject("t1", .busy)
        #expect(h.router.agent("alice")!.counters.missed == 0)
        #expect(h.router.agent("alice")!.readyAt == RoutingInstant.seconds(30))
        h.send(.taskCancelled(taskID: "t1", reason: .withdrawn))
        h.arrive("t2")
        #expect(h.offer(of: "t2") == nil)
        h.wait(.seconds(30))
        #expect(h.offer(of: "t2")?.agentID == "alice")
    }

    @Test("auto-accept assigns without an answer")
    func autoAccept() {
        var alice = AgentProfile.member("alice")
        alice.autoAccept = [.messaging]
        var h = RouterHarness(queues: [.plain()], agents: [alice])
        let decisions = h.arrive("chat", channel: .wechat)
        #expect(decisions.contains { if case .assigned("chat", "alice", _) = $0 { true } else { false } })
        #expect(h.assignee("chat") == "alice")
        h.arrive("call")
        #expect(h.offer(of: "call") == nil, "calls still ring, but a call takes the whole agent, and a chat is open")
        var interruptible = alice
        interruptible.interruptibleBy = PerMedium(voice: [], messaging: [.voice], email: [])
        h.send(.agentConfigured(interruptible))
        #expect(h.offer(of: "call")?.agentID == "alice", "once calls may interrupt chats, it rings")
    }

    @Test("ring-all offers every free agent of the best tier; the first to accept wins, the others are rescinded")
    func ringAll() {
        let queue = QueuePolicy.plain(strategy: .ringAll)
        var h = RouterHarness(
            queues: [queue], agents: [.member("a"), .member("b"), .member("c", of: ["support": 2])])
        h.arrive("call")
        #expect(h.offeredAgents("call") == ["a", "b"], "tier 1 rings together; tier 2 does not")
        let offerB = h.router.task("call").flatMap { snapshot -> String? in
            guard case .offered(let ids) = snapshot.phase else { return nil }
            return ids.first { h.router.offer($0)?.agentID == "b" }
        }!
        let decisions = h.send(.offerAccepted(offerID: offerB))
        #expect(decisions.contains { if case .offerEnded(_, "call", "a", .lostRace) = $0 { true } else { false } })
        #expect(h.assignee("call") == "b")
        #expect(h.router.agent("a")!.load.voice == 0 && h.router.agent("a")!.readyAt == nil, "no penalty for losing the race")
    }

    @Test("progressive ringing adds one agent per interval while the earlier ones keep ringing")
    func progressive() {
        var queue = QueuePolicy.plain(strategy: .progressive)
        queue.progressiveInterval = .seconds(5)
        var h = RouterHarness(queues: [queue], agents: [.member("a", position: 1), .member("b", position: 2), .member("c", position: 3)])
        h.arrive("call")
        #expect(h.offeredAgents("call") == ["a"])
        h.wait(.seconds(5))
        #expect(h.offeredAgents("call") == ["a", "b"])
        h.wait(.seconds(5))
        #expect(h.offeredAgents("call") == ["a", "b", "c"])
        h.accept("call")
        #expect(h.router.agent("a")!.load.voice + h.router.agent("b")!.load.voice + h.router.agent("c")!.load.voice == 1)
    }

    @Test("parallel offers go to the best N agents")
    func parallelOffers() {
        var queue = QueuePolicy.plain(strategy: .linear)
        queue.parallelOffers = 2
        var h = RouterHarness(queues: [queue], agents: [.member("a", position: 1), .member("b", position: 2), .member("c", position: 3)])
        h.arrive("mail", channel: .email)
        #expect(h.offeredAgents("mail") == ["a", "b"])
        h.reject("mail")
        #expect(h.offeredAgents("mail").count == 1, "one offer still open")
    }

    @Test("an agent going away rescinds its offers; the task waits again with its age")
    func awayRescinds() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("alice")])
        h.arrive("t1")
        let decisions = h.send(.agentPresence(agentID: "alice", .away(reason: "lunch")))
        #expect(decisions.contains { if case .offerEnded(_, "t1", "alice", .agentGone) = $0 { true } else { false } })
        #expect(h.router.task("t1")!.phase == .waiting)
        h.send(.agentPresence(agentID: "alice", .available))
        #expect(h.offer(of: "t1")?.agentID == "alice", "no exclusion for an agent who just stepped away")
    }

    @Test("refused events change nothing")
    func refused() throws {
        var router = RoutingEngine(queues: [.plain()], agents: [.member("alice")])
        #expect(throws: RoutingError.unknownQueue("nope")) {
            try router.apply(.taskArrived(TaskRequest(id: "t", channel: .voice, queue: "nope")))
        }
        #expect(throws: RoutingError.unknownOffer("offer-9")) { try router.apply(.offerAccepted(offerID: "offer-9")) }
        #expect(throws: RoutingError.unknownAgent("zed")) { try router.apply(.agentPresence(agentID: "zed", .available)) }
        _ = try router.apply(.taskArrived(TaskRequest(id: "t", channel: .voice, queue: "support")))
        #expect(throws: RoutingError.duplicateTask("t")) {
            try router.apply(.taskArrived(TaskRequest(id: "t", channel: .voice, queue: "support")))
        }
        #expect(throws: RoutingError.invalidState("task t is not assigned to an agent")) { try router.apply(.taskCompleted(taskID: "t")) }
        #expect(router.taskCount == 1 && router.waitingCount == 1)
    }
}

@Suite("Router: tasks that are an agent's already")
struct DirectAssignmentTests {
    @Test("a task given directly counts on the agent's capacity until it completes")
    func directAssignment() throws {
        var h = RouterHarness(queues: [.plain()], agents: [.member("alice")])
        let decisions = h.send(.taskAssigned(TaskRequest(id: "restored", channel: .voice, queue: "support"), agentID: "alice"))
        #expect(decisions.contains(.assigned(taskID: "restored", agentID: "alice", offerID: nil)))
        #expect(h.router.agent("alice")!.load.voice == 1)
        h.arrive("next")
        #expect(h.offer(of: "next") == nil, "alice is on the restored call")
        h.send(.taskCompleted(taskID: "restored"))
        #expect(h.offeredAgents("next") == ["alice"])
        #expect(throws: RoutingError.unknownAgent("zed")) {
            try h.router.apply(.taskAssigned(TaskRequest(id: "x", channel: .voice, queue: "support"), agentID: "zed"))
        }
    }
}
