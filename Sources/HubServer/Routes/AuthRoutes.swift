import Foundation
import HubEngine
import HubModel
import HubStore
import Hummingbird

/// Logging in and out, and passwords: `POST /v1/auth/login` (the one route without a token),
/// `POST /v1/auth/logout`, `GET /v1/auth/me`, `POST /v1/agents/{id}/password`.
enum AuthRoutes {
    struct LoginRequest: Decodable {
        var login: String
        var password: String
    }

    struct PasswordRequest: Decodable {
        var password: String
        /// Required when agents change their own password.
        var currentPassword: String?
    }

    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine, maximumBodyBytes: Int) {
        api.post("auth/login") { request, context in
            var request = request
            let input = try await request.decodeJSON(LoginRequest.self, limit: maximumBodyBytes)
            let address = context.remoteAddressText
            let login = try await engine.auth.login(
                input.login, password: input.password, address: address,
                origin: [address, request.headers[.userAgent]].compactMap { $0 }.joined(separator: " "))
            return JSONResponse.make(
                .ok,
                JSONValue.object([
                    "token": .string(login.token), "expiresAt": .string(HubJSON.formatTimestamp(login.session.expiresAt)),
                    "agent": agentJSON(login.agent),
                ]))
        }
        api.post("auth/logout") { _, context in
            let viewer = try context.requireViewer()
            guard let digest = viewer.sessionDigest else { throw APIError.invalid("the admin token has no session to end") }
            _ = try await engine.auth.logout(digest: digest)
            return Response(status: .noContent)
        }
        api.get("auth/me") { _, context in
            let viewer = try context.requireViewer()
            guard let id = viewer.agentID, let agent = try await engine.store.agent(id) else {
                return JSONResponse.make(.ok, JSONValue.object(["role": .string("admin"), "integration": .bool(true)]))
            }
            return JSONResponse.make(.ok, agentJSON(agent))
        }
        api.post("agents/:id/password") { request, context in
            var request = request
            let viewer = try context.requireViewer()
            let id = Agent.ID(try context.parameters.require("id"))
            let input = try await request.decodeJSON(PasswordRequest.self, limit: maximumBodyBytes)
            if viewer.agentID == id {
                // One's own password: prove the current one.
                guard let agent = try await engine.store.agent(id), let current = input.currentPassword else {
                    throw APIError.invalid("send currentPassword to change your own password")
                }
                _ = try await engine.auth.login(agent.login, password: current, address: context.remoteAddressText, origin: "password change")
            } else if viewer.role < .admin {
                throw APIError(.forbidden, code: "forbidden", message: "only admins set other agents' passwords")
            }
            try await engine.auth.setPassword(input.password, for: id, actor: viewer.actor)
            return Response(status: .noContent)
        }
    }

    static func agentJSON(_ agent: Agent) -> JSONValue {
        .object([
            "id": .string(agent.id.rawValue), "login": .string(agent.login), "name": .string(agent.name), "role": .string(agent.role.rawValue),
            "queues": .array(agent.queues.map { .string($0.queueID) }), "canRevealContacts": .bool(agent.canRevealContacts),
        ])
    }
}

extension HubRequestContext {
    /// The client's IP address, for rate limits and the audit trail.
    var remoteAddressText: String? { remoteAddress?.ipAddress }
}
