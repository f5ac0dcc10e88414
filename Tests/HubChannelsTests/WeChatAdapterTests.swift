import AsyncHTTPClient
import Foundation
import HubChannels
import HubConfig
import HubModel
import HubTestSupport
import Logging
import Synchronization
import Testing

@Suite("wechat channel (Official Account)")
struct WeChatAdapterTests {
    // The Chinese inbound vector of channels.md §4.3 (official key, token pamtest).
    static let token = "pamtest"
    static let aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    static let appID = "wxb11529c136998cb6"
    static let encrypt =
        "Q3stYC6hdFzMh9T8HCvyDMis7zmf7fd9eBlL2f4BcHFPlw1ZX6GiWqnh3h7M0JRTJgAk3ugF3lto4psKDuf/7qGuOrCaEV+hVVtZ80gqr6Z/s/w85oFZsjBXIKkflzRm6tDFoOqrUzRwOdfGLwLHdU/mLxfuJzBtXsq5CeHKnGpiRmNti6/KykzDJlHUdNQCTsKF/HfuOdKQfHGiLBBzqHykQnFcAwIX9ivUFY0mS0/5uMKhkAkmruWfIO3Z4onL6AeA8q8IQmGOQ9my8OB4SUOwPKvJQr/rjmGJqpD/9NRuF0I5OCc6hch/+mfzzRjqW1bv7hZyid75B/qH7mhW5+h2YHTbifu19lnLNZhVIRtKWGsIBbEaE6CTmeDGld/hiMISpY8/dLa+HTXeZlBlxmwa84VLfPcJyXkYFP2OfAg="
    static let msgSignature = "e3992690ecd2c7d1118e2dae903b635ecea5114a"

    static func adapter(
        encryption: WeChatOptions.Encryption = .safe, originalID: String? = "gh_hub", apiBaseURL: String = "https://api.weixin.qq.com",
        now: Double = 1_700_000_010, rejections: WebhookRejections = .init()
    ) -> WeChatAdapter {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let account = ChannelAccountConfig(
            id: "wechat-oa", kind: .wechat, name: "WeChat",
            secrets: [
                "token": Secret(variable: "T", value: token), "appSecret": Secret(variable: "S", value: "app-secret-value"),
                "encodingAESKey": Secret(variable: "K", value: aesKey),
            ],
            options: WeChatOptions(appID: appID, originalID: originalID, encryption: encryption, apiBaseURL: apiBaseURL),
            delivery: DeliveryPolicy(attemptTimeout: .seconds(5)), location: ConfigLocation(file: "channels/wechat-oa.yaml", line: 1, column: 1))
        return WeChatAdapter(account: account, httpClient: .shared, logger: logger, rejections: rejections, now: { Date(timeIntervalSince1970: now) })
    }

    static func request(
        method: String = "POST", timestamp: String = "1700000000", nonce: String = "424242", body: String, encrypted: Bool,
        msgSignature: String? = nil, signature: String? = nil, extra: [(name: String, value: String)] = []
    ) -> WebhookRequest {
        var query: [(name: String, value: String)] = [
            ("signature", signature ?? WeChatCrypto.signature([token, timestamp, nonce])), ("timestamp", timestamp), ("nonce", nonce),
            ("openid", "oCustomer001"),
        ]
        if encrypted {
            query += [("encrypt_type", "aes"), ("msg_signature", msgSignature ?? WeChatCrypto.signature([token, timestamp, nonce, encrypt]))]
        }
        query += extra
        return WebhookRequest(
            method: method, url: "http://hub/webhooks/wechat-oa?" + FormURLEncoding.encode(query), path: "/webhooks/wechat-oa", query: query,
            headers: [("Content-Type", "text/xml")], body: Array(body.utf8))
    }

    static let envelope = "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>"

    @Test("the URL check echoes echostr when the signature matches (channels.md vector)")
    func urlCheck() async throws {
        #expect(WeChatCrypto.signature(["pamtest", "1409304348", "xxxxxx"]) == "76480565cbe296026c53aaacd1ad523a1ddba24f")
        let query: [(name: String, value: String)] = [
            ("signature", "76480565cbe296026c53aaacd1ad523a1ddba24f"), ("timestamp", "1409304348"), ("nonce", "xxxxxx"), ("echostr", "5927782489442352469"),
        ]
        let good = WebhookRequest(method: "GET", url: "http://hub/webhooks/wechat-oa", path: "/webhooks/wechat-oa", query: query, headers: [], body: [])
        let answer = await Self.adapter().handleWebhook(good, sink: RecordingSink())
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == "5927782489442352469")
        var bad = good
        bad.query[0].value = "76480565cbe296026c53aaacd1ad523a1ddba24e"
        #expect(await Self.adapter().handleWebhook(bad, sink: RecordingSink()).status == 403)
    }

    @Test("a safe-mode push is verified, decrypted, stored and answered 'success'; WeChat's retry is stored once")
    func safeModePush() async throws {
        let sink = RecordingSink()
        let adapter = Self.adapter()
        let answer = await adapter.handleWebhook(Self.request(body: Self.envelope, encrypted: true, msgSignature: Self.msgSignature), sink: sink)
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == "success")
        let event = try #require(sink.events.first)
        #expect(event.channelKind == .wechat)
        #expect(event.sender.address == "oCustomer001")
        #expect(event.recipient == "gh_hub")
        #expect(event.text == "我的订单还没到")
        #expect(event.providerMessageID == "24000000000000001")
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(await adapter.handleWebhook(Self.request(body: Self.envelope, encrypted: true, msgSignature: Self.msgSignature), sink: sink).status == 200)
        #expect(sink.events.count == 1)
    }

    static func plain(_ fields: String, from: String = "oCustomer001") -> String {
        "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><FromUserName><![CDATA[\(from)]]></FromUserName><CreateTime>1700000000</CreateTime>\(fields)</xml>"
    }

    @Test("plain mode: messages of every type, follow and unfollow, a menu click; other events are acknowledged only")
    func plainPushes() async throws {
        let sink = RecordingSink()
        let adapter = Self.adapter(encryption: .plain)
        var nonce = 0
        func push(_ fields: String) async -> Int {
            nonce += 1
            return await adapter.handleWebhook(Self.request(nonce: "n\(nonce)", body: Self.plain(fields), encrypted: false), sink: sink).status
        }
        #expect(await push("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>1</MsgId>") == 200)
        #expect(await push("<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://mmbiz.qpic.cn/x.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId><MsgId>2</MsgId>") == 200)
        #expect(await push("<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[v1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[我要退货]]></Recognition><MsgId>3</MsgId>") == 200)
        #expect(await push("<MsgType><![CDATA[location]]></MsgType><Location_X>31.23</Location_X><Location_Y>121.47</Location_Y><Scale>15</Scale><Label><![CDATA[上海市黄浦区]]></Label><MsgId>4</MsgId>") == 200)
        #expect(await push("<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[订单]]></Title><Description><![CDATA[详情]]></Description><Url><![CDATA[https://shop.example/o/1]]></Url><MsgId>5</MsgId>") == 200)
        #expect(await push("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[HUMAN_AGENT]]></EventKey>") == 200)
        #expect(await push("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://shop.example]]></EventKey>") == 200)
        #expect(await push("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>") == 200)
        #expect(await push("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>") == 200)
        #expect(await push("<MsgType><![CDATA[miniprogrampage]]></MsgType><MsgId>6</MsgId>") == 200)

        let events = sink.events
        #expect(events.map(\.providerMessageID) == ["1", "2", "3", "4", "5", "oCustomer001:1700000000:CLICK:HUMAN_AGENT"])
        #expect(events[0].text == "你好")
        #expect(events[1].attachments == [Attachment(reference: "https://mmbiz.qpic.cn/x.jpg", contentType: "image/jpeg")])
        #expect(events[2].text == "我要退货")
        #expect(events[2].attachments.first?.reference == "wechat-media:v1")
        #expect(events[3].text == "📍 上海市黄浦区")
        #expect(events[4].text == "订单\n详情\nhttps://shop.example/o/1")
        #expect(events[5].attributes == ["menuKey": "HUMAN_AGENT"])
        #expect(sink.consents.map(\.consent) == [ConsentChange(optedOut: true, keyword: "unsubscribe"), ConsentChange(optedOut: false, keyword: "subscribe")])
    }

    @Test("plain mode: a signature carries one body (WeChat's retry passes); compatible mode with a key takes encrypted pushes only")
    func plainModeReplays() async throws {
        let sink = RecordingSink()
        let adapter = Self.adapter(encryption: .plain)
        let text = Self.plain("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>77</MsgId>")
        #expect(await adapter.handleWebhook(Self.request(nonce: "same", body: text, encrypted: false), sink: sink).status == 200)
        #expect(await adapter.handleWebhook(Self.request(nonce: "same", body: text, encrypted: false), sink: sink).status == 200)
        let forged = Self.plain("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>")
        let answer = await adapter.handleWebhook(Self.request(nonce: "same", body: forged, encrypted: false), sink: sink)
        #expect(answer.status == 403)
        #expect(try HubJSON.makeDecoder().decode(ErrorBody.self, from: Data(answer.body)).error.code == "replayed_signature")
        #expect(sink.events.count == 1 && sink.consents.isEmpty)
        let compatible = Self.adapter(encryption: .compatible)
        #expect(await compatible.handleWebhook(Self.request(nonce: "other", body: text, encrypted: false), sink: sink).status == 403)
        #expect(await compatible.handleWebhook(Self.request(body: Self.envelope, encrypted: true, msgSignature: Self.msgSignature), sink: sink).status == 200)
    }

    @Test("bad pushes are refused with the right status, counted, and store nothing", arguments: [
        ("bad signature", 403, "invalid_signature"), ("no signature", 403, "missing_signature"), ("bad msg_signature", 403, "invalid_signature"),
        ("tampered ciphertext", 403, "invalid_signature"), ("stale timestamp", 403, "stale_timestamp"),
        ("plain push to a safe account", 403, "encryption_required"), ("another account", 403, "wrong_account"),
        ("malformed XML", 400, "malformed_body"), ("DOCTYPE", 400, "malformed_body"), ("no sender", 400, "malformed_body"),
        ("PUT", 405, "method_not_allowed"),
    ])
    func rejections(_ name: String, status: Int, code: String) async throws {
        let sink = RecordingSink()
        let counter = WebhookRejections()
        var adapter = Self.adapter(rejections: counter)
        let text = "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>9</MsgId>"
        var request = Self.request(body: Self.envelope, encrypted: true, msgSignature: Self.msgSignature)
        switch name {
        case "bad signature": request = Self.request(body: Self.envelope, encrypted: true, msgSignature: Self.msgSignature, signature: String(repeating: "0", count: 40))
        case "no signature": request.query.removeAll { $0.name == "signature" }
        case "bad msg_signature": request = Self.request(body: Self.envelope, encrypted: true, msgSignature: String(repeating: "a", count: 40))
        case "tampered ciphertext":
            request = Self.request(body: Self.envelope.replacingOccurrences(of: "Q3stYC6h", with: "Q3stYC6i"), encrypted: true, msgSignature: Self.msgSignature)
        case "stale timestamp": adapter = Self.adapter(now: 1_700_000_000 + 301, rejections: counter)
        case "plain push to a safe account": request = Self.request(body: Self.plain(text), encrypted: false)
        case "another account":
            adapter = Self.adapter(encryption: .plain, originalID: "gh_other", rejections: counter)
            request = Self.request(body: Self.plain(text), encrypted: false)
        case "malformed XML":
            adapter = Self.adapter(encryption: .plain, rejections: counter)
            request = Self.request(body: "<xml><ToUserName>gh_hub</xml>", encrypted: false)
        case "DOCTYPE":
            adapter = Self.adapter(encryption: .plain, rejections: counter)
            request = Self.request(body: "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + Self.plain("<MsgType>text</MsgType><Content>&x;</Content>"), encrypted: false)
        case "no sender":
            adapter = Self.adapter(encryption: .plain, rejections: counter)
            request = Self.request(body: "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><CreateTime>1</CreateTime>\(text)</xml>", encrypted: false)
        default: request.method = "PUT"
        }
        let answer = await adapter.handleWebhook(request, sink: sink)
        #expect(answer.status == status)
        #expect(try HubJSON.makeDecoder().decode(ErrorBody.self, from: Data(answer.body)).error.code == code)
        #expect(sink.events.isEmpty && sink.consents.isEmpty)
        #expect(counter.counts(account: "wechat-oa") == [code: 1])
    }

    static func delivery(_ text: String = "您的工单 T-000123 已解决") -> Delivery {
        Delivery(
            id: "dlv_w1", idempotencyKey: "w1", channelAccountID: "wechat-oa", channelKind: .wechat, messageID: "msg_w1", conversationID: "cnv_w",
            orderingKey: "cnv_w", recipient: HandleAddress(kind: .wechat, scope: "wechat-oa", address: "oCustomer001"),
            content: OutboundContent(text: text), state: .sending, attempts: 1, maxAttempts: 5, nextAttemptAt: Date(timeIntervalSince1970: 0),
            createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test("replies use the customer-service API with one cached token; a refused token is replaced once")
    func deliver() async throws {
        let sends = Mutex(0)
        let provider = FakeProvider { request, _ in
            if request.path == "/cgi-bin/token" { return .ok(#"{"access_token":"TOKEN-\#(UUID().uuidString.prefix(4))","expires_in":7200}"#) }
            let count = sends.withLock { value in
                value += 1
                return value
            }
            // The second send finds its token expired early.
            return count == 2 ? .ok(#"{"errcode":40001,"errmsg":"invalid credential"}"#) : .ok(#"{"errcode":0,"errmsg":"ok"}"#)
        }
        try await provider.serve { base in
            let adapter = Self.adapter(apiBaseURL: base)
            _ = try await adapter.deliver(Self.delivery())
            _ = try await adapter.deliver(Self.delivery("第二条"))
        }
        let requests = provider.requests
        #expect(requests.map(\.path) == ["/cgi-bin/token", "/cgi-bin/message/custom/send", "/cgi-bin/message/custom/send", "/cgi-bin/token", "/cgi-bin/message/custom/send"])
        let body = try requests[1].json()
        #expect(body["touser"]?.stringValue == "oCustomer001")
        #expect(body["msgtype"]?.stringValue == "text")
        #expect(body["text"]?["content"]?.stringValue == "您的工单 T-000123 已解决")
        #expect(try requests[4].json()["text"]?["content"]?.stringValue == "第二条")
    }

    @Test("WeChat's error codes decide between retry and give-up; the app secret never shows", arguments: [
        (#"{"errcode":45015,"errmsg":"response out of time limit or subscription is canceled"}"#, false, "48-hour"),
        (#"{"errcode":45047,"errmsg":"out of send limit"}"#, false, "used up"),
        (#"{"errcode":-1,"errmsg":"system error"}"#, true, "busy"),
        (#"{"errcode":40003,"errmsg":"invalid openid"}"#, false, "40003"),
    ])
    func errors(_ answer: String, retryable: Bool, reason: String) async throws {
        let provider = FakeProvider { request, _ in
            request.path == "/cgi-bin/token" ? .ok(#"{"access_token":"T","expires_in":7200}"#) : .ok(answer)
        }
        let failure = try await provider.serve { base in
            await deliveryFailure { () async throws(DeliveryFailure) in _ = try await Self.adapter(apiBaseURL: base).deliver(Self.delivery()) }
        }
        let error = try #require(failure)
        #expect(error.isRetryable == retryable)
        #expect(error.reason.contains(reason))

        let noToken = FakeProvider { _, _ in .ok(#"{"errcode":40125,"errmsg":"invalid appsecret"}"#) }
        let tokenFailure = try await noToken.serve { base in
            await deliveryFailure { () async throws(DeliveryFailure) in _ = try await Self.adapter(apiBaseURL: base).deliver(Self.delivery()) }
        }
        #expect(tokenFailure?.isRetryable == true)
        #expect(tokenFailure?.reason.contains("40125") == true)
        #expect(tokenFailure?.reason.contains("app-secret-value") == false)
    }
}
