import Foundation

/// A person who contacts the company, with many handles across channels.
public struct Customer: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "cus"
    public typealias ID = Identifier<Customer>

    public var id: ID
    public var name: String?
    public var tier: CustomerTier
    public var tags: [String]
    /// BCP 47 language tag used for templates ("zh-CN", "en").
    public var locale: String?
    /// The agent who owns this customer (or served them last), preferred by the router.
    public var ownerAgentID: Agent.ID?
    /// Set when this customer was merged into another; the survivor holds the handles now.
    public var mergedInto: ID?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID, name: String? = nil, tier: CustomerTier = .standard, tags: [String] = [],
        locale: String? = nil, ownerAgentID: Agent.ID? = nil, mergedInto: ID? = nil,
        createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.tier = tier
        self.tags = tags
        self.locale = locale
        self.ownerAgentID = ownerAgentID
        self.mergedInto = mergedInto
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case name
        case tier
        case tags
        case locale
        case ownerAgentID = "ownerAgentId"
        case mergedInto
        case createdAt
        case updatedAt
    }
}

/// A customer's service tier. `standard` and `vip` are known to the router's sample rules; any
/// other name ("gold", "enterprise") may be used by rules as well.
public struct CustomerTier: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let standard = CustomerTier(rawValue: "standard")
    public static let vip = CustomerTier(rawValue: "vip")

    public var description: String { rawValue }

}
