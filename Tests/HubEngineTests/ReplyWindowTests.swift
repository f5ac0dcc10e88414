import AsyncHTTPClient
import Foundation
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

/// Providers' reply windows on the outbound path: WeChat's 48 hours and five replies per customer
/// message. A reply the window forbids goes out on the customer's next channel, and says so.
@Suite("Reply windows and fallback")
struct ReplyWindowTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    static let openID = "oCustomer001"
    static let phone = "+8613800138000"

    static func location(_ id: String) -> ConfigLocation { ConfigLocation(file: "channels/\(id).yaml", line: 1, column: 1) }

    static func accounts(base: String) -> [ChannelAccountConfig] {
        let fast = EngineFixture.fastPolicy
        return [
            ChannelAccountConfig(
                id: "wechat-oa", kind: .wechat, name: "WeChat", queueID: "support",
                secrets: ["token": Secret(variable: "T", value: "tok"), "appSecret": Secret(variable: "S", value: "sec")],
                options: WeChatOptions(appID: "wxb11529c136998cb6", encryption: .plain, apiBaseURL: base), delivery: fast,
                location: location("wechat-oa")),
            ChannelAccountConfig(
                id: "sms-twilio", kind: .sms, name: "SMS", queueID: "support", secrets: ["authToken": Secret(variable: "A", value: "auth")],
                options: TwilioSMSOptions(accountSID: "AC" + String(repeating: "0", count: 32), from: "+15005550006", apiBaseURL: base),
                delivery: fast, location: location("sms-twilio")),
        ]
    }

    /// A fixture on a clock the test moves, a WeChat conversation started at `start`, and the
    /// customer's phone number linked to them (when `withPhone`).
    static func scenario(base: String, clock: Locked<Date>, withPhone: Bool = true) async throws -> (EngineFixture, IngestReceipt) {
        let fixture = try await EngineFixture(accounts: accounts(base: base), now: { clock.value })
        let receipt = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .wechat, channelAccountID: "wechat-oa", sender: InboundSender(address: openID), providerMessageID: "w-1",
                text: "我的订单还没到"))
        if withPhone {
            _ = try await fixture.engine.identity.linkHandle(
                IdentityService.HandleInput(kind: .phone, address: phone), to: receipt.customerID, actor: Actor.admin)
        }
        return (fixture, receipt)
    }

    static func reply(_ fixture: EngineFixture, _ conversation: Conversation.ID, _ text: String, handle: Handle.ID? = nil, account: String? = nil)
        async throws -> OutboundReceipt
    {
        try await fixture.engine.outbound.send(
            OutboundService.Request(
                conversationID: conversation, author: .agent("bo"), content: OutboundContent(text: text), handleID: handle,
                channelAccountID: account),
            actor: .agent("bo"))
    }

    @Test("49 hours after the customer's last WeChat message, the reply goes out by SMS, and the timeline says why")
    func afterFortyEightHours() async throws {
        let provider = FakeProvider { request, _ in
            request.path.hasSuffix("Messages.json")
                ? FakeProvider.Reply(status: 201, headers: ["Content-Type": "application/json"], body: #"{"sid":"SM00000000000000000000000000000042"}"#)
                : .ok(#"{"errcode":0,"errmsg":"ok"}"#)
        }
        let clock = Locked(Self.start)
        try await provider.serve { base in
            let (fixture, receipt) = try await Self.scenario(base: base, clock: clock)
            clock.withLock { $0 = Self.start.addingTimeInterval(49 * 3600) }
            let sent = try await Self.reply(fixture, receipt.conversationID, "您的订单已发货，单号 SF123")
            let delivery = try #require(sent.delivery)
            #expect(delivery.channelAccountID == "sms-twilio")
            #expect(delivery.recipient == HandleAddress(kind: .phone, scope: "", address: Self.phone))
            #expect(sent.message.channelAccountID == "sms-twilio")
            #expect(sent.message.conversationID == receipt.conversationID, "the message stays in the WeChat conversation")
            let rerouted = try #require(sent.message.metadata["rerouted"])
            #expect(rerouted["fromChannelAccountId"]?.stringValue == "wechat-oa")
            #expect(rerouted["toChannel"]?.stringValue == "sms")
            #expect(rerouted["reason"]?.stringValue == "WeChat's 48-hour window closed: the customer last wrote through wechat-oa 49 hours ago")

            // The customer's timeline, as an agent sees it, says so.
            let queued = try #require(try await fixture.engine.store.events(customerID: receipt.customerID, after: 0, limit: 100).last)
            #expect(queued.kind == .messageQueued)
            #expect(queued.payload["metadata"]?["rerouted"]?["toChannelAccountId"]?.stringValue == "sms-twilio")

            // The outbox delivers it through the Messages API to the customer's phone.
            let delivered = try await fixture.withWorker {
                try await eventually { provider.requests.contains { $0.path.hasSuffix("Messages.json") } }
            }
            #expect(delivered)
            let form = try FormURLEncoding.decode(try #require(provider.requests.first { $0.path.hasSuffix("Messages.json") }).body)
            #expect(form.first { $0.name == "To" }?.value == Self.phone)
            #expect(form.first { $0.name == "Body" }?.value == "您的订单已发货，单号 SF123")
            #expect(!provider.requests.contains { $0.path == "/cgi-bin/message/custom/send" }, "WeChat was not attempted")

            // Asked for WeChat explicitly, the reply is refused with the reason instead.
            let handles = try await fixture.engine.store.handles(of: receipt.customerID)
            let wechat = try #require(handles.first { $0.kind == .wechat })
            await #expect(throws: StoreError.self) {
                _ = try await Self.reply(fixture, receipt.conversationID, "explicit", handle: wechat.id, account: "wechat-oa")
            }
        }
    }

    @Test("inside the window WeChat carries five replies per customer message; the sixth falls back; a new message reopens")
    func fiveReplies() async throws {
        let clock = Locked(Self.start)
        let (fixture, receipt) = try await Self.scenario(base: "http://127.0.0.1:9", clock: clock)
        clock.withLock { $0 = Self.start.addingTimeInterval(47 * 3600) }
        for index in 1...5 {
            let sent = try await fixture.engine.outbound.send(
                OutboundService.Request(
                    conversationID: receipt.conversationID, author: .agent("bo"), content: OutboundContent(text: "reply \(index)"),
                    idempotencyKey: "reply-\(index)"),
                actor: .agent("bo"))
            #expect(sent.delivery?.channelAccountID == "wechat-oa")
            #expect(sent.message.metadata["rerouted"] == Optional<JSONValue>.none)
        }
        // The fifth sent again (its answer was lost): the stored message, not a refusal.
        let again = try await fixture.engine.outbound.send(
            OutboundService.Request(
                conversationID: receipt.conversationID, author: .agent("bo"), content: OutboundContent(text: "reply 5"), idempotencyKey: "reply-5"),
            actor: .agent("bo"))
        #expect(again.duplicate)
        #expect(again.delivery?.channelAccountID == "wechat-oa")
        let sixth = try await Self.reply(fixture, receipt.conversationID, "reply 6")
        #expect(sixth.delivery?.channelAccountID == "sms-twilio")
        #expect(sixth.message.metadata["rerouted"]?["reason"]?.stringValue as String? == "WeChat allows 5 messages per customer message; 5 went out since the customer last wrote")
        // The customer writes again: WeChat is open again.
        _ = try await fixture.engine.ingest.ingest(
            InboundEvent(channelKind: .wechat, channelAccountID: "wechat-oa", sender: InboundSender(address: Self.openID), providerMessageID: "w-2", text: "好的"))
        #expect(try await Self.reply(fixture, receipt.conversationID, "reply 7").delivery?.channelAccountID == "wechat-oa")
    }

    @Test("with no other channel, a reply outside the window is refused with the reason, never dropped silently")
    func nowhereToGo() async throws {
        let clock = Locked(Self.start)
        let (fixture, receipt) = try await Self.scenario(base: "http://127.0.0.1:9", clock: clock, withPhone: false)
        clock.withLock { $0 = Self.start.addingTimeInterval(49 * 3600) }
        do {
            _ = try await Self.reply(fixture, receipt.conversationID, "too late")
            Issue.record("the reply should have been refused")
        } catch let error as StoreError {
            #expect(error.code == .conflict)
            #expect(error.message.contains("48-hour window closed"))
            #expect(error.message.contains("no other channel"))
        }
        #expect(try await fixture.engine.store.messages(in: receipt.conversationID, after: nil, limit: 10).count == 1, "nothing was queued")
    }

    @Test("Messenger with HUMAN_AGENT: inside 24 hours a plain reply, up to 7 days a tagged one, then the next channel")
    func messengerTag() async throws {
        let clock = Locked(Self.start)
        var accounts = Self.accounts(base: "http://127.0.0.1:9")
        accounts.append(
            ChannelAccountConfig(
                id: "fb-page", kind: .messenger, name: "Facebook", queueID: "support",
                secrets: [
                    "appSecret": Secret(variable: "A", value: "a"), "verifyToken": Secret(variable: "V", value: "v"),
                    "pageAccessToken": Secret(variable: "P", value: "p"),
                ],
                options: MetaOptions(pageID: "1234567890", outsideWindowTag: "HUMAN_AGENT"), location: Self.location("fb-page")))
        let fixture = try await EngineFixture(accounts: accounts, now: { clock.value })
        let receipt = try await fixture.engine.ingest.ingest(
            InboundEvent(channelKind: .messenger, channelAccountID: "fb-page", sender: InboundSender(address: "6543210987"), providerMessageID: "m_1", text: "hi"))
        _ = try await fixture.engine.identity.linkHandle(
            IdentityService.HandleInput(kind: .phone, address: Self.phone), to: receipt.customerID, actor: Actor.admin)

        clock.withLock { $0 = Self.start.addingTimeInterval(23 * 3600) }
        let inside = try await Self.reply(fixture, receipt.conversationID, "within a day")
        #expect(inside.delivery?.channelAccountID == "fb-page")
        #expect(inside.delivery?.content.options["messageTag"] == nil)

        clock.withLock { $0 = Self.start.addingTimeInterval(6 * 24 * 3600) }
        let tagged = try await Self.reply(fixture, receipt.conversationID, "six days later")
        #expect(tagged.delivery?.channelAccountID == "fb-page")
        #expect(tagged.delivery?.content.options["messageTag"] == .string("HUMAN_AGENT"))

        clock.withLock { $0 = Self.start.addingTimeInterval(8 * 24 * 3600) }
        let late = try await Self.reply(fixture, receipt.conversationID, "eight days later")
        #expect(late.delivery?.channelAccountID == "sms-twilio")
        #expect(late.message.metadata["rerouted"]?["reason"]?.stringValue?.hasPrefix("Messenger's 24-hour window closed") == true)
    }

    @Test("a WeChat menu click opens WeChat for three messages within a minute, not for 48 hours")
    func menuClick() async throws {
        let clock = Locked(Self.start)
        let fixture = try await EngineFixture(accounts: Self.accounts(base: "http://127.0.0.1:9"), now: { clock.value })
        let click = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .wechat, channelAccountID: "wechat-oa", sender: InboundSender(address: Self.openID),
                providerMessageID: "\(Self.openID):1:CLICK:HUMAN", text: "[menu] HUMAN", attributes: ["menuKey": "HUMAN"],
                metadata: ["msgType": .string("event")]))
        _ = try await fixture.engine.identity.linkHandle(
            IdentityService.HandleInput(kind: .phone, address: Self.phone), to: click.customerID, actor: Actor.admin)
        clock.withLock { $0 = Self.start.addingTimeInterval(30) }
        for index in 1...3 {
            #expect(try await Self.reply(fixture, click.conversationID, "answer \(index)").delivery?.channelAccountID == "wechat-oa")
        }
        let fourth = try await Self.reply(fixture, click.conversationID, "answer 4")
        #expect(fourth.delivery?.channelAccountID == "sms-twilio")
        #expect(fourth.message.metadata["rerouted"]?["reason"]?.stringValue?.contains("only used a menu") == true)
        // A message from the customer opens the usual 48 hours.
        _ = try await fixture.engine.ingest.ingest(
            InboundEvent(channelKind: .wechat, channelAccountID: "wechat-oa", sender: InboundSender(address: Self.openID), providerMessageID: "w-9", text: "在吗"))
        clock.withLock { $0 = Self.start.addingTimeInterval(3600) }
        #expect(try await Self.reply(fixture, click.conversationID, "an hour later").delivery?.channelAccountID == "wechat-oa")
    }
}
