import Foundation
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

/// Status changes told to the customer through the outbox: on the ticket's birth channel, falling
/// back along the customer's order when a provider's window or an opt-out closes it, on every
/// channel they chose, once per change and channel even when the log is read again, and recorded
/// when no channel can take it.
@Suite("Ticket notifications")
struct TicketNotificationTests {
    static let start = ReplyWindowTests.start
    static let openID = ReplyWindowTests.openID
    static let phone = ReplyWindowTests.phone

    /// A WeChat customer with a phone number and an api handle; a ticket born on WeChat.
    static func scenario(clock: Locked<Date>, settings: TicketSettings = TicketSettings(), directory: TemporaryDirectory? = nil) async throws
        -> (EngineFixture, Ticket)
    {
        let accounts = ReplyWindowTests.accounts(base: "http://127.0.0.1:9") + [EngineFixture.account(outboundURL: "http://127.0.0.1:9/unused")]
        let fixture = try await EngineFixture(accounts: accounts, routing: RoutingRules(tickets: settings), directory: directory, now: { clock.value })
        try await fixture.engine.tickets.catchUp()
        let receipt = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .wechat, channelAccountID: "wechat-oa", sender: InboundSender(address: openID), providerMessageID: "w-1",
                text: "我的订单还没到"))
        _ = try await fixture.engine.identity.linkHandle(
            IdentityService.HandleInput(kind: .phone, address: phone), to: receipt.customerID, actor: .admin)
        _ = try await fixture.engine.identity.linkHandle(
            IdentityService.HandleInput(kind: .api, address: "crm-77", channelAccountID: "api-a"), to: receipt.customerID, actor: .admin)
        let ticket = try await fixture.engine.store.createTicket(
            TicketDraft(subject: "订单未到", customerID: receipt.customerID, assigneeID: "bo", conversationIDs: [receipt.conversationID], status: .open),
            at: clock.value, actor: .agent("bo"))
        return (fixture, ticket)
    }

    static func change(_ fixture: EngineFixture, _ ticket: Ticket, to status: TicketStatus, clock: Locked<Date>) async throws {
        _ = try await fixture.engine.store.updateTicket(ticket.id, TicketChange(status: status), at: clock.value, actor: .agent("bo"))
        try await fixture.engine.tickets.catchUp()
    }

    /// The hub's notifications: (channel account, text), oldest first.
    static func notifications(_ fixture: EngineFixture, _ ticket: Ticket) async throws -> [(String, String)] {
        var found: [(String, String)] = []
        for conversation in ticket.conversationIDs {
            for message in try await fixture.engine.store.messages(in: conversation, after: nil, limit: 100) where message.author == .system {
                found.append((message.channelAccountID, message.text ?? ""))
            }
        }
        return found
    }

    @Test("the birth channel while its window is open; after 49 silent hours SMS instead; an opted-out SMS is skipped and the failure recorded")
    func windowAndFallback() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await Self.scenario(clock: clock)
        let store = fixture.engine.store
        try await store.setNotificationChannels(
            [NotificationChannel(channelAccountID: "wechat-oa"), NotificationChannel(channelAccountID: "sms-twilio", subscribed: false)], of: ticket.customerID, at: clock.value, actor: .admin)

        try await Self.change(fixture, ticket, to: .pending, clock: clock)
        var sent = try await Self.notifications(fixture, ticket)
        #expect(sent.count == 1)
        #expect(sent[0].0 == "wechat-oa")
        #expect(sent[0].1 == "工单 T-000001「订单未到」需要您的回复，直接回复本消息即可。")

        clock.withLock { $0 = Self.start.addingTimeInterval(49 * 3600) }
        try await Self.change(fixture, ticket, to: .solved, clock: clock)
        sent = try await Self.notifications(fixture, ticket)
        #expect(sent.count == 2)
        #expect(sent[1].0 == "sms-twilio")
        #expect(sent[1].1 == "工单 T-000001「订单未到」已解决。如仍有问题，请在7天内回复。")

        // The customer texts STOP: nothing is left that may carry the next change.
        let phone = try HandleAddress.normalize(kind: .phone, raw: Self.phone, scope: "", defaultRegion: "CN")
        #expect(try await store.applyConsent(ConsentChange(optedOut: true, keyword: "STOP"), handle: phone, channelAccountID: "sms-twilio", at: clock.value))
        try await Self.change(fixture, ticket, to: .open, clock: clock)
        #expect(try await Self.notifications(fixture, ticket).count == 2)
        #expect(try await store.deliveryCounts().values.reduce(0, +) == 2)
        let failures = try await store.ticketEvents(ticket.id, after: 0, limit: 100).filter { $0.kind == .ticketUnnotified }
        #expect(failures.count == 1)
        let reasons = try #require(failures.first?.payload["reasons"])
        #expect(reasons["wechat-oa"]?.stringValue?.contains("48-hour window closed") == true)
        #expect(reasons["sms-twilio"]?.stringValue?.contains("opted out") == true)

        // Read again from before the changes: nothing is sent or recorded twice.
        try await store.setReaderPosition("tickets", to: 0)
        let again = try await Self.scenarioEngine(fixture: fixture)
        try await again.catchUp()
        #expect(try await Self.notifications(fixture, ticket).count == 2)
        #expect(try await store.ticketEvents(ticket.id, after: 0, limit: 100).filter { $0.kind == .ticketUnnotified }.count == 1)
    }

    /// A second ticket service over the fixture's store (as after a restart), which starts from
    /// the saved position.
    static func scenarioEngine(fixture: EngineFixture) async throws -> TicketService {
        let engine = Engine(
            store: fixture.engine.store, channels: fixture.engine.channels, routing: RoutingRules(), now: { Self.start.addingTimeInterval(49 * 3600) },
            logger: EngineFixture.quietLogger)
        return engine.tickets
    }

    @Test("every channel the customer chose hears once; a customer's own reply and the hub's automatic close are not announced")
    func everyChosenChannel() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await Self.scenario(clock: clock)
        try await fixture.engine.store.setNotificationChannels(
            [NotificationChannel(channelAccountID: "sms-twilio"), NotificationChannel(channelAccountID: "api-a")], of: ticket.customerID, at: clock.value, actor: .admin)
        try await Self.change(fixture, ticket, to: .pending, clock: clock)
        let sent = try await Self.notifications(fixture, ticket)
        #expect(sent.map(\.0).sorted() == ["api-a", "sms-twilio", "wechat-oa"])
        #expect(Set(sent.map(\.1)).count == 1)

        // The customer answers: the ticket reopens without a notification.
        clock.withLock { $0 = Self.start.addingTimeInterval(60) }
        _ = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .wechat, channelAccountID: "wechat-oa", sender: InboundSender(address: Self.openID), providerMessageID: "w-2",
                text: "快递单号是 SF123"))
        try await fixture.engine.tickets.catchUp()
        #expect(try await fixture.engine.store.ticket(ticket.id)?.status == .open)
        #expect(try await Self.notifications(fixture, ticket).count == 3)

        // Public comments are told, internal ones are not.
        _ = try await fixture.engine.inbox.comment(on: ticket.id, body: "已联系快递公司", visibility: .public, for: .integration)
        _ = try await fixture.engine.inbox.comment(on: ticket.id, body: "courier says Friday", visibility: .internal, for: .integration)
        try await fixture.engine.tickets.catchUp()
        let after = try await Self.notifications(fixture, ticket)
        #expect(after.count == 6)
        #expect(after.suffix(3).allSatisfy { $0.1 == "工单 T-000001：已联系快递公司" })
    }

    @Test("templates from the rules replace the built-in texts; statuses not announced stay quiet")
    func templates() async throws {
        let clock = Locked(Self.start)
        let settings = TicketSettings(
            announce: [.solved], templates: ["solved": [.zhCN: "{number}（{subject}）{status}，{reopenWindow}内可回复"]])
        let (fixture, ticket) = try await Self.scenario(clock: clock, settings: settings)
        try await Self.change(fixture, ticket, to: .pending, clock: clock)
        #expect(try await fixture.engine.store.deliveryCounts().values.reduce(0, +) == 0)
        try await Self.change(fixture, ticket, to: .solved, clock: clock)
        #expect(try await Self.notifications(fixture, ticket).map(\.1) == ["T-000001（订单未到）已解决，7天内可回复"])
    }

    @Test("in the customer's quiet hours a notification waits in the outbox for their end; e-mail and the api do not wait")
    func quietHours() async throws {
        let clock = Locked(Self.start)
        var shanghai = Calendar(identifier: .gregorian)
        shanghai.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let local = shanghai.dateComponents([.hour, .minute], from: Self.start)
        let minute = local.hour! * 60 + local.minute!
        // Quiet from an hour ago to an hour from now, local time.
        let quiet = QuietHours(start: (minute + 1380) % 1440, end: (minute + 60) % 1440, timeZone: shanghai.timeZone)
        let (fixture, ticket) = try await Self.scenario(clock: clock, settings: TicketSettings(quietHours: quiet))
        try await Self.change(fixture, ticket, to: .pending, clock: clock)
        #expect(try await Self.notifications(fixture, ticket).map(\.0) == ["wechat-oa"])
        let minuteStart = Date(timeIntervalSince1970: (Self.start.timeIntervalSince1970 / 60).rounded(.down) * 60)
        #expect(try await fixture.engine.store.nextDeliveryDue() == minuteStart.addingTimeInterval(3600))
        #expect(quiet.release(Self.start, through: .email) == Self.start)
        #expect(quiet.release(Self.start, through: .api) == Self.start)
        #expect(quiet.release(Self.start.addingTimeInterval(2 * 3600), through: .sms) == Self.start.addingTimeInterval(2 * 3600))
    }

    @Test("a fallback to a subscribed channel is told once, also when the log is read again")
    func fallbackToSubscribed() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await Self.scenario(clock: clock)
        let store = fixture.engine.store
        try await store.setNotificationChannels(
            [NotificationChannel(channelAccountID: "wechat-oa"), NotificationChannel(channelAccountID: "sms-twilio")], of: ticket.customerID,
            at: clock.value, actor: .admin)
        clock.withLock { $0 = Self.start.addingTimeInterval(49 * 3600) }
        try await Self.change(fixture, ticket, to: .pending, clock: clock)
        #expect(try await Self.notifications(fixture, ticket).map(\.0) == ["sms-twilio"])
        try await store.setReaderPosition("tickets", to: 0)
        try await Self.scenarioEngine(fixture: fixture).catchUp()
        #expect(try await Self.notifications(fixture, ticket).map(\.0) == ["sms-twilio"])
        #expect(try await store.deliveryCounts().values.reduce(0, +) == 1)
    }

    @Test("a template for one kind of channel is used there, the general one elsewhere")
    func channelTemplates() async throws {
        let clock = Locked(Self.start)
        var settings = TicketSettings(templates: ["solved": [.zhCN: "{number} 已解决"]])
        settings.channelTemplates = ["solved": [.sms: [.zhCN: "【客服】{number}已解决"]]]
        let (fixture, ticket) = try await Self.scenario(clock: clock, settings: settings)
        try await fixture.engine.store.setNotificationChannels(
            [NotificationChannel(channelAccountID: "wechat-oa"), NotificationChannel(channelAccountID: "sms-twilio")], of: ticket.customerID,
            at: clock.value, actor: .admin)
        try await Self.change(fixture, ticket, to: .solved, clock: clock)
        let sent = try await Self.notifications(fixture, ticket).sorted { $0.0 < $1.0 }
        #expect(sent.map(\.0) == ["sms-twilio", "wechat-oa"])
        #expect(sent.map(\.1) == ["【客服】T-000001已解决", "T-000001 已解决"])
    }

    @Test("the hub's automatic close is not announced, even when closed is in announce")
    func automaticCloseIsQuiet() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await Self.scenario(clock: clock, settings: TicketSettings(announce: [.solved, .closed]))
        try await Self.change(fixture, ticket, to: .solved, clock: clock)
        #expect(try await fixture.engine.store.deliveryCounts().values.reduce(0, +) == 1)
        clock.withLock { $0 = Self.start.addingTimeInterval(8 * 86_400) }
        try await fixture.engine.tickets.closeSolvedTickets()
        try await fixture.engine.tickets.catchUp()
        #expect(try await fixture.engine.store.ticket(ticket.id)?.status == .closed)
        #expect(try await fixture.engine.store.deliveryCounts().values.reduce(0, +) == 1)
    }
}
