/// The header fields of a message or MIME part, in their original order.
public struct MailHeaders: Sendable, Hashable {
    /// Every field in order, duplicates included.
    public var fields: [MailHeader]

    /// Creates a header section from fields in order.
    public init(_ fields: [MailHeader] = []) {
        self.fields = fields
    }

    /// The raw value of the first field with this name (compared case-insensitively).
    public subscript(name: String) -> String? {
        for field in fields where field.name.isEqualIgnoringASCIICase(name) {
            return field.rawValue
        }
        return nil
    }

    /// The raw values of every field with this name, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.isEqualIgnoringASCIICase(name) }.map(\.rawValue)
    }

    /// Whether a field with this name is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { $0.name.isEqualIgnoringASCIICase(name) }
    }

    /// The first field with this name, RFC 2047 encoded words decoded, unfolded and trimmed.
    public func decoded(_ name: String) -> String? {
        guard let raw = self[name] else { return nil }
        return EncodedWords.decode(raw).trimmingMailWhitespace()
    }
}
