import ArgumentParser
import BenchmarkSupport
import Foundation
import HubChannels

/// The webhook formats the ingest benchmark can send.
enum BenchChannel: String, ExpressibleByArgument, CaseIterable {
    /// The `api` channel's JSON with a bearer token (201 when stored).
    case api
    /// Twilio's form-encoded SMS webhook signed with X-Twilio-Signature (200 and TwiML).
    case sms
    /// A WeChat Official Account push in safe mode: AES-256-CBC encrypted, signed twice (200 "success").
    case wechat

    var acceptedStatus: Int { self == .api ? 201 : 200 }
}

/// Requests exactly as the providers send them, signed (and encrypted) by the hub's own
/// implementations of the providers' algorithms, which the tests check against the providers'
/// published vectors.
struct SignedWebhooks {
    static let twilioToken = "bench-twilio-auth-token"
    static let twilioAccount = "AC" + String(repeating: "b", count: 32)
    static let smsPublicURL = "https://hub.bench.example/webhooks/bench-sms"
    static let wechatToken = "bench-wechat-token"
    static let wechatKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    static let wechatAppID = "wxb11529c136998cb6"

    static let smsConfiguration = """
        kind: sms
        id: bench-sms
        queue: support
        secrets: { authToken: BENCH_TWILIO_TOKEN }
        options: { accountSid: \(twilioAccount), from: "+15005550006", publicURL: "\(smsPublicURL)" }
        """

    static let wechatConfiguration = """
        kind: wechat
        id: bench-wechat
        queue: support
        secrets: { token: BENCH_WECHAT_TOKEN, appSecret: BENCH_WECHAT_SECRET, encodingAESKey: BENCH_WECHAT_AES }
        options: { appId: \(wechatAppID), originalId: gh_bench, encryption: safe }
        """

    let channel: BenchChannel
    let customers: Int

    /// Requests numbered 0..<count.
    func requests(count: Int) throws -> [[UInt8]] {
        let crypto = try WeChatCrypto(token: Self.wechatToken, encodingAESKey: Self.wechatKey, receiveID: Self.wechatAppID)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        return try (0..<count).map { index in
            let text = "您好，我想查询订单 \(index) 的物流状态。Where is my order?"
            switch channel {
            case .api:
                return KeepAliveSender.webhook(
                    #"{"messageId":"bench-\#(index)","from":{"id":"customer-\#(index % customers)"},"text":"\#(text)"}"#)
            case .sms:
                let sid = "SM" + String(format: "%032x", index)
                let fields: [(name: String, value: String)] = [
                    ("ToCountry", "US"), ("SmsMessageSid", sid), ("NumMedia", "0"), ("SmsSid", sid), ("SmsStatus", "received"), ("Body", text),
                    ("To", "+15005550006"), ("NumSegments", "1"), ("MessageSid", sid), ("AccountSid", Self.twilioAccount),
                    ("From", "+86138" + String(format: "%08d", index % customers)), ("FromCountry", "CN"), ("ApiVersion", "2010-04-01"),
                ]
                let signature = TwilioSignature.compute(url: Self.smsPublicURL, parameters: fields, authToken: Self.twilioToken)
                return KeepAliveSender.post(
                    "/webhooks/bench-sms", headers: ["Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: \(signature)"],
                    body: Array(FormURLEncoding.encode(fields).utf8))
            case .wechat:
                let nonce = String(100_000 + index)
                let xml = WeChatXML.render([
                    .cdata("ToUserName", "gh_bench"), .cdata("FromUserName", "oBench" + String(format: "%08d", index % customers)),
                    .integer("CreateTime", Int(timestamp)!), .cdata("MsgType", "text"), .cdata("Content", text),
                    .integer("MsgId", 24_000_000_000_000_000 + index),
                ])
                let encrypt = try crypto.encrypt(xml)
                let query = FormURLEncoding.encode([
                    ("signature", WeChatCrypto.signature([Self.wechatToken, timestamp, nonce])), ("timestamp", timestamp), ("nonce", nonce),
                    ("openid", "oBench"), ("encrypt_type", "aes"),
                    ("msg_signature", WeChatCrypto.signature([Self.wechatToken, timestamp, nonce, encrypt])),
                ])
                let body = WeChatXML.render([.cdata("ToUserName", "gh_bench"), .cdata("Encrypt", encrypt)])
                return KeepAliveSender.post("/webhooks/bench-wechat?" + query, headers: ["Content-Type: text/xml"], body: Array(body.utf8))
            }
        }
    }
}
