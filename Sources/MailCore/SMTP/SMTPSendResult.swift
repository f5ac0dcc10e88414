/// The outcome of a message the relay accepted (at least one recipient).
public struct SMTPSendResult: Sendable, Hashable {
    /// Recipients the relay accepted at RCPT.
    public var acceptedRecipients: [String]
    /// Recipients the relay refused at RCPT, with its reply.
    public var rejectedRecipients: [String: SMTPReply]
    /// The reply after the final dot (usually `250 2.0.0 OK queued as ...`).
    public var finalReply: SMTPReply

    /// Creates a result.
    public init(acceptedRecipients: [String], rejectedRecipients: [String: SMTPReply], finalReply: SMTPReply) {
        self.acceptedRecipients = acceptedRecipients
        self.rejectedRecipients = rejectedRecipients
        self.finalReply = finalReply
    }
}
