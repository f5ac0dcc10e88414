import Foundation
import HubConfig
import HubEngine
import HubModel
import HubRouting
import HubTestSupport
@testable import HubStore
import Logging
import Testing

@Suite("Routing service: the router in the hub, fed by the event log")
struct RoutingServiceTests {
    static let here = ConfigLocation(file: "routing-rules/test.yaml", line: 1, column: 1)

    static func rules(withRules rules: [RoutingRule] = []) -> RoutingRules {
        func queue(_ id: String, priority: Int = 0) -> QueueConfig {
            var policy = QueuePolicy(id: id, priority: priority, strategy: PerMedium(.longestIdle), wrapUp: PerMedium(.zero))
            policy.offerTimeout = PerMedium(.seconds(60))
            return QueueConfig(id: id, name: id, channels: ChannelKind.allCases, policy: policy, location: here)
        }
        func agent(_ id: String, queues: [String]) -> AgentConfig {
            let model = Agent(id: Agent.ID(id), login: id, name: id, queues: queues.map { QueueMembership(queueID: $0) })
            let profile = AgentProfile(
                id: id, memberships: Dictionary(uniqueKeysWithValues: queues.map { ($0, RoutingMembership()) }), wrapUp: PerMedium(.zero))
            return AgentConfig(agent: model, profile: profile, location: here)
        }
        return RoutingRules(
            queues: [queue("support"), queue("vip", priority: 100)], agents: [agent("alice", queues: ["support", "vip"]), agent("bo", queues: ["vip"])],
            rules: RoutingRuleSet(rules))
    }

    func fixture(_ rules: RoutingRules = Self.rules()) async throws -> EngineFixture {
        try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)], routing: rules)
    }

    @Test("a new conversation waits in its queue; an available agent is offered it; acceptance assigns it in the store")
    func conversationToAgent() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        let store = fixture.engine.store
        try await routing.settle()
        let receipt = try await fixture.conversation()
        try await routing.settle()
        let waiting = try #require(await routing.task(receipt.conversationID))
        #expect(waiting.queue == "support" && waiting.phase == .waiting)
        #expect(try await store.eventKinds().contains("routing.queued"))

        _ = try await routing.setPresence(agent: "alice", .available, actor: .admin)
        let offer = try #require(await routing.lastOffer(of: receipt.conversationID))
        #expect(offer.agentID == "alice")
        #expect(offer.explanation.queue == "support")
        let offerEvent = try #require(try await store.allEvents().last { $0.kind == .offerCreated })
        #expect(offerEvent.refs.conversationID == receipt.conversationID && offerEvent.refs.agentID == "alice")
        #expect(offerEvent.actor == RoutingService.actor)

        try await routing.accept(offer: offer.id)
        #expect(try await store.conversation(receipt.conversationID)?.assigneeID == "alice")
        let events = try await store.allEvents()
        let assignment = try #require(events.last { $0.kind == .routingAssigned })
        #expect(assignment.refs.agentID == "alice")
        let update = try #require(events.last { $0.kind == .conversationUpdated })
        #expect(update.sequence == assignment.sequence - 1, "the conversation change and its routing event in one transaction, in order")
        #expect(await routing.agent("alice")?.load.messaging == 1)

        // The agent finishes: the slot frees up (no wrap-up for chats here).
        try await routing.complete(conversation: receipt.conversationID)
        #expect(await routing.agent("alice")?.load.messaging == 0)
        #expect(await routing.agent("alice")?.counters.handled == 1)
    }

    @Test("decisions made while the hub stops are still written to the log: a cancelled caller does not cancel the write")
    func recordsWhenCancelled() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        let store = fixture.engine.store
        try await routing.settle()
        let receipt = try await fixture.conversation()
        try await routing.settle()
        // Alice turns available from a task already cancelled, as a service's is during a
        // graceful shutdown: the router offers her the conversation, and the offer is in the log.
        let turningAvailable = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await routing.setPresence(agent: "alice", .available, actor: .admin)
        }
        _ = try await turningAvailable.value
        let offer = try #require(await routing.lastOffer(of: receipt.conversationID))
        let events = try await store.allEvents()
        #expect(events.contains { $0.kind == .offerCreated && $0.refs.conversationID == receipt.conversationID && $0.refs.agentID == "alice" })
        #expect(offer.agentID == "alice")
    }

    @Test("the router goes on through a page of the log while its decisions are being written, and they reach the log in order")
    func pipelinedDecisions() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        let store = try #require(fixture.engine.store as? SQLiteStore)
        try await routing.settle()
        // Forty customers write while nobody is available: forty conversations to queue, more
        // than one batch of the router's decisions (16).
        var conversations: [Conversation.ID] = []
        for index in 0..<40 { conversations.append(try await fixture.conversation(user: "user-\(index)").conversationID) }
        // The store's writer is held: no decision can be committed meanwhile.
        let writer = await HeldWriter(store)
        defer { writer.release() }
        let settling = Task { try await routing.settle() }
        // The router takes every conversation of the page without waiting for a commit (before, it
        // stopped at the sixteenth until the first batch was written).
        let deadline = ContinuousClock.now + .seconds(10)
        var known = 0
        while ContinuousClock.now < deadline {
            known = 0
            for id in conversations where await routing.task(id)?.phase == .waiting { known += 1 }
            if known == conversations.count { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(known == conversations.count)
        #expect(try await store.allEvents().filter { $0.kind == .routingQueued }.isEmpty)
        try await writer.releaseAndWait()
        try await settling.value
        // `settle` returns once the decisions are in the log: one each, in the order of the log.
        let queued = try await store.allEvents().filter { $0.kind == .routingQueued }.compactMap(\.refs.conversationID)
        #expect(queued == conversations)
    }

    @Test("an acceptance that does not wait for the log returns while the store's writer is held; its records follow in order")
    func acceptBeforeTheLog() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        let store = try #require(fixture.engine.store as? SQLiteStore)
        try await routing.settle()
        let receipt = try await fixture.conversation()
        try await routing.settle()
        _ = try await routing.setPresence(agent: "alice", .available, actor: .admin)
        let offer = try #require(await routing.lastOffer(of: receipt.conversationID))
        let writer = await HeldWriter(store)
        defer { writer.release() }
        // Returns with the writer held (were it to wait for the log, it would wait for ever here).
        try await routing.accept(offer: offer.id, waitForLog: false)
        #expect(await routing.task(receipt.conversationID)?.phase == .assigned("alice"))
        #expect(try await store.allEvents().contains { $0.kind == .routingAssigned } == false)
        // An offer that has ended is still refused at once.
        await #expect(throws: RoutingService.Failure.self) { try await routing.accept(offer: offer.id, waitForLog: false) }
        try await writer.releaseAndWait()
        try await routing.settle()
        let events = try await store.allEvents()
        let assignment = try #require(events.last { $0.kind == .routingAssigned })
        #expect(assignment.refs.agentID == "alice" && assignment.refs.conversationID == receipt.conversationID)
        #expect(try await store.conversation(receipt.conversationID)?.assigneeID == "alice")
    }

    @Test("an agent whose phone cannot be reached is offered no calls, still its chats; the call comes once the phone is back")
    func phoneReachability() async throws {
        var voice = EngineFixture.account(id: "voice-a", outboundURL: nil)
        voice.kind = .voice
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil), voice], routing: Self.rules())
        let routing = fixture.engine.routing
        try await routing.settle()
        // Calls go to phones from now on; nobody's phone is reachable yet.
        try await routing.gateVoice(reachable: [])
        _ = try await routing.setPresence(agent: "alice", .available, actor: .admin)
        #expect(await routing.agentJSON("alice")?["voiceReachable"] == .bool(false))
        let call = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .voice, channelAccountID: "voice-a", sender: InboundSender(address: "+14155550100"), providerMessageID: "call-1",
                text: "(call)"))
        try await routing.settle()
        #expect(await routing.lastOffer(of: call.conversationID) == nil)
        #expect(await routing.task(call.conversationID)?.phase == .waiting)
        let chat = try await fixture.conversation()
        try await routing.settle()
        let chatOffer = try #require(await routing.lastOffer(of: chat.conversationID))
        #expect(chatOffer.agentID == "alice")
        // (A call takes the whole agent: the chat ends first.)
        try await routing.accept(offer: chatOffer.id)
        try await routing.complete(conversation: chat.conversationID)
        try await routing.settle()
        #expect(await routing.lastOffer(of: call.conversationID) == nil)
        try await routing.setVoiceReachable(agent: "alice", true)
        try await routing.settle()
        #expect(await routing.lastOffer(of: call.conversationID)?.agentID == "alice")
        #expect(await routing.agentJSON("alice")?["voiceReachable"] == .bool(true))
    }

    @Test("observers hear every decision after it is in the log, in order (the SIP element rings phones on offers)")
    func decisionsAreObserved() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        try await routing.settle()
        let decisions = await routing.decisions()
        let receipt = try await fixture.conversation()
        try await routing.settle()
        _ = try await routing.setPresence(agent: "alice", .available, actor: .admin)
        let offer = try #require(await routing.lastOffer(of: receipt.conversationID))
        try await routing.reject(offer: offer.id, reason: .busy)
        var heard: [String] = []
        for await decision in decisions {
            switch decision {
            case .queued(let task, _, _, _): heard.append("queued \(task == receipt.conversationID.rawValue)")
            case .offered(let made):
                heard.append("offered \(made.agentID)")
                // Already in the log when it is heard.
                #expect(try await fixture.engine.store.allEvents().contains { $0.kind == .offerCreated && $0.refs.agentID == "alice" })
            case .offerEnded(_, _, let agent, let reason): heard.append("ended \(agent) \(reason.rawValue)")
            default: continue
            }
            if heard.count == 3 { break }
        }
        #expect(heard == ["queued true", "offered alice", "ended alice busy"])
    }

    @Test("a conversation closed while it waits leaves the router")
    func closedWhileWaiting() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        try await routing.settle()
        let receipt = try await fixture.conversation()
        try await routing.settle()
        #expect(await routing.task(receipt.conversationID) != nil)
        _ = try await fixture.engine.store.updateConversation(
            receipt.conversationID, ConversationChange(status: .closed), at: Date(), actor: .admin)
        try await routing.settle()
        #expect(await routing.task(receipt.conversationID) == nil)
        #expect(try await fixture.engine.store.eventKinds().last == "routing.ended")
    }

    @Test("rules choose the queue from the customer: a VIP goes to the VIP queue with its priority")
    func rulesFromTheCustomer() async throws {
        let vip = RoutingRule(
            name: "vip", condition: try AttributeExpression(parsing: "task.tier == 'vip'"), queue: "vip", priority: 100)
        let fixture = try await fixture(Self.rules(withRules: [vip]))
        let routing = fixture.engine.routing
        try await routing.settle()
        let receipt = try await fixture.conversation(user: "vip-user")
        var customer = try #require(try await fixture.engine.store.customer(receipt.customerID))
        customer.tier = .vip
        _ = try await fixture.engine.store.updateCustomer(customer, actor: .admin)
        // A second conversation of the now-VIP customer (the first one was routed as standard).
        _ = try await fixture.engine.store.updateConversation(receipt.conversationID, ConversationChange(status: .closed), at: Date(), actor: .admin)
        let second = try await fixture.conversation(user: "vip-user")
        try await routing.settle()
        let task = try #require(await routing.task(second.conversationID))
        #expect(task.queue == "vip")
        #expect(task.effectivePriority == 200, "the rule's 100 plus the VIP queue's 100")
        #expect(try await fixture.engine.store.conversation(second.conversationID)?.queueID == "vip")
    }

    @Test("the agent who served a customer last reaches the rules, also when a page of new conversations is read at once")
    func lastAgentFromThePage() async throws {
        let servedByAlice = RoutingRule(
            name: "back to alice", condition: try AttributeExpression(parsing: "task.lastAgent == 'alice'"), queue: "vip", priority: 5)
        let fixture = try await fixture(Self.rules(withRules: [servedByAlice]))
        let routing = fixture.engine.routing
        let store = fixture.engine.store
        try await routing.settle()
        let first = try await fixture.conversation(user: "returning")
        try await routing.settle()
        #expect(await routing.task(first.conversationID)?.queue == "support", "nobody served this customer before")
        _ = try await routing.setPresence(agent: "alice", .available, actor: .admin)
        let offer = try #require(await routing.lastOffer(of: first.conversationID))
        try await routing.accept(offer: offer.id)
        _ = try await store.updateConversation(first.conversationID, ConversationChange(status: .closed), at: Date(), actor: .admin)
        _ = try await routing.setPresence(agent: "alice", .away(reason: "lunch"), actor: .admin)
        try await routing.settle()

        // Three new conversations before the router reads the log: one page, their customers'
        // facts read together.
        let returning = try await fixture.conversation(user: "returning")
        let newcomer = try await fixture.conversation(user: "newcomer")
        let other = try await fixture.conversation(user: "other")
        try await routing.settle()
        #expect(await routing.task(returning.conversationID)?.queue == "vip", "alice served this customer last")
        #expect(await routing.task(newcomer.conversationID)?.queue == "support")
        #expect(await routing.task(other.conversationID)?.queue == "support")

        // The same after a restart, where open conversations are read a few hundred at a time:
        // with more than one chunk's worth waiting, and the returning customer's in the second.
        for index in 0..<520 { _ = try await fixture.conversation(user: "crowd-\(index)") }
        _ = try await store.updateConversation(returning.conversationID, ConversationChange(status: .closed), at: Date(), actor: .admin)
        let late = try await fixture.conversation(user: "returning")
        let restarted = RoutingService(store: store, routing: Self.rules(withRules: [servedByAlice]), logger: EngineFixture.quietLogger)
        try await restarted.settle()
        #expect(await restarted.task(late.conversationID)?.queue == "vip")
        #expect(await restarted.task(newcomer.conversationID)?.queue == "support")
    }

    @Test("after a restart, waiting conversations wait again and assigned ones still count on their agents")
    func restart() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        try await routing.settle()
        let assigned = try await fixture.conversation(user: "a")
        let waiting = try await fixture.conversation(user: "b")
        try await routing.settle()
        _ = try await routing.setPresence(agent: "alice", .available, actor: .admin)
        let offer = try #require(await routing.lastOffer(of: assigned.conversationID))
        try await routing.accept(offer: offer.id)
        // alice takes three chats: "b" is offered to her too; decline it so it waits.
        if let second = await routing.lastOffer(of: waiting.conversationID) { try await routing.reject(offer: second.id, reason: .declined) }

        let restarted = RoutingService(store: fixture.engine.store, routing: Self.rules(), logger: EngineFixture.quietLogger)
        try await restarted.settle()
        #expect(await restarted.task(assigned.conversationID)?.phase == .assigned("alice"))
        #expect(await restarted.task(waiting.conversationID)?.phase == .waiting)
        #expect(await restarted.agent("alice")?.load.messaging == 1)
        #expect(await restarted.agent("alice")?.presence == .offline, "agents log in again after a restart")
    }

    @Test("commands that catch up with the log at once never handle an event twice")
    func concurrentCatchUps() async throws {
        let fixture = try await fixture()
        let warnings = CapturedWarnings()
        let logger = Logger(label: "routing") { _ in warnings }
        let routing = RoutingService(store: fixture.engine.store, routing: Self.rules(), logger: logger)
        try await routing.settle()
        var receipts: [IngestReceipt] = []
        for index in 0..<40 { receipts.append(try await fixture.conversation(user: "user-\(index)")) }
        // Forty commands at once, each reading the log first (the actor runs them interleaved at
        // every read of the store).
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<40 { group.addTask { _ = try? await routing.reject(offer: "offer-\(index)", reason: .declined) } }
        }
        try await routing.settle()
        for receipt in receipts { #expect(await routing.task(receipt.conversationID)?.phase == .waiting) }
        let ignored = warnings.messages.filter { $0.contains("routing ignored an event") }
        #expect(ignored.count == 0, "\(ignored.prefix(3))")
        let queued = try await fixture.engine.store.allEvents().filter { $0.kind == .routingQueued }
        #expect(queued.count == 40)
    }

    @Test("refusals name what is wrong")
    func refusals() async throws {
        let fixture = try await fixture()
        let routing = fixture.engine.routing
        try await routing.settle()
        await #expect(throws: RoutingService.Failure.self) { try await routing.accept(offer: "offer-404") }
        await #expect(throws: RoutingService.Failure.self) { _ = try await routing.setPresence(agent: "nobody", .available, actor: .admin) }
    }
}

/// A log handler that keeps the messages of warnings and worse.
final class CapturedWarnings: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    var messages: [String] { lock.withLock { kept } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { kept.append("\(event.message) \(event.metadata ?? [:])") }
    }
}

extension HubStore {
    func allEvents() async throws -> [HubEvent] { try await events(after: 0, limit: 100_000) }
    func eventKinds() async throws -> [String] { try await allEvents().map(\.kind.rawValue) }
}

/// The store's writer held by a write that waits (nothing commits meanwhile) until `release`.
final class HeldWriter: Sendable {
    private let released = DispatchSemaphore(value: 0)
    private let holding: Task<Void, any Error>
    private let done = Locked(false)

    init(_ store: SQLiteStore) async {
        let entered = DispatchSemaphore(value: 0)
        let released = released
        holding = Task {
            try await store.write { _, _ in
                entered.signal()
                released.wait()
            }
        }
        await Task.detached { entered.wait() }.value
    }

    /// Lets the write end (once; later calls do nothing).
    func release() {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        if first { released.signal() }
    }

    /// Lets the write end and waits for its commit.
    func releaseAndWait() async throws {
        release()
        try await holding.value
    }
}
