import Foundation
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

/// The ticket service on a clock the test moves: reopening when the customer answers, closing
/// solved tickets, and customers' status questions answered on their channel with their own
/// tickets only, each event handled once even when the log is read again.
@Suite("Ticket service")
struct TicketServiceTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    static let day: TimeInterval = 86_400

    static func fixture(clock: Locked<Date>, settings: TicketSettings = TicketSettings(), directory: TemporaryDirectory? = nil) async throws
        -> EngineFixture
    {
        try await EngineFixture(
            accounts: [EngineFixture.account(outboundURL: "http://127.0.0.1:9/unused")], routing: RoutingRules(tickets: settings),
            directory: directory, now: { clock.value })
    }

    static func say(_ fixture: EngineFixture, _ text: String, user: String = "user-1", id: String = UUID().uuidString) async throws -> IngestReceipt {
        try await fixture.engine.ingest.ingest(
            InboundEvent(channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: user), providerMessageID: id, text: text))
    }

    /// The hub's own messages in the conversation (the status answers), oldest first.
    static func answers(_ fixture: EngineFixture, _ conversation: Conversation.ID) async throws -> [String] {
        try await fixture.engine.store.messages(in: conversation, after: nil, limit: 100).filter { $0.author == .system }.compactMap(\.text)
    }

    @Test("a customer's answer reopens a pending ticket, and a solved one within the window only; solved tickets close later")
    func reopenAndClose() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock)
        let store = fixture.engine.store
        let tickets = fixture.engine.tickets
        try await tickets.catchUp()
        let chat = try await Self.say(fixture, "my parcel is late")
        let agent = Viewer.integration
        var ticket = try await fixture.engine.inbox.createTicket(
            InboxService.NewTicket(subject: "Late parcel", conversationIDs: [chat.conversationID]), for: agent)
        ticket = try await store.updateTicket(ticket.id, TicketChange(status: .pending), at: clock.value, actor: .admin)

        clock.withLock { $0 = Self.start.addingTimeInterval(60) }
        _ = try await Self.say(fixture, "here is the tracking number")
        try await tickets.catchUp()
        ticket = try #require(try await store.ticket(ticket.id))
        #expect(ticket.status == .open)
        let reopening = try #require(try await store.ticketEvents(ticket.id, after: 0, limit: 50).last)
        #expect(reopening.payload["reason"]?.stringValue == "the customer replied")
        #expect(reopening.payload["previousStatus"]?.stringValue == "pending")

        // Solved; the customer writes three days later: open again.
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .solved), at: clock.value, actor: .admin)
        clock.withLock { $0 = $0.addingTimeInterval(3 * Self.day) }
        _ = try await Self.say(fixture, "it broke again")
        try await tickets.catchUp()
        #expect(try await store.ticket(ticket.id)?.status == .open)
        #expect(try await store.ticketEvents(ticket.id, after: 0, limit: 50).last?.payload["reason"]?.stringValue == "the customer replied within 7 days of the solution")

        // Solved again; eight days later the window is over: the message stays a message.
        let solvedAt = clock.value
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .solved), at: solvedAt, actor: .admin)
        clock.withLock { $0 = solvedAt.addingTimeInterval(8 * Self.day) }
        _ = try await Self.say(fixture, "thanks again")
        try await tickets.catchUp()
        #expect(try await store.ticket(ticket.id)?.status == .solved)
        try await tickets.closeSolvedTickets()
        let closed = try #require(try await store.ticket(ticket.id))
        #expect(closed.status == .closed)
        #expect(try await store.ticketEvents(ticket.id, after: 0, limit: 50).last?.payload["reason"]?.stringValue == "solved more than 7 days ago")
    }

    @Test("a customer who answers in another conversation joins it to the one ticket waiting on them; with two, an agent decides")
    func answerElsewhere() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock)
        let store = fixture.engine.store
        try await fixture.engine.tickets.catchUp()
        let asked = try await Self.say(fixture, "the app crashes")
        let ticket = try await store.createTicket(
            TicketDraft(subject: "Crash", customerID: asked.customerID, conversationIDs: [asked.conversationID], status: .pending), at: clock.value,
            actor: .admin)
        clock.withLock { $0 = Self.start.addingTimeInterval(60) }
        let elsewhere = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "user-1"), providerMessageID: "other-thread-1",
                text: "here is the crash log", threadKey: "another-thread"))
        #expect(elsewhere.conversationID != asked.conversationID)
        try await fixture.engine.tickets.catchUp()
        let after = try #require(try await store.ticket(ticket.id))
        #expect(after.status == .open)
        #expect(after.conversationIDs == [asked.conversationID, elsewhere.conversationID])

        // Two tickets wait on the customer: a message elsewhere is linked to neither.
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .pending), at: clock.value, actor: .admin)
        let second = try await store.createTicket(TicketDraft(subject: "Billing", customerID: asked.customerID, status: .pending), at: clock.value, actor: .admin)
        clock.withLock { $0 = Self.start.addingTimeInterval(120) }
        let third = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "user-1"), providerMessageID: "other-thread-2",
                text: "any news?", threadKey: "third-thread"))
        try await fixture.engine.tickets.catchUp()
        #expect(try await store.tickets(linkedTo: third.conversationID).isEmpty)
        #expect(try await store.ticket(ticket.id)?.status == .pending)
        #expect(try await store.ticket(second.id)?.status == .pending)
    }

    @Test("a solved ticket is not closed before closeAfter")
    func notClosedEarly() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock, settings: TicketSettings(reopenWindow: .seconds(3600), closeAfter: .seconds(2 * 86_400)))
        let chat = try await Self.say(fixture, "hello")
        let ticket = try await fixture.engine.store.createTicket(
            TicketDraft(subject: "x", customerID: chat.customerID, status: .open), at: clock.value, actor: .admin)
        _ = try await fixture.engine.store.updateTicket(ticket.id, TicketChange(status: .solved), at: clock.value, actor: .admin)
        clock.withLock { $0 = Self.start.addingTimeInterval(Self.day) }
        try await fixture.engine.tickets.closeSolvedTickets()
        #expect(try await fixture.engine.store.ticket(ticket.id)?.status == .solved)
        clock.withLock { $0 = Self.start.addingTimeInterval(2 * Self.day) }
        try await fixture.engine.tickets.closeSolvedTickets()
        #expect(try await fixture.engine.store.ticket(ticket.id)?.status == .closed)
    }

    @Test("customers asking about tickets hear about their own only: a guessed number gets the answer an unknown one gets")
    func statusAnswers() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock)
        let store = fixture.engine.store
        try await fixture.engine.tickets.catchUp()
        let alice = try await Self.say(fixture, "my invoice is wrong", user: "alice")
        let bob = try await Self.say(fixture, "hi", user: "bob")
        let alicesTicket = try await store.createTicket(
            TicketDraft(subject: "Alice's secret invoice", customerID: alice.customerID, conversationIDs: [alice.conversationID], status: .open),
            at: clock.value, actor: .admin)
        let bobsTicket = try await store.createTicket(
            TicketDraft(subject: "Bob's modem", customerID: bob.customerID, conversationIDs: [bob.conversationID], status: .pending), at: clock.value,
            actor: .admin)
        #expect(alicesTicket.number.description == "T-000001")
        #expect(bobsTicket.number.description == "T-000002")

        // Bob guesses Alice's number, then a number nobody has, then asks about his own.
        let guess = try await Self.say(fixture, "T-000001", user: "bob")
        let unknown = try await Self.say(fixture, "T-000099", user: "bob")
        let own = try await Self.say(fixture, "工单 T-000002 进度", user: "bob")
        let all = try await Self.say(fixture, "status", user: "alice")
        try await fixture.engine.tickets.catchUp()

        let bobsAnswers = try await Self.answers(fixture, bob.conversationID)
        #expect(bobsAnswers.count == 3)
        #expect(bobsAnswers[0] == "We could not find ticket T-000001 on your account. Reply \"status\" to see your tickets.")
        #expect(bobsAnswers[1] == "We could not find ticket T-000099 on your account. Reply \"status\" to see your tickets.")
        #expect(bobsAnswers[2].hasPrefix("工单 T-000002「Bob's modem」：等待您的回复"))
        for answer in bobsAnswers { #expect(!answer.contains("Alice")) }
        let alicesAnswers = try await Self.answers(fixture, alice.conversationID)
        #expect(alicesAnswers.count == 1)
        #expect(alicesAnswers[0].hasPrefix("Your tickets:\nT-000001 \"Alice's secret invoice\": in progress"))
        // The questions went into the customers' open conversations (which wait for agents as before).
        for receipt in [guess, unknown, own] { #expect(receipt.conversationID == bob.conversationID) }
        #expect(all.conversationID == alice.conversationID)
    }

    @Test("a conversation that begins with a question is answered and closed without a queue; one that goes on is queued")
    func selfService() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock)
        let store = fixture.engine.store
        try await fixture.engine.tickets.catchUp()
        let asked = try await Self.say(fixture, "status", user: "carol")
        #expect(asked.conversationCreated)
        #expect(try await store.conversation(asked.conversationID)?.queueID == nil)
        try await fixture.engine.tickets.catchUp()
        #expect(try await Self.answers(fixture, asked.conversationID) == ["You have no open tickets with us."])
        #expect(try await store.conversation(asked.conversationID)?.status == .closed)

        // Asked, then said more before the service answered: the conversation goes to the queue.
        clock.withLock { $0 = Self.start.addingTimeInterval(60) }
        let second = try await Self.say(fixture, "状态", user: "carol")
        #expect(second.conversationCreated)
        clock.withLock { $0 = Self.start.addingTimeInterval(61) }
        let more = try await Self.say(fixture, "and I want to change my address", user: "carol")
        #expect(more.conversationID == second.conversationID)
        try await fixture.engine.tickets.catchUp()
        let conversation = try #require(try await store.conversation(second.conversationID))
        #expect(conversation.queueID == "support")
        #expect(conversation.status != .closed)
        #expect(try await Self.answers(fixture, second.conversationID) == ["您目前没有未结的工单。"])
    }

    @Test("each event is answered once: reading the log again after a crash sends nothing twice")
    func exactlyOnce() async throws {
        let clock = Locked(Self.start)
        let directory = try TemporaryDirectory("hub-tickets")
        defer { directory.remove() }
        let conversation: Conversation.ID
        let start: Int64
        do {
            let fixture = try await Self.fixture(clock: clock, directory: directory)
            let store = fixture.engine.store
            try await fixture.engine.tickets.catchUp()
            start = try await store.lastEventSequence()
            conversation = try await Self.say(fixture, "hello").conversationID
            for _ in 0..<3 { _ = try await Self.say(fixture, "status") }
            let asked = try await store.lastEventSequence()
            try await fixture.engine.tickets.catchUp()
            #expect(try await Self.answers(fixture, conversation).count == 3)
            #expect(try #require(try await store.readerPosition("tickets")) >= asked)
            // A crash before the position was saved: the next start reads those events again.
            try await store.setReaderPosition("tickets", to: start)
        }
        let restarted = try await Self.fixture(clock: clock, directory: directory)
        try await restarted.engine.tickets.catchUp()
        #expect(try await Self.answers(restarted, conversation).count == 3)
        let deliveries = try await restarted.engine.store.deliveryCounts().values.reduce(0, +)
        #expect(deliveries == 3)
        // And a new question after the restart is answered.
        _ = try await Self.say(restarted, "T-000001")
        try await restarted.engine.tickets.catchUp()
        #expect(try await Self.answers(restarted, conversation).count == 4)
    }

    @Test("statusReplies: false leaves questions to agents")
    func disabled() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock, settings: TicketSettings(statusReplies: false))
        try await fixture.engine.tickets.catchUp()
        let asked = try await Self.say(fixture, "status")
        #expect(try await fixture.engine.store.conversation(asked.conversationID)?.queueID == "support")
        try await fixture.engine.tickets.catchUp()
        #expect(try await Self.answers(fixture, asked.conversationID).isEmpty)
    }

    @Test("a number inside a message that says more is for an agent, unless it is the customer's own ticket")
    func numbersInSentences() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock)
        let store = fixture.engine.store
        try await fixture.engine.tickets.catchUp()
        let vacuum = try await Self.say(fixture, "My T-800 vacuum stopped working", user: "dan")
        #expect(try await store.conversation(vacuum.conversationID)?.queueID == "support")
        try await fixture.engine.tickets.catchUp()
        #expect(try await Self.answers(fixture, vacuum.conversationID).isEmpty)
        #expect(try await store.conversation(vacuum.conversationID)?.status != .closed)
        let ticket = try await store.createTicket(
            TicketDraft(subject: "Vacuum", customerID: vacuum.customerID, conversationIDs: [vacuum.conversationID], status: .pending), at: clock.value,
            actor: .admin)
        _ = try await store.updateConversation(vacuum.conversationID, ConversationChange(status: .closed), at: clock.value, actor: .admin)
        // Their own number in a sentence: the answer the pending ticket waited for (joined to it and
        // reopened), a status reply, and the new conversation still reaches an agent.
        clock.withLock { $0 = Self.start.addingTimeInterval(60) }
        let own = try await Self.say(fixture, "my \(ticket.number) vacuum broke again, help", user: "dan")
        #expect(own.conversationCreated)
        #expect(try await store.conversation(own.conversationID)?.queueID == "support")
        try await fixture.engine.tickets.catchUp()
        #expect(try await Self.answers(fixture, own.conversationID).count == 1)
        #expect(try await store.conversation(own.conversationID)?.status != .closed)
        #expect(try await store.ticket(ticket.id)?.status == .open)
        #expect(try await store.ticket(ticket.id)?.conversationIDs.contains(own.conversationID) == true)
        // Their number with question words only: answered and closed without an agent.
        _ = try await store.updateConversation(own.conversationID, ConversationChange(status: .closed), at: clock.value, actor: .admin)
        let asked = try await Self.say(fixture, "where is my ticket \(ticket.number), please?", user: "dan")
        #expect(try await store.conversation(asked.conversationID)?.queueID == nil)
        try await fixture.engine.tickets.catchUp()
        #expect(try await Self.answers(fixture, asked.conversationID).count == 1)
        #expect(try await store.conversation(asked.conversationID)?.status == .closed)
    }

    @Test("agents see and change the tickets assigned to them, in their queues, or of customers they serve; no others")
    func permissions() async throws {
        let clock = Locked(Self.start)
        let fixture = try await Self.fixture(clock: clock)
        let store = fixture.engine.store
        let inbox = fixture.engine.inbox
        let chat = try await Self.say(fixture, "hello", user: "erin")
        let ticket = try await store.createTicket(
            TicketDraft(subject: "Erin's case", customerID: chat.customerID, queueID: "vip", conversationIDs: [chat.conversationID]), at: clock.value,
            actor: .admin)
        let stranger = Viewer(agentID: "zoe", role: .agent, queues: ["billing"], canRevealContacts: false, masksContacts: true)
        let member = Viewer(agentID: "yan", role: .agent, queues: ["vip"], canRevealContacts: false, masksContacts: true)
        func refused(_ body: () async throws -> Void) async -> Bool {
            do {
                try await body()
                return false
            } catch let error as InboxError {
                return error.code == .notFound
            } catch {
                return false
            }
        }
        #expect(await refused { _ = try await inbox.ticket(ticket.id, for: stranger) })
        #expect(await refused { _ = try await inbox.updateTicket(ticket.id, TicketChange(status: .open), for: stranger) })
        #expect(await refused { _ = try await inbox.comment(on: ticket.id, body: "x", visibility: .internal, for: stranger) })
        #expect(await refused { _ = try await inbox.ticketHistory(ticket.id, after: 0, limit: 10, for: stranger) })
        #expect(await refused { _ = try await inbox.link(chat.conversationID, to: ticket.id, for: stranger) })
        #expect(await refused { _ = try await inbox.setNotificationChannels([], of: chat.customerID, for: stranger) })
        #expect(await refused { _ = try await inbox.ticket(number: ticket.number, for: stranger) })
        #expect(try await inbox.tickets(TicketFilter(), after: nil, limit: 10, for: stranger).isEmpty)
        #expect(try await inbox.tickets(TicketFilter(queueIDs: ["vip"]), after: nil, limit: 10, for: stranger).isEmpty)
        // A member of the ticket's queue sees it in lists and may open and change it.
        #expect(try await inbox.tickets(TicketFilter(), after: nil, limit: 10, for: member).map(\.id) == [ticket.id])
        #expect(try await inbox.updateTicket(ticket.id, TicketChange(status: .open), for: member).status == .open)
        let unknownAgent = await #expect(throws: InboxError.self) {
            try await inbox.updateTicket(ticket.id, TicketChange(assigneeID: .some("nobody")), for: member)
        }
        #expect(unknownAgent?.code == .invalid)
    }
}
