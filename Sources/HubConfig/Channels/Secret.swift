/// A secret read from the environment. Its description never shows the value, so it cannot leak
/// into logs or error messages by accident.
public struct Secret: Sendable, Hashable, CustomStringConvertible {
    /// The environment variable it came from.
    public let variable: String
    public let value: String

    public init(variable: String, value: String) {
        self.variable = variable
        self.value = value
    }

    public var description: String { "<secret from $\(variable)>" }
}

/// The names of environment variables that may hold secrets: upper case, digits and underscores,
/// as shells export them. Anything else in a `secrets:` block is taken for an inline secret and
/// refused.
enum SecretVariableName {
    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}
