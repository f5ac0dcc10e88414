import AsyncHTTPClient
import Foundation
import HubConfig
import HubModel
import Logging
import NIOCore
import Synchronization

/// WeCom customer service (企业微信 微信客服). WeCom's callback carries no message, only the event
/// `kf_msg_or_event` with a short-lived token: the hub verifies and decrypts it, pulls the waiting
/// messages with `kf/sync_msg` (from the cursor it reached), stores the customers' messages, and
/// only then answers `success` (WeCom calls again when it gets no answer, and message ids make
/// that safe). Replies go out with `kf/send_msg`, whose 48-hour window and five-message rule the
/// outbound service enforces before a message is queued.
public struct WeComAdapter: ChannelAdapter {
    public let account: ChannelAccountConfig
    let options: WeComOptions
    let httpClient: HTTPClient
    let logger: Logger
    let rejections: WebhookRejections
    let crypto: WeChatCrypto?
    let tokens: WeChatAccessToken
    let now: @Sendable () -> Date
    /// How far `sync_msg` has read, per customer-service account (kept while the hub runs; after a
    /// restart the first sync reads what WeCom still holds, and message ids drop what is stored).
    let cursors = CursorBook()

    public var accountID: String { account.id }
    public var kind: ChannelKind { .wecom }

    public init(
        account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, rejections: WebhookRejections = WebhookRejections(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.account = account
        let options = account.options as? WeComOptions ?? WeComOptions(corpID: "", openKfID: "")
        self.options = options
        self.httpClient = httpClient
        self.logger = logger
        self.rejections = rejections
        self.now = now
        do {
            crypto = try WeChatCrypto(
                token: account.secrets["token"]?.value ?? "", encodingAESKey: account.secrets["encodingAESKey"]?.value ?? "", receiveID: options.corpID)
        } catch {
            if account.isActive { logger.error("the EncodingAESKey is not usable", metadata: ["account": "\(account.id)", "error": "\(error)"]) }
            crypto = nil
        }
        let url =
            "\(options.apiBaseURL)/cgi-bin/gettoken?corpid=\(FormURLEncoding.percentEncode(options.corpID))&corpsecret=\(FormURLEncoding.percentEncode(account.secrets["secret"]?.value ?? ""))"
        let timeout = APIChannelAdapter.timeAmount(account.delivery.attemptTimeout)
        tokens = WeChatAccessToken { () async throws(DeliveryFailure) -> (token: String, lifetime: Duration) in
            try await WeChatAdapter.fetchToken(url: url, what: "/cgi-bin/gettoken", httpClient: httpClient, timeout: timeout)
        }
    }

    var timeout: TimeAmount { APIChannelAdapter.timeAmount(account.delivery.attemptTimeout) }

    // MARK: Inbound

    public func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        let refuse = WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)
        guard let crypto else { return refuse(503, "channel_unavailable", "channel account '\(account.id)' has no usable encodingAESKey") }
        guard let signature = request.queryValue("msg_signature"), let timestamp = request.queryValue("timestamp"),
            let nonce = request.queryValue("nonce")
        else {
            return refuse(403, "missing_signature", "msg_signature, timestamp and nonce are required in the query")
        }
        switch request.method {
        case "GET":
            // The URL check: the echo string is encrypted; its plaintext is the answer.
            guard let echo = request.queryValue("echostr") else { return refuse(400, "invalid_request", "echostr is missing") }
            guard crypto.verify(msgSignature: signature, timestamp: timestamp, nonce: nonce, encrypt: echo) else {
                return refuse(403, "invalid_signature", "msg_signature does not match")
            }
            do {
                let plain = try crypto.decrypt(echo)
                return WebhookResponse(status: 200, headers: [("content-type", "text/plain; charset=utf-8")], body: Array(plain.utf8))
            } catch {
                return refuse(400, "malformed_body", "echostr cannot be decrypted: \(error)")
            }
        case "POST": break
        default: return refuse(405, "method_not_allowed", "WeCom sends GET (URL check) and POST (callbacks)")
        }
        guard let sent = Int64(timestamp), abs(now().timeIntervalSince1970 - Double(sent)) <= Double(options.maximumClockSkew.components.seconds)
        else {
            return refuse(403, "stale_timestamp", "timestamp '\(timestamp.prefix(20))' is not within \(options.maximumClockSkew) of the hub's clock")
        }
        let xml: String
        do {
            xml = try crypto.decryptMessage(
                body: String(decoding: request.body, as: UTF8.self), msgSignature: signature, timestamp: timestamp, nonce: nonce)
        } catch .signatureMismatch {
            return refuse(403, "invalid_signature", "msg_signature does not match the encrypted callback")
        } catch .receiveIDMismatch {
            return refuse(403, "wrong_account", "the callback was encrypted for another CorpID")
        } catch {
            return refuse(400, "malformed_body", "the callback cannot be read: \(error)")
        }
        let push: WeChatPush
        do {
            push = try WeChatPush(xml: xml)
        } catch {
            return refuse(400, "malformed_body", "the callback is not a WeCom event: \(error)")
        }
        guard case .event(.kfMsgOrEvent(let syncToken, let openKfID)) = push.kind else {
            logger.debug("WeCom callback acknowledged, not stored", metadata: ["account": "\(account.id)", "type": "\(push.xml["MsgType"] ?? "")"])
            return WeChatAdapter.success
        }
        guard openKfID == options.openKfID else {
            logger.info("callback for another customer-service account ignored", metadata: ["account": "\(account.id)", "open_kfid": "\(openKfID)"])
            return WeChatAdapter.success
        }
        do throws(DeliveryFailure) {
            try await synchronize(token: syncToken, sink: sink)
            return WeChatAdapter.success
        } catch {
            // Not stored: WeCom calls again, and the cursor has not moved past what was lost.
            return refuse(503, "unavailable", "the waiting messages could not be fetched and stored: \(error.reason)")
        }
    }

    /// Pulls every waiting message (`sync_msg`, following `has_more`), stores the customers' ones,
    /// and moves the cursor only past what is stored.
    func synchronize(token syncToken: String, sink: any InboundSink) async throws(DeliveryFailure) {
        for _ in 0..<50 {
            var request: [String: JSONValue] = ["token": .string(syncToken), "limit": .int(1000), "voice_format": .int(0), "open_kfid": .string(options.openKfID)]
            if let cursor = cursors[options.openKfID] { request["cursor"] = .string(cursor) }
            let answer = try await WeChatAdapter.post(
                "/cgi-bin/kf/sync_msg", body: Array(JSONWriter.text(of: JSONValue.object(request)).utf8), base: options.apiBaseURL, tokens: tokens,
                httpClient: httpClient, timeout: timeout)
            guard case .array(let items)? = answer["msg_list"] else { throw .transient("sync_msg answered without msg_list") }
            for item in items {
                guard let event = inboundEvent(item) else { continue }
                do throws(IngestError) {
                    _ = try await sink.ingest(event)
                } catch where error.code == .invalidEvent {
                    rejections.count(account: account.id, reason: "invalid_event")
                    logger.warning("WeCom message not stored", metadata: ["account": "\(account.id)", "msgid": "\(event.providerMessageID)", "reason": "\(error.message)"])
                } catch {
                    throw .transient("the store could not commit: \(error.message)")
                }
            }
            if let next = answer["next_cursor"]?.stringValue, !next.isEmpty { cursors[options.openKfID] = next }
            guard answer["has_more"]?.intValue == 1 else { return }
        }
    }

    /// A customer's message (`origin` 3) as an inbound event; system and servicer messages, and
    /// events, yield nothing.
    func inboundEvent(_ item: JSONValue) -> InboundEvent? {
        guard item["origin"]?.intValue == 3, let msgID = item["msgid"]?.stringValue, let user = item["external_userid"]?.stringValue,
            !user.isEmpty
        else { return nil }
        let type = item["msgtype"]?.stringValue ?? ""
        var text: String?
        var attachments: [Attachment] = []
        switch type {
        case "text": text = item["text"]?["content"]?.stringValue
        case "image", "voice", "video", "file":
            guard let media = item[type]?["media_id"]?.stringValue else { return nil }
            let contentType = ["image": "image/jpeg", "voice": "audio/amr", "video": "video/mp4"][type]
            attachments.append(Attachment(reference: "wechat-media:\(media)", contentType: contentType))
        case "location":
            let location = item["location"]
            text = "📍 \(location?["name"]?.stringValue ?? location?["address"]?.stringValue ?? "")"
        case "link": text = [item["link"]?["title"]?.stringValue, item["link"]?["url"]?.stringValue].compactMap { $0 }.joined(separator: "\n")
        default:
            logger.info("WeCom message type not supported", metadata: ["account": "\(account.id)", "type": "\(type)"])
            return nil
        }
        let sent = item["send_time"]?.intValue.map { Date(timeIntervalSince1970: Double($0)) }
        return InboundEvent(
            channelKind: .wecom, channelAccountID: account.id, sender: InboundSender(address: user), recipient: options.openKfID,
            providerMessageID: msgID, occurredAt: sent, text: text, attachments: attachments, metadata: ["msgtype": .string(type)])
    }

    // MARK: Attachments

    /// `wechat-media:<media id>` through `/cgi-bin/media/get` with the corp's token.
    public func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment {
        try await WeChatAdapter.fetchMedia(
            attachment, base: options.apiBaseURL, tokens: tokens, httpClient: httpClient, maximumBytes: maximumBytes, timeout: timeout)
    }

    // MARK: Outbound

    /// `kf/send_msg` as the customer-service account. The delivery id (at most 32 characters of
    /// letters, digits, `_` and `-`) goes as WeCom's `msgid`, which WeCom uses to drop a repeat.
    public func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt {
        var text = delivery.content.text ?? ""
        let links = delivery.content.attachments.map(\.reference).filter { $0.hasPrefix("https://") || $0.hasPrefix("http://") }
        if !links.isEmpty { text += (text.isEmpty ? "" : "\n") + links.joined(separator: "\n") }
        guard !text.isEmpty else { throw .permanent("nothing WeCom can carry: no text and no attachment with a public URL") }
        let msgID = String(delivery.id.rawValue.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }.suffix(32))
        let body: JSONValue = .object([
            "touser": .string(delivery.recipient.address), "open_kfid": .string(options.openKfID), "msgid": .string(msgID),
            "msgtype": .string("text"), "text": .object(["content": .string(text)]),
        ])
        let answer = try await WeChatAdapter.post(
            "/cgi-bin/kf/send_msg", body: Array(JSONWriter.text(of: body).utf8), base: options.apiBaseURL, tokens: tokens, httpClient: httpClient,
            timeout: timeout)
        return DeliveryReceipt(providerMessageID: answer["msgid"]?.stringValue ?? msgID)
    }
}

/// Where `sync_msg` has read to, per customer-service account.
final class CursorBook: Sendable {
    private let cursors = Mutex<[String: String]>([:])

    subscript(account: String) -> String? {
        get { cursors.withLock { $0[account] } }
        set { cursors.withLock { $0[account] = newValue } }
    }
}
