import Foundation

/// A value of a task's or an agent's attribute, as routing rules see it.
public enum AttributeValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([String])

    /// Reads a value written in configuration or sent by a channel: `true`/`false`, a number, or
    /// text.
    public init(parsing text: String) {
        switch text {
        case "true": self = .bool(true)
        case "false": self = .bool(false)
        default:
            if let number = Double(text), number.isFinite { self = .number(number) } else { self = .string(text) }
        }
    }

    public var description: String {
        switch self {
        case .string(let text): "'\(text.replacingOccurrences(of: "'", with: "\\'"))'"
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list(let items): "[" + items.map { AttributeValue.string($0).description }.joined(separator: ", ") + "]"
        }
    }

    /// The value as text, for skill names built from attributes (`lang-${task.language}`).
    public var text: String {
        switch self {
        case .string(let text): text
        case .number, .bool: description
        case .list(let items): items.joined(separator: ",")
        }
    }

    var truthy: Bool {
        switch self {
        case .bool(let flag): flag
        case .number(let number): number != 0
        case .string(let text): !text.isEmpty
        case .list(let items): !items.isEmpty
        }
    }
}

/// Well-known task attribute names, set by the hub from the customer and the conversation.
public enum TaskAttribute {
    /// The customer's tier ("standard", "vip", ...).
    public static let tier = "tier"
    /// `true` for VIP customers.
    public static let vip = "vip"
    public static let language = "language"
    public static let intent = "intent"
    public static let sentiment = "sentiment"
    /// The agent who owns the customer.
    public static let ownerAgent = "ownerAgent"
    /// The agent who served the customer last.
    public static let lastAgent = "lastAgent"
    public static let customer = "customer"
    public static let channel = "channel"
}
