import AsyncHTTPClient
import Foundation
import HubConfig
import HubModel
import Logging
import NIOCore
import NIOHTTP1

/// SMS in Twilio's Programmable Messaging format, the de-facto webhook format that most SMS
/// gateways also speak. Inbound: form-encoded webhooks signed with `X-Twilio-Signature` at
/// `/webhooks/<account>`, status callbacks at `/webhooks/<account>/status`. Outbound: the
/// Messages REST API with basic auth.
public struct TwilioSMSAdapter: ChannelAdapter {
    public let account: ChannelAccountConfig
    let options: TwilioSMSOptions
    let httpClient: HTTPClient
    let logger: Logger
    let rejections: WebhookRejections

    public var accountID: String { account.id }
    public var kind: ChannelKind { .sms }

    public init(account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, rejections: WebhookRejections = WebhookRejections()) {
        self.account = account
        self.options = account.options as? TwilioSMSOptions ?? TwilioSMSOptions(accountSID: "")
        self.httpClient = httpClient
        self.logger = logger
        self.rejections = rejections
    }

    /// More form fields than any Twilio webhook carries.
    static let maximumFields = 200

    static let emptyTwiML = Array(#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#.utf8)

    // MARK: Inbound

    public func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        let isStatus = request.path.hasSuffix("/status")
        guard request.method == "POST" || request.method == "GET" else {
            return reject(405, "method_not_allowed", "Twilio webhooks are POST (or GET) requests", request)
        }
        // Cheap checks first: nothing is decoded for a request that cannot be Twilio's.
        guard let signature = request.header("x-twilio-signature") else {
            return reject(403, "missing_signature", "the request has no X-Twilio-Signature header", request)
        }
        guard let authToken = account.secrets["authToken"]?.value else {
            return reject(503, "channel_unavailable", "channel account '\(account.id)' has no auth token", request)
        }
        // POST parameters are signed; GET ones are part of the signed URL.
        var signedParameters: [(name: String, value: String)] = []
        var parameters = request.query
        if request.method == "POST" {
            if let type = request.header("content-type"), !type.lowercased().hasPrefix("application/x-www-form-urlencoded") {
                return reject(415, "unsupported_media_type", "expected application/x-www-form-urlencoded, not \(type)", request)
            }
            // Twilio sends a few dozen fields (ten media at most); a body of thousands is not Twilio's.
            guard request.body.lazy.filter({ $0 == UInt8(ascii: "&") }).count < Self.maximumFields else {
                return reject(400, "malformed_body", "more than \(Self.maximumFields) form fields", request)
            }
            do {
                signedParameters = try FormURLEncoding.decode(request.body)
            } catch {
                return reject(400, "malformed_body", "the form body is malformed: \(error.reason)", request)
            }
            parameters += signedParameters
        }
        let url = signedURL(request)
        guard TwilioSignature.isValid(signature, url: url, parameters: signedParameters, authToken: authToken) else {
            return reject(403, "invalid_signature", "X-Twilio-Signature does not match the request to \(url)", request)
        }
        let fields = Fields(parameters)
        guard fields["AccountSid"] == options.accountSID else {
            return reject(403, "wrong_account", "AccountSid '\(fields["AccountSid"] ?? "")' is not this channel's account", request)
        }
        return isStatus ? await receiveStatus(fields, request: request, sink: sink) : await receiveMessage(fields, request: request, sink: sink)
    }

    /// The URL the provider signed: the configured public URL (with the path below the webhook
    /// and the query as received), or the URL the request arrived at.
    func signedURL(_ request: WebhookRequest) -> String {
        guard let publicURL = options.publicURL else { return request.url }
        let prefix = "/webhooks/\(account.id)"
        let suffix = request.path.hasPrefix(prefix) ? String(request.path.dropFirst(prefix.count)) : ""
        let query = request.url.firstIndex(of: "?").map { String(request.url[$0...]) } ?? ""
        return publicURL + suffix + query
    }

    private func receiveMessage(_ fields: Fields, request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        guard let sid = fields["MessageSid"] ?? fields["SmsMessageSid"], !sid.isEmpty else {
            return reject(400, "invalid_message", "MessageSid is missing", request)
        }
        guard let from = fields["From"], !from.isEmpty else { return reject(400, "invalid_message", "From is missing", request) }
        let mediaCount = Int(fields["NumMedia"] ?? "0") ?? 0
        guard (0...10).contains(mediaCount) else { return reject(400, "invalid_message", "NumMedia '\(fields["NumMedia"] ?? "")' is not 0 to 10", request) }
        var attachments: [Attachment] = []
        for index in 0..<mediaCount {
            guard let url = fields["MediaUrl\(index)"], url.hasPrefix("https://") || url.hasPrefix("http://") else {
                return reject(400, "invalid_message", "MediaUrl\(index) is missing or not an http(s) URL", request)
            }
            attachments.append(Attachment(reference: url, contentType: fields["MediaContentType\(index)"]))
        }
        var metadata: [String: JSONValue] = [:]
        for name in ["NumSegments", "FromCountry", "FromState", "FromCity", "ToCountry", "MessagingServiceSid"] {
            if let value = fields[name], !value.isEmpty { metadata[name] = .string(value) }
        }
        let text = fields["Body"]
        let event = InboundEvent(
            channelKind: .sms, channelAccountID: account.id, sender: InboundSender(address: from), recipient: fields["To"],
            providerMessageID: sid, text: text, attachments: attachments, metadata: metadata, consent: options.consent(for: text))
        do {
            _ = try await sink.ingest(event)
            return WebhookResponse(status: 200, headers: [("content-type", "text/xml; charset=utf-8")], body: Self.emptyTwiML)
        } catch {
            return reject(error, request)
        }
    }

    private func receiveStatus(_ fields: Fields, request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        guard let sid = fields["MessageSid"] ?? fields["SmsSid"], let reported = fields["MessageStatus"] ?? fields["SmsStatus"] else {
            return reject(400, "invalid_status", "MessageSid and MessageStatus are required", request)
        }
        let ok = WebhookResponse(status: 200, headers: [("content-type", "text/xml; charset=utf-8")], body: Self.emptyTwiML)
        let status: DeliveryStatus
        var error: String?
        switch reported {
        case "sent": status = .sent
        case "delivered": status = .delivered
        case "read": status = .read
        case "undelivered", "failed", "canceled":
            status = .failed
            error = reported + (fields["ErrorCode"].map { " (error \($0))" } ?? "")
        case "queued", "accepted", "scheduled", "sending", "partially_delivered", "receiving", "received":
            return ok  // Intermediate states: the message keeps its status until a final one.
        default:
            logger.warning("unknown message status ignored", metadata: ["account": "\(account.id)", "status": "\(reported)", "sid": "\(sid)"])
            return ok
        }
        do {
            let found = try await sink.updateDeliveryStatus(
                DeliveryStatusUpdate(
                    channelAccountID: account.id, providerMessageID: sid,
                    deliveryID: request.queryValue("delivery").map(Delivery.ID.init(rawValue:)), status: status, error: error))
            if !found {
                logger.warning(
                    "status callback for a message the hub did not send", metadata: ["account": "\(account.id)", "sid": "\(sid)"])
            }
            return ok
        } catch {
            return reject(error, request)
        }
    }

    private func reject(_ status: Int, _ code: String, _ message: String, _ request: WebhookRequest) -> WebhookResponse {
        WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(status, code, message)
    }

    private func reject(_ error: IngestError, _ request: WebhookRequest) -> WebhookResponse {
        WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(error, invalidStatus: 400)
    }

    // MARK: Outbound

    /// An MMS media URL, with the account's basic auth (Twilio can require it for media; it
    /// redirects to a short-lived storage URL, which the client follows).
    public func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment {
        let token = account.secrets["authToken"]?.value ?? ""
        let credentials = "Basic " + Data("\(options.accountSID):\(token)".utf8).base64EncodedString()
        return try await AttachmentDownload.get(
            attachment.reference, headers: [("Authorization", credentials)], httpClient: httpClient, maximumBytes: maximumBytes,
            timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout))
    }

    public func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard let authToken = account.secrets["authToken"]?.value else { throw .transient("channel account '\(account.id)' has no auth token") }
        var form: [(name: String, value: String)] = [("To", delivery.recipient.address)]
        if let service = options.messagingServiceSID {
            form.append(("MessagingServiceSid", service))
        } else if let from = options.from {
            form.append(("From", from))
        } else {
            throw .permanent("channel account '\(account.id)' has neither options.from nor options.messagingServiceSid")
        }
        if let text = delivery.content.text, !text.isEmpty { form.append(("Body", text)) }
        for attachment in delivery.content.attachments {
            if attachment.reference.hasPrefix("https://") || attachment.reference.hasPrefix("http://") {
                form.append(("MediaUrl", attachment.reference))
            }
        }
        guard form.contains(where: { $0.name == "Body" || $0.name == "MediaUrl" }) else {
            throw .permanent("nothing to send by SMS: no text and no attachment with a public URL")
        }
        if options.statusCallbacks, let publicURL = options.publicURL {
            form.append(("StatusCallback", "\(publicURL)/status?delivery=\(FormURLEncoding.percentEncode(delivery.id.rawValue))"))
        }
        let url = "\(options.apiBaseURL)/2010-04-01/Accounts/\(options.accountSID)/Messages.json"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(options.accountSID):\(authToken)".utf8).base64EncodedString())
        request.headers.add(name: "User-Agent", value: "Switchboard-Hub")
        request.body = .bytes(ByteBuffer(string: FormURLEncoding.encode(form)))

        let response: HTTPClientResponse
        let reply: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout))
            reply = try await response.body.collect(upTo: 256 * 1024)
        } catch {
            throw .transient("POST \(url) failed: \(error)")
        }
        let status = Int(response.status.code)
        let answer = Self.redactingNumbers(try? JSONReader.parse(String(buffer: reply)), delivery.recipient.address, options.from)
        switch status {
        case 200..<300:
            guard let sid = answer?["sid"]?.stringValue, !sid.isEmpty else {
                // Accepted but unreadable: retrying could send twice, so take it as sent.
                logger.warning("the Messages API accepted a message without a readable sid", metadata: ["account": "\(account.id)"])
                return DeliveryReceipt(providerMessageID: nil)
            }
            return DeliveryReceipt(providerMessageID: sid)
        case 429, 500..<600:
            throw .transient(
                "\(url) answered \(status)\(Self.describe(answer))",
                retryAfter: response.headers.first(name: "Retry-After").flatMap(Int.init).map { .seconds($0) })
        case 401, 403:
            // Credentials are fixed by an administrator; the message waits for that.
            throw .transient("the Messages API refused the credentials (\(status))\(Self.describe(answer)): check the auth token")
        default:
            throw .permanent("the Messages API refused the message (\(status))\(Self.describe(answer))")
        }
    }

    /// Twilio's error texts quote the numbers ("The 'To' number +86… is not a valid phone
    /// number."). The reason is stored and shown to agents who see numbers masked, so the
    /// numbers are taken out of it.
    static func redactingNumbers(_ answer: JSONValue?, _ numbers: String?...) -> JSONValue? {
        guard case .object(var object)? = answer, var message = object["message"]?.stringValue else { return answer }
        for number in numbers.compactMap({ $0 }) where !number.isEmpty {
            message = message.replacingOccurrences(of: number, with: "<number>")
            let digits = number.filter(\.isNumber)
            if digits.count >= 6 { message = message.replacingOccurrences(of: digits, with: "<number>") }
        }
        object["message"] = .string(message)
        return .object(object)
    }

    /// Twilio's error body: `{"code": 21610, "message": "...", "more_info": ..., "status": 400}`.
    static func describe(_ answer: JSONValue?) -> String {
        guard let answer else { return "" }
        let code = answer["code"].map { "\($0.intValue.map(String.init) ?? $0.stringValue ?? "")" }
        let message = answer["message"]?.stringValue
        switch (code, message) {
        case let (code?, message?): return ": error \(code): \(message)"
        case let (nil, message?): return ": \(message)"
        case let (code?, nil): return ": error \(code)"
        default: return ""
        }
    }

    /// Form fields by name (the first value of each).
    struct Fields {
        private var values: [String: String] = [:]

        init(_ parameters: [(name: String, value: String)]) {
            for parameter in parameters where values[parameter.name] == nil { values[parameter.name] = parameter.value }
        }

        subscript(name: String) -> String? { values[name] }
    }
}
