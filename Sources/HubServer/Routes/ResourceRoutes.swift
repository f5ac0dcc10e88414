import Foundation
import HTTPTypes
import HubConfig
import HubEngine
import HubModel
import HubStore
import Hummingbird

/// The REST API under `/v1` for the records: customers and identity, conversations and messages,
/// tickets, deliveries, and the event log. Every route reads through the inbox's permissions
/// (agents see what they serve, contacts masked, profile views audited); the admin token sees all.
/// Responses are JSON; lists page with `after` and `limit`.
enum ResourceRoutes {
    struct NewCustomer: Decodable {
        var name: String?
        var tier: String?
        var tags: [String]?
        var locale: String?
        var handles: [IdentityService.HandleInput]?
    }

    struct MergeRequest: Decodable {
        /// The customer merged into the one in the path.
        var customerId: String
    }

    struct NewMessage: Decodable {
        var text: String?
        var attachments: [Attachment]?
        /// A private note instead of a message to the customer.
        var note: Bool?
        var handleId: String?
        var channelAccountId: String?
        var subject: String?
    }

    struct Page<Item: Encodable>: Encodable {
        var items: [Item]
        /// Pass as `after` for the next page; nil at the end.
        var next: String?
    }

    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine, maximumBodyBytes: Int) {
        let inbox = engine.inbox

        api.post("customers") { request, context in
            var request = request
            let viewer = try requireSupervisor(context)
            let input = try await request.decodeJSON(NewCustomer.self, limit: maximumBodyBytes)
            let customer = try await engine.identity.createCustomer(
                name: input.name, tier: input.tier.map(CustomerTier.init(rawValue:)) ?? .standard, tags: input.tags ?? [],
                locale: input.locale, handles: input.handles ?? [], actor: viewer.actor)
            return JSONResponse.make(.created, try await inbox.customerProfile(customer.id, for: viewer, via: "rest"))
        }
        api.get("customers") { request, context in
            let viewer = try context.requireViewer()
            let kindText = request.uri.queryParameters["handleKind"]
            let address = request.uri.queryParameters["address"]
            guard kindText != nil || address != nil else {
                // The list: everyone for supervisors and admins, an agent's own customers for an
                // agent. Records only: the handles (and their audit) come with each profile.
                let limit = try limitParameter(request)
                let after = request.uri.queryParameters["after"].map { Customer.ID(String($0)) }
                let customers: [Customer]
                if viewer.seesAll {
                    customers = try await engine.store.customers(after: after, servedBy: nil, queues: [], limit: limit)
                } else if let agent = viewer.agentID {
                    customers = try await engine.store.customers(after: after, servedBy: agent, queues: viewer.queues, limit: limit)
                } else {
                    customers = []
                }
                return page(customers, limit: limit, for: viewer) { $0.id.rawValue }
            }
            // Looking a customer up by a raw address is for those who see contacts in clear.
            guard viewer.seesAll else { throw APIError(.forbidden, code: "forbidden", message: "only supervisors and admins look customers up by address") }
            guard let kindText, let kind = HandleKind(rawValue: String(kindText)), let address else {
                throw APIError.invalid("look customers up with ?handleKind=<phone|email|...>&address=<address>")
            }
            let input = IdentityService.HandleInput(
                kind: kind, address: String(address), channelAccountID: request.uri.queryParameters["channelAccountId"].map(String.init))
            guard let customer = try await engine.identity.customer(for: input) else {
                throw APIError.notFound("no customer has the handle \(kind.rawValue) '\(address)'")
            }
            return JSONResponse.make(.ok, try await inbox.customerProfile(customer.id, for: viewer, via: "rest lookup"))
        }
        api.get("customers/:id") { _, context in
            let viewer = try context.requireViewer()
            let id = Customer.ID(try context.parameters.require("id"))
            return JSONResponse.make(.ok, try await inbox.customerProfile(id, for: viewer, via: "rest"))
        }
        api.get("customers/:id/handles") { _, context in
            let viewer = try context.requireViewer()
            let id = Customer.ID(try context.parameters.require("id"))
            _ = try await inbox.customer(id, for: viewer)
            let handles = try await engine.store.handles(of: id).map { InboxPresenter.view($0, for: viewer) }
            return JSONResponse.make(.ok, Page(items: handles, next: nil))
        }
        api.post("customers/:id/handles/:handle/reveal") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = Customer.ID(try context.parameters.require("id"))
            let handle = Handle.ID(try context.parameters.require("handle"))
            let input = try await request.decodeJSON(RevealRequest.self, limit: maximumBodyBytes, allowEmpty: true)
            let address = try await inbox.reveal(customer: id, handle: handle, for: viewer, reason: input?.reason)
            return JSONResponse.make(.ok, JSONValue.object(["handleId": .string(handle.rawValue), "address": .string(address)]))
        }
        api.post("customers/:id/handles") { request, context in
            var request = request
            let viewer = try requireSupervisor(context)
            let id = Customer.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(IdentityService.HandleInput.self, limit: maximumBodyBytes)
            let before = try await engine.store.handle(try engine.identity.normalize(input))
            let handle = try await engine.identity.linkHandle(input, to: id, actor: viewer.actor)
            return JSONResponse.make(before == nil ? .created : .ok, InboxPresenter.view(handle, for: viewer))
        }
        api.post("customers/:id/merge") { request, context in
            var request = request
            let viewer = try requireSupervisor(context)
            let survivor = Customer.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(MergeRequest.self, limit: maximumBodyBytes)
            let merge = try await engine.identity.merge(Customer.ID(input.customerId), into: survivor, actor: viewer.actor)
            return JSONResponse.make(.ok, InboxPresenter.view(merge, for: viewer))
        }
        api.post("customers/:id/unmerge") { _, context in
            let viewer = try requireSupervisor(context)
            let merged = Customer.ID(try context.parameters.require("id"))
            return JSONResponse.make(.ok, InboxPresenter.view(try await engine.identity.unmerge(merged, actor: viewer.actor), for: viewer))
        }
        api.get("customers/:id/merges") { _, context in
            let viewer = try requireSupervisor(context)
            let id = Customer.ID(try context.parameters.require("id"))
            let merges = try await engine.store.merges(involving: id).map { InboxPresenter.view($0, for: viewer) }
            return JSONResponse.make(.ok, Page(items: merges, next: nil))
        }
        api.get("customers/:id/conversations") { request, context in
            let viewer = try context.requireViewer()
            let id = Customer.ID(try context.parameters.require("id"))
            _ = try await inbox.customer(id, for: viewer)
            let limit = try limitParameter(request)
            let conversations = try await engine.store.conversations(of: id, after: try cursorParameter(request), limit: limit)
            return page(conversations, limit: limit, for: viewer) { PageCursors.conversation($0).description }
        }
        api.get("customers/:id/tickets") { request, context in
            let viewer = try context.requireViewer()
            let id = Customer.ID(try context.parameters.require("id"))
            _ = try await inbox.customer(id, for: viewer)
            let limit = try limitParameter(request)
            let tickets = try await engine.store.tickets(of: id, after: try cursorParameter(request), limit: limit)
            return page(tickets, limit: limit, for: viewer) { PageCursors.ticket($0).description }
        }
        api.get("customers/:id/timeline") { request, context in
            let viewer = try context.requireViewer()
            let id = Customer.ID(try context.parameters.require("id"))
            _ = try await inbox.customer(id, for: viewer)
            let after = try sequenceParameter(request)
            let limit = try limitParameter(request)
            let events = try await engine.store.events(customerID: id, after: after, limit: limit)
            return JSONResponse.make(
                .ok,
                Page(
                    items: events.filter { viewer.role == .admin || !$0.kind.rawValue.hasPrefix("audit.") }.map { InboxPresenter.event($0, for: viewer) },
                    next: events.count == limit ? events.last.map { String($0.sequence) } : nil))
        }
        api.get("conversations") { request, context in
            let viewer = try context.requireViewer()
            let limit = try limitParameter(request)
            // Agents: their conversations in hand; supervisors: anyone's (?assignee=<agent>).
            let requested = request.uri.queryParameters["assignee"].map { Agent.ID(String($0)) }
            guard let agent = requested ?? viewer.agentID else { throw APIError.invalid("name an agent: ?assignee=<agent id>") }
            guard agent == viewer.agentID || viewer.seesAll else {
                throw APIError(.forbidden, code: "forbidden", message: "only supervisors list other agents' conversations")
            }
            let conversations = try await engine.store.activeConversations(of: agent, after: try cursorParameter(request), limit: limit)
            return page(conversations, limit: limit, for: viewer) { PageCursors.activeConversation($0).description }
        }
        api.get("conversations/:id") { request, context in
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            if request.uri.queryParameters["detail"] == "true" {
                return JSONResponse.make(.ok, try await inbox.conversationDetail(id, for: viewer, via: "rest"))
            }
            return JSONResponse.make(.ok, InboxPresenter.view(try await inbox.conversation(id, for: viewer), for: viewer))
        }
        api.get("conversations/:id/calls") { _, context in
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            _ = try await inbox.conversation(id, for: viewer)
            let calls = try await engine.store.calls(in: id)
            let items = try calls.map { InboxPresenter.call(try JSONValue(encoding: $0), for: viewer) }
            return JSONResponse.make(.ok, Page(items: items, next: nil))
        }
        api.get("conversations/:id/messages") { request, context in
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            _ = try await inbox.conversation(id, for: viewer)
            let limit = try limitParameter(request)
            let after = request.uri.queryParameters["after"].map { Message.ID(String($0)) }
            let messages = try await engine.store.messages(in: id, after: after, limit: limit)
            return JSONResponse.make(
                .ok, Page(items: messages.map { InboxPresenter.view($0, for: viewer) }, next: messages.count == limit ? messages.last?.id.rawValue : nil))
        }
        api.post("conversations/:id/messages") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(NewMessage.self, limit: maximumBodyBytes)
            let content = OutboundContent(text: input.text, attachments: input.attachments ?? [], subject: input.subject)
            let key = request.headers[HTTPField.Name("Idempotency-Key")!]
            let receipt: OutboundReceipt
            if viewer.agentID == nil {
                // An integration writes as the system, on any conversation.
                receipt = try await engine.outbound.send(
                    OutboundService.Request(
                        conversationID: id, author: .system, visibility: input.note == true ? .note : .public, content: content,
                        idempotencyKey: key, handleID: input.handleId.map(Handle.ID.init(rawValue:)), channelAccountID: input.channelAccountId),
                    actor: viewer.actor)
            } else {
                receipt = try await inbox.send(
                    content, to: id, note: input.note == true, handle: input.handleId.map(Handle.ID.init(rawValue:)),
                    account: input.channelAccountId, idempotencyKey: key, for: viewer)
            }
            var result: [String: JSONValue] = ["message": InboxPresenter.view(receipt.message, for: viewer), "duplicate": .bool(receipt.duplicate)]
            if let delivery = receipt.delivery { result["delivery"] = InboxPresenter.view(delivery, for: viewer) }
            return JSONResponse.make(receipt.duplicate ? .ok : .accepted, JSONValue.object(result))
        }
        api.post("conversations/:id/close") { _, context in
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            return JSONResponse.make(.ok, InboxPresenter.view(try await inbox.close(id, for: viewer), for: viewer))
        }
        api.post("conversations/:id/wrap-up") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(WrapUpRequest.self, limit: maximumBodyBytes)
            try await inbox.wrapUp(id, disposition: input.disposition, notes: input.notes, for: viewer)
            return Response(status: .noContent)
        }
        api.get("deliveries/:id") { _, context in
            let viewer = try requireSupervisor(context)
            let id = Delivery.ID(try context.parameters.require("id"))
            guard let delivery = try await engine.store.delivery(id) else { throw APIError.notFound("no delivery \(id)") }
            return JSONResponse.make(.ok, InboxPresenter.view(delivery, for: viewer))
        }
        api.get("events") { request, context in
            // The raw log (every customer's data, the audit trail): admins and integrations.
            let viewer = try context.requireViewer()
            guard viewer.role == .admin else { throw APIError(.forbidden, code: "forbidden", message: "the event log is for admins") }
            let after = try sequenceParameter(request)
            let limit = try limitParameter(request)
            let events = try await engine.store.events(after: after, limit: limit)
            let items: [JSONValue] = viewer.masksContacts ? events.map { InboxPresenter.event($0, for: viewer) } : try events.map { try JSONValue(encoding: $0) }
            return JSONResponse.make(.ok, Page(items: items, next: events.last.map { String($0.sequence) } ?? String(after)))
        }
    }

    struct RevealRequest: Decodable {
        /// Why (kept in the audit trail).
        var reason: String?
    }

    struct WrapUpRequest: Decodable {
        var disposition: String
        var notes: String?
    }

    /// The viewer, who must be a supervisor or admin (or the admin token).
    static func requireSupervisor(_ context: HubRequestContext) throws -> Viewer {
        let viewer = try context.requireViewer()
        guard viewer.seesAll else { throw APIError(.forbidden, code: "forbidden", message: "this needs a supervisor or an admin") }
        return viewer
    }

    /// A page of records as the viewer sees them; a full page names where the next one begins
    /// (the last page may be found empty: a page that happens to end the list cannot know it).
    static func page<Item: Encodable>(_ items: [Item], limit: Int, for viewer: Viewer, next: (Item) -> String) -> Response {
        JSONResponse.make(
            .ok, Page(items: items.map { InboxPresenter.view($0, for: viewer) }, next: items.count == limit ? items.last.map(next) : nil))
    }

    /// The `after` of a list paged by `PageCursor` (the `next` of the page before).
    static func cursorParameter(_ request: Request) throws -> PageCursor? {
        guard let text = request.uri.queryParameters["after"] else { return nil }
        guard let cursor = PageCursor(text) else { throw APIError.invalid("after must be the next of the page before") }
        return cursor
    }

    static func limitParameter(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return 100 }
        guard let limit = Int(String(text)), (1...1000).contains(limit) else {
            throw APIError.invalid("limit must be a whole number from 1 to 1000")
        }
        return limit
    }

    static func sequenceParameter(_ request: Request) throws -> Int64 {
        guard let text = request.uri.queryParameters["after"] else { return 0 }
        guard let value = Int64(String(text)), value >= 0 else { throw APIError.invalid("after must be an event sequence number") }
        return value
    }
}
