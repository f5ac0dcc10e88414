/// An extra header field for an outgoing message, in the order given.
public struct MailHeaderField: Sendable, Hashable {
    /// The field name, e.g. `X-Ticket`.
    public var name: String
    /// The unstructured value; non-ASCII text is RFC 2047-encoded and long values folded.
    public var value: String

    /// Creates a header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
