import AsyncHTTPClient
import Foundation
import HubChannels
import HubConfig
import HubModel
import HubTestSupport
import Logging
import Testing

@Suite("X-Hub-Signature-256")
struct MetaSignatureTests {
    /// The vectors of channels.md §5.1: GitHub's documented example, the hexdocs WhatsApp example,
    /// and a Messenger body with Chinese text as Meta escapes it (computed independently).
    static let vectors: [(secret: String, body: String, digest: String)] = [
        ("It's a Secret to Everybody", "Hello, World!", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
        ("secret", "test", "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"),
        ("appsecret123", MetaAdapterTests.escapedChineseBody, "fd7cad2f7e9a96db0b962ab789b2c207d754701157b4f1327c0426a332cb1a6d"),
    ]

    @Test("the three vectors compute and verify")
    func vectors() {
        for vector in Self.vectors {
            #expect(WebhookSignature.sha256(body: Array(vector.body.utf8), secret: vector.secret) == "sha256=" + vector.digest)
            #expect(WebhookSignature.isValidSHA256("sha256=" + vector.digest, body: Array(vector.body.utf8), secret: vector.secret))
        }
    }

    @Test("a changed byte anywhere in the body, the digest, the prefix or the secret fails")
    func tampering() {
        for vector in Self.vectors {
            let body = Array(vector.body.utf8)
            let header = "sha256=" + vector.digest
            for index in body.indices {
                var changed = body
                changed[index] ^= 0x01
                #expect(!WebhookSignature.isValidSHA256(header, body: changed, secret: vector.secret), "body byte \(index)")
            }
            var digest = Array(vector.digest.utf8)
            for index in digest.indices {
                let original = digest[index]
                digest[index] = original == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
                #expect(!WebhookSignature.isValidSHA256("sha256=" + String(decoding: digest, as: UTF8.self), body: body, secret: vector.secret))
                digest[index] = original
            }
            #expect(!WebhookSignature.isValidSHA256("sha1=" + vector.digest, body: body, secret: vector.secret))
            #expect(!WebhookSignature.isValidSHA256(vector.digest, body: body, secret: vector.secret))
            #expect(!WebhookSignature.isValidSHA256("sha256=" + vector.digest.dropLast(2), body: body, secret: vector.secret))
            #expect(!WebhookSignature.isValidSHA256(header + "00", body: body, secret: vector.secret))
            #expect(!WebhookSignature.isValidSHA256("sha256=" + String(repeating: "z", count: 64), body: body, secret: vector.secret))
            #expect(!WebhookSignature.isValidSHA256(header, body: body + [0x0A], secret: vector.secret))
            #expect(!WebhookSignature.isValidSHA256(header, body: body, secret: vector.secret + " "))
        }
    }
}

@Suite("messenger and instagram channels (Meta)")
struct MetaAdapterTests {
    static let pageID = "1234567890"
    static let appSecret = "appsecret123"
    static let verifyToken = "verify-me-please"
    static let pageToken = "EAAG-page-access-token"

    /// The third vector's body: Messenger's webhook with 你好 escaped as Meta sends it.
    static let escapedChineseBody =
        #"{"object":"page","entry":[{"id":"1234567890","time":1700000000000,"messaging":[{"sender":{"id":"6543210987"},"recipient":{"id":"1234567890"},"timestamp":1700000000000,"message":{"mid":"m_abc123","text":"\u4f60\u597d hello"}}]}]}"#

    static func adapter(
        kind: ChannelKind = .messenger, graphBaseURL: String = "https://graph.facebook.com", rejections: WebhookRejections = .init(),
        secrets: [String: String]? = nil
    ) -> MetaAdapter {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let values = secrets ?? ["appSecret": appSecret, "verifyToken": verifyToken, "pageAccessToken": pageToken]
        let account = ChannelAccountConfig(
            id: "fb-page", kind: kind, name: "Facebook Page", secrets: values.mapValues { Secret(variable: "V", value: $0) },
            options: MetaOptions(pageID: pageID, graphBaseURL: graphBaseURL), delivery: DeliveryPolicy(attemptTimeout: .seconds(5)),
            location: ConfigLocation(file: "channels/fb-page.yaml", line: 1, column: 1))
        return MetaAdapter(account: account, httpClient: .shared, logger: logger, rejections: rejections)
    }

    /// A webhook POST as Meta sends it: the raw body and its signature.
    static func webhook(_ body: String, secret: String = Self.appSecret, signature: String? = nil) -> WebhookRequest {
        let bytes = Array(body.utf8)
        return WebhookRequest(
            method: "POST", url: "http://127.0.0.1:8080/webhooks/fb-page", path: "/webhooks/fb-page",
            headers: [
                ("Content-Type", "application/json"), ("X-Hub-Signature-256", signature ?? WebhookSignature.sha256(body: bytes, secret: secret)),
            ],
            body: bytes)
    }

    static func subscription(_ query: [(name: String, value: String)]) -> WebhookRequest {
        WebhookRequest(
            method: "GET", url: "http://127.0.0.1:8080/webhooks/fb-page?…", path: "/webhooks/fb-page", query: query, headers: [], body: [])
    }

    static func errorCode(_ response: WebhookResponse) throws -> String {
        try HubJSON.makeDecoder().decode(ErrorBody.self, from: Data(response.body)).error.code
    }

    @Test("the subscription check echoes the challenge exactly, as text")
    func verification() async throws {
        let response = await Self.adapter().handleWebhook(
            Self.subscription([("hub.mode", "subscribe"), ("hub.verify_token", Self.verifyToken), ("hub.challenge", "1158201444")]), sink: RecordingSink())
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "1158201444")
        #expect(response.headers.first { $0.name == "content-type" }?.value.hasPrefix("text/plain") == true)
    }

    @Test("a wrong or missing token or mode is refused with 403 and counted", arguments: [
        [("hub.mode", "subscribe"), ("hub.verify_token", "verify-me-pleasE"), ("hub.challenge", "1")],
        [("hub.mode", "subscribe"), ("hub.verify_token", ""), ("hub.challenge", "1")],
        [("hub.mode", "subscribe"), ("hub.challenge", "1")],
        [("hub.mode", "unsubscribe"), ("hub.verify_token", "verify-me-please"), ("hub.challenge", "1")],
        [("hub.verify_token", "verify-me-please"), ("hub.challenge", "1")],
    ])
    func badVerification(_ query: [(String, String)]) async throws {
        let counter = WebhookRejections()
        let response = await Self.adapter(rejections: counter).handleWebhook(Self.subscription(query.map { ($0.0, $0.1) }), sink: RecordingSink())
        #expect(response.status == 403)
        #expect(try Self.errorCode(response) == "verification_failed")
        #expect(!String(decoding: response.body, as: UTF8.self).contains(Self.verifyToken))
        #expect(counter.counts(account: "fb-page") == ["verification_failed": 1])
    }

    @Test("Chinese text as Meta escapes it, signed over the escaped bytes, becomes an event; a retry is stored once")
    func escapedChinese() async throws {
        let sink = RecordingSink()
        let adapter = Self.adapter()
        let request = Self.webhook(Self.escapedChineseBody)
        #expect(request.header("x-hub-signature-256") == "sha256=fd7cad2f7e9a96db0b962ab789b2c207d754701157b4f1327c0426a332cb1a6d")
        let response = await adapter.handleWebhook(request, sink: sink)
        #expect(response.status == 200)
        let event = try #require(sink.events.first)
        #expect(event.channelKind == .messenger)
        #expect(event.channelAccountID == "fb-page")
        #expect(event.sender.address == "6543210987")
        #expect(event.recipient == Self.pageID)
        #expect(event.providerMessageID == "m_abc123")
        #expect(event.text == "你好 hello")
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(await adapter.handleWebhook(request, sink: sink).status == 200)
        #expect(sink.events.count == 1)
        // The same text signed over its UTF-8 (not Meta's escaped form) is another body: refused.
        let unescaped = Self.escapedChineseBody.replacingOccurrences(of: #"\u4f60\u597d"#, with: "你好")
        let forged = Self.webhook(unescaped, signature: "sha256=fd7cad2f7e9a96db0b962ab789b2c207d754701157b4f1327c0426a332cb1a6d")
        #expect(await adapter.handleWebhook(forged, sink: sink).status == 403)
    }

    /// Two entries for this page and one for another: a message with an attachment, a quick reply
    /// and a reply reference, an echo of the page's own message, a delivery report and a postback.
    static let batch = #"""
        {"object":"page","entry":[
         {"id":"1234567890","time":1700000001000,"messaging":[
          {"sender":{"id":"PSID-1"},"recipient":{"id":"1234567890"},"timestamp":1700000001000,
           "message":{"mid":"m_1","text":"\u8ba2\u5355 #42 \u600e\u4e48\u6837\u4e86\uff1f","quick_reply":{"payload":"ORDER_STATUS"},"reply_to":{"mid":"m_0"},
            "attachments":[{"type":"image","payload":{"url":"https:\/\/scontent.xx.fbcdn.net\/v\/1.jpg"}},{"type":"location","payload":{"coordinates":{"lat":31.2,"long":121.5}}}]}},
          {"sender":{"id":"1234567890"},"recipient":{"id":"PSID-1"},"timestamp":1700000001500,
           "message":{"mid":"m_echo","is_echo":true,"app_id":1517776481860111,"text":"sent by the page"}}]},
         {"id":"999","time":1700000001000,"messaging":[
          {"sender":{"id":"PSID-9"},"recipient":{"id":"999"},"timestamp":1700000001000,"message":{"mid":"m_other","text":"not ours"}}]},
         {"id":"1234567890","time":1700000002000,"messaging":[
          {"sender":{"id":"PSID-1"},"recipient":{"id":"1234567890"},"timestamp":1700000002000,
           "delivery":{"mids":["m_sent_1","m_unknown"],"watermark":1700000001900}},
          {"sender":{"id":"PSID-1"},"recipient":{"id":"1234567890"},"timestamp":1700000002500,
           "read":{"watermark":1700000002400}},
          {"sender":{"id":"PSID-2"},"recipient":{"id":"1234567890"},"timestamp":1700000003000,
           "postback":{"title":"\u67e5\u8be2\u7269\u6d41","payload":"TRACK_ORDER"}}]}]}
        """#

    @Test("a batched body: every entry and item, echoes and other pages skipped, deliveries recorded")
    func batch() async throws {
        let sink = RecordingSink(knownProviderIDs: ["m_sent_1"])
        let response = await Self.adapter().handleWebhook(Self.webhook(Self.batch), sink: sink)
        #expect(response.status == 200)
        #expect(sink.events.map(\.providerMessageID) == ["m_1", "postback:PSID-2:1700000003000"])
        let message = sink.events[0]
        #expect(message.text == "订单 #42 怎么样了？")
        #expect(message.attachments == [HubModel.Attachment(reference: "https://scontent.xx.fbcdn.net/v/1.jpg", contentType: "image/*")])
        #expect(message.metadata == ["quick_reply": .string("ORDER_STATUS"), "reply_to": .string("m_0")])
        let postback = sink.events[1]
        #expect(postback.sender.address == "PSID-2")
        #expect(postback.text == "查询物流")
        #expect(postback.metadata["payload"] == .string("TRACK_ORDER"))
        #expect(postback.occurredAt == Date(timeIntervalSince1970: 1_700_000_003))
        #expect(sink.statuses.map(\.providerMessageID) == ["m_sent_1"])
        #expect(sink.statuses.first?.status == .delivered)
        #expect(sink.statuses.first?.channelAccountID == "fb-page")
    }

    @Test("an Instagram account takes object 'instagram' and refuses 'page'")
    func instagram() async throws {
        let sink = RecordingSink()
        let body = Self.escapedChineseBody.replacingOccurrences(of: #""object":"page""#, with: #""object":"instagram""#)
        let response = await Self.adapter(kind: .instagram).handleWebhook(Self.webhook(body), sink: sink)
        #expect(response.status == 200)
        #expect(sink.events.first?.channelKind == .instagram)
        let wrong = await Self.adapter(kind: .instagram).handleWebhook(Self.webhook(Self.escapedChineseBody), sink: sink)
        #expect(wrong.status == 400)
        #expect(try Self.errorCode(wrong) == "wrong_object")
        #expect(sink.events.count == 1)
    }

    @Test("bad requests are refused with the right status, counted, and store nothing", arguments: [
        ("no signature", 403, "missing_signature"), ("tampered body", 403, "invalid_signature"), ("wrong secret", 403, "invalid_signature"),
        ("sha1 only", 403, "invalid_signature"), ("malformed JSON", 400, "malformed_body"), ("not UTF-8", 400, "malformed_body"),
        ("wrong object", 400, "wrong_object"), ("no entries", 400, "invalid_event"),
        ("DELETE", 405, "method_not_allowed"),
    ])
    func rejections(_ name: String, status: Int, code: String) async throws {
        let sink = RecordingSink()
        let counter = WebhookRejections()
        var request: WebhookRequest
        switch name {
        case "no signature":
            request = Self.webhook(Self.escapedChineseBody)
            request.headers.removeAll { $0.name == "x-hub-signature-256" }
        case "tampered body":
            request = Self.webhook(Self.escapedChineseBody)
            request.body[request.body.count / 2] ^= 0x20
        case "wrong secret": request = Self.webhook(Self.escapedChineseBody, secret: "another-app")
        case "sha1 only":
            request = Self.webhook(Self.escapedChineseBody)
            request.headers = [("x-hub-signature", "sha1=0000000000000000000000000000000000000000"), ("x-hub-signature-256", "sha1=00")]
        case "malformed JSON": request = Self.webhook(#"{"object":"page","entry":[}"#)
        case "not UTF-8":
            request = Self.webhook("")
            request.body = [0x22, 0xFF, 0x22]
            request.headers = [("x-hub-signature-256", WebhookSignature.sha256(body: request.body, secret: Self.appSecret))]
        case "wrong object": request = Self.webhook(Self.escapedChineseBody.replacingOccurrences(of: #""page""#, with: #""user""#))
        case "no entries": request = Self.webhook(#"{"object":"page"}"#)
        default:
            request = Self.webhook(Self.escapedChineseBody)
            request.method = "DELETE"
        }
        let response = await Self.adapter(rejections: counter).handleWebhook(request, sink: sink)
        #expect(response.status == status)
        #expect(try Self.errorCode(response) == code)
        #expect(sink.events.isEmpty)
        #expect(sink.statuses.isEmpty)
        #expect(counter.counts(account: "fb-page") == [code: 1])
    }

    @Test("an unreadable item (a plugin opt-in naming no sender) is skipped and counted; the rest of the batch is stored")
    func unreadableItem() async throws {
        let sink = RecordingSink()
        let counter = WebhookRejections()
        let body = #"{"object":"page","entry":[{"id":"1234567890","time":1700000000000,"messaging":["#
            + #"{"recipient":{"id":"1234567890"},"timestamp":1700000000000,"optin":{"ref":"checkbox","user_ref":"u-1"}},"#
            + #"{"sender":{"id":"6543210987"},"recipient":{"id":"1234567890"},"timestamp":1700000000001,"message":{"mid":"m_ok","text":"hello"}}]}]}"#
        let response = await Self.adapter(rejections: counter).handleWebhook(Self.webhook(body), sink: sink)
        #expect(response.status == 200)
        #expect(sink.events.map(\.providerMessageID) == ["m_ok"])
        #expect(counter.counts(account: "fb-page") == ["invalid_event": 1])
    }

    @Test("a store that cannot commit makes the webhook 503, so that Meta retries")
    func unavailable() async throws {
        let sink = RecordingSink(failure: IngestError(.unavailable, "disk full"))
        let response = await Self.adapter().handleWebhook(Self.webhook(Self.batch), sink: sink)
        #expect(response.status == 503)
        #expect(try Self.errorCode(response) == "unavailable")
    }

    static func delivery(text: String? = "您好，订单 #42 已发货 🚚", attachments: [HubModel.Attachment] = [], options: [String: JSONValue] = [:]) -> Delivery {
        Delivery(
            id: "dlv_7", idempotencyKey: "reply-7", channelAccountID: "fb-page", channelKind: .messenger, messageID: "msg_7",
            conversationID: "cnv_1", orderingKey: "cnv_1", recipient: HandleAddress(kind: .messenger, scope: "fb-page", address: "PSID-1"),
            content: OutboundContent(text: text, attachments: attachments, options: options), state: .sending, attempts: 1, maxAttempts: 5,
            nextAttemptAt: Date(timeIntervalSince1970: 0), createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test("Instagram replies go to /me/messages (the IG account id only names webhook entries)")
    func instagramSendPath() async throws {
        let provider = FakeProvider { _, _ in .ok(#"{"recipient_id":"IGSID-1","message_id":"ig_out"}"#) }
        let receipt = try await provider.serve { base in
            try await Self.adapter(kind: .instagram, graphBaseURL: base).deliver(Self.delivery())
        }
        #expect(receipt.providerMessageID == "ig_out")
        #expect(provider.requests.map(\.path) == ["/v25.0/me/messages"])
    }

    @Test("a reply is one Send API request for the text, then one per attachment with a public URL")
    func deliver() async throws {
        let provider = FakeProvider { _, index in .ok(#"{"recipient_id":"PSID-1","message_id":"m_out_\#(index)"}"#) }
        let attachments = [
            HubModel.Attachment(reference: "https://cdn.example/invoice.pdf", contentType: "application/pdf"),
            HubModel.Attachment(reference: "blob:sha256-abc", contentType: "image/png"),
            HubModel.Attachment(reference: "https://cdn.example/parcel.jpg", contentType: "image/jpeg"),
        ]
        let receipt = try await provider.serve { base in
            try await Self.adapter(graphBaseURL: base).deliver(Self.delivery(attachments: attachments))
        }
        #expect(receipt.providerMessageID == "m_out_0")
        let requests = provider.requests
        #expect(requests.map(\.path) == Array(repeating: "/v25.0/1234567890/messages", count: 3))
        #expect(requests.allSatisfy { $0.method == "POST" && $0.headers["content-type"]?.hasPrefix("application/json") == true })
        #expect(requests.allSatisfy { !$0.text.contains(Self.pageToken) && $0.headers["authorization"] == nil })
        let recipient: JSONValue = .object(["id": .string("PSID-1")])
        #expect(
            try requests[0].json()
                == .object(["recipient": recipient, "messaging_type": .string("RESPONSE"), "message": .object(["text": .string("您好，订单 #42 已发货 🚚")])]))
        func attachment(_ type: String, _ url: String) -> JSONValue {
            .object([
                "recipient": recipient, "messaging_type": .string("RESPONSE"),
                "message": .object(["attachment": .object(["type": .string(type), "payload": .object(["url": .string(url), "is_reusable": .bool(true)])])]),
            ])
        }
        #expect(try requests[1].json() == attachment("file", "https://cdn.example/invoice.pdf"))
        #expect(try requests[2].json() == attachment("image", "https://cdn.example/parcel.jpg"))
    }

    @Test("a delivery that names a message tag is sent as MESSAGE_TAG with that tag")
    func messageTag() async throws {
        let provider = FakeProvider { _, _ in .ok(#"{"recipient_id":"PSID-1","message_id":"m_tagged"}"#) }
        let receipt = try await provider.serve { base in
            try await Self.adapter(graphBaseURL: base).deliver(Self.delivery(text: "我们已处理您的退款", options: ["messageTag": .string("HUMAN_AGENT")]))
        }
        #expect(receipt.providerMessageID == "m_tagged")
        #expect(
            try provider.requests.first?.json()
                == .object([
                    "recipient": .object(["id": .string("PSID-1")]), "messaging_type": .string("MESSAGE_TAG"), "tag": .string("HUMAN_AGENT"),
                    "message": .object(["text": .string("我们已处理您的退款")]),
                ]))
    }

    @Test("nothing sendable is a permanent failure without a request")
    func nothingToSend() async throws {
        let provider = FakeProvider()
        let failure = try await provider.serve { base in
            await Self.failure { () throws(DeliveryFailure) in
                try await Self.adapter(graphBaseURL: base).deliver(Self.delivery(text: nil, attachments: [HubModel.Attachment(reference: "blob:x")]))
            }
        }
        #expect(failure?.isRetryable == false)
        #expect(provider.requests.isEmpty)
    }

    @Test("Graph errors: rate limits, 5xx and a bad token are retried; outside the window, an unavailable person, a bad parameter are final", arguments: [
        (400, #"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"fbtrace_id":"A1"}}"#, true, "error 4"),
        (400, #"{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"A2"}}"#, true, "error 613"),
        (429, "", true, "429"),
        (500, #"{"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2,"fbtrace_id":"A3"}}"#, true, "500"),
        (400, #"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A4"}}"#, true, "check the page access token"),
        (400, #"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A5"}}"#, false, "error 10/2018278 (outside the messaging window)"),
        (400, #"{"error":{"message":"This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041,"fbtrace_id":"A6"}}"#, false, "error 551/1545041"),
        (400, #"{"error":{"message":"(#100) The parameter recipient is required","type":"OAuthException","code":100,"fbtrace_id":"A7"}}"#, false, "error 100: (#100) The parameter recipient is required [fbtrace_id A7]"),
    ])
    func failures(_ status: Int, body: String, retryable: Bool, reason: String) async throws {
        let provider = FakeProvider { _, _ in FakeProvider.Reply(status: status, headers: ["Retry-After": "9", "Content-Type": "application/json"], body: body) }
        let failure = try await provider.serve { base in
            await Self.failure { () throws(DeliveryFailure) in try await Self.adapter(graphBaseURL: base).deliver(Self.delivery()) }
        }
        let error = try #require(failure)
        #expect(error.isRetryable == retryable)
        #expect(error.reason.contains(reason), "\(error.reason)")
        #expect(!error.reason.contains(Self.pageToken))
        if status == 429 || body.contains(#""code":4,"#) { #expect(error.retryAfter == .seconds(9)) }
    }

    @Test("an unreachable Graph API is transient, and its reason does not show the token")
    func unreachable() async throws {
        let failure = await Self.failure { () throws(DeliveryFailure) in
            try await Self.adapter(graphBaseURL: "http://127.0.0.1:1").deliver(Self.delivery())
        }
        let error = try #require(failure)
        #expect(error.isRetryable)
        #expect(error.reason.contains("http://127.0.0.1:1/v25.0/1234567890/messages"))
        #expect(!error.reason.contains(Self.pageToken) && !error.reason.contains("access_token"))
    }

    /// The failure a delivery ends with, or nil when it succeeded.
    static func failure(_ body: () async throws(DeliveryFailure) -> DeliveryReceipt) async -> DeliveryFailure? {
        do throws(DeliveryFailure) {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }
}

/// Loads one channel file with the schemas this build ships, as `hub serve` does, and a minimal
/// routing configuration around it.
enum ChannelFile {
    static func load(_ text: String, environment: [String: String] = [:]) throws -> ConfigLoadResult {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hub-channel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let channels = root.appendingPathComponent("channels")
        let rules = root.appendingPathComponent("routing-rules")
        for folder in [channels, rules] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try text.write(to: channels.appendingPathComponent("account.yaml"), atomically: true, encoding: .utf8)
        try "queues:\n  - id: support\nagents:\n  - id: bo\n    name: Bo\n    queues: [support]\n"
            .write(to: rules.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        return ConfigLoader(schemas: ChannelCatalog.schemas, environment: environment).load(channelsDirectory: channels.path, routingRulesDirectory: rules.path)
    }
}

@Suite("messenger and instagram options")
struct MetaOptionsTests {
    static func account(kind: String = "messenger", options: String) -> String {
        """
        kind: \(kind)
        id: fb-page
        queue: support
        secrets: { appSecret: META_APP_SECRET, verifyToken: META_VERIFY, pageAccessToken: META_PAGE_TOKEN }
        options:
        \(options)
        """
    }

    @Test("a complete account loads, with the defaults filled in, and makes a Meta adapter")
    func complete() throws {
        let result = try ChannelFile.load(
            Self.account(options: "  pageId: \"1234567890\"\n  outsideWindowTag: HUMAN_AGENT"),
            environment: ["META_APP_SECRET": "a", "META_VERIFY": "v", "META_PAGE_TOKEN": "t"])
        #expect(result.errors.isEmpty, "\(result.errors)")
        let account = try #require(result.configuration?.channels.first)
        #expect(account.isActive)
        #expect(account.options as? MetaOptions == MetaOptions(pageID: "1234567890", outsideWindowTag: "HUMAN_AGENT"))
        let adapter = ChannelCatalog.adapter(for: account, httpClient: .shared, logger: Logger(label: "test"))
        #expect(adapter is MetaAdapter)
        #expect(adapter?.kind == .messenger)
    }

    @Test("mistakes are reported, saying what is wrong", arguments: [
        ("messenger", "  pageId: my-page", "is not the Facebook Page id"),
        ("instagram", "  pageId: https://instagram.com/acme", "is not the Instagram professional account id"),
        ("messenger", "  pageId: \"1\"\n  graphVersion: \"25\"", "is not a Graph API version"),
        ("messenger", "  pageId: \"1\"\n  graphBaseURL: graph.facebook.com", "is not an http(s) base URL"),
        ("messenger", "  pageId: \"1\"\n  outsideWindowTag: HUMAN_AGENTS", "did you mean 'HUMAN_AGENT'"),
        ("instagram", "  pageId: \"1\"\n  outsideWindowTag: ACCOUNT_UPDATE", "expected one of: HUMAN_AGENT"),
        ("messenger", "  pageId: \"1\"\n  pageToken: x", "unknown option 'pageToken'"),
        ("messenger", "  graphVersion: v25.0", "missing required key 'pageId'"),
    ])
    func mistakes(_ kind: String, options: String, message: String) throws {
        let result = try ChannelFile.load(Self.account(kind: kind, options: options))
        #expect(result.errors.contains { $0.message.contains(message) }, "\(result.errors)")
    }
}
