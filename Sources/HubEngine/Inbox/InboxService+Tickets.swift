import Foundation
import HubConfig
import HubModel
import HubStore

/// Tickets in the inbox: an agent opens one on a conversation they serve (a call, a chat), moves
/// it through its statuses, comments, merges and links conversations; the same rules over REST.
/// A viewer may act on a ticket whose customer they may read (supervisors and admins: any).
extension InboxService {
    /// What an agent fills in to open a ticket.
    public struct NewTicket: Sendable, Hashable {
        public var subject: String
        /// The customer; nil: the first conversation's.
        public var customerID: Customer.ID?
        public var conversationIDs: [Conversation.ID]
        public var priority: TicketPriority
        public var queueID: String?
        /// nil: the agent who opens it (nobody for the admin token).
        public var assigneeID: Agent.ID??
        public var note: String?

        public init(
            subject: String, customerID: Customer.ID? = nil, conversationIDs: [Conversation.ID] = [], priority: TicketPriority = .normal,
            queueID: String? = nil, assigneeID: Agent.ID?? = nil, note: String? = nil
        ) {
            self.subject = subject
            self.customerID = customerID
            self.conversationIDs = conversationIDs
            self.priority = priority
            self.queueID = queueID
            self.assigneeID = assigneeID
            self.note = note
        }
    }

    /// Opens a ticket: new when nobody takes it, open when it has an assignee (by default the
    /// agent who opens it), on the conversations given, which the viewer must be able to read.
    public func createTicket(_ input: NewTicket, for viewer: Viewer) async throws -> Ticket {
        var conversations: [Conversation] = []
        for id in input.conversationIDs { conversations.append(try await conversation(id, for: viewer)) }
        guard let customerID = input.customerID ?? conversations.first?.customerID else {
            throw InboxError.invalid("a ticket needs a customer or a conversation")
        }
        _ = try await customer(customerID, for: viewer)
        if let other = conversations.first(where: { $0.customerID != customerID }) {
            throw InboxError.invalid("conversation \(other.id) is another customer's")
        }
        let assignee = input.assigneeID ?? viewer.agentID
        try await check(assignee: assignee, queue: input.queueID, viewer: viewer)
        do {
            return try await store.createTicket(
                TicketDraft(
                    subject: input.subject, customerID: customerID, priority: input.priority,
                    queueID: input.queueID ?? conversations.first?.queueID, assigneeID: assignee, conversationIDs: conversations.map(\.id),
                    note: input.note, status: assignee == nil ? .new : .open),
                at: now(), actor: viewer.actor)
        } catch let error as StoreError {
            throw Self.inboxError(error)
        }
    }

    /// An agent and a queue named for a ticket exist.
    private func check(assignee: Agent.ID?, queue: String?, viewer: Viewer) async throws {
        if let assignee, assignee != viewer.agentID, try await store.agent(assignee) == nil {
            throw InboxError.invalid("no agent \(assignee)")
        }
        if let queue, await routing.queue(queue) == nil { throw InboxError.invalid("no queue '\(queue)'") }
    }

    /// The ticket, when the viewer may see it (else `notFound`): supervisors and admins any; an
    /// agent one assigned to them, in one of their queues (what their lists show), or of a
    /// customer they may read (what the customer's page shows).
    public func ticket(_ id: Ticket.ID, for viewer: Viewer) async throws -> Ticket {
        guard let ticket = try await store.ticket(id) else { throw InboxError.notFound("no ticket \(id)") }
        if viewer.seesAll { return ticket }
        if let agent = viewer.agentID, ticket.assigneeID == agent { return ticket }
        if let queue = ticket.queueID, viewer.queues.contains(queue) { return ticket }
        do {
            _ = try await customer(ticket.customerID, for: viewer)
        } catch let error as InboxError where error.code == .notFound {
            throw InboxError.notFound("no ticket \(id)")
        }
        return ticket
    }

    /// The ticket with this number, when the viewer may read it.
    public func ticket(number: TicketNumber, for viewer: Viewer) async throws -> Ticket {
        guard let ticket = try await store.ticket(number: number) else { throw InboxError.notFound("no ticket \(number)") }
        return try await self.ticket(ticket.id, for: viewer)
    }

    /// Changes a ticket's status, priority, subject, assignee or queue.
    public func updateTicket(_ id: Ticket.ID, _ change: TicketChange, for viewer: Viewer) async throws -> Ticket {
        _ = try await ticket(id, for: viewer)
        try await check(assignee: change.assigneeID ?? nil, queue: change.queueID ?? nil, viewer: viewer)
        do {
            return try await store.updateTicket(id, change, at: now(), actor: viewer.actor)
        } catch let error as StoreError {
            throw Self.inboxError(error)
        }
    }

    /// Adds an internal or public comment, written by the viewer.
    public func comment(on id: Ticket.ID, body: String, visibility: TicketComment.Visibility, for viewer: Viewer) async throws -> TicketComment {
        _ = try await ticket(id, for: viewer)
        guard body.utf8.count <= 32_768 else { throw InboxError.invalid("a comment of at most 32 KiB") }
        do {
            return try await store.addTicketComment(
                TicketCommentDraft(
                    ticketID: id, author: viewer.agentID.map(MessageAuthor.agent) ?? .system, visibility: visibility, body: body),
                at: now(), actor: viewer.actor)
        } catch let error as StoreError {
            throw Self.inboxError(error)
        }
    }

    public func comments(of id: Ticket.ID, for viewer: Viewer) async throws -> [TicketComment] {
        _ = try await ticket(id, for: viewer)
        return try await store.ticketComments(of: id, includeInternal: true)
    }

    /// Merges `source` into `target` (the same customer's).
    public func mergeTicket(_ source: Ticket.ID, into target: Ticket.ID, for viewer: Viewer) async throws -> TicketMerge {
        _ = try await ticket(source, for: viewer)
        _ = try await ticket(target, for: viewer)
        do {
            return try await store.mergeTicket(source, into: target, at: now(), actor: viewer.actor)
        } catch let error as StoreError {
            throw Self.inboxError(error)
        }
    }

    /// Links a conversation of the ticket's customer (one the viewer may read) to the ticket.
    public func link(_ conversationID: Conversation.ID, to id: Ticket.ID, for viewer: Viewer) async throws -> Ticket {
        let ticket = try await ticket(id, for: viewer)
        let conversation = try await conversation(conversationID, for: viewer)
        guard conversation.customerID == ticket.customerID else {
            throw InboxError.invalid("conversation \(conversationID) is another customer's")
        }
        do {
            return try await store.linkConversation(conversationID, toTicket: id, at: now(), actor: viewer.actor)
        } catch let error as StoreError {
            throw Self.inboxError(error)
        }
    }

    /// The ticket's history: every event that names it, oldest first, as the viewer may see it.
    public func ticketHistory(_ id: Ticket.ID, after: Int64, limit: Int, for viewer: Viewer) async throws -> [JSONValue] {
        _ = try await ticket(id, for: viewer)
        return try await store.ticketEvents(id, after: after, limit: limit).map { InboxPresenter.event($0, for: viewer) }
    }

    /// Tickets for a list: supervisors and admins any; agents those assigned to them or in their
    /// queues (a filter outside them yields nothing rather than an error).
    public func tickets(_ filter: TicketFilter, after cursor: PageCursor?, limit: Int, for viewer: Viewer) async throws -> [Ticket] {
        var filter = filter
        if !viewer.seesAll {
            guard let agent = viewer.agentID else { return [] }
            if filter.assigneeID != agent {
                let allowed = filter.queueIDs.map { $0.filter(viewer.queues.contains) } ?? viewer.queues
                guard !allowed.isEmpty else { return [] }
                filter.queueIDs = allowed
            }
        }
        return try await store.tickets(matching: filter, after: cursor, limit: limit)
    }

    /// The channels the customer hears about their tickets on, in their order.
    public func notificationChannels(of customerID: Customer.ID, for viewer: Viewer) async throws -> [NotificationChannel] {
        _ = try await customer(customerID, for: viewer)
        return try await store.notificationChannels(of: customerID)
    }

    /// Sets them: channel accounts the hub has, each reaching one of the customer's handles.
    public func setNotificationChannels(_ list: [NotificationChannel], of customerID: Customer.ID, for viewer: Viewer) async throws
        -> [NotificationChannel]
    {
        _ = try await customer(customerID, for: viewer)
        let handles = try await store.handles(of: customerID)
        for entry in list {
            guard let account = channels.account(entry.channelAccountID) else {
                throw InboxError.invalid("no channel account '\(entry.channelAccountID)'")
            }
            guard account.kind.medium != .voice else { throw InboxError.invalid("'\(account.id)' is a voice account: it carries no text") }
            guard handles.contains(where: { channels.accounts(reaching: $0).contains { $0.id == account.id } }) else {
                throw InboxError.invalid("the customer has no handle that '\(account.id)' reaches")
            }
        }
        guard list.count <= 20 else { throw InboxError.invalid("at most 20 channels") }
        try await store.setNotificationChannels(list, of: customerID, at: now(), actor: viewer.actor)
        return try await store.notificationChannels(of: customerID)
    }
}
