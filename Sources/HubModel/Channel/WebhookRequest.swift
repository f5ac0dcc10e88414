import Foundation

/// An HTTP request to a channel account's webhook, independent of the HTTP server, so adapters
/// are testable without one.
public struct WebhookRequest: Sendable {
    public var method: String
    /// The full URL as the provider called it (signatures such as Twilio's cover it).
    public var url: String
    public var path: String
    public var query: [(name: String, value: String)]
    /// Header names lower-cased.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String, url: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], body: [UInt8]
    ) {
        self.method = method
        self.url = url
        self.path = path
        self.query = query
        self.headers = headers.map { header in
            header.name.utf8.contains { $0 >= 65 && $0 <= 90 } ? (header.name.lowercased(), header.value) : header
        }
        self.body = body
    }

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}

/// The answer to a webhook request.
public struct WebhookResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer.
    public static func json(_ status: Int, _ value: some Encodable) -> WebhookResponse {
        let body: [UInt8]
        if let writable = value as? any JSONWritable {
            var writer = JSONWriter(capacity: 256)
            writable.writeJSON(to: &writer)
            body = writer.bytes
        } else {
            body = (try? HubJSON.makeEncoder().encode(value)).map(Array.init) ?? Array("{}".utf8)
        }
        return WebhookResponse(status: status, headers: [("content-type", "application/json; charset=utf-8")], body: body)
    }

    /// The hub's error shape, `{"error": {"code": ..., "message": ...}}`.
    public static func error(_ status: Int, code: String, message: String) -> WebhookResponse {
        json(status, ErrorBody(error: .init(code: code, message: message)))
    }
}

/// The hub's JSON error body, the same on every HTTP endpoint.
public struct ErrorBody: Sendable, Codable, Hashable {
    public var error: Detail

    public init(error: Detail) { self.error = error }

    /// The code (stable, for programs) and message (for people).
    public struct Detail: Sendable, Codable, Hashable {
        public var code: String
        public var message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
}
