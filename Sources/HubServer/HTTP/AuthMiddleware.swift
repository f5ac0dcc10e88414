import HubChannels
import HubConfig
import HubEngine
import Hummingbird

/// Guards `/v1`: a request carries `Authorization: Bearer <token>`, either an agent's session
/// token (from `POST /v1/auth/login`) or the admin token from `HUB_ADMIN_TOKEN` (integrations).
/// A WebSocket upgrade may carry the token as `?access_token=` instead, since browsers cannot set
/// headers on one; an upgrade without a usable token goes on with the failure noted, for the
/// socket to report in a frame and a close code. Logging in is the one open route.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let adminToken: Secret?
    let auth: AuthService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .post, request.uri.path == "/v1/auth/login" { return try await next(request, context) }
        var context = context
        do {
            context.viewer = try await viewer(for: request)
        } catch let error as APIError where request.headers[.upgrade]?.lowercased() == "websocket" {
            context.authFailure = error
        }
        return try await next(request, context)
    }

    func viewer(for request: Request) async throws -> Viewer {
        let token: String
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            token = String(header.dropFirst(7))
        } else if request.headers[.upgrade]?.lowercased() == "websocket", let query = request.uri.queryParameters["access_token"] {
            token = String(query)
        } else {
            throw APIError(.unauthorized, code: "unauthorized", message: "send 'Authorization: Bearer <token>' (log in at POST /v1/auth/login)")
        }
        if let adminToken, WebhookSignature.constantTimeEquals(token, adminToken.value) { return .integration }
        guard let authenticated = try await auth.authenticate(token) else {
            throw APIError(.unauthorized, code: "unauthorized", message: "the token is unknown, expired or revoked: log in again")
        }
        return authenticated.viewer
    }
}
