import AsyncHTTPClient
import Crypto
import Foundation
@testable import HubChannels
import HubConfig
import HubModel
import HubTestSupport
import Logging
import Testing

@Suite("Twilio signature")
struct TwilioSignatureTests {
    // twilio.com "webhooks security": the documented example, also the `twilio` SDK's test.
    static let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    static let parameters: [(name: String, value: String)] = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212"),
    ]

    @Test("Twilio's documented example: the signed string and the signature")
    func documentedExample() {
        #expect(
            TwilioSignature.signedString(url: Self.url, parameters: Self.parameters)
                == "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212")
        #expect(TwilioSignature.compute(url: Self.url, parameters: Self.parameters, authToken: "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        #expect(TwilioSignature.isValid("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: Self.url, parameters: Self.parameters.reversed(), authToken: "12345"))
    }

    @Test("the URL counts with or without its default port, as in the SDK")
    func ports() {
        let withPort = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
        #expect(TwilioSignature.compute(url: withPort, parameters: Self.parameters, authToken: "12345") == "EpDEmp1PyjDYp77YxYU3GILBWzE=")
        // Signed with the port, received without it, and the other way round.
        #expect(TwilioSignature.isValid("EpDEmp1PyjDYp77YxYU3GILBWzE=", url: Self.url, parameters: Self.parameters, authToken: "12345"))
        #expect(TwilioSignature.isValid("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: withPort, parameters: Self.parameters, authToken: "12345"))
        // Another port is another URL.
        #expect(!TwilioSignature.isValid("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: "https://mycompany.com:8443/myapp.php?foo=1&bar=2", parameters: Self.parameters, authToken: "12345"))
    }

    @Test("URL variants are found byte for byte, whatever the host: no normalizing, no re-encoding, no crash")
    func variants() {
        let odd = "http://" + Array(repeating: "é", count: 20).joined(separator: ".") + "/webhooks/x?a=1"
        #expect(TwilioSignature.urlVariants(odd) == [odd, odd.replacingOccurrences(of: "/webhooks", with: ":80/webhooks")])
        #expect(TwilioSignature.urlVariants("https://h.example:443/x?y=1") == ["https://h.example:443/x?y=1", "https://h.example/x?y=1"])
        #expect(TwilioSignature.urlVariants("https://h.example/x") == ["https://h.example/x", "https://h.example:443/x"])
        #expect(TwilioSignature.urlVariants("http://[::1]:80/x") == ["http://[::1]:80/x", "http://[::1]/x"])
        #expect(TwilioSignature.urlVariants("http://[::1]/x") == ["http://[::1]/x", "http://[::1]:80/x"])
        #expect(TwilioSignature.urlVariants("http://h:8080/x") == ["http://h:8080/x"])
        #expect(TwilioSignature.urlVariants("http://h%7B{:80") == ["http://h%7B{:80", "http://h%7B{"])
        #expect(TwilioSignature.urlVariants("ftp://h/x") == ["ftp://h/x"])
        #expect(TwilioSignature.urlVariants("garbage") == ["garbage"])
        #expect(!TwilioSignature.isValid(String(repeating: "A", count: 27) + "=", url: odd, parameters: [], authToken: "t"))
    }

    @Test("an SMS with Chinese text (vector computed with the twilio SDK)")
    func chineseVector() {
        let parameters: [(name: String, value: String)] = [
            ("MessageSid", "SM00000000000000000000000000000001"), ("AccountSid", "AC00000000000000000000000000000001"),
            ("From", "+8613800138000"), ("To", "+15005550006"), ("Body", "你好 hello"), ("NumMedia", "0"),
        ]
        #expect(TwilioSignature.compute(url: "https://hub.example.test/twilio/sms", parameters: parameters, authToken: "12345") == "vySOrTX/ffrBynJkbWPymMakJiQ=")
    }

    @Test("any change to the URL, a name, a value, the token or the signature fails")
    func tampering() {
        let good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        #expect(!TwilioSignature.isValid(good, url: Self.url + "&x=1", parameters: Self.parameters, authToken: "12345"))
        #expect(!TwilioSignature.isValid(good, url: Self.url, parameters: Self.parameters, authToken: "12346"))
        #expect(!TwilioSignature.isValid(good, url: Self.url, parameters: Self.parameters + [("Extra", "")], authToken: "12345"))
        for index in Self.parameters.indices {
            var changed = Self.parameters
            changed[index].value += " "
            #expect(!TwilioSignature.isValid(good, url: Self.url, parameters: changed, authToken: "12345"))
            changed = Self.parameters
            changed[index].name = changed[index].name.lowercased()
            #expect(!TwilioSignature.isValid(good, url: Self.url, parameters: changed, authToken: "12345"))
        }
        var bytes = Array(Data(base64Encoded: good)!)
        for index in bytes.indices {
            bytes[index] ^= 0x01
            #expect(!TwilioSignature.isValid(Data(bytes).base64EncodedString(), url: Self.url, parameters: Self.parameters, authToken: "12345"))
            bytes[index] ^= 0x01
        }
        #expect(!TwilioSignature.isValid("not base64!", url: Self.url, parameters: Self.parameters, authToken: "12345"))
        #expect(!TwilioSignature.isValid("", url: Self.url, parameters: Self.parameters, authToken: "12345"))
    }

    @Test("a JSON body is signed through bodySHA256 in the URL")
    func jsonBody() {
        let body = Array(#"{"property": "value", "boolean": true}"#.utf8)
        let url = "https://mycompany.com/myapp.php?bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        let signature = TwilioSignature.compute(url: url, parameters: [], authToken: "12345")
        #expect(TwilioSignature.isValid(signature, url: url, parameters: [], authToken: "12345", jsonBody: body))
        #expect(!TwilioSignature.isValid(signature, url: url, parameters: [], authToken: "12345", jsonBody: body + [0x20]))
    }
}

@Suite("form encoding")
struct FormURLEncodingTests {
    @Test("decodes + and %XX, keeps order and repeats, skips empty pairs")
    func decode() throws {
        let fields = try FormURLEncoding.decode(Array("From=%2B8613800138000&Body=%E4%BD%A0%E5%A5%BD+hi&&Body=2&Empty=&flag".utf8))
        #expect(fields.map(\.name) == ["From", "Body", "Body", "Empty", "flag"])
        #expect(fields.map(\.value) == ["+8613800138000", "你好 hi", "2", "", ""])
    }

    @Test("a broken escape or bytes that are not UTF-8 are refused", arguments: ["a=%G1", "a=%2", "a=%", "a=%FF%FE", "%C3=1"])
    func malformed(_ body: String) {
        #expect(throws: FormURLEncoding.Malformed.self) { try FormURLEncoding.decode(Array(body.utf8)) }
    }

    @Test("encoding round-trips through decoding")
    func roundTrip() throws {
        let fields: [(name: String, value: String)] = [("To", "+8613800138000"), ("Body", "订单 #42 已发货 & 100% ok=yes"), ("", "")]
        let decoded = try FormURLEncoding.decode(Array(FormURLEncoding.encode(fields).utf8))
        #expect(decoded.map(\.name) == ["To", "Body", ""])
        #expect(decoded.map(\.value) == fields.map(\.value))
        #expect(FormURLEncoding.percentEncode("a b/c?d=é") == "a%20b%2Fc%3Fd%3D%C3%A9")
    }
}

@Suite("sms channel (Twilio format)")
struct TwilioSMSAdapterTests {
    static let accountSID = "AC0123456789abcdef0123456789abcdef"
    static let token = "twilio-auth-token"
    static let publicURL = "https://hub.example.com/webhooks/sms-twilio"

    static func adapter(apiBaseURL: String = "https://api.twilio.com", publicURL: String? = Self.publicURL, rejections: WebhookRejections = .init())
        -> TwilioSMSAdapter
    {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let account = ChannelAccountConfig(
            id: "sms-twilio", kind: .sms, name: "SMS", secrets: ["authToken": Secret(variable: "T", value: token)],
            options: TwilioSMSOptions(accountSID: accountSID, from: "+15005550006", apiBaseURL: apiBaseURL, publicURL: publicURL),
            delivery: DeliveryPolicy(attemptTimeout: .seconds(5)), location: ConfigLocation(file: "channels/sms-twilio.yaml", line: 1, column: 1))
        return TwilioSMSAdapter(account: account, httpClient: .shared, logger: logger, rejections: rejections)
    }

    /// A webhook as Twilio sends it: form body, signed over the public URL.
    static func webhook(
        _ fields: [(name: String, value: String)], path: String = "/webhooks/sms-twilio", query: String = "", token: String = Self.token,
        tamper: ((inout [UInt8]) -> Void)? = nil
    ) -> WebhookRequest {
        let suffix = String(path.dropFirst("/webhooks/sms-twilio".count))
        let signature = TwilioSignature.compute(url: publicURL + suffix + query, parameters: fields, authToken: token)
        var body = Array(FormURLEncoding.encode(fields).utf8)
        tamper?(&body)
        let queryItems: [(name: String, value: String)] = query.isEmpty ? [] : (try? FormURLEncoding.decode(Array(query.dropFirst().utf8))) ?? []
        return WebhookRequest(
            method: "POST", url: "http://127.0.0.1:8080" + path + query, path: path, query: queryItems,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature)], body: body)
    }

    static func inbound(sid: String = "SM11111111111111111111111111111111", body: String = "你好，我的订单还没到") -> [(name: String, value: String)] {
        [
            ("ToCountry", "US"), ("SmsMessageSid", sid), ("NumMedia", "0"), ("SmsSid", sid), ("SmsStatus", "received"),
            ("Body", body), ("To", "+15005550006"), ("NumSegments", "1"), ("MessageSid", sid), ("AccountSid", accountSID),
            ("From", "+8613800138000"), ("FromCountry", "CN"), ("ApiVersion", "2010-04-01"),
        ]
    }

    @Test("a signed inbound SMS becomes an event answered with empty TwiML; a retry is stored once")
    func inbound() async throws {
        let sink = RecordingSink()
        let adapter = Self.adapter()
        let response = await adapter.handleWebhook(Self.webhook(Self.inbound()), sink: sink)
        #expect(response.status == 200)
        #expect(response.headers.first { $0.name == "content-type" }?.value == "text/xml; charset=utf-8")
        #expect(String(decoding: response.body, as: UTF8.self) == #"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#)
        let event = try #require(sink.events.first)
        #expect(event.channelKind == .sms)
        #expect(event.sender.address == "+8613800138000")
        #expect(event.recipient == "+15005550006")
        #expect(event.providerMessageID == "SM11111111111111111111111111111111")
        #expect(event.text == "你好，我的订单还没到")
        #expect(event.metadata["FromCountry"] == .string("CN"))
        #expect(event.consent == nil)
        let retry = await adapter.handleWebhook(Self.webhook(Self.inbound()), sink: sink)
        #expect(retry.status == 200)
        #expect(sink.events.count == 1)
    }

    @Test("MMS media become attachments by reference")
    func media() async throws {
        let sink = RecordingSink()
        var fields = Self.inbound(body: "")
        fields.removeAll { $0.name == "NumMedia" }
        fields += [
            ("NumMedia", "2"), ("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME0"),
            ("MediaContentType0", "image/jpeg"), ("MediaUrl1", "https://api.twilio.com/x/ME1"), ("MediaContentType1", "audio/amr"),
        ]
        #expect(await Self.adapter().handleWebhook(Self.webhook(fields), sink: sink).status == 200)
        let event = try #require(sink.events.first)
        #expect(event.attachments.map(\.contentType) == ["image/jpeg", "audio/amr"])
        #expect(event.attachments.first?.reference.hasSuffix("/ME0") == true)
    }

    @Test("STOP, 退订 and START set the consent change; other words do not", arguments: [
        ("STOP", true as Bool?), (" stop. ", true), ("Unsubscribe", true), ("TD", true), ("退订", true), ("START", false), ("unstop", false),
        ("stop sending me promotions about shoes", nil), ("STOPPED", nil),
    ])
    func keywords(_ text: String, optedOut: Bool?) async throws {
        let sink = RecordingSink()
        #expect(await Self.adapter().handleWebhook(Self.webhook(Self.inbound(body: text)), sink: sink).status == 200)
        #expect(try #require(sink.events.first).consent?.optedOut == optedOut)
    }

    @Test("bad requests are refused with the right status, counted, and store nothing", arguments: [
        ("tampered body", 403, "invalid_signature"), ("wrong token", 403, "invalid_signature"), ("no signature", 403, "missing_signature"),
        ("malformed form", 400, "malformed_body"), ("another account", 403, "wrong_account"), ("no sender", 400, "invalid_message"),
        ("json body", 415, "unsupported_media_type"), ("DELETE", 405, "method_not_allowed"), ("bad media count", 400, "invalid_message"),
        ("thousands of fields", 400, "malformed_body"),
    ])
    func rejections(_ name: String, status: Int, code: String) async throws {
        let sink = RecordingSink()
        let counter = WebhookRejections()
        var request: WebhookRequest
        switch name {
        case "tampered body": request = Self.webhook(Self.inbound()) { $0[$0.count - 1] ^= 1 }
        case "wrong token": request = Self.webhook(Self.inbound(), token: "other")
        case "no signature":
            request = Self.webhook(Self.inbound())
            request.headers.removeAll { $0.name == "x-twilio-signature" }
        case "malformed form": request = Self.webhook(Self.inbound()) { $0 += Array("&x=%ZZ".utf8) }
        case "another account": request = Self.webhook(Self.inbound().map { $0.name == "AccountSid" ? ($0.name, "AC" + String(repeating: "1", count: 32)) : $0 })
        case "no sender": request = Self.webhook(Self.inbound().filter { $0.name != "From" })
        case "json body":
            request = Self.webhook(Self.inbound())
            request.headers = request.headers.map { $0.name == "content-type" ? ($0.name, "application/json") : $0 }
        case "DELETE":
            request = Self.webhook(Self.inbound())
            request.method = "DELETE"
        case "thousands of fields": request = Self.webhook(Self.inbound() + (0..<300).map { ("f\($0)", "") })
        default: request = Self.webhook(Self.inbound().map { $0.name == "NumMedia" ? ($0.name, "-1") : $0 })
        }
        let response = await Self.adapter(rejections: counter).handleWebhook(request, sink: sink)
        #expect(response.status == status)
        let error = try HubJSON.makeDecoder().decode(ErrorBody.self, from: Data(response.body))
        #expect(error.error.code == code)
        #expect(sink.events.isEmpty)
        #expect(counter.counts(account: "sms-twilio") == [code: 1])
    }

    @Test("without a public URL the URL the request arrived at is the signed one")
    func requestURL() async throws {
        let sink = RecordingSink()
        var request = Self.webhook(Self.inbound())
        let fields = Self.inbound()
        request.headers = request.headers.map {
            $0.name == "x-twilio-signature"
                ? ($0.name, TwilioSignature.compute(url: "http://127.0.0.1:8080/webhooks/sms-twilio", parameters: fields, authToken: Self.token)) : $0
        }
        #expect(await Self.adapter(publicURL: nil).handleWebhook(request, sink: sink).status == 200)
        #expect(await Self.adapter().handleWebhook(request, sink: sink).status == 403)
    }

    @Test("status callbacks name the delivery; final states map to the message's status", arguments: [
        ("sent", DeliveryStatus.sent as DeliveryStatus?, nil as String?), ("delivered", .delivered, nil), ("read", .read, nil),
        ("undelivered", .failed, "undelivered (error 30003)"), ("failed", .failed, "failed (error 30003)"), ("sending", nil, nil),
        ("queued", nil, nil),
    ])
    func statusCallback(_ reported: String, status: DeliveryStatus?, error: String?) async throws {
        let sink = RecordingSink(knownProviderIDs: ["SM22222222222222222222222222222222"])
        var fields: [(name: String, value: String)] = [
            ("MessageSid", "SM22222222222222222222222222222222"), ("MessageStatus", reported), ("AccountSid", Self.accountSID),
            ("To", "+8613800138000"), ("From", "+15005550006"), ("ApiVersion", "2010-04-01"),
        ]
        if error != nil { fields.append(("ErrorCode", "30003")) }
        let response = await Self.adapter().handleWebhook(
            Self.webhook(fields, path: "/webhooks/sms-twilio/status", query: "?delivery=dlv_42"), sink: sink)
        #expect(response.status == 200)
        #expect(sink.statuses.map(\.status) == (status.map { [$0] } ?? []))
        if let update = sink.statuses.first {
            #expect(update.deliveryID == "dlv_42")
            #expect(update.providerMessageID == "SM22222222222222222222222222222222")
            #expect(update.error == error)
        }
        #expect(sink.events.isEmpty)
    }

    static func delivery(text: String = "您好，您的订单已发货 🚚") -> Delivery {
        Delivery(
            id: "dlv_7", idempotencyKey: "reply-7", channelAccountID: "sms-twilio", channelKind: .sms, messageID: "msg_7",
            conversationID: "cnv_1", orderingKey: "cnv_1", recipient: HandleAddress(kind: .phone, scope: "", address: "+8613800138000"),
            content: OutboundContent(text: text), state: .sending, attempts: 1, maxAttempts: 5, nextAttemptAt: Date(timeIntervalSince1970: 0),
            createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test("a reply is a Messages API POST with basic auth and a status callback naming the delivery")
    func deliver() async throws {
        let provider = FakeProvider { _, _ in
            FakeProvider.Reply(status: 201, headers: ["Content-Type": "application/json"], body: #"{"sid":"SM99999999999999999999999999999999","status":"queued"}"#)
        }
        let receipt = try await provider.serve { base in try await Self.adapter(apiBaseURL: base).deliver(Self.delivery()) }
        #expect(receipt.providerMessageID == "SM99999999999999999999999999999999")
        let request = try #require(provider.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/2010-04-01/Accounts/\(Self.accountSID)/Messages.json")
        #expect(request.headers["authorization"] == "Basic " + Data("\(Self.accountSID):\(Self.token)".utf8).base64EncodedString())
        #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
        let form = try FormURLEncoding.decode(request.body)
        #expect(form.map(\.name) == ["To", "From", "Body", "StatusCallback"])
        #expect(form.map(\.value) == ["+8613800138000", "+15005550006", "您好，您的订单已发货 🚚", Self.publicURL + "/status?delivery=dlv_7"])
    }

    @Test("429 and 5xx are retried (with Retry-After), 401 waits for the token, a refused recipient is final", arguments: [
        (429, #"{"code":20429,"message":"Too Many Requests","status":429}"#, true, "error 20429: Too Many Requests"),
        (503, "", true, "503"),
        (401, #"{"code":20003,"message":"Authenticate","status":401}"#, true, "check the auth token"),
        (400, #"{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}"#, false, "error 21610"),
        (400, #"{"code":21211,"message":"The 'To' number +8613800138000 is not a valid phone number.","status":400}"#, false, "The 'To' number <number> is not"),
    ])
    func failures(_ status: Int, body: String, retryable: Bool, reason: String) async throws {
        let provider = FakeProvider { _, _ in FakeProvider.Reply(status: status, headers: ["Retry-After": "7"], body: body) }
        let failure = try await provider.serve { base in
            await deliveryFailure { () async throws(DeliveryFailure) in _ = try await Self.adapter(apiBaseURL: base).deliver(Self.delivery()) }
        }
        let error = try #require(failure)
        #expect(error.isRetryable == retryable)
        #expect(error.reason.contains(reason))
        #expect(!error.reason.contains("8613800138000"), "numbers are not quoted in reasons agents may see")
        if status == 429 { #expect(error.retryAfter == .seconds(7)) }
    }
}
