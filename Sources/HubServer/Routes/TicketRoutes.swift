import Foundation
import HubEngine
import HubModel
import HubStore
import Hummingbird

/// Tickets over REST: list, open, read, change, comment, merge, link conversations, history.
/// Every route goes through the inbox's permissions (an agent acts on the tickets of customers
/// they serve; supervisors and the admin token on all).
enum TicketRoutes {
    struct NewTicketBody: Decodable {
        var subject: String
        var customerId: String?
        var conversationIds: [String]?
        var priority: TicketPriority?
        var queueId: String?
        /// An agent's id, or null for nobody; absent: the agent who opens it.
        var assigneeId: String??
        var note: String?

        enum CodingKeys: String, CodingKey {
            case subject, customerId, conversationIds, priority, queueId, assigneeId, note
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            subject = try container.decode(String.self, forKey: .subject)
            customerId = try container.decodeIfPresent(String.self, forKey: .customerId)
            conversationIds = try container.decodeIfPresent([String].self, forKey: .conversationIds)
            priority = try container.decodeIfPresent(TicketPriority.self, forKey: .priority)
            queueId = try container.decodeIfPresent(String.self, forKey: .queueId)
            note = try container.decodeIfPresent(String.self, forKey: .note)
            if container.contains(.assigneeId) {
                assigneeId = .some(try container.decodeNil(forKey: .assigneeId) ? nil : try container.decode(String.self, forKey: .assigneeId))
            }
        }
    }

    /// A change: absent fields stay; `assigneeId` and `queueId` may be null to clear them.
    struct ChangeBody: Decodable {
        var status: TicketStatus?
        var priority: TicketPriority?
        var subject: String?
        var assigneeId: String??
        var queueId: String??

        enum CodingKeys: String, CodingKey {
            case status, priority, subject, assigneeId, queueId
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decodeIfPresent(TicketStatus.self, forKey: .status)
            priority = try container.decodeIfPresent(TicketPriority.self, forKey: .priority)
            subject = try container.decodeIfPresent(String.self, forKey: .subject)
            if container.contains(.assigneeId) {
                assigneeId = .some(try container.decodeNil(forKey: .assigneeId) ? nil : try container.decode(String.self, forKey: .assigneeId))
            }
            if container.contains(.queueId) {
                queueId = .some(try container.decodeNil(forKey: .queueId) ? nil : try container.decode(String.self, forKey: .queueId))
            }
        }

        var change: TicketChange {
            TicketChange(
                status: status, priority: priority, subject: subject, assigneeID: assigneeId.map { $0.map(Agent.ID.init(rawValue:)) },
                queueID: queueId)
        }
    }

    struct CommentBody: Decodable {
        var body: String
        /// `internal` (the default) or `public`.
        var visibility: TicketComment.Visibility?
    }

    struct MergeBody: Decodable {
        /// The ticket this one is merged into.
        var into: String
    }

    struct LinkBody: Decodable {
        var conversationId: String
    }

    struct ChannelsBody: Codable {
        var channels: [NotificationChannel]
    }

    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine, maximumBodyBytes: Int) {
        let inbox = engine.inbox

        api.get("customers/:id/notification-channels") { _, context in
            let viewer = try context.requireViewer()
            let channels = try await inbox.notificationChannels(of: Customer.ID(try context.parameters.require("id")), for: viewer)
            return JSONResponse.make(.ok, ChannelsBody(channels: channels))
        }
        api.put("customers/:id/notification-channels") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let body = try await request.decodeJSON(ChannelsBody.self, limit: maximumBodyBytes)
            let channels = try await inbox.setNotificationChannels(body.channels, of: Customer.ID(try context.parameters.require("id")), for: viewer)
            return JSONResponse.make(.ok, ChannelsBody(channels: channels))
        }

        api.get("tickets") { request, context in
            let viewer = try context.requireViewer()
            let parameters = request.uri.queryParameters
            if let text = parameters["number"] {
                guard let number = TicketNumber(parsing: String(text)) else { throw APIError.invalid("number must be a ticket number such as T-000123") }
                let ticket = try await inbox.ticket(number: number, for: viewer)
                return JSONResponse.make(.ok, ResourceRoutes.Page(items: [InboxPresenter.view(ticket, for: viewer)], next: nil))
            }
            var filter = TicketFilter()
            if let text = parameters["status"] {
                for name in text.split(separator: ",") {
                    guard let status = TicketStatus(rawValue: String(name)) else {
                        throw APIError.invalid("status is a comma-separated list of \(TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    filter.statuses.insert(status)
                }
            }
            if let text = parameters["assignee"] {
                filter.assigneeID = text == "me" ? viewer.agentID : Agent.ID(String(text))
                if filter.assigneeID == nil { throw APIError.invalid("assignee=me is for agents") }
            }
            if let text = parameters["queue"] { filter.queueIDs = text.split(separator: ",").map(String.init) }
            if let text = parameters["customer"] {
                let customer = Customer.ID(String(text))
                _ = try await inbox.customer(customer, for: viewer)
                filter.customerID = customer
            }
            let limit = try ResourceRoutes.limitParameter(request)
            let tickets = try await inbox.tickets(filter, after: try ResourceRoutes.cursorParameter(request), limit: limit, for: viewer)
            return ResourceRoutes.page(tickets, limit: limit, for: viewer) { PageCursors.ticket($0).description }
        }
        api.post("tickets") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let body = try await request.decodeJSON(NewTicketBody.self, limit: maximumBodyBytes)
            let ticket = try await inbox.createTicket(
                InboxService.NewTicket(
                    subject: body.subject, customerID: body.customerId.map(Customer.ID.init(rawValue:)),
                    conversationIDs: (body.conversationIds ?? []).map(Conversation.ID.init(rawValue:)), priority: body.priority ?? .normal,
                    queueID: body.queueId, assigneeID: body.assigneeId.map { $0.map(Agent.ID.init(rawValue:)) }, note: body.note),
                for: viewer)
            return JSONResponse.make(.created, InboxPresenter.view(ticket, for: viewer))
        }
        api.get("tickets/:id") { _, context in
            let viewer = try context.requireViewer()
            let ticket = try await inbox.ticket(Ticket.ID(try context.parameters.require("id")), for: viewer)
            return JSONResponse.make(.ok, InboxPresenter.view(ticket, for: viewer))
        }
        api.patch("tickets/:id") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let body = try await request.decodeJSON(ChangeBody.self, limit: maximumBodyBytes)
            let ticket = try await inbox.updateTicket(Ticket.ID(try context.parameters.require("id")), body.change, for: viewer)
            return JSONResponse.make(.ok, InboxPresenter.view(ticket, for: viewer))
        }
        api.get("tickets/:id/comments") { _, context in
            let viewer = try context.requireViewer()
            let comments = try await inbox.comments(of: Ticket.ID(try context.parameters.require("id")), for: viewer)
            return JSONResponse.make(.ok, ResourceRoutes.Page(items: comments.map { InboxPresenter.view($0, for: viewer) }, next: nil))
        }
        api.post("tickets/:id/comments") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let body = try await request.decodeJSON(CommentBody.self, limit: maximumBodyBytes)
            let comment = try await inbox.comment(
                on: Ticket.ID(try context.parameters.require("id")), body: body.body, visibility: body.visibility ?? .internal, for: viewer)
            return JSONResponse.make(.created, InboxPresenter.view(comment, for: viewer))
        }
        api.post("tickets/:id/merge") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let body = try await request.decodeJSON(MergeBody.self, limit: maximumBodyBytes)
            let merge = try await inbox.mergeTicket(Ticket.ID(try context.parameters.require("id")), into: Ticket.ID(body.into), for: viewer)
            return JSONResponse.make(
                .ok, JSONValue.object(["source": InboxPresenter.view(merge.source, for: viewer), "target": InboxPresenter.view(merge.target, for: viewer)]))
        }
        api.post("tickets/:id/conversations") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let body = try await request.decodeJSON(LinkBody.self, limit: maximumBodyBytes)
            let ticket = try await inbox.link(Conversation.ID(body.conversationId), to: Ticket.ID(try context.parameters.require("id")), for: viewer)
            return JSONResponse.make(.ok, InboxPresenter.view(ticket, for: viewer))
        }
        api.get("tickets/:id/history") { request, context in
            let viewer = try context.requireViewer()
            let after = try ResourceRoutes.sequenceParameter(request)
            let limit = try ResourceRoutes.limitParameter(request)
            let events = try await inbox.ticketHistory(Ticket.ID(try context.parameters.require("id")), after: after, limit: limit, for: viewer)
            let next = events.count == limit ? events.last?["seq"]?.intValue.map(String.init) : nil
            return JSONResponse.make(.ok, ResourceRoutes.Page(items: events, next: next))
        }
    }
}
