import Foundation
import HTTPTypes
import HubModel
import HubServer
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("HTTP: webhooks and admin API")
struct WebhookAndAdminTests {
    @Test("health answers at once; readiness only once the server runs")
    func health() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            let (status, body) = try await client.admin(.get, "/healthz")
            #expect(status == .ok)
            #expect(body["status"]?.stringValue == "ok")
            let (notReady, checks) = try await client.admin(.get, "/readyz")
            #expect(notReady == .serviceUnavailable)
            #expect(checks["checks"]?["phase"]?.stringValue == "starting")
            fixture.server.readiness.set(.ready)
            let (ready, readyBody) = try await client.admin(.get, "/readyz")
            #expect(ready == .ok)
            #expect(readyBody["checks"]?["database"]?.stringValue == "ok")
            fixture.server.readiness.set(.stopping)
            #expect(try await client.admin(.get, "/readyz").0 == .serviceUnavailable)
        }
    }

    @Test("the same inbound message posted twice yields one message and one message event")
    func duplicatePost() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            let message = #"{"messageId":"ext-42","from":{"id":"user-7","name":"王芳"},"text":"我的快递在哪里？"}"#
            let (first, stored) = try await client.postMessage(message)
            #expect(first == .created)
            #expect(stored["duplicate"] == .bool(false))
            let (events, before) = try await client.admin(.get, "/v1/events?limit=1000")
            #expect(events == .ok)
            let (second, again) = try await client.postMessage(message)
            #expect(second == .ok)
            #expect(again["duplicate"] == .bool(true))
            #expect(again["messageId"] == stored["messageId"])
            let (_, after) = try await client.admin(.get, "/v1/events?limit=1000")
            #expect(after.items.count == before.items.count)
            #expect(after.items.filter { $0["kind"]?.stringValue == "message.received" }.count == 1)
            let conversation = try #require(stored["conversationId"]?.stringValue)
            let (_, messages) = try await client.admin(.get, "/v1/conversations/\(conversation)/messages")
            #expect(messages.items.count == 1)
            #expect(messages.items.first?["text"]?.stringValue == "我的快递在哪里？")
        }
    }

    @Test("two handles of one person, merged over the API, resolve to one customer; the unmerge restores both")
    func mergeOverHTTP() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            let (_, web) = try await client.postMessage(#"{"messageId":"w1","from":{"id":"crm-1001","name":"Li Lei"},"text":"hi"}"#)
            let (_, sms) = try await client.postMessage(
                account: "sms-bridge", #"{"messageId":"s1","from":{"id":"138 0013 8000","kind":"phone"},"text":"same person"}"#, token: "x")
            #expect(sms["error"] != nil)  // the bridge has no inbound token: only signatures
            let body = #"{"messageId":"s1","from":{"id":"138 0013 8000","kind":"phone"},"text":"same person"}"#
            let signature = "sha256=" + hmac(body, key: "whsec")
            let smsStored = try await client.execute(
                uri: "/webhooks/sms-bridge", method: .post,
                headers: [HTTPField.Name("X-Switchboard-Signature-256")!: signature, .contentType: "application/json"], body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .created)
                return try response.jsonValue()
            }
            let a = try #require(web["customerId"]?.stringValue)
            let b = try #require(smsStored["customerId"]?.stringValue)
            #expect(a != b)

            let (merged, merge) = try await client.admin(.post, "/v1/customers/\(a)/merge", json: #"{"customerId":"\#(b)"}"#)
            #expect(merged == .ok)
            #expect(merge["survivorId"]?.stringValue == a)
            let (_, byPhone) = try await client.admin(.get, "/v1/customers?handleKind=phone&address=%2B8613800138000")
            #expect(byPhone["customer"]?["id"]?.stringValue == a)
            let (_, survivor) = try await client.admin(.get, "/v1/customers/\(a)")
            #expect(survivor["handles"]?.arrayCount == 2)
            let (_, mergedCustomer) = try await client.admin(.get, "/v1/customers/\(b)")
            #expect(mergedCustomer["customer"]?["mergedInto"]?.stringValue == a)

            let (unmerged, _) = try await client.admin(.post, "/v1/customers/\(b)/unmerge")
            #expect(unmerged == .ok)
            let (_, byPhoneAgain) = try await client.admin(.get, "/v1/customers?handleKind=phone&address=13800138000&channelAccountId=sms-bridge")
            #expect(byPhoneAgain["customer"]?["id"]?.stringValue == b)
            let (_, restored) = try await client.admin(.get, "/v1/customers/\(a)/handles")
            let addresses = restored.items.map { $0["address"]?.stringValue }
            #expect(addresses == ["crm-1001"])
            let (_, timeline) = try await client.admin(.get, "/v1/customers/\(a)/timeline")
            let kinds = timeline.items.compactMap { $0["kind"]?.stringValue }
            #expect(kinds.contains("customer.unmerged"))
            // Unmerging again is a conflict, answered as such.
            let (again, error) = try await client.admin(.post, "/v1/customers/\(b)/unmerge")
            #expect(again == .conflict)
            #expect(error.errorCode == "conflict")
        }
    }

    @Test("a reply through the API is queued once per idempotency key")
    func replyIdempotency() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            let (_, stored) = try await client.postMessage(#"{"messageId":"m1","from":{"id":"u1"},"text":"hello"}"#)
            let conversation = try #require(stored["conversationId"]?.stringValue)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "send-1"]
            let (first, sent) = try await client.admin(.post, "/v1/conversations/\(conversation)/messages", json: #"{"text":"您好"}"#, headers: key)
            #expect(first == .accepted)
            #expect(sent["delivery"]?["state"]?.stringValue == "pending")
            let (second, again) = try await client.admin(.post, "/v1/conversations/\(conversation)/messages", json: #"{"text":"您好"}"#, headers: key)
            #expect(second == .ok)
            #expect(again["duplicate"] == .bool(true))
            #expect(again["message"]?["id"] == sent["message"]?["id"])
            let (_, messages) = try await client.admin(.get, "/v1/conversations/\(conversation)/messages")
            #expect(messages.items.count == 2)
            let deliveryID = try #require(sent["delivery"]?["id"]?.stringValue)
            let (found, delivery) = try await client.admin(.get, "/v1/deliveries/\(deliveryID)")
            #expect(found == .ok)
            #expect(delivery["idempotencyKey"]?.stringValue == "send-1")
            let (note, noted) = try await client.admin(.post, "/v1/conversations/\(conversation)/messages", json: #"{"text":"VIP","note":true}"#)
            #expect(note == .accepted)
            #expect(noted["delivery"] == nil)
        }
    }

    /// A bad request, and the status and error code it must get.
    struct BadRequest: CustomTestStringConvertible, Sendable {
        var name: String
        var method: HTTPRequest.Method
        var uri: String
        var headers: HTTPFields
        var body: String?
        var status: HTTPResponse.Status
        var code: String
        var testDescription: String { name }
    }

    static let json: HTTPFields = [.authorization: "Bearer inbound-token", .contentType: "application/json"]
    static let admin: HTTPFields = [.authorization: "Bearer admin-token", .contentType: "application/json"]

    static let badRequests: [BadRequest] = [
        BadRequest(name: "malformed JSON", method: .post, uri: "/webhooks/api-demo", headers: json, body: #"{"messageId": "#, status: .badRequest, code: "invalid_json"),
        BadRequest(name: "JSON of the wrong shape", method: .post, uri: "/webhooks/api-demo", headers: json, body: "[1,2]", status: .badRequest, code: "invalid_json"),
        BadRequest(name: "unknown channel account", method: .post, uri: "/webhooks/no-such-account", headers: json, body: "{}", status: .notFound, code: "unknown_channel_account"),
        BadRequest(name: "oversize body", method: .post, uri: "/webhooks/api-demo", headers: json, body: String(repeating: "x", count: 1_100_000), status: .contentTooLarge, code: "body_too_large"),
        BadRequest(name: "empty text", method: .post, uri: "/webhooks/api-demo", headers: json, body: #"{"messageId":"e","from":{"id":"u"},"text":""}"#, status: .unprocessableContent, code: "invalid_message"),
        BadRequest(name: "unknown route", method: .get, uri: "/no/such/path", headers: [:], body: nil, status: .notFound, code: "not_found"),
        BadRequest(name: "admin API without token", method: .get, uri: "/v1/events", headers: [:], body: nil, status: .unauthorized, code: "unauthorized"),
        BadRequest(name: "admin API, wrong token", method: .get, uri: "/v1/events", headers: [.authorization: "Bearer guess"], body: nil, status: .unauthorized, code: "unauthorized"),
        BadRequest(name: "admin JSON malformed", method: .post, uri: "/v1/customers", headers: admin, body: "{nope", status: .badRequest, code: "invalid_json"),
        BadRequest(name: "admin body not JSON", method: .post, uri: "/v1/customers", headers: [.authorization: "Bearer admin-token", .contentType: "text/plain"], body: "hi", status: .unsupportedMediaType, code: "unsupported_media_type"),
        BadRequest(name: "unknown customer", method: .get, uri: "/v1/customers/cus_nope", headers: admin, body: nil, status: .notFound, code: "not_found"),
        BadRequest(name: "bad limit", method: .get, uri: "/v1/events?limit=0", headers: admin, body: nil, status: .unprocessableContent, code: "invalid_request"),
        BadRequest(name: "bad handle", method: .post, uri: "/v1/customers", headers: admin, body: #"{"handles":[{"kind":"email","address":"nope"}]}"#, status: .unprocessableContent, code: "invalid_request"),
        BadRequest(name: "merge into itself", method: .post, uri: "/v1/customers/cus_x/merge", headers: admin, body: #"{"customerId":"cus_x"}"#, status: .unprocessableContent, code: "invalid_request"),
    ]

    @Test("bad input gets a 4xx with a JSON error, never a crash", arguments: badRequests)
    func badInput(_ bad: BadRequest) async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await client.execute(uri: bad.uri, method: bad.method, headers: bad.headers, body: bad.body.map { ByteBuffer(string: $0) }) { response in
                #expect(response.status == bad.status)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body = try response.jsonValue()
                #expect(body.errorCode == bad.code)
                #expect(body["error"]?["message"]?.stringValue?.isEmpty == false)
            }
            // And the hub still works afterwards.
            let (status, _) = try await client.postMessage(#"{"messageId":"after","from":{"id":"u"},"text":"still here"}"#)
            #expect(status == .created)
        }
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case .array(let values) = self { return values.count }
        return nil
    }
}

import Crypto

func hmac(_ text: String, key: String) -> String {
    HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(key.utf8))).map { String(format: "%02x", $0) }.joined()
}
