import Foundation
import HubConfig
@testable import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

/// SLA clocks on a virtual clock, in business hours: a Shanghai office open Monday to Friday
/// 09:00-18:00. Friday 2026-12-04 17:00 in Shanghai is 09:00 UTC.
@Suite("SLA clocks")
struct SLATests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!
    /// `day` of December 2026 at `hour`:`minute` in Shanghai.
    static func local(_ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        var components = DateComponents(year: 2026, month: 12, day: day, hour: hour, minute: minute)
        components.timeZone = shanghai
        return Calendar(identifier: .gregorian).date(from: components)!
    }

    static let office = BusinessCalendar(
        id: "office", timeZone: shanghai, weekly: Dictionary(uniqueKeysWithValues: (2...6).map { ($0, [DailySpan(start: 9 * 60, end: 18 * 60)!]) }),
        holidays: [LocalDate(year: 2026, month: 12, day: 8)!])

    static let settings = SLASettings(
        calendars: ["office": office],
        policies: [
            SLAPolicy(id: "urgent", priorities: [.urgent], targets: [.firstResponse: .seconds(30 * 60)], warnBefore: .seconds(5 * 60), raisePriority: 200),
            SLAPolicy(
                id: "standard", queues: ["support"], calendarID: "office",
                targets: [.firstResponse: .seconds(2 * 3600), .nextResponse: .seconds(3600), .resolution: .seconds(8 * 3600)],
                warnBefore: .seconds(30 * 60), raisePriority: 100),
        ])

    /// A WeChat customer's conversation (waiting in `support`) and a ticket the hub opened on it.
    static func scenario(clock: Locked<Date>) async throws -> (EngineFixture, Ticket, Conversation.ID) {
        let fixture = try await EngineFixture(
            accounts: ReplyWindowTests.accounts(base: "http://127.0.0.1:9"), routing: RoutingRules(sla: settings), now: { clock.value })
        try await fixture.engine.sla.catchUp()
        let receipt = try await CSATTests.wechat(fixture, "洗衣机漏水", id: "w-1")
        let ticket = try await fixture.engine.store.createTicket(
            TicketDraft(subject: "洗衣机漏水", customerID: receipt.customerID, queueID: "support", conversationIDs: [receipt.conversationID], status: .open),
            at: clock.value, actor: .system)
        try await fixture.engine.sla.catchUp()
        return (fixture, ticket, receipt.conversationID)
    }

    static func alerts(_ store: any HubStore, _ ticket: Ticket) async throws -> [String] {
        try await store.ticketEvents(ticket.id, after: 0, limit: 100).filter { $0.kind == .slaWarning || $0.kind == .slaBreached }.map {
            "\($0.kind.rawValue) \($0.payload["timer"]?["metric"]?.stringValue ?? "?")"
        }
    }

    static func timer(_ store: any HubStore, _ ticket: Ticket, _ metric: SLAMetric) async throws -> SLATimer? {
        try await store.slaTimers(of: ticket.id).first { $0.metric == metric }
    }

    static func move(_ clock: Locked<Date>, to date: Date, _ fixture: EngineFixture) async throws {
        clock.withLock { $0 = date }
        try await fixture.engine.sla.catchUp()
        try await fixture.engine.sla.check()
    }

    @Test("first response across a weekend and a holiday, warning and breach, the waiting chat raised; next response; resolution stopped while pending")
    func businessHours() async throws {
        let clock = Locked(Self.local(4, 17))
        let (fixture, ticket, conversation) = try await Self.scenario(clock: clock)
        let store = fixture.engine.store

        // Two business hours from Friday 17:00: one on Friday, one from Monday 09:00.
        let first = try #require(try await Self.timer(store, ticket, .firstResponse))
        #expect(first.policyID == "standard" && first.dueAt == Self.local(7, 10) && first.warnAt == Self.local(7, 9, 30))
        // Eight: one on Friday, nine on Monday... seven of them: Monday 16:00.
        #expect(try await Self.timer(store, ticket, .resolution)?.dueAt == Self.local(7, 16))

        try await Self.move(clock, to: Self.local(5, 12), fixture)  // Saturday noon
        // The customer asks again before the office opens (which keeps WeChat's window open).
        clock.withLock { $0 = Self.local(7, 8) }
        _ = try await CSATTests.wechat(fixture, "有人吗？", id: "w-1b")
        try await Self.move(clock, to: Self.local(7, 9, 29), fixture)
        #expect(try await Self.alerts(store, ticket).isEmpty)
        #expect(try await Self.timer(store, ticket, .nextResponse) == nil, "the first response is still owed")
        try await Self.move(clock, to: Self.local(7, 9, 30), fixture)
        #expect(try await Self.alerts(store, ticket) == ["sla.warning firstResponse"])
        let priorityBefore = try #require(try await store.conversation(conversation)?.priority)
        try await Self.move(clock, to: Self.local(7, 10), fixture)
        #expect(try await Self.alerts(store, ticket) == ["sla.warning firstResponse", "sla.breached firstResponse"])
        #expect(try await store.conversation(conversation)?.priority == priorityBefore + 100, "the waiting chat is served sooner")
        // Checked again: nothing twice.
        try await Self.move(clock, to: Self.local(7, 10, 1), fixture)
        #expect(try await Self.alerts(store, ticket).count == 2)

        // The agent answers at 10:05; the customer writes at 10:10: an hour for the next answer.
        clock.withLock { $0 = Self.local(7, 10, 5) }
        _ = try await fixture.engine.outbound.send(
            OutboundService.Request(conversationID: conversation, author: .agent("bo"), content: OutboundContent(text: "请拍一张照片")), actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(7, 10, 5), fixture)
        #expect(try await Self.timer(store, ticket, .firstResponse)?.fulfilledAt == Self.local(7, 10, 5))
        clock.withLock { $0 = Self.local(7, 10, 10) }
        _ = try await CSATTests.wechat(fixture, "照片发了", id: "w-2")
        try await Self.move(clock, to: Self.local(7, 10, 10), fixture)
        #expect(try await Self.timer(store, ticket, .nextResponse)?.dueAt == Self.local(7, 11, 10))
        clock.withLock { $0 = Self.local(7, 10, 30) }
        _ = try await fixture.engine.outbound.send(
            OutboundService.Request(conversationID: conversation, author: .agent("bo"), content: OutboundContent(text: "收到，等配件")), actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(7, 10, 30), fixture)
        #expect(try await Self.timer(store, ticket, .nextResponse)?.fulfilledAt == Self.local(7, 10, 30))

        // Pending from 11:00 (three business hours used: Friday's and Monday's two) to Wednesday
        // 15:00 (Tuesday is a holiday): five left, three on Wednesday and two on Thursday.
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .pending), at: Self.local(7, 11), actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(7, 11), fixture)
        let paused = try #require(try await Self.timer(store, ticket, .resolution))
        #expect(paused.runningSince == nil && paused.elapsed == 3 * 3600 && paused.dueAt == nil)
        try await Self.move(clock, to: Self.local(7, 17), fixture)  // would have been past Monday 16:00
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .open), at: Self.local(9, 15), actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(9, 15), fixture)
        #expect(try await Self.timer(store, ticket, .resolution)?.dueAt == Self.local(10, 11))
        #expect(try await Self.timer(store, ticket, .resolution)?.warnAt == Self.local(10, 10, 30))

        // Solved Thursday 10:00: met, and nothing comes at 11:00.
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .solved), at: Self.local(10, 10), actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(10, 12), fixture)
        #expect(try await Self.timer(store, ticket, .resolution)?.fulfilledAt == Self.local(10, 10))
        #expect(try await Self.alerts(store, ticket).count == 2)
        // A "thank you" on the solved ticket awaits no answer; reopened, it does.
        clock.withLock { $0 = Self.local(10, 10, 30) }
        _ = try await CSATTests.wechat(fixture, "谢谢", id: "w-3")
        try await Self.move(clock, to: Self.local(10, 10, 30), fixture)
        #expect(try await Self.timer(store, ticket, .nextResponse)?.runningSince == nil)
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .open), at: Self.local(10, 11), actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(10, 11), fixture)
        #expect(try await Self.timer(store, ticket, .nextResponse)?.dueAt == Self.local(10, 12))
        _ = try await store.updateTicket(ticket.id, TicketChange(status: .solved), at: Self.local(10, 11, 30), actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(10, 12, 30), fixture)
        #expect(try await Self.alerts(store, ticket).count == 2)

        // The log read again from the start (after a crash) changes no clock.
        let settled = try await store.slaTimers(of: ticket.id)
        try await store.setReaderPosition("sla", to: 0)
        let again = Engine(
            store: store, channels: fixture.engine.channels, routing: RoutingRules(sla: Self.settings), now: { clock.value }, logger: EngineFixture.quietLogger)
        try await again.sla.catchUp()
        try await again.sla.check()
        #expect(try await store.slaTimers(of: ticket.id) == settled)
        #expect(try await Self.alerts(store, ticket).count == 2)
    }

    @Test("the service's loop wakes when the next warning or breach falls due, and records it then")
    func loopWakesWhenDue() async throws {
        let clock = Locked(Self.local(7, 9))  // Monday 09:00, the office opens
        var settings = Self.settings
        settings.checkInterval = .seconds(4 * 3600)
        let fixture = try await EngineFixture(
            accounts: ReplyWindowTests.accounts(base: "http://127.0.0.1:9"), routing: RoutingRules(sla: settings), now: { clock.value })
        let sla = fixture.engine.sla
        let store = fixture.engine.store
        #expect(try await store.nextSLATimerDue() == nil)
        #expect(await sla.step() == .seconds(4 * 3600))  // no clock runs: the check interval

        let receipt = try await CSATTests.wechat(fixture, "洗衣机漏水", id: "w-loop")
        let ticket = try await store.createTicket(
            TicketDraft(subject: "洗衣机漏水", customerID: receipt.customerID, queueID: "support", conversationIDs: [receipt.conversationID], status: .open),
            at: clock.value, actor: .system)
        // The first response is due at 11:00 and warned at 10:30: the loop sleeps until then
        // (less than its interval), not an interval that would warn up to four hours late.
        #expect(await sla.step() == .seconds(90 * 60))
        #expect(try await store.nextSLATimerDue() == Self.local(7, 10, 30))

        clock.withLock { $0 = Self.local(7, 10, 10) }
        #expect(await sla.step() == .seconds(20 * 60))
        #expect(try await Self.alerts(store, ticket).isEmpty)

        clock.withLock { $0 = Self.local(7, 10, 30) }
        #expect(await sla.step() == .seconds(30 * 60))  // warned; the breach is next
        #expect(try await Self.alerts(store, ticket) == ["sla.warning firstResponse"])
        #expect(try await store.nextSLATimerDue() == Self.local(7, 11))

        // An agent answers: the clock stops, and nothing is due any more.
        _ = try await fixture.engine.outbound.send(
            OutboundService.Request(conversationID: receipt.conversationID, author: .agent("bo"), content: OutboundContent(text: "您好")),
            actor: .agent("bo"))
        #expect(await sla.step() == .seconds(4 * 3600))
        clock.withLock { $0 = Self.local(7, 11, 30) }
        #expect(await sla.step() == .seconds(4 * 3600))
        #expect(try await Self.alerts(store, ticket) == ["sla.warning firstResponse"])
    }

    @Test("a change of priority picks another policy (time so far counted in the old calendar); a due time breaches on the wall clock")
    func policyChangeAndDue() async throws {
        let clock = Locked(Self.local(5, 22))  // Saturday night: the office is closed
        let (fixture, ticket, conversation) = try await Self.scenario(clock: clock)
        let store = fixture.engine.store
        #expect(try await Self.timer(store, ticket, .firstResponse)?.dueAt == Self.local(7, 11))

        clock.withLock { $0 = Self.local(5, 22, 10) }
        _ = try await store.updateTicket(ticket.id, TicketChange(priority: .urgent), at: clock.value, actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(5, 22, 10), fixture)
        let urgent = try #require(try await Self.timer(store, ticket, .firstResponse))
        // The ten minutes before fell in the closed office's calendar: none of the thirty is used.
        #expect(urgent.policyID == "urgent" && urgent.dueAt == Self.local(5, 22, 40) && urgent.warnAt == Self.local(5, 22, 35))
        // The urgent policy has no resolution target: that clock is gone.
        #expect(try await Self.timer(store, ticket, .resolution) == nil)
        try await Self.move(clock, to: Self.local(5, 22, 36), fixture)
        try await Self.move(clock, to: Self.local(5, 22, 41), fixture)
        #expect(try await Self.alerts(store, ticket) == ["sla.warning firstResponse", "sla.breached firstResponse"])
        #expect(try await store.conversation(conversation)?.priority == 200)

        // A due time of its own (as a low satisfaction score sets): no calendar, no warning.
        _ = try await store.updateTicket(ticket.id, TicketChange(dueAt: .some(Self.local(6, 1))), at: clock.value, actor: .agent("bo"))
        try await Self.move(clock, to: Self.local(6, 0, 59), fixture)
        #expect(try await Self.alerts(store, ticket).count == 2)
        try await Self.move(clock, to: Self.local(6, 1), fixture)
        #expect(try await Self.alerts(store, ticket).last == "sla.breached due")
    }
}
