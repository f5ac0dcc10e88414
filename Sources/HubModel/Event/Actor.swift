/// Who caused a change, as written into the event log and the audit trail.
public struct Actor: Sendable, Hashable, Codable, CustomStringConvertible {
    public var kind: Kind
    public var id: String?

    public init(kind: Kind, id: String? = nil) {
        self.kind = kind
        self.id = id
    }

    /// The kinds of actor.
    public enum Kind: String, Sendable, Hashable, Codable {
        case system
        case channel
        case agent
        case admin
        case integration
    }

    /// The hub itself.
    public static let system = Actor(kind: .system)
    /// A channel account (a provider's webhook, a SIP trunk).
    public static func channel(_ accountID: String) -> Actor { Actor(kind: .channel, id: accountID) }
    /// An agent, supervisor or admin acting in the inbox.
    public static func agent(_ id: Agent.ID) -> Actor { Actor(kind: .agent, id: id.rawValue) }
    /// The holder of the admin API token.
    public static let admin = Actor(kind: .admin)

    /// "agent:alice", "channel:api-demo", "system".
    public var description: String { id.map { "\(kind.rawValue):\($0)" } ?? kind.rawValue }

    /// The actor as its `description` parses back (what a reader of the log gets): itself, but
    /// that an empty id is no id. Without the text round trip the event log's writer made for
    /// every event.
    public init(storing actor: Actor) {
        self.init(kind: actor.kind, id: actor.id?.isEmpty == true ? nil : actor.id)
    }

    /// Parses the `description` form back.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let kind = Kind(rawValue: first) else { return nil }
        self.init(kind: kind, id: parts.count > 1 ? parts[1] : nil)
    }
}
