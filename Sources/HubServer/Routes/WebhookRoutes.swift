import HTTPTypes
import HubChannels
import HubConfig
import HubEngine
import HubModel
import Hummingbird
import Logging
import NIOCore

/// `/webhooks/<channel account id>` (and one level below it, such as `/status`): every provider's
/// requests, handed to the account's adapter. Refusals are logged and counted per account.
enum WebhookRoutes {
    static func add(
        to router: Router<HubRequestContext>, engine: Engine, rejections: WebhookRejections, maximumBodyBytes: Int, logger: Logger
    ) {
        let handler: @Sendable (Request, HubRequestContext) async throws -> Response = { request, context in
            var request = request
            let accountID = try context.parameters.require("account")
            guard let account = engine.channels.account(accountID), let adapter = engine.channels.adapter(accountID) else {
                logger.warning("webhook for an unknown channel account", metadata: ["account": "\(accountID)"])
                throw APIError(.notFound, code: "unknown_channel_account", message: "no channel account '\(accountID)'")
            }
            if let reason = account.inactiveReason {
                rejections.count(account: accountID, reason: "channel_unavailable")
                logger.warning("webhook for an inactive channel account", metadata: ["account": "\(accountID)", "reason": "\(reason)"])
                // The reason names configuration files and secrets: for the log and GET /v1/channels, not the caller.
                throw APIError(.serviceUnavailable, code: "channel_unavailable", message: "channel account '\(accountID)' is not active")
            }
            let body: ByteBuffer
            do {
                body = try await request.collectBody(limit: maximumBodyBytes)
            } catch let error as APIError {
                rejections.count(account: accountID, reason: error.code)
                logger.warning("webhook rejected", metadata: ["account": "\(accountID)", "code": "\(error.code)", "reason": "\(error.message)"])
                throw error
            }
            let webhook = WebhookRequest(
                method: request.method.rawValue, url: "http://\(request.head.authority ?? "localhost")\(request.uri.string)",
                path: request.uri.path,
                query: request.uri.queryParameters.map { (String($0.key), String($0.value)) },
                headers: request.headers.map { ($0.name.canonicalName, $0.value) }, body: Array(body.readableBytesView))
            let answer = await adapter.handleWebhook(webhook, sink: engine.ingest)
            var headers = HTTPFields()
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        for method in [HTTPRequest.Method.get, .post, .put] {
            router.on("webhooks/:account", method: method, use: handler)
            router.on("webhooks/:account/:action", method: method, use: handler)
        }
    }
}
