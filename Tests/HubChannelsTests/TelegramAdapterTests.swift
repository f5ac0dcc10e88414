import AsyncHTTPClient
import Foundation
@testable import HubChannels
import HubConfig
import HubModel
import HubTestSupport
import Logging
import Testing

@Suite("telegram channel")
struct TelegramAdapterTests {
    static let botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    static let secretToken = "hub_secret-0123456789"

    static func adapter(apiBaseURL: String = "https://api.telegram.org", secretToken: String = Self.secretToken, rejections: WebhookRejections = .init())
        -> TelegramAdapter
    {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let account = ChannelAccountConfig(
            id: "tg-bot", kind: .telegram, name: "Telegram",
            secrets: ["botToken": Secret(variable: "B", value: botToken), "secretToken": Secret(variable: "S", value: secretToken)],
            options: TelegramOptions(apiBaseURL: apiBaseURL, botUsername: "switchboard_demo_bot"), delivery: DeliveryPolicy(attemptTimeout: .seconds(5)),
            location: ConfigLocation(file: "channels/tg-bot.yaml", line: 1, column: 1))
        return TelegramAdapter(account: account, httpClient: .shared, logger: logger, rejections: rejections)
    }

    static func webhook(_ body: String, secret: String? = Self.secretToken) -> WebhookRequest {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let secret { headers.append(("X-Telegram-Bot-Api-Secret-Token", secret)) }
        return WebhookRequest(method: "POST", url: "http://127.0.0.1:8080/webhooks/tg-bot", path: "/webhooks/tg-bot", headers: headers, body: Array(body.utf8))
    }

    /// An update with one message in Li's private chat, around the given message fields.
    static func update(_ fields: String, field: String = "message", chat: String = #"{"id":1111111,"first_name":"Li","username":"li_c","type":"private"}"#) -> String {
        #"{"update_id":10000,"\#(field)":{"message_id":1365,"date":1700000000,"from":{"id":1111111,"is_bot":false,"first_name":"Li","last_name":"Chen","username":"li_c","language_code":"zh-hans"},"chat":\#(chat),\#(fields)}}"#
    }

    static func errorCode(_ response: WebhookResponse) throws -> String {
        try HubJSON.makeDecoder().decode(ErrorBody.self, from: Data(response.body)).error.code
    }

    @Test("a text message from a private chat: chat id as sender, name, language, chat:message as id; a retry is stored once")
    func text() async throws {
        let sink = RecordingSink()
        let adapter = Self.adapter()
        let request = Self.webhook(Self.update(#""text":"我的订单还没到""#))
        let response = await adapter.handleWebhook(request, sink: sink)
        #expect(response.status == 200)
        let event = try #require(sink.events.first)
        #expect(event.channelKind == .telegram)
        #expect(event.sender == InboundSender(address: "1111111", displayName: "Li Chen"))
        #expect(event.providerMessageID == "1111111:1365")
        #expect(event.text == "我的订单还没到")
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(event.attributes == ["language": "zh-hans"])
        #expect(event.metadata["username"] == .string("li_c"))
        #expect(await adapter.handleWebhook(request, sink: sink).status == 200)
        #expect(sink.events.count == 1)
    }

    @Test("the secret token: wrong, missing, or of another bot is refused with 403, counted, nothing stored", arguments: [
        ("hub_secret-0123456788" as String?, "invalid_secret_token"), ("", "invalid_secret_token"), (nil, "missing_secret_token"),
        ("HUB_SECRET-0123456789", "invalid_secret_token"), ("hub_secret-0123456789 ", "invalid_secret_token"),
    ])
    func secret(_ given: String?, code: String) async throws {
        let sink = RecordingSink()
        let counter = WebhookRejections()
        let response = await Self.adapter(rejections: counter).handleWebhook(Self.webhook(Self.update(#""text":"hi""#), secret: given), sink: sink)
        #expect(response.status == 403)
        #expect(try Self.errorCode(response) == code)
        #expect(sink.events.isEmpty)
        #expect(counter.counts(account: "tg-bot") == [code: 1])
    }

    @Test("a configured secret token Telegram would refuse keeps webhooks closed (503)", arguments: ["has space", String(repeating: "a", count: 257), "ünïcode"])
    func unusableSecret(_ token: String) async throws {
        #expect(TelegramOptions.secretTokenProblem(token) != nil)
        let response = await Self.adapter(secretToken: token).handleWebhook(Self.webhook(Self.update(#""text":"hi""#), secret: token), sink: RecordingSink())
        #expect(response.status == 503)
        #expect(TelegramOptions.secretTokenProblem("A-z_09") == nil)
        #expect(TelegramOptions.secretTokenProblem(String(repeating: "a", count: 256)) == nil)
    }

    @Test("malformed bodies and non-updates are refused with 400", arguments: [
        (#"{"update_id":1,"message":"#, "malformed_body"), (#"{"message":{"text":"x"}}"#, "invalid_update"),
        (#"{"update_id":1,"message":{"text":"no chat"}}"#, "invalid_update"), ("[]", "invalid_update"),
    ])
    func malformed(_ body: String, code: String) async throws {
        let sink = RecordingSink()
        let counter = WebhookRejections()
        let response = await Self.adapter(rejections: counter).handleWebhook(Self.webhook(body), sink: sink)
        #expect(response.status == 400)
        #expect(try Self.errorCode(response) == code)
        #expect(sink.events.isEmpty)
        #expect(counter.counts(account: "tg-bot") == [code: 1])
        var get = Self.webhook(body)
        get.method = "GET"
        #expect(await Self.adapter().handleWebhook(get, sink: sink).status == 405)
    }

    @Test("a photo keeps its largest size and the caption, as a telegram-file reference")
    func photo() async throws {
        let sink = RecordingSink()
        let photo = #""photo":[{"file_id":"AgAD-small","file_unique_id":"s","file_size":1200,"width":90,"height":67},{"file_id":"AgAD-large","file_unique_id":"l","file_size":98765,"width":1280,"height":960},{"file_id":"AgAD-medium","file_unique_id":"m","file_size":23000,"width":320,"height":240}],"caption":"包裹破了""#
        #expect(await Self.adapter().handleWebhook(Self.webhook(Self.update(photo)), sink: sink).status == 200)
        let event = try #require(sink.events.first)
        #expect(event.text == "包裹破了")
        #expect(event.attachments == [HubModel.Attachment(reference: "telegram-file:AgAD-large", contentType: "image/jpeg", byteCount: 98765)])
    }

    @Test("voice, document and video keep their MIME type, size and name", arguments: [
        (#""voice":{"file_id":"AwAD-v","file_unique_id":"v","duration":3,"mime_type":"audio/ogg","file_size":5210}"#,
         HubModel.Attachment(reference: "telegram-file:AwAD-v", contentType: "audio/ogg", byteCount: 5210)),
        (#""document":{"file_id":"BQAD-d","file_unique_id":"d","file_name":"发票.pdf","mime_type":"application/pdf","file_size":80211}"#,
         HubModel.Attachment(reference: "telegram-file:BQAD-d", contentType: "application/pdf", byteCount: 80211, filename: "发票.pdf")),
        (#""video":{"file_id":"BAAD-m","file_unique_id":"m","width":640,"height":360,"duration":9,"mime_type":"video/mp4","file_size":901234}"#,
         HubModel.Attachment(reference: "telegram-file:BAAD-m", contentType: "video/mp4", byteCount: 901234)),
    ])
    func media(_ fields: String, attachment: HubModel.Attachment) async throws {
        let sink = RecordingSink()
        #expect(await Self.adapter().handleWebhook(Self.webhook(Self.update(fields)), sink: sink).status == 200)
        let event = try #require(sink.events.first)
        #expect(event.text == nil)
        #expect(event.attachments == [attachment])
    }

    @Test("an edit is stored as a new message naming the original, and every edit once")
    func edited() async throws {
        let sink = RecordingSink()
        let adapter = Self.adapter()
        let first = Self.webhook(Self.update(#""edit_date":1700000100,"text":"我的订单还没到，单号 42""#, field: "edited_message"))
        #expect(await adapter.handleWebhook(first, sink: sink).status == 200)
        #expect(await adapter.handleWebhook(first, sink: sink).status == 200)
        let second = Self.webhook(Self.update(#""edit_date":1700000200,"text":"单号 43""#, field: "edited_message"))
        #expect(await adapter.handleWebhook(second, sink: sink).status == 200)
        #expect(sink.events.map(\.providerMessageID) == ["edit:1111111:1365:1700000100", "edit:1111111:1365:1700000200"])
        let event = try #require(sink.events.first)
        #expect(event.metadata["edited"] == .bool(true))
        #expect(event.metadata["original"] == .string("1111111:1365"))
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_700_000_100))
    }

    @Test("a button tap is a message with the button's data, answered with answerCallbackQuery in the response")
    func callback() async throws {
        let sink = RecordingSink()
        let body = #"{"update_id":10001,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":1111111,"is_bot":false,"first_name":"Li","language_code":"zh-hans"},"message":{"message_id":1400,"date":1700000300,"chat":{"id":1111111,"type":"private"},"text":"满意吗？"},"chat_instance":"-1","data":"rating:5"}}"#
        let response = await Self.adapter().handleWebhook(Self.webhook(body), sink: sink)
        #expect(response.status == 200)
        #expect(try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(response.body))
            == .object(["method": .string("answerCallbackQuery"), "callback_query_id": .string("4382bfdwdsb323b2d9")]))
        let event = try #require(sink.events.first)
        #expect(event.text == "rating:5")
        #expect(event.sender.address == "1111111")
        #expect(event.sender.displayName == "Li")
        #expect(event.providerMessageID == "callback:4382bfdwdsb323b2d9")
        #expect(event.metadata["reply_to"] == .string("1111111:1400"))
    }

    @Test("group chats, blocked bots and unknown updates are answered 200 and store nothing", arguments: [
        update(#""text":"大家好""#, chat: #"{"id":-1001234567890,"title":"客户群","type":"supergroup"}"#),
        update(#""text":"hi""#, chat: #"{"id":-4000,"title":"g","type":"group"}"#),
        #"{"update_id":10002,"my_chat_member":{"chat":{"id":1111111,"type":"private"},"from":{"id":1111111,"is_bot":false,"first_name":"Li"},"date":1700000400,"old_chat_member":{"user":{"id":42,"is_bot":true,"first_name":"Bot"},"status":"member"},"new_chat_member":{"user":{"id":42,"is_bot":true,"first_name":"Bot"},"status":"kicked","until_date":0}}}"#,
        #"{"update_id":10003,"inline_query":{"id":"1","from":{"id":1,"is_bot":false,"first_name":"X"},"query":"q","offset":""}}"#,
        update(#""sticker":{"file_id":"CAAD","file_unique_id":"s","width":512,"height":512,"is_animated":false,"is_video":false,"type":"regular"}"#),
    ])
    func ignored(_ body: String) async throws {
        let sink = RecordingSink()
        let counter = WebhookRejections()
        let response = await Self.adapter(rejections: counter).handleWebhook(Self.webhook(body), sink: sink)
        #expect(response.status == 200)
        #expect(sink.events.isEmpty)
        #expect(counter.counts(account: "tg-bot").isEmpty)
    }

    static func delivery(text: String? = "工单 #1234 已解决", attachments: [HubModel.Attachment] = [], inReplyTo: String? = nil) -> Delivery {
        Delivery(
            id: "dlv_9", idempotencyKey: "reply-9", channelAccountID: "tg-bot", channelKind: .telegram, messageID: "msg_9",
            conversationID: "cnv_2", orderingKey: "cnv_2", recipient: HandleAddress(kind: .telegram, address: "1111111"),
            content: OutboundContent(text: text, attachments: attachments, inReplyTo: inReplyTo), state: .sending, attempts: 1, maxAttempts: 5,
            nextAttemptAt: Date(timeIntervalSince1970: 0), createdAt: Date(timeIntervalSince1970: 0))
    }

    static let sent = #"{"ok":true,"result":{"message_id":1366,"from":{"id":42,"is_bot":true,"first_name":"Bot"},"chat":{"id":1111111,"type":"private"},"date":1700000500,"text":"工单 #1234 已解决"}}"#

    @Test("a reply is sendMessage with an integer chat id, answering the customer's message in the same chat")
    func deliver() async throws {
        let provider = FakeProvider { _, _ in .ok(Self.sent) }
        let receipt = try await provider.serve { base in
            try await Self.adapter(apiBaseURL: base).deliver(Self.delivery(inReplyTo: "1111111:1365"))
        }
        #expect(receipt.providerMessageID == "1111111:1366")
        let request = try #require(provider.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/bot\(Self.botToken)/sendMessage")
        #expect(request.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(
            try request.json()
                == .object([
                    "chat_id": .int(1_111_111), "text": .string("工单 #1234 已解决"),
                    "reply_parameters": .object(["message_id": .int(1365), "allow_sending_without_reply": .bool(true)]),
                ]))
    }

    @Test("a reference in another chat or of another form is not replied to", arguments: ["2222222:1365", "edit:1111111:1365:1700000100", "callback:abc", "1365"])
    func noReply(_ reference: String) async throws {
        let provider = FakeProvider { _, _ in .ok(Self.sent) }
        _ = try await provider.serve { base in try await Self.adapter(apiBaseURL: base).deliver(Self.delivery(inReplyTo: reference)) }
        #expect(try provider.requests.first?.json() == .object(["chat_id": .int(1_111_111), "text": .string("工单 #1234 已解决")]))
    }

    @Test("attachments follow the text: photos by sendPhoto, other files by sendDocument, Telegram's own files by file_id")
    func attachments() async throws {
        let provider = FakeProvider { _, index in .ok(#"{"ok":true,"result":{"message_id":\#(2000 + index),"chat":{"id":1111111,"type":"private"}}}"#) }
        let attachments = [
            HubModel.Attachment(reference: "https://cdn.example/label.png", contentType: "image/png"),
            HubModel.Attachment(reference: "blob:sha256-abc", contentType: "image/png"),
            HubModel.Attachment(reference: "telegram-file:BQAD-d", contentType: "application/pdf"),
        ]
        let receipt = try await provider.serve { base in
            try await Self.adapter(apiBaseURL: base).deliver(Self.delivery(text: nil, attachments: attachments, inReplyTo: "1111111:1365"))
        }
        #expect(receipt.providerMessageID == "1111111:2000")
        #expect(provider.requests.map(\.path) == ["/bot\(Self.botToken)/sendPhoto", "/bot\(Self.botToken)/sendDocument"])
        #expect(
            try provider.requests[0].json()
                == .object([
                    "chat_id": .int(1_111_111), "photo": .string("https://cdn.example/label.png"),
                    "reply_parameters": .object(["message_id": .int(1365), "allow_sending_without_reply": .bool(true)]),
                ]))
        #expect(try provider.requests[1].json() == .object(["chat_id": .int(1_111_111), "document": .string("BQAD-d")]))
    }

    @Test("Bot API errors: flood control waits retry_after, 5xx and a refused token retry, a blocked bot and a bad request are final", arguments: [
        (429, #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#, true, "Too Many Requests"),
        (502, "<html>Bad Gateway</html>", true, "502"),
        (500, #"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#, true, "Internal Server Error"),
        (401, #"{"ok":false,"error_code":401,"description":"Unauthorized"}"#, true, "check the bot token"),
        (403, #"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#, false, "bot was blocked by the user"),
        (400, #"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#, false, "chat not found"),
        (200, #"{"ok":false}"#, false, "without \"ok\": true"),
    ])
    func failures(_ status: Int, body: String, retryable: Bool, reason: String) async throws {
        let provider = FakeProvider { _, _ in FakeProvider.Reply(status: status, headers: ["Content-Type": "application/json"], body: body) }
        let failure = try await provider.serve { base in
            await MetaAdapterTests.failure { () throws(DeliveryFailure) in try await Self.adapter(apiBaseURL: base).deliver(Self.delivery()) }
        }
        let error = try #require(failure)
        #expect(error.isRetryable == retryable)
        #expect(error.reason.contains(reason), "\(error.reason)")
        #expect(!error.reason.contains(Self.botToken) && !error.reason.contains("AAHdqTcv"))
        #expect(error.retryAfter == (status == 429 ? Duration.seconds(3) : nil))
    }

    @Test("an unreachable Bot API is transient, and the reason shows the URL with the token redacted")
    func unreachable() async throws {
        let failure = await MetaAdapterTests.failure { () throws(DeliveryFailure) in
            try await Self.adapter(apiBaseURL: "http://127.0.0.1:1").deliver(Self.delivery())
        }
        let error = try #require(failure)
        #expect(error.isRetryable)
        #expect(error.reason.contains("http://127.0.0.1:1/bot<redacted>/sendMessage"), "\(error.reason)")
        #expect(!error.reason.contains(Self.botToken) && !error.reason.contains("AAHdqTcv"))
    }

    @Test("a recipient that is not a chat id, or nothing to send, fails for good")
    func unsendable() async throws {
        var delivery = Self.delivery()
        delivery.recipient = HandleAddress(kind: .telegram, address: "li_c")
        #expect(await MetaAdapterTests.failure { () throws(DeliveryFailure) in try await Self.adapter().deliver(delivery) }?.isRetryable == false)
        let empty = Self.delivery(text: "", attachments: [HubModel.Attachment(reference: "blob:x")])
        #expect(await MetaAdapterTests.failure { () throws(DeliveryFailure) in try await Self.adapter().deliver(empty) }?.isRetryable == false)
    }

    @Test("the redaction also covers reasons a library might produce with the token in them")
    func redaction() {
        let failure = DeliveryFailure.transient("GET https://api.telegram.org/bot\(Self.botToken)/sendMessage timed out")
        #expect(failure.redacting(Self.botToken).reason == "GET https://api.telegram.org/bot<redacted>/sendMessage timed out")
    }
}

@Suite("telegram options")
struct TelegramOptionsTests {
    static func account(options: String) -> String {
        "kind: telegram\nid: tg-bot\nqueue: support\nsecrets: { botToken: TG_TOKEN, secretToken: TG_SECRET }\n" + options
    }

    @Test("without options the public Bot API is used; the adapter is Telegram's")
    func defaults() throws {
        let result = try ChannelFile.load(Self.account(options: ""), environment: ["TG_TOKEN": "1:x", "TG_SECRET": "s"])
        #expect(result.errors.isEmpty, "\(result.errors)")
        let account = try #require(result.configuration?.channels.first)
        #expect(account.options as? TelegramOptions == TelegramOptions())
        #expect(ChannelCatalog.adapter(for: account, httpClient: .shared, logger: Logger(label: "test")) is TelegramAdapter)
    }

    @Test("a base URL and a username are read; mistakes are reported", arguments: [
        ("options: { apiBaseURL: \"http://127.0.0.1:8081/\", botUsername: \"@acme_support_bot\" }", nil as String?),
        ("options: { botUsername: acme_support }", "is not a bot username"),
        ("options: { apiBaseURL: api.telegram.org }", "is not an http(s) base URL"),
        ("options: { token: x }", "unknown option 'token'"),
    ])
    func options(_ options: String, error: String?) throws {
        let result = try ChannelFile.load(Self.account(options: options), environment: ["TG_TOKEN": "1:x", "TG_SECRET": "s"])
        if let error {
            #expect(result.errors.contains { $0.message.contains(error) }, "\(result.errors)")
        } else {
            #expect(result.errors.isEmpty, "\(result.errors)")
            #expect(
                result.configuration?.channels.first?.options as? TelegramOptions
                    == TelegramOptions(apiBaseURL: "http://127.0.0.1:8081", botUsername: "acme_support_bot"))
        }
    }
}
