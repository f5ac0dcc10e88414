import Foundation
import HubConfig
import HubEngine
import HubModel
import HubServer
import HubStore
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// A hub built from YAML files in a temporary directory, driven through its router.
struct ServerFixture {
    let server: HubServer
    let directory: TemporaryDirectory

    static let channel = """
        kind: api
        id: api-demo
        queue: support
        secrets:
          signingSecret: TEST_SIGNING_SECRET
          inboundToken: TEST_INBOUND_TOKEN
        options:
          outboundURL: http://127.0.0.1:9/replies
        """

    static let bridge = """
        kind: api
        id: sms-bridge
        queue: support
        defaultRegion: CN
        secrets:
          signingSecret: TEST_SIGNING_SECRET
        """

    static let rules = """
        queues:
          - id: support
        agents:
          - id: alice
            name: Alice
            queues: [support]
        """

    static let environment = ["TEST_SIGNING_SECRET": "whsec", "TEST_INBOUND_TOKEN": "inbound-token"]

    init(maximumBodyBytes: Int = 1 << 20, rules: String = ServerFixture.rules) async throws {
        directory = try TemporaryDirectory("hub-server")
        try directory.write("channels/api-demo.yaml", Self.channel)
        try directory.write("channels/sms-bridge.yaml", Self.bridge)
        try directory.write("routing-rules/rules.yaml", rules)
        var configuration = HubServerConfiguration(
            httpHost: "127.0.0.1", httpPort: 0, dataDirectory: directory.url.appendingPathComponent("data").path,
            channelsDirectory: directory.url.appendingPathComponent("channels").path,
            routingRulesDirectory: directory.url.appendingPathComponent("routing-rules").path, durability: .normal,
            maximumBodyBytes: maximumBodyBytes)
        configuration.adminToken = Secret(variable: "HUB_ADMIN_TOKEN", value: "admin-token")
        configuration.scrapeToken = Secret(variable: "HUB_METRICS_TOKEN", value: "scrape-token")
        // Password hashing as fast as bcrypt allows: the tests log in often.
        configuration.auth.bcryptCost = 4
        let result = HubServer.loadConfiguration(configuration, environment: Self.environment)
        guard let hub = result.configuration else { throw ConfigError(diagnostics: result.diagnostics) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = try await HubServer(configuration: configuration, hubConfiguration: hub, logger: logger)
    }

    struct ConfigError: Error { var diagnostics: [ConfigDiagnostic] }

    /// Drives the router without a socket.
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        defer { directory.remove() }
        let app = Application(router: server.makeRouter())
        try await app.test(.router) { client in try await body(client) }
    }
}

/// Request helpers.
extension TestClientProtocol {
    func postMessage(account: String = "api-demo", _ json: String, token: String = "inbound-token") async throws -> (HTTPResponse.Status, JSONValue) {
        try await execute(
            uri: "/webhooks/\(account)", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: ByteBuffer(string: json)
        ) { response in (response.status, try response.jsonValue()) }
    }

    func admin(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers extra: HTTPFields = [:]) async throws
        -> (HTTPResponse.Status, JSONValue)
    {
        var headers: HTTPFields = [.authorization: "Bearer admin-token"]
        if json != nil { headers[.contentType] = "application/json" }
        headers.append(contentsOf: extra)
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            (response.status, response.body.readableBytes == 0 ? .null : try response.jsonValue())
        }
    }

    /// A request with an agent's token.
    func agent(_ token: String, _ method: HTTPRequest.Method, _ uri: String, json: String? = nil) async throws -> (HTTPResponse.Status, JSONValue) {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            (response.status, response.body.readableBytes == 0 ? .null : try response.jsonValue())
        }
    }

    /// Sets the agent's password (as admin) and logs in; returns the token.
    func login(_ agent: String, password: String = "a long enough password") async throws -> String {
        let (set, _) = try await admin(.post, "/v1/agents/\(agent)/password", json: #"{"password":"\#(password)"}"#)
        #expect(set == .noContent)
        let (status, body) = try await execute(
            uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"login":"\#(agent)","password":"\#(password)"}"#)
        ) { response in (response.status, try response.jsonValue()) }
        #expect(status == .ok)
        return try #require(body["token"]?.stringValue)
    }
}

extension TestResponse {
    func jsonValue() throws -> JSONValue {
        try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
    }
}

extension JSONValue {
    var items: [JSONValue] {
        if case .array(let values) = self["items"] ?? .null { return values }
        return []
    }

    var errorCode: String? { self["error"]?["code"]?.stringValue }
}
