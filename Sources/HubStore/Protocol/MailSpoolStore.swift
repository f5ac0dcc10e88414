import Foundation

/// The SMTP envelope of a spooled mail, as the listener received it (the store keeps it without
/// knowing SMTP).
public struct SpooledEnvelope: Sendable, Hashable {
    public var heloName: String
    /// The reverse path; `""` for the null sender.
    public var mailFrom: String
    public var recipients: [String]
    public var remoteAddress: String?
    public var remotePort: Int?
    public var usedTLS: Bool
    /// MAIL FROM parameters (upper-cased keys).
    public var parameters: [String: String]

    public init(
        heloName: String, mailFrom: String, recipients: [String], remoteAddress: String?, remotePort: Int?, usedTLS: Bool,
        parameters: [String: String]
    ) {
        self.heloName = heloName
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.usedTLS = usedTLS
        self.parameters = parameters
    }
}

/// A mail to put in the spool.
public struct NewSpooledMail: Sendable {
    public var receivedAt: Date
    public var envelope: SpooledEnvelope
    /// The message as received (with the listener's `Received:` header first).
    public var message: [UInt8]

    public init(receivedAt: Date, envelope: SpooledEnvelope, message: [UInt8]) {
        self.receivedAt = receivedAt
        self.envelope = envelope
        self.message = message
    }
}

/// A mail in the spool: accepted (the sender has its 250), not yet threaded into a conversation.
public struct SpooledMail: Sendable {
    public var id: Int64
    public var receivedAt: Date
    public var envelope: SpooledEnvelope
    public var message: [UInt8]
    /// Attempts to process it that ended in a transient failure.
    public var attempts: Int
    public var lastError: String?

    public init(id: Int64, receivedAt: Date, envelope: SpooledEnvelope, message: [UInt8], attempts: Int, lastError: String?) {
        self.id = id
        self.receivedAt = receivedAt
        self.envelope = envelope
        self.message = message
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// What the spool holds.
public struct MailSpoolSummary: Sendable, Hashable {
    /// Mails in the spool, deferred ones included.
    public var waiting: Int
    /// Mails whose last attempt failed and that wait for their next one.
    public var deferred: Int
    public var oldestReceivedAt: Date?
    /// The earliest next attempt of a deferred mail.
    public var nextAttemptAt: Date?

    public init(waiting: Int, deferred: Int, oldestReceivedAt: Date?, nextAttemptAt: Date?) {
        self.waiting = waiting
        self.deferred = deferred
        self.oldestReceivedAt = oldestReceivedAt
        self.nextAttemptAt = nextAttemptAt
    }
}

/// The inbound mail spool (as Postfix's incoming queue): the SMTP listener commits each mail here
/// before its 250, and the mail is threaded into the conversation model afterwards, then removed.
public protocol MailSpoolStore: Sendable {
    /// Commits `mails` in one transaction and calls `completion` (on the writer's thread) with
    /// their ids, in order, once the commit is durable, or with the error. A callback rather
    /// than `async`: the listener's event loop waits for it without a task per mail.
    func spoolMails(_ mails: [NewSpooledMail], completion: @escaping @Sendable (Result<[Int64], StoreError>) -> Void)
    /// Mails due at `now` (never tried, or deferred until then), oldest first.
    func spooledMails(dueAt now: Date, limit: Int) async throws -> [SpooledMail]
    /// Removes processed mails.
    func removeSpooledMails(_ ids: [Int64]) async throws
    /// Records a transient failure: the mail is tried again at `until`.
    func deferSpooledMail(_ id: Int64, until: Date, error: String) async throws
    func mailSpoolSummary() async throws -> MailSpoolSummary
}
