/// One header field as it appeared in the message.
public struct MailHeader: Sendable, Hashable {
    /// The field name as written (case preserved), e.g. `Subject`.
    public var name: String
    /// The field body, unfolded (line breaks removed) and trimmed but not RFC 2047-decoded.
    public var rawValue: String

    /// Creates a header field.
    public init(name: String, rawValue: String) {
        self.name = name
        self.rawValue = rawValue
    }
}
