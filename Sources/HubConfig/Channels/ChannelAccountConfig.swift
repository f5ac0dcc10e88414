import HubModel

/// One channel account, from one file in `channels/`.
public struct ChannelAccountConfig: Sendable {
    /// Used in URLs (`/webhooks/<id>`) and records: lower-case letters, digits, `-` and `_`.
    public var id: String
    public var kind: ChannelKind
    public var name: String
    /// A disabled account answers its webhooks with 503 and delivers nothing.
    public var enabled: Bool
    /// The queue new conversations on this account enter.
    public var queueID: String?
    /// Added to the priority of new conversations on this account.
    public var priority: Int
    /// ISO 3166 region for phone numbers written in national form.
    public var defaultRegion: String?
    /// The scope of provider-issued user ids (the app, page or integration they belong to); defaults
    /// to the account id. Two accounts with the same scope share customers' provider ids.
    public var identityScope: String
    /// Secrets that were found in the environment, by the name the adapter uses.
    public var secrets: [String: Secret]
    /// Required secrets whose variables are not set: the account is inactive until they are.
    public var missingSecrets: [String]
    public var options: any ChannelOptions
    public var delivery: DeliveryPolicy
    /// Where the account's file is, for messages about it.
    public var location: ConfigLocation

    public init(
        id: String, kind: ChannelKind, name: String, enabled: Bool = true, queueID: String? = nil, priority: Int = 0,
        defaultRegion: String? = nil, identityScope: String? = nil, secrets: [String: Secret] = [:],
        missingSecrets: [String] = [], options: any ChannelOptions, delivery: DeliveryPolicy = DeliveryPolicy(),
        location: ConfigLocation
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.enabled = enabled
        self.queueID = queueID
        self.priority = priority
        self.defaultRegion = defaultRegion
        self.identityScope = identityScope ?? id
        self.secrets = secrets
        self.missingSecrets = missingSecrets
        self.options = options
        self.delivery = delivery
        self.location = location
    }

    /// Whether the account can receive and send: enabled, with every required secret present.
    public var isActive: Bool { enabled && missingSecrets.isEmpty }

    /// Why the account is inactive, for error bodies and logs.
    public var inactiveReason: String? {
        if !enabled { return "channel account '\(id)' is disabled in \(location.file)" }
        if !missingSecrets.isEmpty {
            return "channel account '\(id)' is missing secret\(missingSecrets.count > 1 ? "s" : ""): " + missingSecrets.joined(separator: ", ")
        }
        return nil
    }
}

/// How the outbox retries deliveries of one account.
public struct DeliveryPolicy: Sendable, Hashable {
    /// Attempts before a delivery is dead.
    public var maxAttempts: Int
    /// The wait after the first failure; it doubles after each further failure.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// How long one attempt may take.
    public var attemptTimeout: Duration
    /// Deliveries to one conversation go out one at a time, in order.
    public var ordered: Bool
    /// At most this many provider calls per second for the account (nil: no limit), with bursts
    /// of up to `burst`.
    public var ratePerSecond: Double?
    public var burst: Int

    public init(
        maxAttempts: Int = 8, initialBackoff: Duration = .seconds(2), maxBackoff: Duration = .seconds(600),
        attemptTimeout: Duration = .seconds(30), ordered: Bool = true, ratePerSecond: Double? = nil, burst: Int = 1
    ) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.attemptTimeout = attemptTimeout
        self.ordered = ordered
    }
}
