/// Where and how the outbound client submits mail: a relay (smarthost) such as a provider's
/// submission server on port 587.
public struct SMTPRelay: Sendable, Hashable {
    /// How the connection is protected.
    public enum Security: Sendable, Hashable {
        /// Plaintext (loopback relays and tests only).
        case none
        /// STARTTLS (RFC 3207), required: a relay that does not offer it is an error.
        case startTLS
        /// STARTTLS when the relay offers it, plaintext otherwise.
        case startTLSIfAvailable
        /// TLS from the first byte ("implicit TLS", RFC 8314, usually port 465).
        case tls
    }

    /// SASL mechanisms the client can use (RFC 4954).
    public enum AuthMechanism: String, Sendable, Hashable {
        /// RFC 4616.
        case plain = "PLAIN"
        /// The widespread non-standard LOGIN exchange (draft-murchison-sasl-login).
        case login = "LOGIN"
    }

    /// How the relay's certificate is checked.
    public enum CertificateVerification: Sendable, Hashable {
        /// Chain and host name.
        case full
        /// Chain only.
        case noHostnameVerification
        /// Nothing: tests with self-signed certificates only.
        case none
    }

    /// The relay's host name or address.
    public var host: String
    /// The relay's port. Default 587.
    public var port: Int
    /// TLS mode. Default `.startTLS`.
    public var security: Security
    /// The AUTH user name; no AUTH when `nil`.
    public var username: String?
    /// The AUTH password.
    public var password: String?
    /// Mechanisms in order of preference; the first one the relay offers in EHLO is used.
    public var authMechanisms: [AuthMechanism]
    /// The name this client gives in EHLO.
    public var heloName: String
    /// Limit for establishing TCP (and implicit TLS).
    public var connectTimeout: Duration
    /// Limit for each reply except the one after the final dot (RFC 5321 §4.5.3.2: 5 minutes).
    public var commandTimeout: Duration
    /// Limit for the reply after the final dot (RFC 5321 §4.5.3.2.6: 10 minutes).
    public var dataTimeout: Duration
    /// How the certificate is checked.
    public var certificateVerification: CertificateVerification
    /// Trusted root certificates as PEM; `nil` uses the system's.
    public var trustRootsPEM: String?

    /// Creates a relay description; the defaults suit a submission server on port 587.
    public init(
        host: String,
        port: Int = 587,
        security: Security = .startTLS,
        username: String? = nil,
        password: String? = nil,
        authMechanisms: [AuthMechanism] = [.plain, .login],
        heloName: String = "localhost",
        connectTimeout: Duration = .seconds(30),
        commandTimeout: Duration = .seconds(300),
        dataTimeout: Duration = .seconds(600),
        certificateVerification: CertificateVerification = .full,
        trustRootsPEM: String? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.authMechanisms = authMechanisms
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.certificateVerification = certificateVerification
        self.trustRootsPEM = trustRootsPEM
    }
}
