import HubConfig
import HubModel

/// Options of an `email` channel account: one mailbox the hub receives over SMTP (its own
/// listener, to which an MTA relays or customers' servers deliver directly) and answers through
/// a relay.
public struct EmailOptions: ChannelOptions, Hashable {
    /// The mailbox (`support@example.com`), lower-cased. Plus-addresses of it
    /// (`support+anything@example.com`) reach the account too: replies carry a conversation token
    /// there, and bounces a delivery token.
    public var address: String
    /// Further addresses delivered to this account (`help@example.com`).
    public var aliases: [String]
    /// The name customers see in From.
    public var displayName: String?
    /// The right-hand side of the Message-IDs the hub writes.
    public var messageIDDomain: String
    /// Where replies are submitted.
    public var relay: Relay
    /// An acknowledgement sent to a customer who opens a new conversation by mail, if configured;
    /// never to automatic mail (RFC 3834), and at most once per address per `interval`.
    public var autoReply: AutoReply?

    /// The SMTP relay (submission server) replies go through.
    public struct Relay: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var security: Security
        public var username: String?
        /// The name the hub gives in EHLO (defaults to the Message-ID domain).
        public var heloName: String?
        /// Verify the relay's certificate (turn off only for a relay on loopback or in tests).
        public var verifyCertificate: Bool

        /// How the connection to the relay is protected.
        public enum Security: String, Sendable, Hashable, CaseIterable {
            /// Plain SMTP (a relay on loopback or a trusted network).
            case none
            /// STARTTLS, refusing a relay that does not offer it (port 587).
            case starttls
            /// STARTTLS when offered, else plain.
            case starttlsIfAvailable = "starttls-if-available"
            /// TLS from the first byte (port 465).
            case tls
        }

        public init(
            host: String, port: Int = 587, security: Security = .starttls, username: String? = nil, heloName: String? = nil,
            verifyCertificate: Bool = true
        ) {
            self.host = host
            self.port = port
            self.security = security
            self.username = username
            self.heloName = heloName
            self.verifyCertificate = verifyCertificate
        }
    }

    /// The acknowledgement of a new conversation.
    public struct AutoReply: Sendable, Hashable {
        /// The text; `{subject}` is replaced by the customer's subject.
        public var text: String
        /// At most one acknowledgement per customer address in this time.
        public var interval: Duration

        public init(text: String, interval: Duration = .seconds(24 * 3600)) {
            self.text = text
            self.interval = interval
        }
    }

    public init(
        address: String, aliases: [String] = [], displayName: String? = nil, messageIDDomain: String? = nil, relay: Relay,
        autoReply: AutoReply? = nil
    ) {
        self.address = address.lowercased()
        self.aliases = aliases.map { $0.lowercased() }
        self.displayName = displayName
        self.messageIDDomain = messageIDDomain ?? Self.domain(of: address) ?? "localhost"
        self.relay = relay
        self.autoReply = autoReply
    }

    /// Every address of the account, lower-cased.
    public var addresses: [String] { [address] + aliases }

    /// The configuration schema of `kind: email` accounts. `relayPassword` authenticates to the
    /// relay when a username is configured.
    public static let schema = ChannelKindSchema(
        kind: .email, requiredSecrets: [], optionalSecrets: ["relayPassword"], readOptions: { options, account in read(options, account: account) })

    static let keys = ["address", "aliases", "displayName", "messageIdDomain", "relay", "autoReply"]
    static let relayKeys = ["host", "port", "security", "username", "heloName", "verifyCertificate"]
    static let autoReplyKeys = ["text", "interval"]

    static func read(_ options: ConfigMapping?, account: ConfigNode) -> EmailOptions? {
        guard let options else {
            account.error("an email account needs options: address (the mailbox) and relay (where replies are sent)")
            return nil
        }
        ChannelOptionValue.reportUnknownKeys(options, known: keys, kind: .email)
        guard let addressNode = options.required("address"), let address = mailbox(addressNode) else { return nil }
        var aliases: [String] = []
        if let node = options["aliases"], let list = node.list {
            for item in list {
                if let alias = mailbox(item) { aliases.append(alias) }
            }
        }
        guard let relayNode = options.required("relay"), let relayMapping = relayNode.mapping(allowedKeys: relayKeys) else { return nil }
        guard let host = relayMapping.required("host")?.nonEmptyString else { return nil }
        var relay = Relay(host: host)
        if let node = relayMapping["security"], let text = node.oneOf(Relay.Security.allCases.map(\.rawValue), what: "relay security") {
            relay.security = Relay.Security(rawValue: text) ?? .starttls
        }
        relay.port = relay.security == .tls ? 465 : 587
        if let port = relayMapping["port"]?.int(in: 1...65535) { relay.port = port }
        relay.username = relayMapping["username"]?.nonEmptyString
        relay.heloName = relayMapping["heloName"]?.nonEmptyString
        if let verify = relayMapping["verifyCertificate"]?.bool { relay.verifyCertificate = verify }
        var result = EmailOptions(address: address, aliases: aliases, relay: relay)
        result.displayName = options["displayName"]?.nonEmptyString
        if let node = options["messageIdDomain"], let domain = node.nonEmptyString {
            guard domain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }), domain.contains(".") else {
                node.error("'\(domain)' is not a domain name")
                return nil
            }
            result.messageIDDomain = domain.lowercased()
        }
        if let node = options["autoReply"], let mapping = node.mapping(allowedKeys: autoReplyKeys) {
            guard let text = mapping.required("text")?.nonEmptyString else { return nil }
            var reply = AutoReply(text: text)
            if let interval = mapping["interval"]?.duration {
                guard interval >= .seconds(60) else {
                    mapping["interval"]?.error("the interval between acknowledgements to one address must be at least a minute (RFC 3834)")
                    return nil
                }
                reply.interval = interval
            }
            result.autoReply = reply
        }
        return result
    }

    /// A mailbox address from configuration, lower-cased, or nil after reporting why not.
    static func mailbox(_ node: ConfigNode) -> String? {
        guard let text = node.nonEmptyString else { return nil }
        let address = text.lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !address.contains(" "), !address.contains("<"),
            !parts[0].contains("+")
        else {
            node.error("'\(text)' is not a mailbox address such as support@example.com (without '+': plus-addresses are the hub's)")
            return nil
        }
        return address
    }

    static func domain(of address: String) -> String? {
        address.split(separator: "@").last.map { $0.lowercased() }
    }
}
