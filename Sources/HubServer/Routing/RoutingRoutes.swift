import Foundation
import HubConfig
import HubEngine
import HubModel
import HubRouting
import Hummingbird

/// The router over REST: agents' presence, offers (with why the router chose the agent), queues
/// live with their estimated wait, and completing and transferring conversations. Behind the
/// same token as the rest of `/v1` until agents log in (the inbox issue).
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
    }

    struct WrapUpRequest: Decodable {
        var conversationId: String
    }

    static func add(to router: Router<HubRequestContext>, engine: Engine, adminToken: Secret?, maximumBodyBytes: Int) {
        let api = router.group("v1").add(middleware: AdminAuthMiddleware(token: adminToken))
        let routing = engine.routing

        api.get("routing/queues") { _, _ in
            JSONResponse.make(.ok, JSONValue.object(["items": .array(await routing.queues().map(RoutingJSON.queue))]))
        }
        api.get("routing/queues/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let queue = await routing.queue(id) else { throw APIError.notFound("no queue \(id)") }
            return JSONResponse.make(.ok, RoutingJSON.queue(queue))
        }
        api.get("routing/agents") { _, _ in
            JSONResponse.make(.ok, JSONValue.object(["items": .array(await routing.agents().map(RoutingJSON.agent))]))
        }
        api.get("agents/:id/routing") { _, context in
            let id = try context.parameters.require("id")
            guard let agent = await routing.agent(id) else { throw APIError.notFound("no agent \(id)") }
            return JSONResponse.make(.ok, RoutingJSON.agent(agent))
        }
        api.post("agents/:id/presence") { request, context in
            var request = request
            let id = try context.parameters.require("id")
            let input = try await request.decodeJSON(PresenceRequest.self, limit: maximumBodyBytes)
            let presence: Presence
            switch input.presence {
            case "available": presence = .available
            case "offline": presence = .offline
            case "away": presence = .away(reason: input.reason ?? "away")
            default: throw APIError.invalid("presence is available, away or offline")
            }
            let agent = try await run { try await routing.setPresence(agent: id, presence, actor: .admin) }
            return JSONResponse.make(.ok, RoutingJSON.agent(agent))
        }
        api.post("agents/:id/wrap-up/end") { request, context in
            var request = request
            let id = try context.parameters.require("id")
            let input = try await request.decodeJSON(WrapUpRequest.self, limit: maximumBodyBytes)
            try await run { try await routing.endWrapUp(agent: id, conversation: Conversation.ID(input.conversationId)) }
            return JSONResponse.make(.ok, RoutingJSON.agent(await routing.agent(id)!))
        }
        api.get("offers/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let offer = await routing.offer(id) else { throw APIError.notFound("no offer \(id)") }
            return JSONResponse.make(.ok, RoutingJSON.offer(offer))
        }
        api.post("offers/:id/accept") { _, context in
            let id = try context.parameters.require("id")
            try await run { try await routing.accept(offer: id) }
            return JSONResponse.make(.ok, RoutingJSON.offer(await routing.offer(id)!))
        }
        api.post("offers/:id/reject") { request, context in
            var request = request
            let id = try context.parameters.require("id")
            let input = try await request.decodeJSON(RejectRequest.self, limit: maximumBodyBytes)
            guard let reason = RejectReason(rawValue: input.reason ?? "declined") else {
                throw APIError.invalid("reason is declined, busy, unreachable or noAnswer")
            }
            try await run { try await routing.reject(offer: id, reason: reason) }
            return JSONResponse.make(.ok, RoutingJSON.offer(await routing.offer(id)!))
        }
        api.get("conversations/:id/routing") { _, context in
            let id = Conversation.ID(try context.parameters.require("id"))
            guard let task = await routing.task(id) else { throw APIError.notFound("conversation \(id) is not with the router") }
            return JSONResponse.make(.ok, RoutingJSON.task(task, lastOffer: await routing.lastOffer(of: id)))
        }
        api.post("conversations/:id/complete") { _, context in
            let id = Conversation.ID(try context.parameters.require("id"))
            try await run { try await routing.complete(conversation: id) }
            return JSONResponse.make(.ok, JSONValue.object(["conversationId": .string(id.rawValue), "completed": .bool(true)]))
        }
        api.post("conversations/:id/transfer") { request, context in
            var request = request
            let id = Conversation.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(TransferRequest.self, limit: maximumBodyBytes)
            let target: TransferTarget
            if let agent = input.agentId {
                target = .agent(agent, queue: input.queue, within: .seconds(input.withinSeconds ?? 60))
            } else if let queue = input.queue {
                target = .queue(queue)
            } else {
                throw APIError.invalid("transfer to a queue (\"queue\") or an agent (\"agentId\")")
            }
            try await run { try await routing.transfer(conversation: id, to: target, keepAge: input.keepAge ?? true) }
            guard let task = await routing.task(id) else {
                return JSONResponse.make(.ok, JSONValue.object(["conversationId": .string(id.rawValue), "routing": .null]))
            }
            return JSONResponse.make(.ok, RoutingJSON.task(task, lastOffer: await routing.lastOffer(of: id)))
        }
    }

    /// Router refusals as HTTP errors: unknown things 404, wrong states 409.
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as RoutingService.Failure {
            switch failure {
            case .notFound(let what): throw APIError.notFound(what)
            case .refused(let error):
                switch error {
                case .unknownTask, .unknownAgent, .unknownQueue, .unknownOffer: throw APIError.notFound(error.description)
                case .duplicateTask, .invalidState: throw APIError(.conflict, code: "conflict", message: error.description)
                }
            }
        }
    }
}
