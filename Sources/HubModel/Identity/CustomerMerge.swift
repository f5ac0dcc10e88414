import Foundation

/// A record of one customer merged into another, holding exactly what moved so that an unmerge
/// can restore both.
public struct CustomerMerge: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "mrg"
    public typealias ID = Identifier<CustomerMerge>

    public var id: ID
    /// The customer that remains.
    public var survivorID: Customer.ID
    /// The customer merged away (kept, with `mergedInto` set).
    public var mergedID: Customer.ID
    public var handleIDs: [Handle.ID]
    public var conversationIDs: [Conversation.ID]
    public var ticketIDs: [Ticket.ID]
    /// The survivor's profile before the merge filled gaps from the merged customer.
    public var survivorBefore: Customer
    /// The survivor's profile right after the merge: an unmerge reverts only the fields that still
    /// hold what the merge put there, so later edits survive.
    public var survivorAfter: Customer
    public var mergedAt: Date
    public var unmergedAt: Date?
    public var actor: Actor

    public init(
        id: ID, survivorID: Customer.ID, mergedID: Customer.ID, handleIDs: [Handle.ID],
        conversationIDs: [Conversation.ID], ticketIDs: [Ticket.ID], survivorBefore: Customer,
        survivorAfter: Customer, mergedAt: Date, unmergedAt: Date? = nil, actor: Actor
    ) {
        self.id = id
        self.survivorID = survivorID
        self.mergedID = mergedID
        self.handleIDs = handleIDs
        self.conversationIDs = conversationIDs
        self.ticketIDs = ticketIDs
        self.survivorBefore = survivorBefore
        self.survivorAfter = survivorAfter
        self.mergedAt = mergedAt
        self.unmergedAt = unmergedAt
        self.actor = actor
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case survivorID = "survivorId"
        case mergedID = "mergedId"
        case handleIDs = "handleIds"
        case conversationIDs = "conversationIds"
        case ticketIDs = "ticketIds"
        case survivorBefore
        case survivorAfter
        case mergedAt
        case unmergedAt
        case actor
    }
}

extension Customer {
    /// The survivor's profile after absorbing `other`: its own values win; gaps are filled from
    /// `other`; tags are united; the higher of the two tiers is kept when one is VIP.
    public func absorbing(_ other: Customer, at date: Date) -> Customer {
        var result = self
        if result.name == nil { result.name = other.name }
        if result.locale == nil { result.locale = other.locale }
        if result.ownerAgentID == nil { result.ownerAgentID = other.ownerAgentID }
        if result.tier == .standard, other.tier != .standard { result.tier = other.tier }
        for tag in other.tags where !result.tags.contains(tag) { result.tags.append(tag) }
        result.updatedAt = date
        return result
    }

    /// This (current) profile with the merge's changes taken back: each field that still holds the
    /// value the merge gave it returns to its value before the merge; tags the merge added go.
    public func revertingMerge(before: Customer, after: Customer, at date: Date) -> Customer {
        var result = self
        if result.name == after.name { result.name = before.name }
        if result.locale == after.locale { result.locale = before.locale }
        if result.ownerAgentID == after.ownerAgentID { result.ownerAgentID = before.ownerAgentID }
        if result.tier == after.tier { result.tier = before.tier }
        let added = Set(after.tags).subtracting(before.tags)
        result.tags.removeAll { added.contains($0) }
        result.updatedAt = date
        return result
    }
}
