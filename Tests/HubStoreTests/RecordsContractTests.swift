import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: tickets, calls, agents, event log")
struct RecordsContractTests {
    @Test("tickets get consecutive human numbers, change status with timestamps, and link conversations", arguments: StoreBackend.allCases)
    func tickets(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let call = try await store.ingestOne(Fixture.inbound(account: "trunk", kind: .voice, from: "+8613800138000", providerID: "c1"))
            let first = try await store.createTicket(
                TicketDraft(subject: "  Refund for order 42  ", customerID: chat.customerID, priority: .high, conversationIDs: [chat.conversationID]),
                at: Fixture.date(1), actor: .agent("alice"))
            let second = try await store.createTicket(TicketDraft(subject: "Other", customerID: chat.customerID), at: Fixture.date(2), actor: .admin)
            #expect(first.number.description == "T-000001")
            #expect(second.number.description == "T-000002")
            #expect(first.subject == "Refund for order 42")
            #expect(first.status == .new)
            #expect(try await store.ticket(number: TicketNumber(parsing: "t-1")!) == first)
            #expect(try await store.tickets(of: chat.customerID).map(\.number.rawValue) == [2, 1])

            let solved = try await store.updateTicket(first.id, TicketChange(status: .solved, assigneeID: .some("alice")), at: Fixture.date(5), actor: .agent("alice"))
            #expect(solved.status == .solved)
            #expect(solved.solvedAt == Fixture.date(5))
            #expect(solved.assigneeID == "alice")
            let reopened = try await store.updateTicket(first.id, TicketChange(status: .open), at: Fixture.date(6), actor: .system)
            #expect(reopened.solvedAt == nil)
            let linked = try await store.linkConversation(call.conversationID, toTicket: first.id, at: Fixture.date(7), actor: .agent("alice"))
            #expect(linked.conversationIDs == [chat.conversationID, call.conversationID])
            #expect(try await store.linkConversation(call.conversationID, toTicket: first.id, at: Fixture.date(8), actor: .agent("alice")) == linked)
            #expect(try await store.ticket(first.id)?.conversationIDs == [chat.conversationID, call.conversationID])
            let kinds = try await store.eventKinds()
            #expect(kinds.filter { $0.hasPrefix("ticket.") } == ["ticket.created", "ticket.created", "ticket.updated", "ticket.updated", "ticket.linked"])
            await #expect(throws: StoreError.self) { try await store.createTicket(TicketDraft(subject: " ", customerID: chat.customerID), at: Fixture.date(9), actor: .admin) }
            await #expect(throws: StoreError.self) { try await store.createTicket(TicketDraft(subject: "x", customerID: "cus_missing"), at: Fixture.date(9), actor: .admin) }
        }
    }

    @Test("call records are stored and every change is an event", arguments: StoreBackend.allCases)
    func calls(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (receipt, queued) = try await Self.queuedCall(in: store, queuedAt: 1)
            var call = queued
            try await store.createCall(call, actor: .channel("trunk"))
            call.state = .answered
            call.agentID = "bo"
            call.answeredAt = Fixture.date(21)
            try await store.updateCall(call, actor: .channel("trunk"))
            call.state = .ended
            call.endedAt = Fixture.date(141)
            call.hangupCause = "normal"
            call.hungUpBy = .customer
            try await store.updateCall(call, actor: .channel("trunk"))
            try await store.updateCall(call, actor: .channel("trunk"))  // unchanged: no event
            #expect(try await store.call(call.id) == call)
            #expect(try await store.calls(in: receipt.conversationID) == [call])
            #expect(call.waitSeconds == 20)
            #expect(call.talkSeconds == 120)
            let events = try await store.allEvents().filter { $0.kind.rawValue.hasPrefix("call.") }
            #expect(events.map(\.kind) == [.callCreated, .callUpdated, .callUpdated])
            #expect(events.allSatisfy { $0.refs.customerID == receipt.customerID })
        }
    }

    @Test("call records saved in a batch keep their order; a change whose conversation or record is missing is left out", arguments: StoreBackend.allCases)
    func callBatches(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (receipt, queued) = try await Self.queuedCall(in: store, queuedAt: 0)
            var call = queued
            call.state = .offered
            call.agentID = "bo"
            call.offeredAt = Fixture.date(5)
            let offered = call
            call.state = .ended
            call.endedAt = Fixture.date(9)
            call.hangupCause = "cancelled"
            call.hungUpBy = .customer
            let orphan = CallRecord(
                id: .generate(), conversationID: "cnv_missing", direction: .inbound, from: "+8613800138001", to: "+864008887686",
                state: .queued, sipCallID: "orphan@pc33", startedAt: Fixture.date(0))
            let missing = try await store.saveCalls([
                CallRecordChange(queued, isNew: true, actor: .channel("trunk")),
                CallRecordChange(orphan, isNew: true, actor: .channel("trunk")),
                CallRecordChange(offered, isNew: false, actor: .channel("trunk")),
                CallRecordChange(orphan, isNew: false, actor: .channel("trunk")),
                CallRecordChange(call, isNew: false, actor: .channel("trunk")),
            ])
            #expect(missing.map(\.code) == [.notFound, .notFound])
            #expect(try await store.calls(in: receipt.conversationID) == [call])
            #expect(try await store.call(orphan.id) == nil)
            let events = try await store.allEvents().filter { $0.kind.rawValue.hasPrefix("call.") }
            #expect(events.map(\.kind) == [.callCreated, .callUpdated, .callUpdated])
            #expect(events.map { $0.payload["state"]?.stringValue } == ["queued", "offered", "ended"])
            #expect(try await store.saveCalls([]) == [])
        }
    }

    @Test("a call announced by its message is created in the message's commit, in its conversation; a retry creates none", arguments: StoreBackend.allCases)
    func callWithItsMessage(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let call = CallRecord(
                id: .generate(), conversationID: Conversation.ID(""), direction: .inbound, from: "+8613800138000", to: "+864008887686",
                state: .queued, sipCallID: "a84b4c76e66710@pc33", startedAt: Fixture.date(0), queuedAt: Fixture.date(0))
            var command = Fixture.inbound(account: "trunk", kind: .voice, from: "+8613800138000", providerID: "sip:a84b4c76e66710@pc33")
            command.call = call
            let before = try await store.lastEventSequence()
            let receipt = try #require(try await store.ingest([command]).first?.get())
            var expected = call
            expected.conversationID = receipt.conversationID
            #expect(try await store.calls(in: receipt.conversationID) == [expected])
            let kinds = try await store.eventKinds(after: before)
            #expect(kinds.last == "call.created", "the call's event in the message's commit: \(kinds)")

            // The trunk's retry of the same INVITE: a duplicate, and still one call.
            var retry = command
            retry.call?.id = .generate()
            let again = try #require(try await store.ingest([retry]).first?.get())
            #expect(again.duplicate)
            #expect(try await store.calls(in: receipt.conversationID).count == 1)
        }
    }

    @Test(
        "events of a conversation name its assignee: a new conversation's none, an assigned one's agent, after a routing change the new one",
        arguments: StoreBackend.allCases)
    func eventsNameTheAssignee(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            func call(_ sipCallID: String) -> CallRecord {
                CallRecord(
                    id: .generate(), conversationID: Conversation.ID(""), direction: .inbound, from: "+8613800138000", to: "+864008887686",
                    state: .queued, sipCallID: sipCallID, startedAt: Fixture.date(0), queuedAt: Fixture.date(0))
            }
            var first = Fixture.inbound(account: "trunk", kind: .voice, from: "+8613800138000", providerID: "sip:one@pc33")
            first.call = call("one@pc33")
            let receipt = try #require(try await store.ingest([first]).first?.get())
            _ = try await store.updateConversation(receipt.conversationID, ConversationChange(assigneeID: .some("bo")), at: Fixture.date(1), actor: .system)
            var second = Fixture.inbound(account: "trunk", kind: .voice, from: "+8613800138000", providerID: "sip:two@pc33", at: 2)
            second.call = call("two@pc33")
            #expect(try #require(try await store.ingest([second]).first?.get()).conversationID == receipt.conversationID)
            // A routing record that names no agent, with a change of the assignee: the new one.
            try await store.recordRouting(
                [RoutingRecord(
                    kind: .routingQueued, refs: EventRefs(customerID: receipt.customerID, conversationID: receipt.conversationID), payload: .object([:]),
                    conversationChange: ConversationChange(assigneeID: .some("alice")))],
                at: Fixture.date(3), actor: .system)
            // A call's change that names no agent: the conversation's assignee, read.
            var waiting = try #require(try await store.calls(in: receipt.conversationID).first)
            waiting.state = .ended
            waiting.endedAt = Fixture.date(4)
            try await store.updateCall(waiting, actor: .channel("trunk"))

            let events = try await store.allEvents().filter { $0.refs.conversationID == receipt.conversationID }
            let named = events.map { "\($0.kind.rawValue) \($0.refs.agentID?.rawValue ?? "-")" }
            #expect(
                named == [
                    "conversation.created -", "message.received -", "call.created -", "conversation.updated bo", "message.received bo",
                    "call.created bo", "conversation.updated alice", "routing.queued alice", "call.updated alice",
                ], "\(named)")
        }
    }

    @Test(
        "a routing record's queue change: none when the conversation is in that queue (the assignee still named), an update when it moves",
        arguments: StoreBackend.allCases)
    func routingQueueChange(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let receipt = try await store.ingestOne(Fixture.inbound(account: "trunk", kind: .voice, from: "+8613800138000", providerID: "q1"))
            _ = try await store.updateConversation(
                receipt.conversationID, ConversationChange(queueID: .some("sales"), assigneeID: .some("bo")), at: Fixture.date(1), actor: .system)
            func queued(_ queue: String, at second: Double) async throws {
                try await store.recordRouting(
                    [RoutingRecord(
                        kind: .routingQueued, refs: EventRefs(customerID: receipt.customerID, conversationID: receipt.conversationID),
                        payload: .object(["queue": .string(queue)]), conversationChange: ConversationChange(queueID: .some(queue)))],
                    at: Fixture.date(second), actor: .system)
            }
            try await queued("sales", at: 2)
            try await queued("support", at: 3)
            try await queued("support", at: 4)
            await #expect(throws: StoreError.self) {
                try await store.recordRouting(
                    [RoutingRecord(
                        kind: .routingQueued, refs: EventRefs(conversationID: "cnv_missing"), payload: .object([:]),
                        conversationChange: ConversationChange(queueID: .some("sales")))],
                    at: Fixture.date(5), actor: .system)
            }
            let events = try await store.allEvents().filter { $0.refs.conversationID == receipt.conversationID }
            let named = events.map { "\($0.kind.rawValue) \($0.refs.agentID?.rawValue ?? "-")" }
            #expect(
                named == [
                    "conversation.created -", "message.received -", "conversation.updated bo", "routing.queued bo", "conversation.updated bo",
                    "routing.queued bo", "routing.queued bo",
                ], "\(named)")
            #expect(try await store.conversation(receipt.conversationID)?.queueID == "support")
            #expect(try await store.conversation(receipt.conversationID)?.updatedAt == Fixture.date(3))
        }
    }

    /// A voice conversation and its call record, queued (not saved).
    static func queuedCall(in store: any HubStore, queuedAt: Double) async throws -> (IngestReceipt, CallRecord) {
        let receipt = try await store.ingestOne(Fixture.inbound(account: "trunk", kind: .voice, from: "+8613800138000", providerID: "c1"))
        let call = CallRecord(
            id: .generate(), conversationID: receipt.conversationID, direction: .inbound, from: "+8613800138000", to: "+864008887686",
            state: .queued, sipCallID: "a84b4c76e66710@pc33", startedAt: Fixture.date(0), queuedAt: Fixture.date(queuedAt))
        return (receipt, call)
    }

    @Test("agents follow configuration: added, changed, removed become inactive", arguments: StoreBackend.allCases)
    func agents(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let alice = Agent(id: "alice", login: "alice", name: "Alice", role: .supervisor, skills: ["billing": 7], queues: [QueueMembership(queueID: "support")])
            let bo = Agent(id: "bo", login: "bo", name: "Bo")
            let added = try await store.syncAgents([alice, bo], at: Fixture.date(0))
            #expect(added == 2)
            let unchanged = try await store.syncAgents([alice, bo], at: Fixture.date(1))
            #expect(unchanged == 0)
            var changed = alice
            changed.skills["billing"] = 9
            let changes = try await store.syncAgents([changed], at: Fixture.date(2))
            #expect(changes == 2)
            let storedAlice = try await store.agent("alice")
            #expect(storedAlice == changed)
            let storedBo = try await store.agent("bo")
            #expect(storedBo?.active == false)
            #expect(try await store.agents().map(\.id) == ["alice", "bo"])
            #expect(try await store.eventKinds().filter { $0 == "agent.configured" }.count == 4)
        }
    }

    @Test("the event log pages in order and announces every commit", arguments: StoreBackend.allCases)
    func eventLog(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            #expect(try await store.lastEventSequence() == 0)
            var commits = store.eventCommits().makeAsyncIterator()
            let first = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let announced = await commits.next()
            #expect(announced == (try await store.lastEventSequence()))
            for index in 2...5 { _ = try await store.ingestOne(Fixture.inbound(providerID: "m\(index)")) }
            let all = try await store.allEvents()
            #expect(all.count == 7)
            let page1 = try await store.events(after: 0, limit: 4)
            let page2 = try await store.events(after: page1.last!.sequence, limit: 4)
            #expect((page1 + page2).map(\.sequence) == all.map(\.sequence))
            #expect(zip(all, all.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
            let timeline = try await store.events(customerID: first.customerID, after: 0, limit: 100)
            #expect(timeline.count == 7)
            #expect(try await store.events(customerID: "cus_other", after: 0, limit: 100).isEmpty)
        }
    }
}
