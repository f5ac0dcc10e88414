import Foundation

/// A comment on a ticket: an internal one for colleagues, or a public one that the customer is
/// told about.
public struct TicketComment: Sendable, Hashable, Codable, Identifiable, IdentifierPrefixed {
    public static let identifierPrefix = "tcm"
    public typealias ID = Identifier<TicketComment>

    public enum Visibility: String, Sendable, Hashable, Codable, CaseIterable {
        /// Seen by agents only.
        case `internal`
        /// Meant for the customer as well.
        case `public`
    }

    public var id: ID
    public var ticketID: Ticket.ID
    public var author: MessageAuthor
    public var visibility: Visibility
    public var body: String
    public var createdAt: Date

    public init(id: ID, ticketID: Ticket.ID, author: MessageAuthor, visibility: Visibility, body: String, createdAt: Date) {
        self.id = id
        self.ticketID = ticketID
        self.author = author
        self.visibility = visibility
        self.body = body
        self.createdAt = createdAt
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case ticketID = "ticketId"
        case author
        case visibility
        case body
        case createdAt
    }
}
