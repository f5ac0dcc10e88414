import Foundation

/// Everything an outgoing message says, before it is turned into RFC 5322 bytes by
/// `MailComposer.compose(_:)`.
public struct OutgoingMail: Sendable {
    /// The author.
    public var from: MailboxAddress
    /// Primary recipients.
    public var to: [MailboxAddress]
    /// Copies.
    public var cc: [MailboxAddress]
    /// Where replies should go (e.g. a ticket's plus-address).
    public var replyTo: [MailboxAddress]
    /// The subject.
    public var subject: String
    /// The plain-text body.
    public var text: String
    /// An HTML alternative; the message becomes multipart/alternative.
    public var html: String?
    /// The Message-ID without angle brackets (see `MailComposer.makeMessageID(domain:)`).
    public var messageID: String
    /// The Message-ID this replies to, without angle brackets.
    public var inReplyTo: String?
    /// The thread's Message-IDs, oldest first, without angle brackets.
    public var references: [String]
    /// The Date header.
    public var date: Date
    /// The zone the Date header is written in. Default UTC.
    public var timeZone: TimeZone
    /// RFC 3834 `Auto-Submitted` (`auto-replied`, `auto-generated`) for automatic mail; any
    /// value other than `no` also adds `X-Auto-Response-Suppress: All`. `nil` for human mail.
    public var autoSubmitted: String?
    /// More header fields, written after the standard ones.
    public var extraHeaders: [MailHeaderField]
    /// Attachments and inline parts.
    public var attachments: [OutgoingAttachment]

    /// Creates a message.
    public init(
        from: MailboxAddress,
        to: [MailboxAddress],
        cc: [MailboxAddress] = [],
        replyTo: [MailboxAddress] = [],
        subject: String,
        text: String,
        html: String? = nil,
        messageID: String,
        inReplyTo: String? = nil,
        references: [String] = [],
        date: Date = Date(),
        timeZone: TimeZone = TimeZone(identifier: "UTC")!,
        autoSubmitted: String? = nil,
        extraHeaders: [MailHeaderField] = [],
        attachments: [OutgoingAttachment] = []
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.timeZone = timeZone
        self.autoSubmitted = autoSubmitted
        self.extraHeaders = extraHeaders
        self.attachments = attachments
    }
}
