import Foundation

/// One way to reach a customer: a phone number, an e-mail address, an openid, a PSID...
public struct Handle: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "hdl"
    public typealias ID = Identifier<Handle>

    public var id: ID
    public var customerID: Customer.ID
    public var kind: HandleKind
    public var scope: String
    public var address: String
    /// The name the provider showed for this handle (a WeChat nickname, a mail display name).
    public var displayName: String?
    /// When the customer opted out of messages on this handle (SMS STOP), if they did.
    public var optedOutAt: Date?
    public var createdAt: Date

    public init(
        id: ID, customerID: Customer.ID, address: HandleAddress, displayName: String? = nil,
        optedOutAt: Date? = nil, createdAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.kind = address.kind
        self.scope = address.scope
        self.address = address.address
        self.displayName = displayName
        self.optedOutAt = optedOutAt
        self.createdAt = createdAt
    }

    /// The normalized key of this handle.
    public var key: HandleAddress { HandleAddress(kind: kind, scope: scope, address: address) }

    private enum CodingKeys: String, CodingKey {
        case id
        case customerID = "customerId"
        case kind
        case scope
        case address
        case displayName
        case optedOutAt
        case createdAt
    }
}
