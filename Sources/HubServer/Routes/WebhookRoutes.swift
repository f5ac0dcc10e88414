import HTTPTypes
import HubConfig
import HubEngine
import HubModel
import Hummingbird
import Logging
import NIOCore

/// `/webhooks/<channel account id>`: every provider's requests, handed to the account's adapter.
enum WebhookRoutes {
    static func add(to router: Router<HubRequestContext>, engine: Engine, maximumBodyBytes: Int, logger: Logger) {
        let handler: @Sendable (Request, HubRequestContext) async throws -> Response = { request, context in
            var request = request
            let accountID = try context.parameters.require("account")
            guard let account = engine.channels.account(accountID), let adapter = engine.channels.adapter(accountID) else {
                logger.warning("webhook for an unknown channel account", metadata: ["account": "\(accountID)"])
                throw APIError(.notFound, code: "unknown_channel_account", message: "no channel account '\(accountID)'")
            }
            if let reason = account.inactiveReason {
                logger.warning("webhook for an inactive channel account", metadata: ["account": "\(accountID)", "reason": "\(reason)"])
                throw APIError(.serviceUnavailable, code: "channel_unavailable", message: reason)
            }
            let body = try await request.collectBody(limit: maximumBodyBytes)
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
        }
    }
}
