import Foundation

/// An e-mail message read from its RFC 5322 bytes: the envelope-like header fields, the text
/// and sanitized HTML an agent sees, attachments and, for bounces, the delivery report.
///
/// `parse` never fails; what was malformed is listed in `problems`, and `raw` keeps the
/// original bytes.
public struct MailMessage: Sendable {
    /// Every top-level header field in order.
    public var headers: MailHeaders
    /// The Message-ID without angle brackets.
    public var messageID: String?
    /// The In-Reply-To message ids, without angle brackets.
    public var inReplyTo: [String]
    /// The References message ids in order, without angle brackets.
    public var references: [String]
    /// The subject, RFC 2047-decoded.
    public var subject: String?
    /// The From mailboxes (usually one).
    public var from: [MailAddress]
    /// The To mailboxes.
    public var to: [MailAddress]
    /// The Cc mailboxes.
    public var cc: [MailAddress]
    /// The Reply-To mailboxes.
    public var replyTo: [MailAddress]
    /// The Sender mailbox.
    public var sender: MailAddress?
    /// The Date header's instant.
    public var date: Date?
    /// The lower-cased top-level `type/subtype`.
    public var contentType: String
    /// The text/plain body (several inline text parts joined by a blank line), or text derived
    /// from the HTML body when there is no text/plain part: quoted history included, line
    /// endings `\n`.
    public var textBody: String?
    /// The HTML body reduced to a safe whitelist of elements and attributes.
    public var htmlBody: String?
    /// Attachments, inline images and forwarded messages, in the order they appear.
    public var attachments: [MailAttachment]
    /// The delivery status report when this message is a bounce (RFC 3464).
    public var deliveryReport: DeliveryReport?
    /// What was malformed, in words, e.g. `missing final boundary`.
    public var problems: [String]
    /// The message exactly as received.
    public var raw: [UInt8]
    /// How many MIME parts were read (the message itself counts as one).
    public var partCount: Int

    /// Creates a message from its parts; `parse` is the usual way to get one.
    public init(
        headers: MailHeaders = MailHeaders(), messageID: String? = nil, inReplyTo: [String] = [], references: [String] = [],
        subject: String? = nil, from: [MailAddress] = [], to: [MailAddress] = [], cc: [MailAddress] = [],
        replyTo: [MailAddress] = [], sender: MailAddress? = nil, date: Date? = nil, contentType: String = "text/plain",
        textBody: String? = nil, htmlBody: String? = nil, attachments: [MailAttachment] = [],
        deliveryReport: DeliveryReport? = nil, problems: [String] = [], raw: [UInt8] = [], partCount: Int = 1
    ) {
        self.headers = headers
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.subject = subject
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.sender = sender
        self.date = date
        self.contentType = contentType
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.attachments = attachments
        self.deliveryReport = deliveryReport
        self.problems = problems
        self.raw = raw
        self.partCount = partCount
    }

    /// The text to show an agent: `textBody` without quoted history, signature and phone
    /// signature lines.
    public var visibleText: String? { MailQuoting.visibleText(of: textBody) }

    /// Why this message must not be answered automatically, judged from its headers and
    /// content type (the SMTP envelope sender is not known here; pass it to
    /// `AutoSubmission.classify` when it is).
    public var autoSubmission: AutoSubmission? {
        AutoSubmission.classify(headers: headers, contentType: contentType, envelopeSender: nil)
    }

    /// Parses a message. Never throws, never traps and takes time roughly linear in the size of
    /// the input; the limits bound nesting, part count and header size.
    public static func parse(_ bytes: [UInt8], limits: MailLimits = .standard) -> MailMessage {
        var reader = MIMETreeReader(limits: limits)
        let top = reader.readPart(bytes[...], defaultType: "text/plain")
        reader.walk(top, depth: 0, inRelated: false)
        let headers = top.headers

        var message = MailMessage(headers: headers, raw: bytes)
        message.contentType = top.contentType.value
        message.messageID = headers["Message-ID"].flatMap(Self.messageIDs).flatMap(\.first)
        message.inReplyTo = headers["In-Reply-To"].flatMap(Self.messageIDs) ?? []
        message.references = headers.values("References").flatMap { Self.messageIDs($0) ?? [] }
        message.subject = headers.decoded("Subject")
        message.from = headers.values("From").flatMap(MailAddress.parseList)
        message.to = headers.values("To").flatMap(MailAddress.parseList)
        message.cc = headers.values("Cc").flatMap(MailAddress.parseList)
        message.replyTo = headers.values("Reply-To").flatMap(MailAddress.parseList)
        message.sender = headers["Sender"].flatMap { MailAddress.parseList($0).first }
        message.date = headers["Date"].flatMap(MailDateParser.parse)
        if headers["Date"] != nil && message.date == nil { reader.note("unreadable Date header") }

        let texts = reader.texts.filter { !$0.isEmpty }
        message.textBody = Self.joined(texts.isEmpty ? reader.htmlTexts.filter { !$0.isEmpty } : texts)
        if !reader.htmls.isEmpty { message.htmlBody = reader.htmls.joined(separator: "\n") }
        message.attachments = reader.attachments
        if let status = reader.deliveryStatus {
            message.deliveryReport = DeliveryReport(
                originalMessageID: reader.returnedMessageID, originalEnvelopeID: status.envelopeID, recipients: status.recipients)
        }
        message.problems = reader.problems
        message.partCount = reader.partCount
        return message
    }

    /// Several inline text parts as one text: each without its trailing line breaks, separated
    /// by a blank line; a single part exactly as it is.
    private static func joined(_ texts: [String]) -> String? {
        guard texts.count > 1 else { return texts.first }
        return texts.map { text in
            var trimmed = Substring(text)
            while let last = trimmed.last, last == "\n" || last == "\r\n" || last == "\r" { trimmed = trimmed.dropLast() }
            return String(trimmed)
        }.joined(separator: "\n\n")
    }

    /// The message ids in a Message-ID, In-Reply-To or References value: each `<...>` without
    /// its brackets and blanks; without brackets, the blank-separated tokens that contain `@`,
    /// or the whole value when it is one token.
    static func messageIDs(_ raw: String) -> [String]? {
        let bytes = Array(raw.utf8)
        var ids = [String]()
        var i = 0
        while let open = bytes[i...].firstIndex(of: 0x3C) {
            guard let close = bytes[(open + 1)...].firstIndex(of: 0x3E) else { break }
            let id = bytes[(open + 1)..<close].filter { !MailBytes.isWhitespace($0) }
            if !id.isEmpty { ids.append(String(decoding: id, as: UTF8.self)) }
            i = close + 1
        }
        if ids.isEmpty {
            let tokens = bytes.split(whereSeparator: { MailBytes.isWhitespace($0) || $0 == 0x2C })
            for token in tokens where token.contains(0x40) {
                ids.append(String(decoding: token.filter { $0 != 0x3C && $0 != 0x3E }, as: UTF8.self))
            }
            if ids.isEmpty, tokens.count == 1, let token = tokens.first, token.count <= 998 {
                ids.append(String(decoding: token, as: UTF8.self))
            }
        }
        return ids.isEmpty ? nil : ids
    }
}
