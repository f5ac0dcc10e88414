import AsyncHTTPClient
import Crypto
import Foundation
import HubChannels
import HubConfig
import HubModel
import HubTestSupport
import Logging
import Testing

@Suite("api channel")
struct APIChannelTests {
    static func account(outboundURL: String? = nil, token: Bool = true, timeout: Duration = .seconds(5)) -> ChannelAccountConfig {
        var secrets = ["signingSecret": Secret(variable: "S", value: "whsec-test")]
        if token { secrets["inboundToken"] = Secret(variable: "T", value: "token-1") }
        return ChannelAccountConfig(
            id: "api-demo", kind: .api, name: "Demo", secrets: secrets, options: APIChannelOptions(outboundURL: outboundURL),
            delivery: DeliveryPolicy(attemptTimeout: timeout), location: ConfigLocation(file: "channels/api-demo.yaml", line: 1, column: 1))
    }

    static func adapter(outboundURL: String? = nil, timeout: Duration = .seconds(5)) -> APIChannelAdapter {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return APIChannelAdapter(
            account: account(outboundURL: outboundURL, timeout: timeout), httpClient: .shared, logger: logger,
            now: { Date(timeIntervalSince1970: 1_795_000_000) })
    }

    static func post(_ body: String, headers: [(String, String)] = [("Authorization", "Bearer token-1"), ("Content-Type", "application/json")])
        -> WebhookRequest
    {
        WebhookRequest(method: "POST", url: "http://hub/webhooks/api-demo", path: "/webhooks/api-demo", headers: headers, body: Array(body.utf8))
    }

    static func json(_ response: WebhookResponse) throws -> JSONValue {
        try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(response.body))
    }

    @Test("a message becomes an InboundEvent; its retry is answered as a duplicate")
    func inboundMessage() async throws {
        let sink = RecordingSink()
        let body = """
            {"messageId":"ext-1","from":{"id":"user-42","name":"李雷"},"text":"订单还没到","sentAt":"2026-11-22T08:00:00Z",
             "attachments":[{"url":"https://cdn.example/a.png","contentType":"image/png","size":1200,"filename":"a.png"}],
             "attributes":{"language":"zh-CN"},"metadata":{"orderID":42},"threadKey":"order-42"}
            """
        let response = await Self.adapter().handleWebhook(Self.post(body), sink: sink)
        #expect(response.status == 201)
        let reply = try Self.json(response)
        #expect(reply["duplicate"] == .bool(false))
        #expect(reply["messageId"]?.stringValue?.hasPrefix("msg_") == true)
        let event = try #require(sink.events.first)
        #expect(event.channelKind == .api)
        #expect(event.channelAccountID == "api-demo")
        #expect(event.providerMessageID == "ext-1")
        #expect(event.sender == InboundSender(kind: nil, address: "user-42", displayName: "李雷"))
        #expect(event.text == "订单还没到")
        #expect(event.occurredAt == HubJSON.parseTimestamp("2026-11-22T08:00:00Z"))
        #expect(event.attachments == [Attachment(reference: "https://cdn.example/a.png", contentType: "image/png", byteCount: 1200, filename: "a.png")])
        #expect(event.attributes == ["language": "zh-CN"])
        #expect(event.metadata == ["orderID": .int(42)])
        #expect(event.threadKey == "order-42")

        let retry = await Self.adapter().handleWebhook(Self.post(body), sink: sink)
        #expect(retry.status == 200)
        #expect(try Self.json(retry)["duplicate"] == .bool(true))
        #expect(sink.events.count == 1)
    }

    @Test("an HMAC signature over the body authenticates as well as the token")
    func signature() async throws {
        let sink = RecordingSink()
        let body = #"{"messageId":"s-1","from":{"id":"+86 138 0013 8000","kind":"phone"},"text":"hi"}"#
        let signature = WebhookSignature.sha256(body: Array(body.utf8), secret: "whsec-test")
        let good = await Self.adapter().handleWebhook(Self.post(body, headers: [("X-Switchboard-Signature-256", signature)]), sink: sink)
        #expect(good.status == 201)
        #expect(sink.events.first?.sender.kind == .phone)
        let tampered = await Self.adapter().handleWebhook(
            Self.post(body.replacingOccurrences(of: "hi", with: "ho"), headers: [("X-Switchboard-Signature-256", signature)]), sink: sink)
        #expect(tampered.status == 401)
        // The signature matches an independent HMAC-SHA256 computation.
        let independent = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data("whsec-test".utf8)))
        #expect(signature == "sha256=" + independent.map { String(format: "%02x", $0) }.joined())
    }

    /// A bad request and the status and error code it must get.
    struct Rejection: CustomTestStringConvertible, Sendable {
        var name: String
        var request: WebhookRequest
        var status: Int
        var code: String
        var testDescription: String { name }
    }

    static let rejections: [Rejection] = [
        Rejection(name: "no credentials", request: post(#"{"messageId":"1","from":{"id":"u"},"text":"x"}"#, headers: []), status: 401, code: "unauthorized"),
        Rejection(name: "wrong token", request: post(#"{"messageId":"1","from":{"id":"u"},"text":"x"}"#, headers: [("Authorization", "Bearer nope")]), status: 401, code: "unauthorized"),
        Rejection(name: "malformed JSON", request: post(#"{"messageId": "1", "from": "#), status: 400, code: "invalid_json"),
        Rejection(name: "missing messageId", request: post(#"{"from":{"id":"u"},"text":"x"}"#), status: 400, code: "invalid_json"),
        Rejection(name: "wrong type", request: post(#"{"messageId":1,"from":{"id":"u"},"text":"x"}"#), status: 400, code: "invalid_json"),
        Rejection(name: "bad timestamp", request: post(#"{"messageId":"1","from":{"id":"u"},"text":"x","sentAt":"yesterday"}"#), status: 400, code: "invalid_json"),
        Rejection(name: "no sender", request: post(#"{"messageId":"1","text":"x"}"#), status: 422, code: "invalid_message"),
        Rejection(name: "bad sender kind", request: post(#"{"messageId":"1","from":{"id":"u","kind":"fax"},"text":"x"}"#), status: 422, code: "invalid_message"),
        Rejection(name: "unknown type", request: post(#"{"type":"typing","messageId":"1"}"#), status: 422, code: "invalid_message"),
        Rejection(name: "form body", request: post("a=b", headers: [("Authorization", "Bearer token-1"), ("Content-Type", "application/x-www-form-urlencoded")]), status: 415, code: "unsupported_media_type"),
        Rejection(
            name: "GET", request: WebhookRequest(method: "GET", url: "http://hub/x", path: "/x", headers: [("Authorization", "Bearer token-1")], body: []),
            status: 405, code: "method_not_allowed"),
    ]

    @Test("bad requests get the right status and a JSON error, and store nothing", arguments: rejections)
    func rejected(_ rejection: Rejection) async throws {
        let sink = RecordingSink()
        let response = await Self.adapter().handleWebhook(rejection.request, sink: sink)
        #expect(response.status == rejection.status)
        #expect(try Self.json(response)["error"]?["code"]?.stringValue == rejection.code)
        #expect(try Self.json(response)["error"]?["message"]?.stringValue?.isEmpty == false)
        #expect(sink.events.isEmpty)
    }

    @Test("ingest errors map to statuses: unavailable is 503 so the integrator retries")
    func ingestErrors() async throws {
        let body = #"{"messageId":"1","from":{"id":"u"},"text":"x"}"#
        let unavailable = await Self.adapter().handleWebhook(Self.post(body), sink: RecordingSink(failure: IngestError(.unavailable, "disk full")))
        #expect(unavailable.status == 503)
        let invalid = await Self.adapter().handleWebhook(Self.post(body), sink: RecordingSink(failure: IngestError(.invalidEvent, "no text")))
        #expect(invalid.status == 422)
    }

    @Test("status reports reach the sink; unknown message ids are 404")
    func statusReports() async throws {
        let sink = RecordingSink(knownProviderIDs: ["msg_1"])
        let ok = await Self.adapter().handleWebhook(Self.post(#"{"type":"status","messageId":"msg_1","status":"delivered"}"#), sink: sink)
        #expect(ok.status == 200)
        #expect(sink.statuses.map(\.status) == [.delivered])
        let unknown = await Self.adapter().handleWebhook(Self.post(#"{"type":"status","messageId":"msg_2","status":"read"}"#), sink: sink)
        #expect(unknown.status == 404)
        let bad = await Self.adapter().handleWebhook(Self.post(#"{"type":"status","messageId":"msg_1","status":"queued"}"#), sink: sink)
        #expect(bad.status == 422)
    }

    static func delivery(attempt: Int = 1) -> Delivery {
        Delivery(
            id: "dlv_1", idempotencyKey: "reply-7", channelAccountID: "api-demo", channelKind: .api, messageID: "msg_7",
            conversationID: "cnv_1", orderingKey: "cnv_1", recipient: HandleAddress(kind: .api, scope: "api-demo", address: "user-42"),
            content: OutboundContent(text: "您好，订单已发货", attachments: [Attachment(reference: "https://cdn/x.pdf", contentType: "application/pdf")]),
            state: .sending, attempts: attempt, maxAttempts: 5, nextAttemptAt: Date(timeIntervalSince1970: 0), createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test("a delivery is a signed JSON POST carrying the idempotency key; the provider's id is kept")
    func deliver() async throws {
        let provider = FakeProvider { _, _ in .ok(#"{"id":"EXT-99"}"#) }
        let receipt = try await provider.serve { base in
            try await Self.adapter(outboundURL: base + "/replies").deliver(Self.delivery())
        }
        #expect(receipt.providerMessageID == "EXT-99")
        let request = try #require(provider.requests.first)
        #expect(request.path == "/replies")
        #expect(request.headers["idempotency-key"] == "reply-7")
        #expect(request.headers["x-switchboard-delivery"] == "dlv_1")
        #expect(request.headers["content-type"]?.hasPrefix("application/json") == true)
        let signature = try #require(request.headers["x-switchboard-signature-256"])
        #expect(WebhookSignature.isValidSHA256(signature, body: request.body, secret: "whsec-test"))
        #expect(!WebhookSignature.isValidSHA256(signature, body: request.body, secret: "other"))
        let json = try request.json()
        #expect(json["text"]?.stringValue == "您好，订单已发货")
        #expect(json["to"]?["address"]?.stringValue == "user-42")
        #expect(json["messageId"]?.stringValue == "msg_7")
        #expect(json["deliveryId"]?.stringValue == "dlv_1")
        #expect(json["attempt"]?.intValue == 1)
        #expect(json["sentAt"]?.stringValue == "2026-11-18T11:06:40.000Z")
        #expect(json["attachments"]?.decodeArrayCount == 1)
    }

    @Test("without an id from the provider, the hub's message id is the provider id")
    func deliverWithoutID() async throws {
        let provider = FakeProvider { _, _ in FakeProvider.Reply(status: 204) }
        let receipt = try await provider.serve { base in try await Self.adapter(outboundURL: base).deliver(Self.delivery()) }
        #expect(receipt.providerMessageID == "msg_7")
    }

    /// A provider answer and how the adapter must classify it.
    struct Failure: CustomTestStringConvertible, Sendable {
        var reply: FakeProvider.Reply
        var retryable: Bool
        var retryAfter: Duration?
        var testDescription: String { "HTTP \(reply.status)" }
    }

    @Test(
        "provider errors: 408, 429 and 5xx are worth a retry (honouring Retry-After); other 4xx are not",
        arguments: [
            Failure(reply: .init(status: 429, headers: ["Retry-After": "7"]), retryable: true, retryAfter: .seconds(7)),
            Failure(reply: .init(status: 503, body: "maintenance"), retryable: true),
            Failure(reply: .init(status: 500), retryable: true),
            Failure(reply: .init(status: 408), retryable: true),
            Failure(reply: .init(status: 400, body: #"{"error":"unknown recipient"}"#), retryable: false),
            Failure(reply: .init(status: 404), retryable: false),
        ])
    func providerFailures(_ failure: Failure) async throws {
        let provider = FakeProvider { _, _ in failure.reply }
        let result = try await provider.serve { base in
            do {
                _ = try await Self.adapter(outboundURL: base).deliver(Self.delivery())
                return DeliveryFailure?.none
            } catch let error as DeliveryFailure {
                return DeliveryFailure?.some(error)
            }
        }
        let error = try #require(result)
        #expect(error.isRetryable == failure.retryable)
        #expect(error.retryAfter == failure.retryAfter)
        #expect(error.reason.contains("\(failure.reply.status)"))
        if !failure.reply.body.isEmpty { #expect(error.reason.contains(failure.reply.body)) }
    }

    @Test("an unreachable provider is a transient failure; no outbound URL is a permanent one")
    func unreachable() async throws {
        do {
            _ = try await Self.adapter(outboundURL: "http://127.0.0.1:9/nothing-listens", timeout: .milliseconds(500)).deliver(Self.delivery())
            Issue.record("delivery to a closed port succeeded")
        } catch {
            #expect(error.isRetryable)
        }
        do {
            _ = try await Self.adapter(outboundURL: nil).deliver(Self.delivery())
            Issue.record("delivery without a URL succeeded")
        } catch {
            #expect(!error.isRetryable)
            #expect(error.reason.contains("outboundURL"))
        }
    }
}

extension JSONValue {
    var decodeArrayCount: Int? {
        if case .array(let items) = self { return items.count }
        return nil
    }
}
