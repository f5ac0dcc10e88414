import AsyncHTTPClient
import Foundation
import HubModel
import HubTestSupport
import NIOCore
import NIOHTTP1

/// HTTP calls the end-to-end tests make, with a real client over loopback.
enum E2E {
    static let adminToken = "e2e-admin-token"
    static let inboundToken = "e2e-inbound-token"

    struct Reply: Sendable {
        var status: Int
        var json: JSONValue?
    }

    static func request(
        _ method: HTTPMethod, _ url: String, json: String? = nil, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(10)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 16 << 20)
        let json = try? HubJSON.makeDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
        return Reply(status: Int(response.status.code), json: json)
    }

    static func postMessage(_ base: String, account: String = "api-e2e", id: String, from: String, text: String) async throws -> Reply {
        let body = #"{"messageId":"\#(id)","from":{"id":"\#(from)"},"text":"\#(text)"}"#
        return try await request(.POST, "\(base)/webhooks/\(account)", json: body, headers: [("Authorization", "Bearer \(inboundToken)")])
    }

    static func admin(_ method: HTTPMethod, _ base: String, _ path: String, json: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        try await request(method, base + path, json: json, headers: [("Authorization", "Bearer \(adminToken)")] + headers)
    }

    /// A configuration with one `api` account delivering to `outboundURL`.
    static func configuration(in directory: TemporaryDirectory, outboundURL: String = "http://127.0.0.1:9/none") throws {
        try directory.write(
            "channels/api-e2e.yaml",
            """
            kind: api
            id: api-e2e
            queue: support
            secrets:
              signingSecret: E2E_SIGNING_SECRET
              inboundToken: E2E_INBOUND_TOKEN
            options:
              outboundURL: \(outboundURL)
            delivery:
              maxAttempts: 8
              initialBackoff: 100ms
              maxBackoff: 400ms
              attemptTimeout: 5s
            """)
        try directory.write(
            "routing-rules/rules.yaml",
            """
            queues:
              - id: support
            agents:
              - id: alice
                name: Alice
                queues: [support]
            """)
    }

    static func environment(_ directory: TemporaryDirectory, data: String = "data") -> [String: String] {
        [
            "HUB_HTTP": "127.0.0.1:0", "HUB_SMTP": "127.0.0.1:0", "HUB_SIP": "127.0.0.1:0",
            "HUB_DATA": directory.url.appendingPathComponent(data).path,
            "HUB_CHANNELS": directory.url.appendingPathComponent("channels").path,
            "HUB_ROUTING_RULES": directory.url.appendingPathComponent("routing-rules").path, "HUB_ADMIN_TOKEN": adminToken,
            "E2E_SIGNING_SECRET": "e2e-signing-secret", "E2E_INBOUND_TOKEN": inboundToken,
        ]
    }
}
