import AsyncHTTPClient
import Foundation
import HubConfig
import HubModel
import Logging

/// Messenger and Instagram Direct through Meta's Messenger Platform: one adapter for both kinds,
/// which share the webhook format and the Send API. Inbound: Meta's subscription check (GET) and
/// JSON webhooks (POST) signed with `X-Hub-Signature-256` at `/webhooks/<account>`. Outbound: the
/// Send API, one request per text or attachment.
public struct MetaAdapter: ChannelAdapter {
    public let account: ChannelAccountConfig
    let options: MetaOptions
    let httpClient: HTTPClient
    let logger: Logger
    let rejections: WebhookRejections

    public var accountID: String { account.id }
    public var kind: ChannelKind { account.kind }

    public init(account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, rejections: WebhookRejections = WebhookRejections()) {
        self.account = account
        self.options = account.options as? MetaOptions ?? MetaOptions(pageID: "")
        self.httpClient = httpClient
        self.logger = logger
        self.rejections = rejections
    }

    /// The `object` field of this kind's webhooks: Messenger's are about a Page, Instagram's about
    /// an Instagram account. A body with the other one was sent to the wrong account.
    var webhookObject: String { kind == .instagram ? "instagram" : "page" }

    /// What Meta's samples answer to a webhook; Meta reads only the status.
    static let received = WebhookResponse(status: 200, headers: [("content-type", "text/plain; charset=utf-8")], body: Array("EVENT_RECEIVED".utf8))

    // MARK: Inbound

    public func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        switch request.method {
        case "GET": verifySubscription(request)
        case "POST": await receive(request, sink: sink)
        default: reject(405, "method_not_allowed", "Meta webhooks are GET (subscription check) or POST (events) requests")
        }
    }

    /// Meta's subscription check when the webhook is configured: `hub.mode=subscribe`, our verify
    /// token, and a challenge to echo back exactly. Anything else is refused, so that nobody can
    /// learn whether an URL is a hub by probing it.
    func verifySubscription(_ request: WebhookRequest) -> WebhookResponse {
        guard let verifyToken = account.secrets["verifyToken"]?.value else {
            return reject(503, "channel_unavailable", "channel account '\(account.id)' has no verify token")
        }
        guard request.queryValue("hub.mode") == "subscribe" else {
            return reject(403, "verification_failed", "hub.mode is '\(request.queryValue("hub.mode") ?? "")', not 'subscribe'")
        }
        guard let token = request.queryValue("hub.verify_token"), WebhookSignature.constantTimeEquals(token, verifyToken) else {
            return reject(403, "verification_failed", "hub.verify_token does not match the account's verify token")
        }
        guard let challenge = request.queryValue("hub.challenge"), !challenge.isEmpty else {
            return reject(400, "verification_failed", "hub.challenge is missing")
        }
        logger.info("Meta webhook subscription verified", metadata: ["account": "\(account.id)"])
        return WebhookResponse(status: 200, headers: [("content-type", "text/plain; charset=utf-8")], body: Array(challenge.utf8))
    }

    /// A webhook POST: the signature over the raw bytes first (Meta signs its escaped JSON, which
    /// a re-serialization would not reproduce), then every entry and messaging item. It answers
    /// 200 only once everything in the body is stored: Meta retries a failed delivery of the
    /// whole body, and the message ids make the retry harmless.
    func receive(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        guard let signature = request.header("x-hub-signature-256") else {
            return reject(403, "missing_signature", "the request has no X-Hub-Signature-256 header")
        }
        guard let appSecret = account.secrets["appSecret"]?.value else {
            return reject(503, "channel_unavailable", "channel account '\(account.id)' has no app secret")
        }
        guard WebhookSignature.isValidSHA256(signature, body: request.body, secret: appSecret) else {
            return reject(403, "invalid_signature", "X-Hub-Signature-256 is not the HMAC-SHA256 of the body under the app secret")
        }
        let body: JSONValue
        do {
            body = try request.jsonBody()
        } catch {
            return reject(400, "malformed_body", "the body is not JSON: \(error)")
        }
        guard body["object"]?.stringValue == webhookObject else {
            let object = body["object"]?.stringValue ?? "nothing"
            return reject(400, "wrong_object", "the webhook is about '\(object)'; a \(kind.rawValue) account receives '\(webhookObject)'")
        }
        let items: [Item]
        do {
            items = try self.items(of: body)
        } catch {
            return reject(400, "invalid_event", error.reason)
        }
        for item in items {
            switch item {
            case .message(let event):
                do {
                    _ = try await sink.ingest(event)
                } catch where error.code == .invalidEvent {
                    // Refusing the body would make Meta send it again and again; the other items
                    // are stored, this one is counted and logged.
                    _ = refusal(error, invalidStatus: 400)
                } catch {
                    return refusal(error, invalidStatus: 400)
                }
            case .read(let reader, let upTo):
                do {
                    _ = try await sink.markRead(
                        ReadReceipt(channelKind: kind, channelAccountID: account.id, reader: InboundSender(address: reader), upTo: upTo))
                } catch {
                    return refusal(error, invalidStatus: 400)
                }
            case .delivered(let mid, let occurredAt):
                do {
                    let update = DeliveryStatusUpdate(channelAccountID: account.id, providerMessageID: mid, status: .delivered, occurredAt: occurredAt)
                    if try await !sink.updateDeliveryStatus(update) {
                        // The mids of attachments sent after a text, and messages sent from Meta's own inbox.
                        logger.debug("delivery report for a message the hub does not know", metadata: ["account": "\(account.id)", "mid": "\(mid)"])
                    }
                } catch {
                    return refusal(error, invalidStatus: 400)
                }
            }
        }
        return Self.received
    }

    /// What one webhook body asks the hub to do, in order.
    enum Item {
        /// A customer's message or postback, to store.
        case message(InboundEvent)
        /// Meta delivered the message with this id to the customer's device.
        case delivered(mid: String, occurredAt: Date?)
        /// The customer read everything sent to them up to the watermark.
        case read(reader: String, upTo: Date)
    }

    /// Why a well-signed body cannot be read.
    struct FormatError: Error {
        var reason: String
    }

    /// The items of every entry for this account's page, in the body's order. Entries for another
    /// page are skipped with a log line (an app subscribed to several pages sends to every
    /// webhook); so are items the hub has no use for.
    func items(of body: JSONValue) throws(FormatError) -> [Item] {
        guard case .array(let entries)? = body["entry"] else { throw FormatError(reason: "'entry' is not a list") }
        var items: [Item] = []
        for (index, entry) in entries.enumerated() {
            guard let id = entry["id"]?.stringValue ?? entry["id"]?.intValue.map(String.init) else {
                throw FormatError(reason: "entry \(index) has no id")
            }
            guard id == options.pageID else {
                logger.warning("webhook entry for another page ignored", metadata: ["account": "\(account.id)", "entry": "\(id)", "page": "\(options.pageID)"])
                continue
            }
            guard case .array(let messaging)? = entry["messaging"] else {
                // Feed changes, comments, standby (handover) events: not messages to this inbox.
                logger.debug("webhook entry without messaging ignored", metadata: ["account": "\(account.id)"])
                continue
            }
            for (position, item) in messaging.enumerated() {
                do {
                    items += try self.items(ofMessaging: item)
                } catch {
                    // One unreadable item (a plugin opt-in naming no sender) must not make Meta
                    // resend the others forever: it is counted, logged and skipped.
                    rejections.count(account: account.id, reason: "invalid_event")
                    logger.warning(
                        "webhook item skipped",
                        metadata: ["account": "\(account.id)", "entry": "\(index)", "item": "\(position)", "reason": "\(error.reason)"])
                }
            }
        }
        return items
    }

    /// One messaging item: a message, a postback or a delivery report. Echoes of the page's own
    /// messages, read receipts, reactions and unknown fields yield nothing.
    func items(ofMessaging item: JSONValue) throws(FormatError) -> [Item] {
        guard let sender = item["sender"]?["id"]?.stringValue, !sender.isEmpty else { throw FormatError(reason: "sender.id is missing") }
        let timestamp = item["timestamp"]?.intValue
        let occurredAt = timestamp.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        if let message = item["message"] {
            if message["is_echo"] == .bool(true) { return [] }  // the page's own message, sent by the hub or from Meta's inbox
            if message["is_deleted"] == .bool(true) {
                logger.info("the customer unsent a message", metadata: ["account": "\(account.id)", "mid": "\(message["mid"]?.stringValue ?? "")"])
                return []
            }
            return try self.message(message, sender: sender, recipient: item["recipient"]?["id"]?.stringValue, occurredAt: occurredAt)
        }
        if let postback = item["postback"] {
            // A tap on a button the page sent: its title is what the customer saw and "said".
            guard let mid = postback["mid"]?.stringValue ?? timestamp.map({ "postback:\(sender):\($0)" }) else {
                throw FormatError(reason: "a postback without mid or timestamp")
            }
            var metadata: [String: JSONValue] = ["postback": .bool(true)]
            if let payload = postback["payload"]?.stringValue { metadata["payload"] = .string(payload) }
            let event = InboundEvent(
                channelKind: kind, channelAccountID: account.id, sender: InboundSender(address: sender),
                recipient: item["recipient"]?["id"]?.stringValue, providerMessageID: mid, occurredAt: occurredAt,
                text: postback["title"]?.stringValue ?? postback["payload"]?.stringValue, metadata: metadata)
            return [.message(event)]
        }
        if let delivery = item["delivery"] {
            guard case .array(let mids)? = delivery["mids"] else { return [] }  // a watermark alone names no message
            return mids.compactMap(\.stringValue).map { .delivered(mid: $0, occurredAt: occurredAt) }
        }
        if let read = item["read"] {
            // A read watermark covers every message sent to this person before it.
            guard let watermark = read["watermark"]?.intValue else { return [] }
            return [.read(reader: sender, upTo: Date(timeIntervalSince1970: Double(watermark) / 1000))]
        }
        logger.debug("messaging item ignored", metadata: ["account": "\(account.id)", "fields": "\(Self.fieldNames(item))"])
        return []
    }

    /// A customer's message: text and attachments by reference (Meta's CDN URLs are not fetched),
    /// with what it replies to and the quick reply tapped kept as metadata.
    func message(_ message: JSONValue, sender: String, recipient: String?, occurredAt: Date?) throws(FormatError) -> [Item] {
        guard let mid = message["mid"]?.stringValue, !mid.isEmpty else { throw FormatError(reason: "message.mid is missing") }
        var attachments: [Attachment] = []
        if case .array(let list)? = message["attachments"] {
            for attachment in list {
                guard let url = attachment["payload"]?["url"]?.stringValue, Self.isPublicURL(url) else {
                    continue  // a location or a template: nothing to link to
                }
                let type = attachment["type"]?.stringValue
                attachments.append(Attachment(reference: url, contentType: type.flatMap(Self.contentType(attachmentType:))))
            }
        }
        let text = message["text"]?.stringValue
        guard !(text ?? "").isEmpty || !attachments.isEmpty else {
            logger.info("a message with nothing the hub can show ignored", metadata: ["account": "\(account.id)", "mid": "\(mid)"])
            return []
        }
        var metadata: [String: JSONValue] = [:]
        if let replyTo = message["reply_to"]?["mid"]?.stringValue { metadata["reply_to"] = .string(replyTo) }
        if let payload = message["quick_reply"]?["payload"]?.stringValue { metadata["quick_reply"] = .string(payload) }
        let event = InboundEvent(
            channelKind: kind, channelAccountID: account.id, sender: InboundSender(address: sender), recipient: recipient,
            providerMessageID: mid, occurredAt: occurredAt, text: text, attachments: attachments, metadata: metadata)
        return [.message(event)]
    }

    /// Meta names an attachment's kind, not its format: the hub records the matching MIME range
    /// (`image/*`), which maps back to the same kind when an agent forwards it.
    static func contentType(attachmentType: String) -> String? {
        switch attachmentType {
        case "image", "video", "audio": attachmentType + "/*"
        case "file": "application/octet-stream"
        default: nil
        }
    }

    private static func fieldNames(_ item: JSONValue) -> String {
        guard case .object(let fields) = item else { return "" }
        return fields.keys.sorted().joined(separator: ",")
    }

    private func reject(_ status: Int, _ code: String, _ message: String) -> WebhookResponse {
        WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(status, code, message)
    }

    private func refusal(_ error: IngestError, invalidStatus: Int) -> WebhookResponse {
        WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(error, invalidStatus: invalidStatus)
    }

    // MARK: Outbound

    /// Sends a reply through the Send API: the text first, then each attachment that has a public
    /// URL as a message of its own (the Send API takes one attachment per message), so one
    /// delivery is several requests, and the receipt names the first message (the text). A
    /// failure after the first request makes the whole delivery retry, which can repeat what was
    /// already sent: at least once, as every delivery.
    /// Meta's attachment URLs are public CDN links that expire: fetched as they are.
    public func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment {
        try await AttachmentDownload.get(attachment.reference, httpClient: httpClient, maximumBytes: maximumBytes, timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout))
    }

    public func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard let token = account.secrets["pageAccessToken"]?.value else {
            throw .transient("channel account '\(account.id)' has no page access token")
        }
        do {
            return try await send(delivery, token: token)
        } catch {
            throw error.redacting(token)
        }
    }

    private func send(_ delivery: Delivery, token: String) async throws(DeliveryFailure) -> DeliveryReceipt {
        let messages = Self.messages(for: delivery.content)
        guard !messages.isEmpty else { throw .permanent("nothing to send: no text and no attachment with a public http(s) URL") }
        let skipped = delivery.content.attachments.count(where: { !Self.isPublicURL($0.reference) })
        if skipped > 0 {
            logger.warning("attachments without a public URL not sent", metadata: ["account": "\(account.id)", "count": "\(skipped)"])
        }
        var envelope: [String: JSONValue] = ["recipient": .object(["id": .string(delivery.recipient.address)])]
        // The outbound service decides whether a reply needs a tag (outside the 24-hour window);
        // the adapter sends what it is told.
        if let tag = delivery.content.options["messageTag"]?.stringValue {
            envelope["messaging_type"] = .string("MESSAGE_TAG")
            envelope["tag"] = .string(tag)
        } else {
            envelope["messaging_type"] = .string("RESPONSE")
        }
        // Messenger sends as the Page. Instagram's account id names the webhook entries, but the
        // Send API wants the linked Page (Facebook Login) or `me` with the token: `me` works with
        // either login's token.
        let sender = kind == .instagram ? "me" : options.pageID
        let path = "\(options.graphBaseURL)/\(options.graphVersion)/\(sender)/messages"
        let url = path + "?access_token=" + FormURLEncoding.percentEncode(token)
        var first: String?
        for (index, message) in messages.enumerated() {
            envelope["message"] = message
            let call = try await ProviderJSONCall.post(
                .object(envelope), to: url, shownAs: path, httpClient: httpClient, timeout: account.delivery.attemptTimeout)
            guard (200..<300).contains(call.status) else { throw Self.failure(call) }
            let id = call.answer?["message_id"]?.stringValue
            if id == nil {
                // Accepted but unreadable: retrying could send twice, so take it as sent.
                logger.warning("the Send API accepted a message without a readable message_id", metadata: ["account": "\(account.id)"])
            }
            if index == 0 { first = id }
        }
        return DeliveryReceipt(providerMessageID: first)
    }

    /// The Send API `message` objects for one delivery: the text, then one per attachment with a
    /// public URL (Meta fetches it; `is_reusable` lets Meta keep it for later sends).
    static func messages(for content: OutboundContent) -> [JSONValue] {
        var messages: [JSONValue] = []
        if let text = content.text, !text.isEmpty { messages.append(.object(["text": .string(text)])) }
        for attachment in content.attachments where isPublicURL(attachment.reference) {
            let payload: JSONValue = .object(["url": .string(attachment.reference), "is_reusable": .bool(true)])
            messages.append(.object(["attachment": .object(["type": .string(attachmentType(attachment.contentType)), "payload": payload])]))
        }
        return messages
    }

    /// Whether Meta can fetch an attachment: a `blob:` reference into the hub's store cannot be sent
    /// by reference.
    static func isPublicURL(_ reference: String) -> Bool { reference.hasPrefix("https://") || reference.hasPrefix("http://") }

    /// The Send API's attachment type for a MIME type; anything not an image, video or sound is a file.
    static func attachmentType(_ contentType: String?) -> String {
        guard let major = contentType?.lowercased().split(separator: "/").first.map(String.init), ["image", "video", "audio"].contains(major)
        else { return "file" }
        return major
    }

    /// Graph API errors as retryable or not. Rate limits (HTTP 429, codes 4, 17, 32, 613), 5xx and
    /// errors Meta marks `is_transient` may pass later; so may a bad token (190), once an
    /// administrator has replaced it. Everything else (outside the window: 10/2018278, the person
    /// is unavailable: 551, an invalid parameter: 100) fails the same way on every attempt.
    static func failure(_ call: ProviderJSONCall) -> DeliveryFailure {
        let error = call.answer?["error"]
        let code = error?["code"]?.intValue
        let detail = describe(error)
        if code == 190 || call.status == 401 {
            return .transient("the Send API refused the page access token (\(call.status))\(detail): check the page access token")
        }
        if call.status == 429 || code.map({ [4, 17, 32, 613].contains($0) }) == true {
            return .transient("the Send API is rate limiting (\(call.status))\(detail)", retryAfter: call.retryAfterHeader)
        }
        if call.status >= 500 || error?["is_transient"] == .bool(true) {
            return .transient("the Send API answered \(call.status)\(detail)", retryAfter: call.retryAfterHeader)
        }
        return .permanent("the Send API refused the message (\(call.status))\(detail)")
    }

    /// Meta's error body, `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`,
    /// as `: error 10/2018278 (outside the messaging window): <message> [fbtrace_id …]`. The
    /// trace id is what Meta's support asks for.
    static func describe(_ error: JSONValue?) -> String {
        guard let error else { return "" }
        var text = ""
        if let code = error["code"]?.intValue {
            text += ": error \(code)"
            let subcode = error["error_subcode"]?.intValue
            if let subcode { text += "/\(subcode)" }
            switch (code, subcode) {
            case (10, .some(2_018_278)): text += " (outside the messaging window)"
            case (551, _): text += " (the person is not available)"
            default: break
            }
        }
        if let message = error["message"]?.stringValue { text += ": " + message }
        if let trace = error["fbtrace_id"]?.stringValue { text += " [fbtrace_id \(trace)]" }
        return text
    }
}
