import Foundation
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

@Suite("Inbox feed: every agent's events in log order, exactly once, from any point")
struct InboxFeedTests {
    /// An event for `agent` (their presence), as the log holds it.
    @discardableResult
    static func event(_ store: any HubStore, for agent: Agent.ID, _ index: Int) async throws -> Int64 {
        try await store.recordEvent(
            .agentPresence, refs: EventRefs(agentID: agent), payload: .object(["n": .int(Int64(index))]), at: Date(), actor: .system)
    }

    /// Pulls until `count` events have come (or a batch that is not events); fails after a minute.
    static func collect(_ feed: InboxFeed, _ id: Int, count: Int) async throws -> [HubEvent] {
        var events: [HubEvent] = []
        try await withThrowingTaskGroup(of: [HubEvent].self) { group in
            group.addTask {
                var collected: [HubEvent] = []
                while collected.count < count {
                    guard case .events(let batch, _) = await feed.next(id) else { break }
                    collected += batch
                }
                return collected
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                throw CancellationError()
            }
            events = try await group.next() ?? []
            group.cancelAll()
        }
        return events
    }

    @Test("a subscriber resuming from a sequence number gets exactly the events it missed, in order, from memory or the store")
    func resume() async throws {
        let fixture = try await EngineFixture(accounts: [])
        let store = fixture.engine.store
        // Before the feed starts: only the store has these.
        var before: [Int64] = []
        for index in 0..<20 {
            before.append(try await Self.event(store, for: "bo", index))
            try await Self.event(store, for: "alice", index)
        }
        let earlier = before
        let feed = InboxFeed(store: store, configuration: .init(retained: 1000), logger: EngineFixture.quietLogger)
        try await withRunningServices([InboxFeedRunner(feed)], logger: EngineFixture.quietLogger) {
            try #require(try await eventually { await feed.head == earlier.last! + 1 })
            // After it started: memory has these.
            var boEvents = earlier
            for index in 20..<120 {
                boEvents.append(try await Self.event(store, for: "bo", index))
                try await Self.event(store, for: "alice", index)
            }
            let last = boEvents.last! + 1
            try #require(try await eventually { await feed.head == last })

            // From before everything: all 120, across the store and memory, once each, in order.
            let all = try await feed.subscribe(.init(agentID: "bo", seesAll: false), resumeFrom: 0)
            let replayed = try await Self.collect(feed, all, count: 120)
            #expect(replayed.map(\.sequence) == boEvents)
            // Resuming after the 20th: exactly the 100 missed since.
            let later = try await feed.subscribe(.init(agentID: "bo", seesAll: false), resumeFrom: boEvents[19])
            let missed = try await Self.collect(feed, later, count: 100)
            #expect(missed.map(\.sequence) == Array(boEvents[20...]))
            #expect(missed.allSatisfy { $0.refs.agentID == "bo" })

            // Then live: the next event arrives, and nothing twice.
            let next = try await Self.event(store, for: "bo", 999)
            let live = try await Self.collect(feed, later, count: 1)
            #expect(live.map(\.sequence) == [next])
            await feed.unsubscribe(all)
            await feed.unsubscribe(later)
            #expect(await feed.next(later) == .ended)
        }
    }

    @Test("a subscriber that stops reading falls behind alone and is told to resync; the others get everything")
    func slowConsumer() async throws {
        let fixture = try await EngineFixture(accounts: [])
        let store = fixture.engine.store
        let feed = InboxFeed(store: store, configuration: .init(retained: 50, maximumReplay: 100, batchLimit: 20), logger: EngineFixture.quietLogger)
        try await withRunningServices([InboxFeedRunner(feed)], logger: EngineFixture.quietLogger) {
            let slow = try await feed.subscribe(.init(agentID: "bo", seesAll: false))
            let reader = try await feed.subscribe(.init(agentID: "bo", seesAll: false))
            let readAll = Task { try await Self.collect(feed, reader, count: 200) }
            var written: [Int64] = []
            for index in 0..<200 { written.append(try await Self.event(store, for: "bo", index)) }
            #expect(try await readAll.value.map(\.sequence) == written)
            try #require(try await eventually { await feed.head == written.last! })
            #expect(await feed.next(slow) == .resync(at: written.last!))
            // After the resync it reads on from there.
            let after = try await Self.event(store, for: "bo", 200)
            #expect(try await Self.collect(feed, slow, count: 1).map(\.sequence) == [after])
        }
    }

    @Test("supervisors follow every agent's presence and offers, and a conversation's messages only while monitoring it")
    func audiences() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        let engine = fixture.engine
        let store = engine.store
        let feed = InboxFeed(store: store, logger: EngineFixture.quietLogger)
        try await withRunningServices([InboxFeedRunner(feed)], logger: EngineFixture.quietLogger) {
            let supervisor = try await feed.subscribe(.init(agentID: "alice", seesAll: true))
            let agent = try await feed.subscribe(.init(agentID: "bo", seesAll: false))
            let conversation = try await fixture.conversation()
            _ = try await store.updateConversation(conversation.conversationID, ConversationChange(assigneeID: .some("bo")), at: Date(), actor: .system)
            let boPresence = try await Self.event(store, for: "bo", 1)
            _ = try await fixture.conversation()
            // bo: the handover and their presence; not the first message (not theirs yet).
            let boSees = try await Self.collect(feed, agent, count: 3)
            #expect(boSees.map(\.kind) == [.conversationUpdated, .agentPresence, .messageReceived])
            // alice: bo's presence, not the messages of a conversation she does not monitor.
            let aliceSees = try await Self.collect(feed, supervisor, count: 1)
            #expect(aliceSees.map(\.sequence) == [boPresence])
            await feed.monitor(supervisor, conversation.conversationID)
            let third = try await fixture.conversation()
            #expect(try await Self.collect(feed, supervisor, count: 1).map(\.refs.messageID) == [third.messageID])
            // Taken from bo: bo hears of it once more, then nothing.
            _ = try await store.updateConversation(conversation.conversationID, ConversationChange(assigneeID: .some("alice")), at: Date(), actor: .system)
            let handover = try await Self.collect(feed, agent, count: 2)
            #expect(handover.map(\.kind) == [.messageReceived, .conversationUpdated])
            #expect(handover.last?.payload["previousAssigneeId"]?.stringValue == "bo")
        }
    }

    @Test("a ticket change that reached its customer on no channel is pushed to supervisors and to the ticket's agent")
    func unnotifiedAlert() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        let store = fixture.engine.store
        let feed = InboxFeed(store: store, logger: EngineFixture.quietLogger)
        try await withRunningServices([InboxFeedRunner(feed)], logger: EngineFixture.quietLogger) {
            let supervisor = try await feed.subscribe(.init(agentID: "alice", seesAll: true))
            let assignee = try await feed.subscribe(.init(agentID: "bo", seesAll: false))
            let other = try await feed.subscribe(.init(agentID: "carol", seesAll: false))
            let conversation = try await fixture.conversation()
            let ticket = try await store.createTicket(
                TicketDraft(subject: "x", customerID: conversation.customerID, assigneeID: "bo"), at: Date(), actor: .system)
            #expect(try await store.recordUnnotified(ticket, key: "ticket-notify:1", reasons: ["api-a": "closed"], at: Date(), actor: .system))
            #expect(try await Self.collect(feed, supervisor, count: 1).map(\.kind) == [.ticketUnnotified])
            #expect(try await Self.collect(feed, assignee, count: 2).map(\.kind) == [.ticketCreated, .ticketUnnotified])
            // carol hears of it only through a later event of hers.
            let mine = try await Self.event(store, for: "carol", 1)
            #expect(try await Self.collect(feed, other, count: 1).map(\.sequence) == [mine])
            // A survey's score reaches supervisors (a low one has reopened the ticket to them).
            let survey = try await store.createSurvey(
                CSATSurveyDraft(ticketID: ticket.id, token: String(repeating: "c", count: 32), eventSequence: 1, expiresAt: Date().addingTimeInterval(60)),
                at: Date(), actor: .system)
            _ = try await store.answerSurvey(
                CSATAnswer(surveyID: survey.id, score: 1, messageID: nil, channelAccountID: "web", escalation: nil), at: Date(), actor: .system)
            // (Carol's presence came first: supervisors follow every agent's.)
            #expect(try await Self.collect(feed, supervisor, count: 2).map(\.kind) == [.agentPresence, .csatAnswered])
            // SLA alerts and automations' notices too, and to the ticket's agent.
            for kind in [EventKind.slaWarning, .slaBreached, .automationNotified] {
                _ = try await store.recordEvent(
                    kind, refs: EventRefs(customerID: ticket.customerID, ticketID: ticket.id, agentID: "bo"), payload: .object([:]), at: Date(), actor: .system)
            }
            #expect(try await Self.collect(feed, supervisor, count: 3).map(\.kind) == [.slaWarning, .slaBreached, .automationNotified])
            let bos = try await Self.collect(feed, assignee, count: 5).map(\.kind)
            #expect(bos.suffix(3) == [.slaWarning, .slaBreached, .automationNotified], "\(bos)")
        }
    }
}
