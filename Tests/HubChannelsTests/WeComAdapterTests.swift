import AsyncHTTPClient
import Foundation
import HubChannels
import HubConfig
import HubModel
import HubTestSupport
import Logging
import Testing

@Suite("wecom channel (微信客服)")
struct WeComAdapterTests {
    // WeCom's official sample keys (channels.md §4.3, vector B).
    static let token = "QDG6eK"
    static let aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    static let corpID = "wx5823bf96d3bd56c7"

    static func adapter(apiBaseURL: String = "https://qyapi.weixin.qq.com", now: Double = 1_700_000_000) -> WeComAdapter {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let account = ChannelAccountConfig(
            id: "wecom-kf", kind: .wecom, name: "微信客服",
            secrets: [
                "token": Secret(variable: "T", value: token), "encodingAESKey": Secret(variable: "K", value: aesKey),
                "secret": Secret(variable: "S", value: "kf-secret-value"),
            ],
            options: WeComOptions(corpID: corpID, openKfID: "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", apiBaseURL: apiBaseURL),
            delivery: DeliveryPolicy(attemptTimeout: .seconds(5)), location: ConfigLocation(file: "channels/wecom-kf.yaml", line: 1, column: 1))
        return WeComAdapter(account: account, httpClient: .shared, logger: logger, now: { Date(timeIntervalSince1970: now) })
    }

    @Test("the URL check decrypts echostr (WeCom's official sample) and refuses a wrong signature")
    func urlCheck() async throws {
        var query: [(name: String, value: String)] = [
            ("msg_signature", "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"), ("timestamp", "1409659589"), ("nonce", "263014780"),
            ("echostr", "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="),
        ]
        let request = WebhookRequest(method: "GET", url: "http://hub/webhooks/wecom-kf", path: "/webhooks/wecom-kf", query: query, headers: [], body: [])
        let answer = await Self.adapter().handleWebhook(request, sink: RecordingSink())
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == "1616140317555161061")
        query[0].value = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd4"
        let bad = WebhookRequest(method: "GET", url: "http://hub/webhooks/wecom-kf", path: "/webhooks/wecom-kf", query: query, headers: [], body: [])
        #expect(await Self.adapter().handleWebhook(bad, sink: RecordingSink()).status == 403)
    }

    /// A `kf_msg_or_event` callback, encrypted and signed as WeCom sends it.
    static func callback(token syncToken: String, timestamp: String = "1700000000", nonce: String = "1234") throws -> WebhookRequest {
        let crypto = try WeChatCrypto(token: token, encodingAESKey: aesKey, receiveID: corpID)
        let xml = WeChatXML.render([
            .cdata("ToUserName", corpID), .integer("CreateTime", 1_700_000_000), .cdata("MsgType", "event"), .cdata("Event", "kf_msg_or_event"),
            .cdata("Token", syncToken), .cdata("OpenKfId", "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"),
        ])
        let encrypt = try crypto.encrypt(xml)
        let query: [(name: String, value: String)] = [
            ("msg_signature", WeChatCrypto.signature([token, timestamp, nonce, encrypt])), ("timestamp", timestamp), ("nonce", nonce),
        ]
        let body = WeChatXML.render([.cdata("ToUserName", corpID), .cdata("Encrypt", encrypt), .cdata("AgentID", "")])
        return WebhookRequest(
            method: "POST", url: "http://hub/webhooks/wecom-kf", path: "/webhooks/wecom-kf", query: query, headers: [], body: Array(body.utf8))
    }

    static let page1 = """
        {"errcode":0,"errmsg":"ok","next_cursor":"C1","has_more":1,"msg_list":[
         {"msgid":"m1","open_kfid":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","external_userid":"wmUser01","send_time":1700000000,"origin":3,"msgtype":"text","text":{"content":"你好，我要退货"}},
         {"msgid":"m2","open_kfid":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","external_userid":"wmUser01","send_time":1700000001,"origin":4,"msgtype":"event","event":{"event_type":"enter_session"}}]}
        """
    static let page2 = """
        {"errcode":0,"errmsg":"ok","next_cursor":"C2","has_more":0,"msg_list":[
         {"msgid":"m3","open_kfid":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","external_userid":"wmUser01","send_time":1700000002,"origin":3,"msgtype":"image","image":{"media_id":"MEDIA1"}},
         {"msgid":"m4","open_kfid":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","external_userid":"wmUser01","send_time":1700000003,"origin":5,"msgtype":"text","text":{"content":"客服的回复"}}]}
        """

    @Test("a callback pulls the waiting messages page by page, stores the customers', then answers; the next one reads on from the cursor")
    func callbackSync() async throws {
        let provider = FakeProvider { request, _ in
            switch request.path {
            case "/cgi-bin/gettoken": return .ok(#"{"errcode":0,"errmsg":"ok","access_token":"CORP-TOKEN","expires_in":7200}"#)
            case "/cgi-bin/kf/sync_msg":
                let cursor = (try? request.json())?["cursor"]?.stringValue
                switch cursor {
                case nil: return .ok(Self.page1)
                case "C1": return .ok(Self.page2)
                default: return .ok(#"{"errcode":0,"errmsg":"ok","next_cursor":"C2","has_more":0,"msg_list":[]}"#)
                }
            default: return FakeProvider.Reply(status: 404)
            }
        }
        let sink = RecordingSink()
        try await provider.serve { base in
            let adapter = Self.adapter(apiBaseURL: base)
            let answer = await adapter.handleWebhook(try Self.callback(token: "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"), sink: sink)
            #expect(answer.status == 200)
            #expect(String(decoding: answer.body, as: UTF8.self) == "success")
            #expect(sink.events.map(\.providerMessageID) == ["m1", "m3"])
            #expect(sink.events.first?.text == "你好，我要退货")
            #expect(sink.events.first?.sender.address == "wmUser01")
            #expect(sink.events.last?.attachments.first?.reference == "wechat-media:MEDIA1")
            // WeCom calls again: the sync reads on from C2 and finds nothing new.
            #expect(await adapter.handleWebhook(try Self.callback(token: "T2", nonce: "5678"), sink: sink).status == 200)
        }
        let syncs = provider.requests.filter { $0.path == "/cgi-bin/kf/sync_msg" }
        #expect(try syncs.map { try $0.json()["cursor"]?.stringValue } == [nil, "C1", "C2"])
        #expect(try syncs.first?.json()["token"]?.stringValue == "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR")
        #expect(provider.requests.filter { $0.path == "/cgi-bin/gettoken" }.count == 1)
    }

    @Test("bad callbacks are refused; a sync that fails is answered 503 so that WeCom calls again")
    func failures() async throws {
        var tampered = try Self.callback(token: "X")
        tampered.query[0].value = String(repeating: "0", count: 40)
        #expect(await Self.adapter().handleWebhook(tampered, sink: RecordingSink()).status == 403)
        #expect(await Self.adapter(now: 1_700_000_000 + 3600).handleWebhook(try Self.callback(token: "X"), sink: RecordingSink()).status == 403)
        let broken = FakeProvider { request, _ in
            request.path == "/cgi-bin/gettoken" ? .ok(#"{"errcode":0,"access_token":"T","expires_in":7200}"#) : FakeProvider.Reply(status: 502)
        }
        let sink = RecordingSink()
        let status = try await broken.serve { base in await Self.adapter(apiBaseURL: base).handleWebhook(try Self.callback(token: "X"), sink: sink).status }
        #expect(status == 503)
        #expect(sink.events.isEmpty)
    }

    @Test("a reply is kf/send_msg as the customer-service account, with the delivery as WeCom's msgid")
    func deliver() async throws {
        let provider = FakeProvider { request, _ in
            request.path == "/cgi-bin/gettoken"
                ? .ok(#"{"errcode":0,"access_token":"CORP-TOKEN","expires_in":7200}"#) : .ok(#"{"errcode":0,"errmsg":"ok","msgid":"MSG-OUT"}"#)
        }
        let delivery = Delivery(
            id: "dlv_01M8TXBF6J2W7V72KQ39XNRG70", idempotencyKey: "k", channelAccountID: "wecom-kf", channelKind: .wecom, messageID: "msg_1",
            conversationID: "cnv_1", orderingKey: "cnv_1", recipient: HandleAddress(kind: .wecom, scope: "wecom-kf", address: "wmUser01"),
            content: OutboundContent(text: "已为您办理退货"), state: .sending, attempts: 1, maxAttempts: 5, nextAttemptAt: Date(timeIntervalSince1970: 0),
            createdAt: Date(timeIntervalSince1970: 0))
        let receipt = try await provider.serve { base in try await Self.adapter(apiBaseURL: base).deliver(delivery) }
        #expect(receipt.providerMessageID == "MSG-OUT")
        let body = try #require(provider.requests.last).json()
        #expect(body["touser"]?.stringValue == "wmUser01")
        #expect(body["open_kfid"]?.stringValue == "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw")
        #expect(body["msgid"]?.stringValue == "dlv_01M8TXBF6J2W7V72KQ39XNRG70".suffix(32).description)
        #expect(body["text"]?["content"]?.stringValue == "已为您办理退货")
    }
}
