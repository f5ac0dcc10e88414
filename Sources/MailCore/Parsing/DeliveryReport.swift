/// A delivery status notification (RFC 3464): the `multipart/report; report-type=delivery-status`
/// an MTA sends back when a message could not (yet) be delivered.
public struct DeliveryReport: Sendable, Hashable {
    /// The Message-ID of the message this report is about, without angle brackets (from the
    /// returned `message/rfc822` or `text/rfc822-headers` part).
    public var originalMessageID: String?
    /// The Original-Envelope-Id the sender gave in `MAIL FROM ... ENVID=` (RFC 3461).
    public var originalEnvelopeID: String?
    /// One entry per recipient the report covers.
    public var recipients: [Recipient]

    /// The per-recipient fields of a report (RFC 3464 §2.3).
    public struct Recipient: Sendable, Hashable {
        /// The address the MTA tried, without the `rfc822;` type prefix.
        public var finalRecipient: String?
        /// `failed`, `delayed`, `delivered`, `relayed` or `expanded`, lower-cased.
        public var action: String?
        /// The RFC 3463 enhanced status code, e.g. `5.1.1`.
        public var status: String?
        /// The remote server's answer without the `smtp;` type prefix, e.g. `550 5.1.1 ... User unknown`.
        public var diagnosticCode: String?

        /// Creates a recipient entry.
        public init(finalRecipient: String? = nil, action: String? = nil, status: String? = nil, diagnosticCode: String? = nil) {
            self.finalRecipient = finalRecipient
            self.action = action
            self.status = status
            self.diagnosticCode = diagnosticCode
        }
    }

    /// Creates a report.
    public init(originalMessageID: String? = nil, originalEnvelopeID: String? = nil, recipients: [Recipient] = []) {
        self.originalMessageID = originalMessageID
        self.originalEnvelopeID = originalEnvelopeID
        self.recipients = recipients
    }

    /// Whether delivery failed for good for some recipient: action `failed` or a 5.x.x status.
    public var isFailure: Bool {
        recipients.contains { $0.action == "failed" || ($0.status?.hasPrefix("5") ?? false) }
    }

    /// Reads the body of a `message/delivery-status` part: a block of per-message fields, then
    /// one block per recipient, blocks separated by blank lines (tolerating missing blank lines
    /// by starting a new recipient at each Final-Recipient).
    static func parseStatus(_ bytes: [UInt8], limits: MailLimits) -> (envelopeID: String?, recipients: [Recipient]) {
        var envelopeID: String?
        var recipients = [Recipient]()
        var current: Recipient?
        var start = 0
        let slice = bytes[...]
        var blocks = 0
        while start < bytes.count && blocks < limits.maximumParts {
            // Skip blank lines between blocks.
            let line = MailBytes.line(in: slice, at: start)
            if line.content.allSatisfy({ MailBytes.isWhitespace(slice[$0]) }) {
                if let finished = current { recipients.append(finished) }
                current = nil
                start = line.next
                continue
            }
            let section = MailHeaderSection(slice[start...], limits: limits)
            blocks += 1
            for field in section.fields {
                let value = String(decoding: field.value, as: UTF8.self).trimmingMailWhitespace()
                switch field.name.asciiLowercased() {
                case "original-envelope-id":
                    envelopeID = value
                case "final-recipient":
                    if current?.finalRecipient != nil, let finished = current { recipients.append(finished); current = nil }
                    if current == nil { current = Recipient() }
                    current?.finalRecipient = Self.withoutType(value)
                case "original-recipient":
                    if current == nil { current = Recipient() }
                    if current?.finalRecipient == nil { current?.finalRecipient = Self.withoutType(value) }
                case "action":
                    if current == nil { current = Recipient() }
                    current?.action = value.split(separator: " ").first.map { String($0).asciiLowercased() }
                case "status":
                    if current == nil { current = Recipient() }
                    current?.status = value.split(separator: " ").first.map(String.init)
                case "diagnostic-code":
                    if current == nil { current = Recipient() }
                    current?.diagnosticCode = Self.withoutType(value).split(whereSeparator: { $0 == " " || $0 == "\t" })
                        .joined(separator: " ")
                default:
                    break
                }
            }
            if let finished = current {
                recipients.append(finished)
                current = nil
            }
            start = section.bodyStart > start ? section.bodyStart : line.next
        }
        if let finished = current { recipients.append(finished) }
        return (envelopeID, recipients.filter { $0 != Recipient() })
    }

    /// `rfc822; user@example.com` → `user@example.com` (RFC 3464 §2.1.2 address and
    /// diagnostic types).
    private static func withoutType(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return value }
        let type = value[..<semicolon]
        guard !type.isEmpty, type.count <= 20, !type.contains(" ") else { return value }
        return String(value[value.index(after: semicolon)...]).trimmingMailWhitespace()
    }
}
