/// A store operation that could not be done, with a stable code and a message for people.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The kinds of store error.
    public enum Code: String, Sendable, Hashable {
        /// A record named in the request does not exist.
        case notFound = "not_found"
        /// The change contradicts what is stored (a handle owned by someone else, a customer
        /// already merged).
        case conflict
        /// The request itself is invalid.
        case invalid
        /// The database failed; nothing was changed.
        case unavailable
    }

    public static func notFound(_ message: String) -> Self { Self(.notFound, message) }
    public static func conflict(_ message: String) -> Self { Self(.conflict, message) }
    public static func invalid(_ message: String) -> Self { Self(.invalid, message) }

    public var description: String { "\(code.rawValue): \(message)" }
}
