import AsyncHTTPClient
import Crypto
import Foundation
import HubConfig
import HubModel
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A WeChat Official Account (公众号). WeChat pushes followers' messages and events to
/// `/webhooks/<account>` (a GET first, to verify the URL); every push is checked against the
/// token's signature and the timestamp, decrypted in safe mode, stored, and only then answered
/// with `success`, well inside WeChat's five seconds. Agents' replies go out later through the
/// customer-service message API (客服消息), whose 48-hour window and five-replies rule the
/// outbound service enforces before a message is queued.
public struct WeChatAdapter: ChannelAdapter {
    public let account: ChannelAccountConfig
    let options: WeChatOptions
    let httpClient: HTTPClient
    let logger: Logger
    let rejections: WebhookRejections
    let crypto: WeChatCrypto?
    let tokens: WeChatAccessToken
    let now: @Sendable () -> Date
    /// Plain-mode signatures seen lately, with the body each signed.
    let replays = ReplayGuard()

    public var accountID: String { account.id }
    public var kind: ChannelKind { .wechat }

    public init(
        account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, rejections: WebhookRejections = WebhookRejections(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.account = account
        let options = account.options as? WeChatOptions ?? WeChatOptions(appID: "")
        self.options = options
        self.httpClient = httpClient
        self.logger = logger
        self.rejections = rejections
        self.now = now
        if let key = account.secrets["encodingAESKey"]?.value {
            do {
                crypto = try WeChatCrypto(token: account.secrets["token"]?.value ?? "", encodingAESKey: key, receiveID: options.appID)
            } catch {
                logger.error("the EncodingAESKey is not usable", metadata: ["account": "\(account.id)", "error": "\(error)"])
                crypto = nil
            }
        } else {
            crypto = nil
        }
        // An inactive account (secrets not set yet) is reported as such by the hub already.
        if account.isActive, options.encryption != .safe {
            logger.warning(
                "WeChat pushes in plain mode are signed without their body; use safe mode (encryption: safe with the encodingAESKey)",
                metadata: ["account": "\(account.id)", "encryption": "\(options.encryption.rawValue)"])
        }
        if account.isActive, options.encryption != .plain, crypto == nil {
            logger.error("encrypted pushes need a usable encodingAESKey secret; they are refused until one is set", metadata: ["account": "\(account.id)"])
        }
        let base = options.apiBaseURL
        let appID = options.appID
        let secret = account.secrets["appSecret"]?.value ?? ""
        let timeout = APIChannelAdapter.timeAmount(account.delivery.attemptTimeout)
        tokens = WeChatAccessToken { () async throws(DeliveryFailure) -> (token: String, lifetime: Duration) in
            try await Self.fetchToken(base: base, appID: appID, secret: secret, httpClient: httpClient, timeout: timeout)
        }
    }

    static let success = WebhookResponse(status: 200, headers: [("content-type", "text/plain; charset=utf-8")], body: Array("success".utf8))

    // MARK: Inbound

    public func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        let refuse = WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)
        guard let token = account.secrets["token"]?.value else {
            return refuse(503, "channel_unavailable", "channel account '\(account.id)' has no token")
        }
        guard let signature = request.queryValue("signature"), let timestamp = request.queryValue("timestamp"),
            let nonce = request.queryValue("nonce")
        else {
            return refuse(403, "missing_signature", "signature, timestamp and nonce are required in the query")
        }
        guard WebhookSignature.constantTimeEquals(WeChatCrypto.signature([token, timestamp, nonce]), signature) else {
            return refuse(403, "invalid_signature", "the signature does not match the token")
        }
        switch request.method {
        case "GET":
            // The URL check (服务器配置): answer the echo string exactly.
            guard let echo = request.queryValue("echostr") else { return refuse(400, "invalid_request", "echostr is missing") }
            return WebhookResponse(status: 200, headers: [("content-type", "text/plain; charset=utf-8")], body: Array(echo.utf8))
        case "POST":
            break
        default:
            return refuse(405, "method_not_allowed", "WeChat sends GET (URL check) and POST (pushes)")
        }
        guard let sent = Int64(timestamp), abs(now().timeIntervalSince1970 - Double(sent)) <= Double(options.maximumClockSkew.components.seconds)
        else {
            return refuse(403, "stale_timestamp", "timestamp '\(timestamp.prefix(20))' is not within \(options.maximumClockSkew) of the hub's clock")
        }
        let xml: String
        switch decryptedBody(request, timestamp: timestamp, nonce: nonce) {
        case .success(let body): xml = body
        case .failure(let problem): return refuse(problem.status, problem.code, problem.message)
        }
        let push: WeChatPush
        do {
            push = try WeChatPush(xml: xml)
        } catch {
            return refuse(400, "malformed_body", "the push is not a WeChat message: \(error)")
        }
        if let original = options.originalID, push.toUserName != original {
            return refuse(403, "wrong_account", "the push is addressed to '\(push.toUserName)', not this account's \(original)")
        }
        return await receive(push, sink: sink, refuse: refuse)
    }

    /// Why a push body was refused.
    struct Problem: Error {
        var status: Int
        var code: String
        var message: String
    }

    /// The push's XML: decrypted in safe mode (after checking `msg_signature`), as sent in plain
    /// mode. A plain push to an account in safe mode is refused: it would be a downgrade.
    func decryptedBody(_ request: WebhookRequest, timestamp: String, nonce: String) -> Result<String, Problem> {
        guard let body = String(validating: request.body, as: UTF8.self) else {
            return .failure(Problem(status: 400, code: "malformed_body", message: "the body is not UTF-8"))
        }
        let encrypted = request.queryValue("encrypt_type") == "aes"
        guard encrypted else {
            // In compatible mode WeChat sends every push encrypted too: a plain one is someone
            // who dropped `encrypt_type` to skip the signature over the body.
            guard options.encryption == .plain || (options.encryption == .compatible && crypto == nil) else {
                return .failure(Problem(status: 403, code: "encryption_required", message: "this account takes encrypted pushes only"))
            }
            // Plain mode signs only token, timestamp and nonce, not the body: one signature may
            // carry one body. WeChat's own retries repeat the body and pass.
            guard replays.admit(key: "\(timestamp):\(nonce)", body: request.body, now: now(), keepFor: options.maximumClockSkew) else {
                return .failure(Problem(status: 403, code: "replayed_signature", message: "this signature was already used with another body"))
            }
            return .success(body)
        }
        guard let crypto else {
            return .failure(Problem(status: 503, code: "channel_unavailable", message: "an encrypted push, but no usable encodingAESKey is configured"))
        }
        guard let msgSignature = request.queryValue("msg_signature") else {
            return .failure(Problem(status: 403, code: "missing_signature", message: "msg_signature is required with encrypt_type=aes"))
        }
        do {
            return .success(try crypto.decryptMessage(body: body, msgSignature: msgSignature, timestamp: timestamp, nonce: nonce))
        } catch .signatureMismatch {
            return .failure(Problem(status: 403, code: "invalid_signature", message: "msg_signature does not match the encrypted push"))
        } catch .receiveIDMismatch {
            return .failure(Problem(status: 403, code: "wrong_account", message: "the push was encrypted for another AppID"))
        } catch {
            return .failure(Problem(status: 400, code: "malformed_body", message: "the encrypted push cannot be read: \(error)"))
        }
    }

    /// Stores what the push says and answers `success`; pushes the hub does not act on are
    /// acknowledged (WeChat would otherwise retry them three times and show the follower an error).
    func receive(_ push: WeChatPush, sink: any InboundSink, refuse: WebhookRefusal) async -> WebhookResponse {
        guard let openID = push.fromUserName, !openID.isEmpty else {
            return refuse(400, "malformed_body", "the push names no sender (FromUserName)")
        }
        let sender = InboundSender(address: openID)
        var text: String?
        var attachments: [Attachment] = []
        var metadata: [String: JSONValue] = ["msgType": .string(push.xml["MsgType"] ?? "")]
        var attributes: [String: String] = [:]
        switch push.kind {
        case .text(let content): text = content
        case .image(let picURL, let mediaID):
            attachments.append(Attachment(reference: picURL, contentType: "image/jpeg"))
            metadata["mediaId"] = .string(mediaID)
        case .voice(let mediaID, let format, let recognition):
            attachments.append(Attachment(reference: "wechat-media:\(mediaID)", contentType: "audio/\(format.lowercased())"))
            text = recognition
        case .video(let mediaID, let thumb), .shortVideo(let mediaID, let thumb):
            attachments.append(Attachment(reference: "wechat-media:\(mediaID)", contentType: "video/mp4"))
            metadata["thumbMediaId"] = .string(thumb)
        case .location(let latitude, let longitude, let scale, let label):
            text = "📍 \(label.isEmpty ? "\(latitude), \(longitude)" : label)"
            metadata["location"] = .object(["latitude": .double(latitude), "longitude": .double(longitude), "scale": .int(Int64(scale))])
        case .link(let title, let description, let url):
            text = [title, description, url].filter { !$0.isEmpty }.joined(separator: "\n")
        case .file(let name, let mediaID):
            if let mediaID {
                attachments.append(Attachment(reference: "wechat-media:\(mediaID)", filename: name))
            } else {
                // The Official Account's form (Title and FileKey) cannot be downloaded here; the
                // agent still sees that a file was sent.
                text = "[file] \(name ?? "")"
            }
        case .event(.subscribe), .event(.unsubscribe):
            let follows: Bool = if case .event(.subscribe) = push.kind { true } else { false }
            do {
                _ = try await sink.updateConsent(
                    ConsentUpdate(
                        channelKind: .wechat, channelAccountID: account.id, sender: sender,
                        consent: ConsentChange(optedOut: !follows, keyword: follows ? "subscribe" : "unsubscribe")))
                return Self.success
            } catch {
                return refuse(error, invalidStatus: 400)
            }
        case .event(.click(let key)):
            // A menu button such as "人工客服": the follower asks for someone.
            text = "[menu] \(key)"
            attributes["menuKey"] = key
        case .event(let event):
            logger.debug("WeChat event acknowledged, not stored", metadata: ["account": "\(account.id)", "event": "\(event)"])
            return Self.success
        case .unknown(let type):
            logger.info("WeChat message type not supported, acknowledged", metadata: ["account": "\(account.id)", "type": "\(type)"])
            return Self.success
        }
        let event = InboundEvent(
            channelKind: .wechat, channelAccountID: account.id, sender: sender, recipient: push.toUserName,
            providerMessageID: push.dedupeKey, occurredAt: Date(timeIntervalSince1970: Double(push.createTime)), text: text,
            attachments: attachments, attributes: attributes, metadata: metadata)
        do {
            _ = try await sink.ingest(event)
            return Self.success
        } catch {
            return refuse(error, invalidStatus: 400)
        }
    }

    // MARK: Attachments

    /// A picture's `PicUrl` is fetched as is; voice, video and files (`wechat-media:<media id>`)
    /// through `/cgi-bin/media/get`, which keeps them three days.
    public func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment {
        try await Self.fetchMedia(
            attachment, base: options.apiBaseURL, tokens: tokens, httpClient: httpClient, maximumBytes: maximumBytes,
            timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout))
    }

    /// A `wechat-media:<media id>` from `/cgi-bin/media/get` with the access token (the Official
    /// Account's or WeCom's: the same API), once more with a new token when it is refused; any
    /// other reference by its URL. WeChat answers an error as JSON instead of the file.
    static func fetchMedia(
        _ attachment: Attachment, base: String, tokens: WeChatAccessToken, httpClient: HTTPClient, maximumBytes: Int, timeout: TimeAmount
    ) async throws(DeliveryFailure) -> FetchedAttachment {
        guard attachment.reference.hasPrefix("wechat-media:") else {
            return try await AttachmentDownload.get(attachment.reference, httpClient: httpClient, maximumBytes: maximumBytes, timeout: timeout)
        }
        let mediaID = FormURLEncoding.percentEncode(String(attachment.reference.dropFirst("wechat-media:".count)))
        for attempt in 1...2 {
            let token = try await tokens.token()
            let url = "\(base)/cgi-bin/media/get?access_token=\(FormURLEncoding.percentEncode(token))&media_id=\(mediaID)"
            let fetched = try await AttachmentDownload.get(url, httpClient: httpClient, maximumBytes: maximumBytes, timeout: timeout, redacting: token)
            let type = fetched.contentType?.lowercased() ?? ""
            guard type.hasPrefix("application/json") || type.hasPrefix("text/plain"),
                let error = try? JSONReader.parse(String(decoding: fetched.bytes, as: UTF8.self)), let code = error["errcode"]?.intValue, code != 0
            else { return fetched }
            if attempt == 1, [40001, 40014, 42001].contains(code) {
                await tokens.invalidate(token)
                continue
            }
            throw failure(Answer(errcode: code, errmsg: error["errmsg"]?.stringValue ?? ""))
        }
        throw .transient("WeChat refused two access tokens in a row")
    }

    // MARK: Outbound

    public func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt {
        var text = delivery.content.text ?? ""
        // Pictures and files need WeChat's media upload first; until then links go in the text.
        let links = delivery.content.attachments.map(\.reference).filter { $0.hasPrefix("https://") || $0.hasPrefix("http://") }
        if !links.isEmpty { text += (text.isEmpty ? "" : "\n") + links.joined(separator: "\n") }
        guard !text.isEmpty else { throw .permanent("nothing WeChat can carry: no text and no attachment with a public URL") }
        var writer = JSONWriter(capacity: 128 + text.utf8.count)
        writer.beginObject()
        writer.field("touser", delivery.recipient.address)
        writer.field("msgtype", "text")
        writer.key("text")
        writer.beginObject()
        writer.field("content", text)
        writer.endObject()
        writer.endObject()
        _ = try await Self.post(
            "/cgi-bin/message/custom/send", body: writer.bytes, base: options.apiBaseURL, tokens: tokens, httpClient: httpClient,
            timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout))
        return DeliveryReceipt(providerMessageID: nil)
    }

    /// WeChat's answer: `{"errcode": 0, "errmsg": "ok"}` or an error code.
    struct Answer {
        var errcode: Int64
        var errmsg: String
    }

    /// POSTs JSON to a WeChat (or WeCom) API path with the access token, once more with a new
    /// token when WeChat refuses it (40001, 40014, 42001); returns the answer when `errcode` is 0.
    static func post(
        _ path: String, body: [UInt8], base: String, tokens: WeChatAccessToken, httpClient: HTTPClient, timeout: TimeAmount
    ) async throws(DeliveryFailure) -> JSONValue {
        var token = try await tokens.token()
        for attempt in 1...2 {
            var request = HTTPClientRequest(url: "\(base)\(path)?access_token=\(FormURLEncoding.percentEncode(token))")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.headers.add(name: "User-Agent", value: "Switchboard-Hub")
            request.body = .bytes(ByteBuffer(bytes: body))
            let (status, json) = try await execute(request, httpClient: httpClient, timeout: timeout, what: path)
            guard let json, let code = json["errcode"]?.intValue else { throw .transient("\(path) answered \(status) without an errcode") }
            switch code {
            case 0: return json
            case 40001 where attempt == 1, 40014 where attempt == 1, 42001 where attempt == 1:
                // The token expired early or was replaced: fetch a new one and try once more.
                await tokens.invalidate(token)
                token = try await tokens.token()
            default: throw failure(Answer(errcode: code, errmsg: json["errmsg"]?.stringValue ?? ""))
            }
        }
        throw .transient("WeChat refused two access tokens in a row")
    }

    /// Sends a request; the URL (which carries the token or the secret) never appears in errors.
    static func execute(_ request: HTTPClientRequest, httpClient: HTTPClient, timeout: TimeAmount, what: String) async throws(DeliveryFailure)
        -> (status: Int, json: JSONValue?)
    {
        let response: HTTPClientResponse
        let reply: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: timeout)
            reply = try await response.body.collect(upTo: 256 * 1024)
        } catch {
            throw .transient("WeChat \(what) failed: \(error)")
        }
        let status = Int(response.status.code)
        if status == 429 || status >= 500 {
            throw .transient(
                "WeChat \(what) answered \(status)", retryAfter: response.headers.first(name: "Retry-After").flatMap(Int.init).map { .seconds($0) })
        }
        return (status, try? JSONReader.parse(String(buffer: reply)))
    }

    /// What a WeChat error code means for the delivery.
    static func failure(_ answer: Answer) -> DeliveryFailure {
        let detail = "WeChat error \(answer.errcode): \(answer.errmsg)"
        switch answer.errcode {
        case -1, 45009, 45011: return .transient("\(detail) (busy or over the API quota; will retry)", retryAfter: .seconds(60))
        case 40001, 40014, 42001: return .transient("\(detail) (the access token was refused)")
        case 45015: return .permanent("\(detail): the 48-hour customer-service window has closed")
        case 45047: return .permanent("\(detail): the replies allowed for the follower's last message are used up")
        case 43004: return .permanent("\(detail): the follower has unfollowed the account")
        default: return .permanent(detail)
        }
    }

    /// Fetches an access token (`/cgi-bin/token`, client credentials).
    static func fetchToken(base: String, appID: String, secret: String, httpClient: HTTPClient, timeout: TimeAmount) async throws(DeliveryFailure)
        -> (token: String, lifetime: Duration)
    {
        let url =
            "\(base)/cgi-bin/token?grant_type=client_credential&appid=\(FormURLEncoding.percentEncode(appID))&secret=\(FormURLEncoding.percentEncode(secret))"
        return try await fetchToken(url: url, what: "/cgi-bin/token", httpClient: httpClient, timeout: timeout)
    }

    /// Fetches an access token from `url` (which carries the secret, so errors name `what` only).
    static func fetchToken(url: String, what: String, httpClient: HTTPClient, timeout: TimeAmount) async throws(DeliveryFailure)
        -> (token: String, lifetime: Duration)
    {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let (_, json) = try await execute(request, httpClient: httpClient, timeout: timeout, what: what)
        guard let json, let token = json["access_token"]?.stringValue, !token.isEmpty else {
            let code = json?["errcode"]?.intValue.map(String.init) ?? "?"
            // A wrong secret or an IP not on the allow-list is fixed by an administrator; the
            // message waits for that rather than dying.
            throw .transient("WeChat would not issue an access token (error \(code): \(json?["errmsg"]?.stringValue ?? "no answer")): check appId, appSecret and the IP allow-list")
        }
        let lifetime = json["expires_in"]?.intValue ?? 7200
        return (token, .seconds(max(60, lifetime)))
    }
}

/// Remembers which body each plain-mode signature (timestamp and nonce) came with, for as long as
/// the timestamp is accepted, so that a signature seen once cannot carry another body.
final class ReplayGuard: Sendable {
    private struct Entry {
        var digest: SHA256Digest
        var expires: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// More entries than this are not kept (the oldest go first): memory stays bounded under a flood.
    static let capacity = 100_000

    /// Whether `body` may be accepted under `key`: the first time, or again with the same body.
    func admit(key: String, body: [UInt8], now: Date, keepFor: Duration) -> Bool {
        let digest = SHA256.hash(data: body)
        return entries.withLock { entries in
            if let entry = entries[key], entry.expires > now { return entry.digest == digest }
            if entries.count >= Self.capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= Self.capacity, let oldest = entries.min(by: { $0.value.expires < $1.value.expires })?.key {
                    entries[oldest] = nil
                }
            }
            entries[key] = Entry(digest: digest, expires: now.addingTimeInterval(2 * Double(keepFor.components.seconds)))
            return true
        }
    }
}
