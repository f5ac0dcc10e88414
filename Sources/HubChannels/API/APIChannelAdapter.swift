import AsyncHTTPClient
import Foundation
import HubConfig
import HubModel
import Logging
import NIOCore
import NIOHTTP1

/// The reference channel: integrators POST customers' messages as JSON, and receive replies as
/// signed JSON POSTs. The channel every end-to-end test uses, and the way to connect a channel the
/// hub does not ship.
public struct APIChannelAdapter: ChannelAdapter {
    public let account: ChannelAccountConfig
    let options: APIChannelOptions
    let httpClient: HTTPClient
    let logger: Logger
    let now: @Sendable () -> Date
    let rejections: WebhookRejections

    public var accountID: String { account.id }
    public var kind: ChannelKind { .api }

    public init(
        account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, rejections: WebhookRejections = WebhookRejections(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.account = account
        self.options = account.options as? APIChannelOptions ?? APIChannelOptions()
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
        self.rejections = rejections
    }

    // MARK: Inbound

    public func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        guard request.method == "POST" else {
            return reject(405, "method_not_allowed", "the api channel takes POST requests", request)
        }
        guard authorized(request) else {
            return reject(
                401, "unauthorized",
                "send 'Authorization: Bearer <inbound token>' or 'X-Switchboard-Signature-256: sha256=<HMAC-SHA256 of the body>'", request)
        }
        if let type = request.header("content-type"), !type.lowercased().hasPrefix("application/json") {
            return reject(415, "unsupported_media_type", "send the message as application/json, not \(type)", request)
        }
        let body: APIInboundBody
        do {
            body = try HubJSON.makeDecoder().decode(APIInboundBody.self, from: Data(request.body))
        } catch {
            return reject(400, "invalid_json", JSONProblem.describe(error), request)
        }
        switch body.type ?? "message" {
        case "message": return await receiveMessage(body, request: request, sink: sink)
        case "status": return await receiveStatus(body, request: request, sink: sink)
        case let other: return reject(422, "invalid_message", "unknown type '\(other)' (expected message or status)", request)
        }
    }

    private func receiveMessage(_ body: APIInboundBody, request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        guard let from = body.from else { return reject(422, "invalid_message", "'from' is required for a message", request) }
        var senderKind: HandleKind?
        if let kind = from.kind {
            guard let parsed = HandleKind(rawValue: kind), [.api, .phone, .email].contains(parsed) else {
                return reject(422, "invalid_message", "from.kind '\(kind)' must be api, phone or email", request)
            }
            senderKind = parsed
        }
        let event = InboundEvent(
            channelKind: .api, channelAccountID: account.id,
            sender: InboundSender(kind: senderKind, address: from.id, displayName: from.name), recipient: body.to,
            providerMessageID: body.messageId, occurredAt: body.sentAt, text: body.text,
            attachments: (body.attachments ?? []).map {
                Attachment(reference: $0.url, contentType: $0.contentType, byteCount: $0.size, filename: $0.filename)
            },
            threadKey: body.threadKey, subject: body.subject, attributes: body.attributes ?? [:], metadata: body.metadata ?? [:])
        do {
            let receipt = try await sink.ingest(event)
            return .json(
                receipt.duplicate ? 200 : 201,
                APIInboundReply(
                    messageId: receipt.messageID.rawValue, conversationId: receipt.conversationID.rawValue,
                    customerId: receipt.customerID.rawValue, duplicate: receipt.duplicate))
        } catch {
            return reject(error, request)
        }
    }

    private func receiveStatus(_ body: APIInboundBody, request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        guard let text = body.status, let status = DeliveryStatus(rawValue: text), status != .queued else {
            return reject(422, "invalid_message", "'status' must be one of sent, delivered, read, failed", request)
        }
        do {
            let found = try await sink.updateDeliveryStatus(
                DeliveryStatusUpdate(
                    channelAccountID: account.id, providerMessageID: body.messageId, status: status, error: body.error,
                    occurredAt: body.sentAt))
            guard found else { return reject(404, "unknown_message", "no message sent through '\(account.id)' has id '\(body.messageId)'", request) }
            return .json(200, ["status": text])
        } catch {
            return reject(error, request)
        }
    }

    private func authorized(_ request: WebhookRequest) -> Bool {
        if let token = account.secrets["inboundToken"]?.value, let header = request.header("authorization"),
            header.hasPrefix("Bearer "), WebhookSignature.constantTimeEquals(String(header.dropFirst(7)), token)
        {
            return true
        }
        if let secret = account.secrets["signingSecret"]?.value, let signature = request.header("x-switchboard-signature-256") {
            return WebhookSignature.isValidSHA256(signature, body: request.body, secret: secret)
        }
        return false
    }

    private func reject(_ status: Int, _ code: String, _ message: String, _ request: WebhookRequest) -> WebhookResponse {
        WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(status, code, message)
    }

    private func reject(_ error: IngestError, _ request: WebhookRequest) -> WebhookResponse {
        WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(error, invalidStatus: 422)
    }

    // MARK: Outbound

    /// An integrator's attachment URL, fetched as is.
    public func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment {
        try await AttachmentDownload.get(attachment.reference, httpClient: httpClient, maximumBytes: maximumBytes, timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout))
    }

    public func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard let url = options.outboundURL else {
            throw .permanent("channel account '\(account.id)' has no options.outboundURL to deliver to")
        }
        guard let secret = account.secrets["signingSecret"]?.value else {
            throw .transient("channel account '\(account.id)' has no signing secret")
        }
        let body = APIOutboundBody(
            deliveryId: delivery.id.rawValue, idempotencyKey: delivery.idempotencyKey, messageId: delivery.messageID?.rawValue,
            conversationId: delivery.conversationID?.rawValue,
            to: .init(kind: delivery.recipient.kind.rawValue, scope: delivery.recipient.scope, address: delivery.recipient.address),
            text: delivery.content.text,
            attachments: delivery.content.attachments.map {
                APIAttachment(url: $0.reference, contentType: $0.contentType, size: $0.byteCount, filename: $0.filename)
            },
            subject: delivery.content.subject, inReplyTo: delivery.content.inReplyTo, options: delivery.content.options,
            attempt: delivery.attempts, sentAt: now())
        let bytes: Data
        do {
            bytes = try HubJSON.makeEncoder().encode(body)
        } catch {
            throw .permanent("cannot encode the delivery: \(error)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "Switchboard-Hub")
        request.headers.add(name: "Idempotency-Key", value: delivery.idempotencyKey)
        request.headers.add(name: "X-Switchboard-Delivery", value: delivery.id.rawValue)
        request.headers.add(name: "X-Switchboard-Signature-256", value: WebhookSignature.sha256(body: bytes, secret: secret))
        for (name, value) in options.outboundHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))

        let response: HTTPClientResponse
        let reply: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: Self.timeAmount(account.delivery.attemptTimeout))
            reply = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw .transient("POST \(url) failed: \(error)")
        }
        let code = Int(response.status.code)
        switch code {
        case 200..<300:
            let parsed = try? HubJSON.makeDecoder().decode(APIOutboundReply.self, from: Data(reply.readableBytesView))
            // Without an id of the integrator's, status reports refer to the hub's message id.
            return DeliveryReceipt(providerMessageID: parsed?.id ?? delivery.messageID?.rawValue ?? delivery.id.rawValue)
        case 408, 425, 429, 500..<600:
            throw .transient(
                "\(url) answered \(code)\(Self.excerpt(reply))",
                retryAfter: response.headers.first(name: "Retry-After").flatMap(Int.init).map { .seconds($0) })
        default:
            throw .permanent("\(url) refused the delivery with \(code)\(Self.excerpt(reply))")
        }
    }

    private static func excerpt(_ buffer: ByteBuffer) -> String {
        let text = String(buffer: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : ": " + String(text.prefix(200))
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
