import Foundation
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

/// The projection on hand-written logs: the cases a scripted run does not reach easily.
@Suite("Metrics projection: restarts, transfers, hand assignment, calls the hub ends")
struct MetricsProjectorTests {
    static let start = MetricsTests.start

    /// A migrated store in a directory of its own (the caller removes it).
    static func store(_ prefix: String) async throws -> (SQLiteStore, TemporaryDirectory) {
        let directory = try TemporaryDirectory(prefix)
        let store = try SQLiteStore(configuration: .init(path: directory.url.appendingPathComponent("hub.sqlite").path, durability: .normal))
        try await store.migrate()
        return (store, directory)
    }

    /// A log written by hand, one event per call, `at` seconds after the start.
    struct Log {
        var events: [HubEvent] = []
        let conversation: Conversation

        init(channel: ChannelKind = .api) {
            conversation = Conversation(
                id: Conversation.ID("cnv_1"), customerID: Customer.ID("cus_1"), handleID: nil, channelKind: channel, channelAccountID: "acc", queueID: "support",
                createdAt: MetricsProjectorTests.start)
        }

        mutating func add(_ kind: EventKind, _ at: Double, actor: Actor = RoutingService.actor, agent: String? = nil, _ payload: JSONValue = .object([:])) {
            events.append(
                HubEvent(
                    sequence: Int64(events.count + 1), kind: kind, occurredAt: MetricsProjectorTests.start.addingTimeInterval(at), actor: actor,
                    refs: EventRefs(conversationID: conversation.id, agentID: agent.map { Agent.ID($0) }), payload: payload))
        }

        mutating func conversation(_ at: Double, status: ConversationStatus = .open, assignee: String? = nil, changes: [String], actor: Actor) throws {
            var value = conversation
            value.status = status
            value.assigneeID = assignee.map { Agent.ID($0) }
            add(.conversationUpdated, at, actor: actor, .object(["conversation": try JSONValue(encoding: value), "changes": .array(changes.map { .string($0) })]))
        }

        mutating func created() throws { add(.conversationCreated, 0, actor: .channel("acc"), try JSONValue(encoding: conversation)) }
        mutating func queued(_ at: Double, _ queue: String = "support") { add(.routingQueued, at, .object(["queue": .string(queue), "resumed": .bool(false)])) }
        mutating func assigned(_ at: Double, _ agent: String) { add(.routingAssigned, at, agent: agent, .object(["agentId": .string(agent)])) }
        mutating func presence(_ at: Double, _ agent: String, _ state: String, by: String = "agent") {
            add(.agentPresence, at, agent: agent, .object(["agentId": .string(agent), "presence": .object(["state": .string(state)]), "by": .string(by)]))
        }

        func project() -> (MetricsProjector, [MetricKey: MetricCounters]) {
            var projector = MetricsProjector(rules: MetricsProjector.Rules())
            for event in events { projector.apply(event) }
            return (projector, projector.commit(from: 0, to: Int64(events.count)).deltas)
        }
    }

    static func total(_ deltas: [MetricKey: MetricCounters], agent: String? = nil) -> MetricCounters {
        var sum = MetricCounters()
        for (key, counters) in deltas where agent == nil || key.agent == agent { sum.add(counters) }
        return sum
    }

    @Test("a restart puts agents offline: the time before counts, the downtime and the dropped wrap-up do not")
    func restartEndsAgentsStates() throws {
        var log = Log()
        try log.created()
        log.presence(0, "alice", "available")
        log.queued(0)
        log.assigned(10, "alice")
        try log.conversation(70, status: .closed, assignee: "alice", changes: ["status"], actor: .agent("alice"))
        log.add(.routingCompleted, 70, agent: "alice", .object(["agentId": .string("alice")]))
        log.add(.agentWrapUp, 70, agent: "alice", .object(["state": .string("started")]))
        // The hub stops at 80 and starts again at 3,600: the router says everyone is offline.
        log.presence(3_600, "alice", "offline", by: "restart")
        log.presence(3_700, "alice", "available")
        let (projector, deltas) = log.project()
        let alice = Self.total(deltas, agent: "alice")
        #expect(alice[.idleMs] == 10_000, "0-10 idle")
        #expect(alice[.busyMs] == 3_590_000, "10-3,600 busy: the wrap-up that never ended, up to the restart")
        #expect(alice[.handleMs] == 60_000 && alice[.handleCount] == 1)
        // After the restart she is idle, not busy with the wrap-up the router dropped.
        let open = projector.openAgentTime(until: Self.start.addingTimeInterval(3_760))
        #expect(Self.total(open)[.idleMs] == 60_000 && Self.total(open)[.busyMs] == 0)
        #expect(projector.agentsNow.first?.wrapping == 0)
    }

    @Test("a transferred contact that the customer leaves is handled, not abandoned; its wait now starts at the transfer")
    func transferThenHangUp() throws {
        var log = Log()
        try log.created()
        log.queued(0)
        log.assigned(30, "alice")
        log.queued(100, "vip")  // passed on to vip
        var (projector, deltas) = log.project()
        #expect(projector.waiting.map(\.since) == [Self.start.addingTimeInterval(100)], "waiting in vip since the transfer")
        try log.conversation(130, status: .closed, changes: ["status"], actor: .channel("acc"))
        log.add(.routingEnded, 130, .object(["reason": .object(["cancelled": .string("withdrawn")])]))
        (projector, deltas) = log.project()
        let total = Self.total(deltas)
        #expect(total[.offered] == 1 && total[.handled] == 1 && total[.waitMs] == 30_000)
        #expect(total[.abandoned] == 0 && total[.withdrawn] == 0 && total[.transfers] == 1)
        #expect(projector.waiting.isEmpty)
    }

    @Test("a waiting conversation given to an agent by hand is handled with its wait, and leaves no ghost in the queue")
    func handAssignment() throws {
        var log = Log()
        try log.created()
        log.queued(0)
        try log.conversation(40, assignee: "bo", changes: ["assigneeID"], actor: .agent("sup"))
        log.add(.routingEnded, 40, .object(["reason": .object(["cancelled": .string("withdrawn")])]))
        log.assigned(40, "bo")
        let (projector, deltas) = log.project()
        let total = Self.total(deltas)
        #expect(total[.handled] == 1 && total[.waitMs] == 40_000 && total[.withdrawn] == 0)
        #expect(projector.waiting.isEmpty)

        // The router's own change of assignee (an accepted offer) is not a hand assignment: an
        // attribute change while waiting then a close by an agent is a withdrawal, counted.
        var other = Log()
        try other.created()
        other.queued(0)
        try other.conversation(5, changes: ["attributes.sentiment"], actor: .channel("acc"))
        try other.conversation(9, status: .closed, changes: ["status"], actor: .agent("sup"))
        other.add(.routingEnded, 9, .object(["reason": .object(["cancelled": .string("withdrawn")])]))
        let (otherProjector, otherDeltas) = other.project()
        #expect(Self.total(otherDeltas)[.withdrawn] == 1 && otherProjector.waiting.isEmpty)
    }

    @Test("a caller's hang-up while queued is an abandon; the hub ending the call at shutdown is not")
    func callsTheHubEnds() throws {
        for (party, abandoned) in [("customer", 1), ("system", 0)] {
            var log = Log(channel: .voice)
            try log.created()
            log.queued(0)
            log.add(.callUpdated, 50, actor: .channel("trunk"), .object(["hungUpBy": .string(party), "state": .string("ended")]))
            try log.conversation(50, status: .closed, changes: ["status"], actor: .channel("trunk"))
            log.add(.routingEnded, 50, .object(["reason": .object(["cancelled": .string("withdrawn")])]))
            let total = Self.total(log.project().1)
            #expect(total[.abandoned] == Int64(abandoned) && total[.withdrawn] == Int64(1 - abandoned), "\(party)")
        }
    }

    @Test("a commit whose starting position is not the stored one is refused: two projections never count twice")
    func commitsChainOnPositions() async throws {
        let (store, directory) = try await Self.store("metrics-commit")
        defer { directory.remove() }
        var counters = MetricCounters()
        counters[.offered] = 1
        let key = MetricKey(minute: 10, channel: "api", queue: "support")
        try await store.commitMetrics(MetricsCommit(from: 0, position: 5, deltas: [key: counters], state: [:]))
        await #expect(throws: StoreError.self) {
            try await store.commitMetrics(MetricsCommit(from: 0, position: 7, deltas: [key: counters], state: [:]))
        }
        try await store.commitMetrics(MetricsCommit(from: 5, position: 7, deltas: [key: counters], state: [:]))
        #expect(try await store.metricsPosition() == 7)
        #expect(try await store.metricTotals(fromMinute: 0, toMinute: 100, grouping: [])[MetricGroup()]?[.offered] == 2)
    }

    @Test("the active alerts are exactly the alert rows among the contacts' and agents' state, whatever their ids")
    func activeAlertsAmongState() async throws {
        let (store, directory) = try await Self.store("metrics-alerts")
        defer { directory.remove() }
        // State whose keys sort before, among and after the alerts' (`alert:` + id).
        var state: [String: String?] = [:]
        for id in ["a", "alert", "alerts", "alert;x", "b", "c:cnv_1", "a:agent7", "t:tkt_1", "zz"] { state[id] = .some("{\"n\":1}") }
        try await store.commitMetrics(MetricsCommit(from: 0, position: 1, deltas: [:], state: state))
        let ids = ["queue-long", "é-unicode", "~tilde", "", "ALERT"]
        for id in ids {
            #expect(try await store.recordAlert(id, raised: true, payload: .object(["id": .string(id)]), at: Date(), actor: .system))
        }
        let active = try await store.activeAlerts()
        #expect(Set(active.keys) == Set(ids))
        #expect(active["é-unicode"] == .object(["id": .string("é-unicode")]))
        _ = try await store.recordAlert("queue-long", raised: false, payload: .object([:]), at: Date(), actor: .system)
        #expect(Set(try await store.activeAlerts().keys) == Set(ids).subtracting(["queue-long"]))
    }
}
