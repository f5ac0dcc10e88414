/// Why a message could not be handed to the relay.
///
/// `isPermanent` decides what the outbox does: a permanent failure (a 5xx reply) marks the
/// message failed; anything else (4xx, network trouble, timeouts) is retried later.
public struct SMTPSendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Whether retrying cannot help (the relay said 5xx).
    public var isPermanent: Bool
    /// The relay's reply, when the failure was a reply.
    public var reply: SMTPReply?
    /// Where it failed: `connect`, `greeting`, `ehlo`, `starttls`, `auth`, `mail`, `rcpt`,
    /// `data` or `message` (the reply after the final dot).
    public var stage: String
    /// What went wrong without a reply (a network error, a timeout, a missing extension).
    public var reason: String?

    /// Creates an error.
    public init(isPermanent: Bool, reply: SMTPReply?, stage: String, reason: String? = nil) {
        self.isPermanent = isPermanent
        self.reply = reply
        self.stage = stage
        self.reason = reason
    }

    /// An error for an unexpected reply: permanent exactly when it is 5xx.
    static func unexpected(_ reply: SMTPReply, at stage: String) -> SMTPSendError {
        SMTPSendError(isPermanent: reply.isPermanent, reply: reply, stage: stage)
    }

    public var description: String {
        var text = "SMTP \(isPermanent ? "permanent" : "transient") failure at \(stage)"
        if let reply { text += ": \(reply)" }
        if let reason { text += (reply == nil ? ": " : " (") + reason + (reply == nil ? "" : ")") }
        return text
    }
}
