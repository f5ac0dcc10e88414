/// The SMTP envelope of one message as the server received it (RFC 5321 §2.3.1).
public struct SMTPEnvelope: Sendable, Hashable {
    /// The name the client gave in EHLO or HELO.
    public var heloName: String
    /// The reverse path of MAIL FROM, without angle brackets; `""` for the null sender `<>`.
    public var mailFrom: String
    /// The accepted forward paths of RCPT TO, without angle brackets, in order.
    public var recipients: [String]
    /// The client's IP address, when known.
    public var remoteAddress: String?
    /// The client's port, when known (with the address, it tells the client's connections apart).
    public var remotePort: Int?
    /// Whether the session was under TLS (after STARTTLS) when the message arrived.
    public var usedTLS: Bool
    /// MAIL FROM parameters with upper-cased keys: `SIZE`, `BODY`, `SMTPUTF8` (value `""`).
    public var parameters: [String: String]

    /// Creates an envelope.
    public init(
        heloName: String = "",
        mailFrom: String = "",
        recipients: [String] = [],
        remoteAddress: String? = nil,
        remotePort: Int? = nil,
        usedTLS: Bool = false,
        parameters: [String: String] = [:]
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
