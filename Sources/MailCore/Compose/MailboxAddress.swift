/// A mailbox for composing: an optional display name and an address (RFC 5322 §3.4).
public struct MailboxAddress: Sendable, Hashable {
    /// The display name, e.g. `"Support Team"` or `"客服"`; encoded as needed.
    public var displayName: String?
    /// The address, e.g. `support@hub.example`.
    public var address: String

    /// Creates a mailbox.
    public init(displayName: String? = nil, address: String) {
        self.displayName = displayName
        self.address = address
    }
}
