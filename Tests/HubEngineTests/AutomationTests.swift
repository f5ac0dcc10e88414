import Foundation
import HubConfig
import HubEngine
import HubModel
import HubRouting
import HubStore
import HubTestSupport
import Testing

@Suite("Automations")
struct AutomationTests {
    static let location = ConfigLocation(file: "routing-rules/automations.yaml", line: 1, column: 1)

    static func fixture(_ rules: [AutomationRule], clock: Locked<Date>) async throws -> EngineFixture {
        let fixture = try await EngineFixture(
            accounts: ReplyWindowTests.accounts(base: "http://127.0.0.1:9"), routing: RoutingRules(automations: rules), now: { clock.value })
        try await fixture.engine.automations.catchUp()
        return fixture
    }

    static func notices(_ store: any HubStore) async throws -> [String] {
        try await store.events(after: 0, limit: 1000).filter { $0.kind == .automationNotified }.map { $0.payload["text"]?.stringValue ?? "" }
    }

    @Test("a keyword opens a ticket on the customer's conversation once, tags the customer and tells supervisors, even when the log is read again")
    func keywordTicket() async throws {
        let clock = Locked(ReplyWindowTests.start)
        let refund = AutomationRule(
            id: "refund", on: .messageReceived, when: try AttributeExpression(parsing: "'退款' in task.text or 'refund' in task.text"),
            actions: AutomationActions(
                createTicket: TicketTemplate(subject: "退款：{text}", queueID: "support", priority: .high), tags: ["refund"], notify: "新退款工单 {number}"),
            location: Self.location)
        let fixture = try await Self.fixture([refund], clock: clock)
        let store = fixture.engine.store
        let plain = try await CSATTests.wechat(fixture, "你好", id: "w-1")
        let asked = try await CSATTests.wechat(fixture, "我要退款\n订单 123", id: "w-2")
        try await fixture.engine.automations.catchUp()

        let tickets = try await store.tickets(of: plain.customerID)
        #expect(tickets.count == 1)
        let ticket = try #require(tickets.first)
        #expect(ticket.subject == "退款：我要退款 订单 123" && ticket.priority == .high && ticket.queueID == "support" && ticket.status == .new)
        #expect(ticket.conversationIDs == [asked.conversationID])
        #expect(ticket.id.rawValue.hasPrefix("tkt_auto_") && ticket.id.rawValue.hasSuffix("_refund"))
        #expect(try await store.customer(plain.customerID)?.tags == ["refund"])
        #expect(try await Self.notices(store) == ["新退款工单 \(ticket.number)"])
        let comments = try await store.ticketComments(of: ticket.id, includeInternal: true)
        #expect(comments.map(\.body) == ["opened by the automation refund"])

        // Said again in the same conversation: the same case, no second ticket; its notice names it.
        _ = try await CSATTests.wechat(fixture, "退款什么时候到？", id: "w-3")
        try await fixture.engine.automations.catchUp()
        #expect(try await store.tickets(of: plain.customerID).count == 1)
        #expect(try await Self.notices(store) == ["新退款工单 \(ticket.number)", "新退款工单 \(ticket.number)"])

        try await store.setReaderPosition("automations", to: 0)
        let again = Engine(store: store, channels: fixture.engine.channels, routing: RoutingRules(automations: [refund]), logger: EngineFixture.quietLogger)
        try await again.automations.catchUp()
        #expect(try await store.tickets(of: plain.customerID).count == 1)
        #expect(try await Self.notices(store).count == 2)
        let tagged = try await store.events(after: 0, limit: 1000).filter { $0.kind == .customerUpdated }
        #expect(tagged.count == 1, "the tag is added once")
    }

    @Test("a VIP's new ticket goes urgent to the VIP queue; others are left alone; the automation's own change triggers nothing")
    func vipTickets() async throws {
        let clock = Locked(ReplyWindowTests.start)
        let vip = AutomationRule(
            id: "vip-first", on: .ticketCreated, when: try AttributeExpression(parsing: "task.tier == 'vip'"),
            actions: AutomationActions(setPriority: .urgent, assignQueue: "vip"), location: Self.location)
        let watch = AutomationRule(
            id: "urgent-watch", on: .ticketUpdated, when: try AttributeExpression(parsing: "task.priority == 'urgent'"),
            actions: AutomationActions(notify: "{number} is urgent"), location: Self.location)
        let fixture = try await Self.fixture([vip, watch], clock: clock)
        let store = fixture.engine.store
        let first = try await CSATTests.wechat(fixture, "你好", id: "w-1")
        var customer = try #require(try await store.customer(first.customerID))
        customer.tier = .vip
        _ = try await store.updateCustomer(customer, actor: .admin)
        let other = try await CSATTests.sms(fixture, "hello", id: "s-1")
        #expect(other.customerID != first.customerID)

        let vipTicket = try await store.createTicket(TicketDraft(subject: "A", customerID: first.customerID, status: .open), at: clock.value, actor: .agent("bo"))
        let plainTicket = try await store.createTicket(TicketDraft(subject: "B", customerID: other.customerID, status: .open), at: clock.value, actor: .agent("bo"))
        try await fixture.engine.automations.catchUp()
        let changed = try #require(try await store.ticket(vipTicket.id))
        #expect(changed.priority == .urgent && changed.queueID == "vip")
        #expect(try await store.ticket(plainTicket.id)?.priority == .normal)
        let reasons = try await store.ticketEvents(vipTicket.id, after: 0, limit: 100).compactMap { $0.payload["reason"]?.stringValue }
        #expect(reasons == ["the automation vip-first"])
        // Its own change is not an event it reacts to: no notice for the urgent priority it set.
        #expect(try await Self.notices(store).isEmpty)
        // An agent's change is.
        _ = try await store.updateTicket(plainTicket.id, TicketChange(priority: .urgent), at: clock.value, actor: .agent("bo"))
        try await fixture.engine.automations.catchUp()
        #expect(try await Self.notices(store) == ["\(plainTicket.number) is urgent"])

        // An agent lowers the VIP ticket's priority; the log read again (after a crash) does not
        // set it back: the automation's change for that event was made once.
        _ = try await store.updateTicket(vipTicket.id, TicketChange(priority: .normal), at: clock.value, actor: .agent("bo"))
        try await store.setReaderPosition("automations", to: 0)
        let again = Engine(store: store, channels: fixture.engine.channels, routing: RoutingRules(automations: [vip, watch]), logger: EngineFixture.quietLogger)
        try await again.automations.catchUp()
        #expect(try await store.ticket(vipTicket.id)?.priority == .normal)
        #expect(try await Self.notices(store).count == 1)
    }
}
