/// A refusal of the inbox (REST or WebSocket), with a stable code; the edges map it to an HTTP
/// status or an error frame.
public struct InboxError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case invalid = "invalid_request"
        case conflict
        case rateLimited = "rate_limited"
    }

    public var code: Code
    public var message: String
    /// For `rateLimited`: when to try again.
    public var retryAfter: Duration?

    public init(_ code: Code, _ message: String, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func notFound(_ message: String) -> InboxError { InboxError(.notFound, message) }
    public static func forbidden(_ message: String) -> InboxError { InboxError(.forbidden, message) }
    public static func invalid(_ message: String) -> InboxError { InboxError(.invalid, message) }
}
