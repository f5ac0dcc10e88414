import Foundation
import HTTPTypes
import HubConfig
import HubEngine
import HubModel
import HubStore
import Hummingbird

/// The REST API under `/v1`: customers and identity, conversations and messages, deliveries, and
/// the event log. Responses are JSON; lists page with `after` and `limit`.
enum AdminRoutes {
    struct CustomerView: Encodable {
        var customer: Customer
        var handles: [Handle]
    }

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

    struct SendResult: Encodable {
        var message: Message
        var delivery: Delivery?
        var duplicate: Bool
    }

    struct Page<Item: Encodable>: Encodable {
        var items: [Item]
        /// Pass as `after` for the next page; nil at the end.
        var next: String?
    }

    static func add(to router: Router<HubRequestContext>, engine: Engine, adminToken: Secret?, maximumBodyBytes: Int) {
        let api = router.group("v1").add(middleware: AdminAuthMiddleware(token: adminToken))

        api.post("customers") { request, _ in
            var request = request
            let input = try await request.decodeJSON(NewCustomer.self, limit: maximumBodyBytes)
            let customer = try await engine.identity.createCustomer(
                name: input.name, tier: input.tier.map(CustomerTier.init(rawValue:)) ?? .standard, tags: input.tags ?? [],
                locale: input.locale, handles: input.handles ?? [], actor: .admin)
            return JSONResponse.make(.created, CustomerView(customer: customer, handles: try await engine.store.handles(of: customer.id)))
        }
        api.get("customers") { request, _ in
            guard let kindText = request.uri.queryParameters["handleKind"], let kind = HandleKind(rawValue: String(kindText)),
                let address = request.uri.queryParameters["address"]
            else { throw APIError.invalid("look customers up with ?handleKind=<phone|email|...>&address=<address>") }
            let input = IdentityService.HandleInput(
                kind: kind, address: String(address), channelAccountID: request.uri.queryParameters["channelAccountId"].map(String.init))
            guard let customer = try await engine.identity.customer(for: input) else {
                throw APIError.notFound("no customer has the handle \(kind.rawValue) '\(address)'")
            }
            return JSONResponse.make(.ok, CustomerView(customer: customer, handles: try await engine.store.handles(of: customer.id)))
        }
        api.get("customers/:id") { _, context in
            let id = Customer.ID(try context.parameters.require("id"))
            guard let customer = try await engine.store.customer(id) else { throw APIError.notFound("no customer \(id)") }
            return JSONResponse.make(.ok, CustomerView(customer: customer, handles: try await engine.store.handles(of: id)))
        }
        api.get("customers/:id/handles") { _, context in
            let id = Customer.ID(try context.parameters.require("id"))
            guard try await engine.store.customer(id) != nil else { throw APIError.notFound("no customer \(id)") }
            return JSONResponse.make(.ok, Page(items: try await engine.store.handles(of: id), next: nil))
        }
        api.post("customers/:id/handles") { request, context in
            var request = request
            let id = Customer.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(IdentityService.HandleInput.self, limit: maximumBodyBytes)
            let before = try await engine.store.handle(try engine.identity.normalize(input))
            let handle = try await engine.identity.linkHandle(input, to: id, actor: .admin)
            return JSONResponse.make(before == nil ? .created : .ok, handle)
        }
        api.post("customers/:id/merge") { request, context in
            var request = request
            let survivor = Customer.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(MergeRequest.self, limit: maximumBodyBytes)
            return JSONResponse.make(.ok, try await engine.identity.merge(Customer.ID(input.customerId), into: survivor, actor: .admin))
        }
        api.post("customers/:id/unmerge") { _, context in
            let merged = Customer.ID(try context.parameters.require("id"))
            return JSONResponse.make(.ok, try await engine.identity.unmerge(merged, actor: .admin))
        }
        api.get("customers/:id/merges") { _, context in
            let id = Customer.ID(try context.parameters.require("id"))
            return JSONResponse.make(.ok, Page(items: try await engine.store.merges(involving: id), next: nil))
        }
        api.get("customers/:id/conversations") { request, context in
            let id = Customer.ID(try context.parameters.require("id"))
            let limit = try limitParameter(request)
            return JSONResponse.make(.ok, Page(items: try await engine.store.conversations(of: id, limit: limit), next: nil))
        }
        api.get("customers/:id/timeline") { request, context in
            let id = Customer.ID(try context.parameters.require("id"))
            let after = try sequenceParameter(request)
            let limit = try limitParameter(request)
            let events = try await engine.store.events(customerID: id, after: after, limit: limit)
            return JSONResponse.make(.ok, Page(items: events, next: events.count == limit ? events.last.map { String($0.sequence) } : nil))
        }
        api.get("conversations/:id") { _, context in
            let id = Conversation.ID(try context.parameters.require("id"))
            guard let conversation = try await engine.store.conversation(id) else { throw APIError.notFound("no conversation \(id)") }
            return JSONResponse.make(.ok, conversation)
        }
        api.get("conversations/:id/messages") { request, context in
            let id = Conversation.ID(try context.parameters.require("id"))
            guard try await engine.store.conversation(id) != nil else { throw APIError.notFound("no conversation \(id)") }
            let limit = try limitParameter(request)
            let after = request.uri.queryParameters["after"].map { Message.ID(String($0)) }
            let messages = try await engine.store.messages(in: id, after: after, limit: limit)
            return JSONResponse.make(.ok, Page(items: messages, next: messages.count == limit ? messages.last?.id.rawValue : nil))
        }
        api.post("conversations/:id/messages") { request, context in
            var request = request
            let id = Conversation.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(NewMessage.self, limit: maximumBodyBytes)
            let receipt = try await engine.outbound.send(
                OutboundService.Request(
                    conversationID: id, author: .system, visibility: input.note == true ? .note : .public,
                    content: OutboundContent(text: input.text, attachments: input.attachments ?? [], subject: input.subject),
                    idempotencyKey: request.headers[HTTPField.Name("Idempotency-Key")!],
                    handleID: input.handleId.map(Handle.ID.init(rawValue:)), channelAccountID: input.channelAccountId),
                actor: .admin)
            return JSONResponse.make(
                receipt.duplicate ? .ok : .accepted,
                SendResult(message: receipt.message, delivery: receipt.delivery, duplicate: receipt.duplicate))
        }
        api.get("deliveries/:id") { _, context in
            let id = Delivery.ID(try context.parameters.require("id"))
            guard let delivery = try await engine.store.delivery(id) else { throw APIError.notFound("no delivery \(id)") }
            return JSONResponse.make(.ok, delivery)
        }
        api.get("events") { request, _ in
            let after = try sequenceParameter(request)
            let limit = try limitParameter(request)
            let events = try await engine.store.events(after: after, limit: limit)
            return JSONResponse.make(.ok, Page(items: events, next: events.last.map { String($0.sequence) } ?? String(after)))
        }
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
