import AsyncHTTPClient
import Foundation
import HubConfig
import HubModel
import Logging

/// Telegram through the Bot API. Inbound: JSON updates POSTed to `/webhooks/<account>` with the
/// `X-Telegram-Bot-Api-Secret-Token` header (there is no signature; the secret is the proof).
/// Outbound: `sendMessage`, and `sendPhoto`/`sendDocument` for attachments. Only private chats
/// are served: a contact center talks to one customer at a time.
public struct TelegramAdapter: ChannelAdapter {
    public let account: ChannelAccountConfig
    let options: TelegramOptions
    let httpClient: HTTPClient
    let logger: Logger
    let rejections: WebhookRejections
    /// Why the configured secret token is unusable, found once when the adapter starts.
    let secretTokenProblem: String?

    public var accountID: String { account.id }
    public var kind: ChannelKind { .telegram }

    public init(account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, rejections: WebhookRejections = WebhookRejections()) {
        self.account = account
        self.options = account.options as? TelegramOptions ?? TelegramOptions()
        self.httpClient = httpClient
        self.logger = logger
        self.rejections = rejections
        self.secretTokenProblem = account.secrets["secretToken"].flatMap { TelegramOptions.secretTokenProblem($0.value) }
        if let secretTokenProblem {
            // The configuration cannot see secrets; this is the first place the value is known.
            logger.error(
                "the telegram secret token is unusable: webhooks are refused until it is fixed",
                metadata: ["account": "\(account.id)", "reason": "\(secretTokenProblem)"])
        }
    }

    static let ok = WebhookResponse(status: 200)

    // MARK: Inbound

    public func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        guard request.method == "POST" else { return reject(405, "method_not_allowed", "Telegram webhooks are POST requests") }
        guard let secret = account.secrets["secretToken"]?.value else {
            return reject(503, "channel_unavailable", "channel account '\(account.id)' has no secret token")
        }
        if let secretTokenProblem { return reject(503, "channel_unavailable", "channel account '\(account.id)': \(secretTokenProblem)") }
        guard let given = request.header("x-telegram-bot-api-secret-token") else {
            return reject(403, "missing_secret_token", "the request has no X-Telegram-Bot-Api-Secret-Token header")
        }
        guard WebhookSignature.constantTimeEquals(given, secret) else {
            return reject(403, "invalid_secret_token", "X-Telegram-Bot-Api-Secret-Token is not the account's secret token")
        }
        let update: JSONValue
        do {
            update = try request.jsonBody()
        } catch {
            return reject(400, "malformed_body", "the body is not JSON: \(error)")
        }
        guard update["update_id"]?.intValue != nil else { return reject(400, "invalid_update", "the body is not an Update: no update_id") }
        let outcome: Outcome
        do {
            outcome = try self.outcome(of: update)
        } catch {
            return reject(400, "invalid_update", error.reason)
        }
        switch outcome {
        case .ignored(let answer):
            return answer ?? Self.ok
        case .store(let event, let answer):
            do {
                _ = try await sink.ingest(event)
                return answer ?? Self.ok
            } catch {
                return WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(error, invalidStatus: 400)
            }
        }
    }

    /// What an update asks of the hub.
    enum Outcome {
        /// Store the event, then answer 200 with `answer` (a Bot API call in the webhook's
        /// response) or nothing.
        case store(InboundEvent, answer: WebhookResponse?)
        /// Nothing to store (a group chat, a status change, an update kind the hub does not use);
        /// answer 200 with `answer` or nothing.
        case ignored(answer: WebhookResponse? = nil)
    }

    /// Why an update that passed the secret check cannot be read.
    struct FormatError: Error {
        var reason: String
    }

    /// Reads one update: a new or edited message, a button tap, or a change of the bot's
    /// membership in a chat (the customer blocked or restarted it: logged, nothing stored).
    func outcome(of update: JSONValue) throws(FormatError) -> Outcome {
        if let message = update["message"] { return try self.message(message, edited: false) }
        if let message = update["edited_message"] { return try self.message(message, edited: true) }
        if let query = update["callback_query"] { return try callback(query) }
        if let change = update["my_chat_member"] {
            let status = change["new_chat_member"]?["status"]?.stringValue ?? ""
            let chat = change["chat"]?["id"]?.intValue.map(String.init) ?? ""
            switch status {
            case "kicked": logger.info("the customer blocked the bot", metadata: ["account": "\(account.id)", "chat": "\(chat)"])
            case "member": logger.info("the customer (re)started the bot", metadata: ["account": "\(account.id)", "chat": "\(chat)"])
            default: logger.debug("bot membership changed", metadata: ["account": "\(account.id)", "chat": "\(chat)", "status": "\(status)"])
            }
            return .ignored()
        }
        logger.debug("update ignored", metadata: ["account": "\(account.id)", "update_id": "\(update["update_id"]?.intValue ?? 0)"])
        return .ignored()
    }

    /// A customer's message, or a new version of one. The provider message id is
    /// `<chat id>:<message_id>`: message ids are unique within a chat, and that pair is what a
    /// reply must name (`reply_parameters`), so the stored id doubles as the reference to reply
    /// to. The update_id would deduplicate as well, but it identifies the delivery of an update,
    /// not the message, and Telegram may restart its sequence after a quiet week. An edit is
    /// stored as a message of its own (`edit:<chat>:<message_id>:<edit_date>`), since the
    /// customer may edit more than once and agents should see every version.
    func message(_ message: JSONValue, edited: Bool) throws(FormatError) -> Outcome {
        guard let chat = message["chat"], let chatID = chat["id"]?.intValue, let messageID = message["message_id"]?.intValue else {
            throw FormatError(reason: "a message without chat.id or message_id")
        }
        guard chat["type"]?.stringValue == "private" else {
            logger.info(
                "message in a group chat ignored",
                metadata: ["account": "\(account.id)", "chat": "\(chatID)", "type": "\(chat["type"]?.stringValue ?? "")"])
            return .ignored()
        }
        let text = message["text"]?.stringValue ?? message["caption"]?.stringValue
        let attachments = Self.attachments(of: message)
        guard !(text ?? "").isEmpty || !attachments.isEmpty else {
            logger.info("a message with nothing the hub can show ignored (a sticker, a location, a contact...)", metadata: ["account": "\(account.id)", "chat": "\(chatID)"])
            return .ignored()
        }
        let reference = "\(chatID):\(messageID)"
        var providerID = reference
        var sentAt = message["date"]?.intValue
        var metadata: [String: JSONValue] = [:]
        if edited {
            guard let editDate = message["edit_date"]?.intValue else { throw FormatError(reason: "an edited message without edit_date") }
            providerID = "edit:\(reference):\(editDate)"
            sentAt = editDate
            metadata["edited"] = .bool(true)
            metadata["original"] = .string(reference)
        }
        if let replied = message["reply_to_message"]?["message_id"]?.intValue { metadata["reply_to"] = .string("\(chatID):\(replied)") }
        let customer = sender(message["from"] ?? chat, chatID: chatID, metadata: &metadata)
        let event = InboundEvent(
            channelKind: .telegram, channelAccountID: account.id, sender: customer,
            providerMessageID: providerID, occurredAt: sentAt.map { Date(timeIntervalSince1970: TimeInterval($0)) }, text: text,
            attachments: attachments, attributes: Self.attributes(message["from"]), metadata: metadata)
        return .store(event, answer: nil)
    }

    /// A tap on an inline button the bot sent: its data is what the customer "said". The webhook's
    /// answer calls `answerCallbackQuery`, which stops the spinner on the customer's button
    /// without another request.
    func callback(_ query: JSONValue) throws(FormatError) -> Outcome {
        guard let id = query["id"]?.stringValue, let from = query["from"], let userID = from["id"]?.intValue else {
            throw FormatError(reason: "a callback_query without id or from.id")
        }
        let answer = WebhookResponse.json(200, JSONValue.object(["method": .string("answerCallbackQuery"), "callback_query_id": .string(id)]))
        let chat = query["message"]?["chat"]
        if let type = chat?["type"]?.stringValue, type != "private" {
            logger.info("button tap in a group chat ignored", metadata: ["account": "\(account.id)", "type": "\(type)"])
            return .ignored(answer: answer)
        }
        guard let data = query["data"]?.stringValue, !data.isEmpty else {
            logger.debug("callback query without data ignored", metadata: ["account": "\(account.id)"])
            return .ignored()
        }
        // In a private chat the chat id is the user id; a tap on an inline-mode message has no chat.
        let chatID = chat?["id"]?.intValue ?? userID
        var metadata: [String: JSONValue] = ["callback": .bool(true)]
        if let messageID = query["message"]?["message_id"]?.intValue { metadata["reply_to"] = .string("\(chatID):\(messageID)") }
        let customer = sender(from, chatID: chatID, metadata: &metadata)
        let event = InboundEvent(
            channelKind: .telegram, channelAccountID: account.id, sender: customer,
            providerMessageID: "callback:\(id)", text: data, attributes: Self.attributes(from), metadata: metadata)
        return .store(event, answer: answer)
    }

    /// The customer as Telegram names them: the private chat's id (the user's id), with
    /// "first last" as the display name, or the username when they have no name.
    private func sender(_ user: JSONValue, chatID: Int64, metadata: inout [String: JSONValue]) -> InboundSender {
        let username = user["username"]?.stringValue
        if let username { metadata["username"] = .string(username) }
        let name = [user["first_name"]?.stringValue, user["last_name"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return InboundSender(address: String(chatID), displayName: name.isEmpty ? username : name)
    }

    /// The user's app language (`language_code`, an IETF tag such as `zh-hans`) for routing by language.
    static func attributes(_ user: JSONValue?) -> [String: String] {
        guard let language = user?["language_code"]?.stringValue, !language.isEmpty else { return [:] }
        return ["language": language]
    }

    /// Media as references `telegram-file:<file_id>`: the file stays at Telegram until someone
    /// asks for it (`getFile`), and the bot can send the same file_id back without uploading.
    /// A photo comes in several sizes; the largest is kept.
    static func attachments(of message: JSONValue) -> [Attachment] {
        var attachments: [Attachment] = []
        if case .array(let sizes)? = message["photo"] {
            let largest = sizes.max { size($0) < size($1) }
            if let id = largest?["file_id"]?.stringValue {
                attachments.append(Attachment(reference: fileScheme + id, contentType: "image/jpeg", byteCount: largest?["file_size"]?.intValue.map { Int($0) }))
            }
        }
        for (field, defaultType) in [("voice", "audio/ogg"), ("audio", "audio/mpeg"), ("video", "video/mp4"), ("document", "application/octet-stream")] {
            guard let file = message[field], let id = file["file_id"]?.stringValue else { continue }
            attachments.append(
                Attachment(
                    reference: fileScheme + id, contentType: file["mime_type"]?.stringValue ?? defaultType,
                    byteCount: file["file_size"]?.intValue.map { Int($0) }, filename: file["file_name"]?.stringValue))
        }
        return attachments
    }

    /// The prefix of attachment references to files kept at Telegram.
    static let fileScheme = "telegram-file:"

    /// How large a PhotoSize is: its area, then its byte count.
    private static func size(_ photo: JSONValue) -> (area: Int64, bytes: Int64) {
        // Wrapping multiplication: an absurd width and height must not trap.
        ((photo["width"]?.intValue ?? 0) &* (photo["height"]?.intValue ?? 0), photo["file_size"]?.intValue ?? 0)
    }

    private func reject(_ status: Int, _ code: String, _ message: String) -> WebhookResponse {
        WebhookRefusal(accountID: account.id, logger: logger, rejections: rejections)(status, code, message)
    }

    // MARK: Outbound

    /// Sends a reply: `sendMessage` for the text (answering the customer's message when the
    /// delivery names one in this chat), then `sendPhoto` or `sendDocument` per attachment that
    /// Telegram can fetch or already holds. The receipt names the first message sent, as
    /// `<chat id>:<message_id>`. The bot token is part of every request's path, so no URL with it
    /// ever reaches a failure's reason or a log line.
    /// `telegram-file:<file_id>`: `getFile` names the file's path, then it is downloaded from
    /// `/file/bot<token>/<path>` (the token never shows in errors).
    public func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment {
        guard let token = account.secrets["botToken"]?.value else { throw .transient("channel account '\(account.id)' has no bot token") }
        guard attachment.reference.hasPrefix(Self.fileScheme) else {
            return try await AttachmentDownload.get(attachment.reference, httpClient: httpClient, maximumBytes: maximumBytes, timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout))
        }
        let fileID = String(attachment.reference.dropFirst(Self.fileScheme.count))
        let call = try await ProviderJSONCall.post(
            .object(["file_id": .string(fileID)]), to: "\(options.apiBaseURL)/bot\(token)/getFile",
            shownAs: "\(options.apiBaseURL)/bot<redacted>/getFile", httpClient: httpClient, timeout: account.delivery.attemptTimeout)
        guard (200..<300).contains(call.status), call.answer?["ok"] == .bool(true), let path = call.answer?["result"]?["file_path"]?.stringValue
        else { throw Self.failure(call, method: "getFile").redacting(token) }
        var fetched = try await AttachmentDownload.get(
            "\(options.apiBaseURL)/file/bot\(token)/\(path)", httpClient: httpClient, maximumBytes: maximumBytes, timeout: APIChannelAdapter.timeAmount(account.delivery.attemptTimeout), redacting: token)
        fetched.filename = fetched.filename ?? attachment.filename ?? path.split(separator: "/").last.map(String.init)
        return fetched
    }

    public func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard let token = account.secrets["botToken"]?.value else { throw .transient("channel account '\(account.id)' has no bot token") }
        do {
            return try await send(delivery, token: token)
        } catch {
            throw error.redacting(token)
        }
    }

    private func send(_ delivery: Delivery, token: String) async throws(DeliveryFailure) -> DeliveryReceipt {
        guard let chatID = Int64(delivery.recipient.address) else {
            throw .permanent("'\(delivery.recipient.address)' is not a Telegram chat id")
        }
        let calls = Self.calls(for: delivery.content, chatID: chatID)
        guard !calls.isEmpty else { throw .permanent("nothing to send: no text and no attachment Telegram can fetch") }
        var first: String?
        for (index, call) in calls.enumerated() {
            let shown = "\(options.apiBaseURL)/bot<redacted>/\(call.method)"
            let answer = try await ProviderJSONCall.post(
                .object(call.body), to: "\(options.apiBaseURL)/bot\(token)/\(call.method)", shownAs: shown, httpClient: httpClient,
                timeout: account.delivery.attemptTimeout)
            guard (200..<300).contains(answer.status), answer.answer?["ok"] == .bool(true) else { throw Self.failure(answer, method: call.method) }
            let result = answer.answer?["result"]
            guard let messageID = result?["message_id"]?.intValue else {
                // Accepted but unreadable: retrying could send twice, so take it as sent.
                logger.warning("the Bot API accepted a message without a readable message_id", metadata: ["account": "\(account.id)"])
                continue
            }
            if index == 0 { first = "\(result?["chat"]?["id"]?.intValue ?? chatID):\(messageID)" }
        }
        return DeliveryReceipt(providerMessageID: first)
    }

    /// The Bot API calls for one delivery, in order. Attachments go by URL (Telegram fetches it)
    /// or by a file_id Telegram gave the bot; `blob:` references into the hub's store would need
    /// an upload and are not sent.
    static func calls(for content: OutboundContent, chatID: Int64) -> [(method: String, body: [String: JSONValue])] {
        var calls: [(method: String, body: [String: JSONValue])] = []
        var replyTo: JSONValue?
        if let reference = content.inReplyTo, let messageID = messageID(reference, inChat: chatID) {
            // Without allow_sending_without_reply a reply to a message the customer deleted fails.
            replyTo = .object(["message_id": .int(messageID), "allow_sending_without_reply": .bool(true)])
        }
        if let text = content.text, !text.isEmpty {
            calls.append((method: "sendMessage", body: ["chat_id": .int(chatID), "text": .string(text)]))
        }
        for attachment in content.attachments {
            let file: String
            if attachment.reference.hasPrefix(fileScheme) {
                file = String(attachment.reference.dropFirst(fileScheme.count))
            } else if attachment.reference.hasPrefix("https://") || attachment.reference.hasPrefix("http://") {
                file = attachment.reference
            } else {
                continue
            }
            // sendPhoto takes the formats Telegram re-encodes as photos; anything else is a document.
            if ["image/jpeg", "image/png", "image/webp"].contains(attachment.contentType?.lowercased() ?? "") {
                calls.append((method: "sendPhoto", body: ["chat_id": .int(chatID), "photo": .string(file)]))
            } else {
                calls.append((method: "sendDocument", body: ["chat_id": .int(chatID), "document": .string(file)]))
            }
        }
        if let replyTo, !calls.isEmpty { calls[0].body["reply_parameters"] = replyTo }
        return calls
    }

    /// The message id in a `<chat id>:<message_id>` reference, when it is in `chat`: a reply can
    /// only quote a message of the same chat.
    static func messageID(_ reference: String, inChat chat: Int64) -> Int64? {
        let parts = reference.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, Int64(parts[0]) == chat, let messageID = Int64(parts[1]) else { return nil }
        return messageID
    }

    /// Bot API errors, `{"ok": false, "error_code": 429, "description": "...", "parameters":
    /// {"retry_after": 5}}`, as retryable or not: flood control (429, after `retry_after`
    /// seconds) and 5xx may pass later, and so may a refused token (401, or 404 for a bot that
    /// does not exist) once an administrator has fixed it. A blocked bot (403) and a bad request
    /// (400) fail the same way every time.
    static func failure(_ call: ProviderJSONCall, method: String) -> DeliveryFailure {
        let code = call.answer?["error_code"]?.intValue.map { Int($0) } ?? call.status
        let detail = call.answer?["description"]?.stringValue.map { ": " + $0 } ?? ""
        switch code {
        case 429:
            let wait = call.answer?["parameters"]?["retry_after"]?.intValue.map { Duration.seconds($0) } ?? call.retryAfterHeader
            return .transient("\(method): Telegram is rate limiting (429)\(detail)", retryAfter: wait)
        case 500..<600:
            return .transient("\(method): the Bot API answered \(code)\(detail)")
        case 401, 404:
            return .transient("\(method): the Bot API refused the bot token (\(code))\(detail): check the bot token")
        case 200..<300:
            return .permanent("\(method): the Bot API answered \(call.status) without \"ok\": true")
        default:
            return .permanent("\(method): Telegram refused the message (\(code))\(detail)")
        }
    }
}
