import Foundation
import HubConfig
import HubEngine
import HubModel
import HubRouting
import Hummingbird

/// The router over REST: agents' presence, offers (with why the router chose the agent), queues
/// live with their estimated wait, and completing and transferring conversations; agents act on
/// their own, supervisors and the admin token on anyone's.
enum RoutingRoutes {
    struct PresenceRequest: Decodable {
        /// available, away or offline.
        var presence: String
        var reason: String?
    }

    struct RejectRequest: Decodable {
        /// declined (default), busy, unreachable or noAnswer.
        var reason: String?
    }

    struct TransferRequest: Decodable {
        var queue: String?
        var agentId: String?
        /// How long the agent gets before the queue takes over (default 60 s).
        var withinSeconds: Int?
        var keepAge: Bool?
        /// A private note for whoever takes the conversation.
        var note: String?
    }

    struct WrapUpRequest: Decodable {
        var conversationId: String
    }

    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine, maximumBodyBytes: Int) {
        let routing = engine.routing
        let inbox = engine.inbox

        api.get("routing/queues") { request, context in
            _ = try context.requireViewer()
            return try idPage(await routing.queues(), id: \.id, request: request, json: RoutingJSON.queue)
        }
        api.get("routing/queues/:id") { _, context in
            _ = try context.requireViewer()
            let id = try context.parameters.require("id")
            guard let queue = await routing.queue(id) else { throw APIError.notFound("no queue \(id)") }
            return JSONResponse.make(.ok, RoutingJSON.queue(queue))
        }
        api.get("routing/agents") { request, context in
            _ = try ResourceRoutes.requireSupervisor(context)
            return try idPage(await routing.agentsJSON(), id: \.id, request: request, json: \.json)
        }
        api.get("agents/:id/routing") { _, context in
            let viewer = try context.requireViewer()
            let id = try context.parameters.require("id")
            guard viewer.seesAll || viewer.agentID?.rawValue == id, let agent = await routing.agentJSON(id) else {
                throw APIError.notFound("no agent \(id)")
            }
            return JSONResponse.make(.ok, agent)
        }
        api.post("agents/:id/presence") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = try context.parameters.require("id")
            let input = try await request.decodeJSON(PresenceRequest.self, limit: maximumBodyBytes)
            let presence = try presence(input.presence, reason: input.reason)
            return JSONResponse.make(.ok, try await inbox.setPresence(presence, for: viewer, agent: Agent.ID(id)))
        }
        api.post("agents/:id/wrap-up/end") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = try context.parameters.require("id")
            let input = try await request.decodeJSON(WrapUpRequest.self, limit: maximumBodyBytes)
            try await inbox.endWrapUp(agent: Agent.ID(id), conversation: Conversation.ID(input.conversationId), for: viewer)
            return JSONResponse.make(.ok, await routing.agentJSON(id) ?? .null)
        }
        api.get("offers/:id") { _, context in
            let viewer = try context.requireViewer()
            let id = try context.parameters.require("id")
            guard let offer = await routing.offer(id), viewer.seesAll || offer.agentID == viewer.agentID?.rawValue else {
                throw APIError.notFound("no offer \(id)")
            }
            return JSONResponse.make(.ok, RoutingJSON.offer(offer))
        }
        api.post("offers/:id/accept") { _, context in
            let viewer = try context.requireViewer()
            let id = try context.parameters.require("id")
            try await inbox.accept(offer: id, for: viewer)
            return JSONResponse.make(.ok, RoutingJSON.offer(await routing.offer(id)!))
        }
        api.post("offers/:id/reject") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = try context.parameters.require("id")
            let input = try await request.decodeJSON(RejectRequest.self, limit: maximumBodyBytes)
            guard let reason = RejectReason(rawValue: input.reason ?? "declined") else {
                throw APIError.invalid("reason is declined, busy, unreachable or noAnswer")
            }
            try await inbox.reject(offer: id, reason: reason, for: viewer)
            return JSONResponse.make(.ok, RoutingJSON.offer(await routing.offer(id)!))
        }
        api.get("conversations/:id/routing") { _, context in
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            _ = try await inbox.conversation(id, for: viewer)
            guard let task = await routing.task(id) else { throw APIError.notFound("conversation \(id) is not with the router") }
            return JSONResponse.make(.ok, RoutingJSON.task(task, lastOffer: await routing.lastOffer(of: id)))
        }
        api.post("conversations/:id/complete") { _, context in
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            try await inbox.complete(id, for: viewer)
            return JSONResponse.make(.ok, JSONValue.object(["conversationId": .string(id.rawValue), "completed": .bool(true)]))
        }
        api.post("conversations/:id/transfer") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = Conversation.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(TransferRequest.self, limit: maximumBodyBytes)
            guard input.agentId != nil || input.queue != nil else {
                throw APIError.invalid("transfer to a queue (\"queue\") or an agent (\"agentId\")")
            }
            try await inbox.transfer(
                id, queue: input.queue, agent: input.agentId.map(Agent.ID.init(rawValue:)), note: input.note,
                within: .seconds(input.withinSeconds ?? 60), keepAge: input.keepAge ?? true, for: viewer)
            guard let task = await routing.task(id) else {
                return JSONResponse.make(.ok, JSONValue.object(["conversationId": .string(id.rawValue), "routing": .null]))
            }
            return JSONResponse.make(.ok, RoutingJSON.task(task, lastOffer: await routing.lastOffer(of: id)))
        }
    }

    /// A page of the router's live records in id order: `after` an id, at most `limit`.
    static func idPage<Item>(_ all: [Item], id: (Item) -> String, request: Request, json: (Item) -> JSONValue) throws -> Response {
        let limit = try ResourceRoutes.limitParameter(request)
        let after = request.uri.queryParameters["after"].map(String.init) ?? ""
        let page = all.filter { id($0) > after }.sorted { id($0) < id($1) }.prefix(limit)
        var body: [String: JSONValue] = ["items": .array(page.map(json))]
        if page.count == limit, let last = page.last { body["next"] = .string(id(last)) }
        return JSONResponse.make(.ok, JSONValue.object(body))
    }

    static func presence(_ text: String, reason: String?) throws -> Presence {
        switch text {
        case "available": return .available
        case "offline": return .offline
        case "away": return .away(reason: reason ?? "away")
        default: throw APIError.invalid("presence is available, away or offline")
        }
    }
}
