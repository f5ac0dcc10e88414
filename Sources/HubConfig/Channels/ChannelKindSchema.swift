import HubModel

/// Typed options of one channel kind, produced by its schema when a channel file is loaded.
public protocol ChannelOptions: Sendable {
    /// A provider permission to send after the channel's reply window closed (Meta's message
    /// tags, such as HUMAN_AGENT for 7 days), if the account has one configured.
    var windowExtension: WindowExtension? { get }
}

extension ChannelOptions {
    public var windowExtension: WindowExtension? { nil }
}

/// Sending after the reply window: the tag to send with, and how long after the customer's last
/// message it may be used.
public struct WindowExtension: Sendable, Hashable {
    public var tag: String
    public var lasts: Duration

    public init(tag: String, lasts: Duration) {
        self.tag = tag
        self.lasts = lasts
    }
}

/// What configuration a channel kind takes: the secrets it needs, and how to read and validate its
/// `options:` block. Adapters provide one per kind; the loader refuses kinds without one.
public struct ChannelKindSchema: Sendable {
    public var kind: ChannelKind
    /// Secrets the adapter cannot work without. A missing variable leaves the account inactive
    /// (a warning, so the hub still starts).
    public var requiredSecrets: [String]
    /// Secrets the adapter uses when present.
    public var optionalSecrets: [String]
    /// Reads the `options:` mapping (nil when the file has none); report problems on the nodes.
    public var readOptions: @Sendable (_ options: ConfigMapping?, _ account: ConfigNode) -> (any ChannelOptions)?

    public init(
        kind: ChannelKind, requiredSecrets: [String], optionalSecrets: [String] = [],
        readOptions: @escaping @Sendable (_ options: ConfigMapping?, _ account: ConfigNode) -> (any ChannelOptions)?
    ) {
        self.kind = kind
        self.requiredSecrets = requiredSecrets
        self.optionalSecrets = optionalSecrets
        self.readOptions = readOptions
    }

    /// The option keys a schema accepts, for `mapping(allowedKeys:)`.
    public static func keys(_ keys: String...) -> [String] { keys }
}
