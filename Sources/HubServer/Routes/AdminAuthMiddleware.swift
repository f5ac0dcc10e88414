import HubChannels
import HubConfig
import Hummingbird

/// Guards `/v1`: the bearer token must equal the admin token from `HUB_ADMIN_TOKEN`. (Agents'
/// own logins and roles arrive with the inbox.)
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: Secret?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else {
            throw APIError(.unauthorized, code: "unauthorized", message: "the admin API is off: start the hub with HUB_ADMIN_TOKEN set")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            WebhookSignature.constantTimeEquals(String(header.dropFirst(7)), token.value)
        else {
            throw APIError(.unauthorized, code: "unauthorized", message: "send 'Authorization: Bearer <admin token>'")
        }
        return try await next(request, context)
    }
}
