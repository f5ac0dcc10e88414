import Testing

@testable import HubChannels

/// Every push type parses to its case with its fields, and the retry key is right.
@Suite struct WeChatMessageTests {
    static func push(_ type: String, _ fields: String, from: String = "oOPENID", time: Int = 1_348_831_860) throws -> WeChatPush {
        try WeChatPush(xml: "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><FromUserName><![CDATA[\(from)]]></FromUserName><CreateTime>\(time)</CreateTime><MsgType><![CDATA[\(type)]]></MsgType>\(fields)</xml>")
    }

    static func event(_ name: String, _ fields: String = "") throws -> WeChatPush {
        try push("event", "<Event><![CDATA[\(name)]]></Event>\(fields)")
    }

    static let scanCodePush = "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><FromUserName><![CDATA[oOPENID]]></FromUserName><CreateTime>1408090606</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[scancode_waitmsg]]></Event><EventKey><![CDATA[6]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[2]]></ScanResult></ScanCodeInfo></xml>"

    // MARK: Messages

    @Test func text() throws {
        let push = try Self.push("text", "<Content><![CDATA[你好]]></Content><MsgId>1234567890123456</MsgId>")
        #expect(push.kind == .text(content: "你好"))
        #expect(push.toUserName == "gh_hub")
        #expect(push.fromUserName == "oOPENID")
        #expect(push.createTime == 1_348_831_860)
        #expect(push.msgID == "1234567890123456")
        #expect(push.agentID == nil)
        #expect(push.dedupeKey == "1234567890123456")
    }

    @Test func image() throws {
        let push = try Self.push("image", "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1</MsgId>")
        #expect(push.kind == .image(picURL: "http://mmbiz.qpic.cn/x", mediaID: "media_id"))
    }

    @Test func voice() throws {
        let plain = try Self.push("voice", "<MediaId><![CDATA[m]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>1</MsgId>")
        #expect(plain.kind == .voice(mediaID: "m", format: "amr", recognition: nil))
        let recognised = try Self.push("voice", "<MediaId><![CDATA[m]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[腾讯微信团队]]></Recognition><MsgId>1</MsgId>")
        #expect(recognised.kind == .voice(mediaID: "m", format: "amr", recognition: "腾讯微信团队"))
        let empty = try Self.push("voice", "<MediaId><![CDATA[m]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[]]></Recognition>")
        #expect(empty.kind == .voice(mediaID: "m", format: "amr", recognition: nil))
    }

    @Test func videoAndShortVideo() throws {
        let fields = "<MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId><MsgId>1</MsgId>"
        #expect(try Self.push("video", fields).kind == .video(mediaID: "m", thumbMediaID: "t"))
        #expect(try Self.push("shortvideo", fields).kind == .shortVideo(mediaID: "m", thumbMediaID: "t"))
    }

    @Test func location() throws {
        let push = try Self.push("location", "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1</MsgId>")
        #expect(push.kind == .location(latitude: 23.134521, longitude: 113.358803, scale: 20, label: "位置信息"))
    }

    @Test func link() throws {
        let push = try Self.push("link", "<Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[说明]]></Description><Url><![CDATA[https://mp.weixin.qq.com]]></Url><MsgId>1</MsgId>")
        #expect(push.kind == .link(title: "公众平台官网链接", description: "说明", url: "https://mp.weixin.qq.com"))
    }

    @Test func file() throws {
        let official = try Self.push("file", "<Title><![CDATA[test.zip]]></Title><Description><![CDATA[]]></Description><FileKey><![CDATA[BAAAAAAAAACJHA0y]]></FileKey><FileMd5><![CDATA[95d98d3bf1b251a9e4a40f3bd88eef29]]></FileMd5><FileTotalLen>222</FileTotalLen><MsgId>6526133992738756795</MsgId>")
        #expect(official.kind == .file(name: "test.zip", mediaID: nil))
        #expect(official.xml["FileKey"] == "BAAAAAAAAACJHA0y")
        let weCom = try Self.push("file", "<MediaId><![CDATA[m]]></MediaId><FileName><![CDATA[报价.pdf]]></FileName><AgentID>1000002</AgentID>")
        #expect(weCom.kind == .file(name: "报价.pdf", mediaID: "m"))
        #expect(weCom.agentID == 1_000_002)
    }

    @Test func unknownMessageTypeIsKept() throws {
        let push = try Self.push("miniprogrampage", "<Title><![CDATA[t]]></Title><MsgId>9</MsgId>")
        #expect(push.kind == .unknown(msgType: "miniprogrampage"))
        #expect(push.xml["Title"] == "t")
        #expect(push.dedupeKey == "9")
    }

    // MARK: Events

    @Test func subscribe() throws {
        let plain = try Self.event("subscribe", "<EventKey><![CDATA[]]></EventKey>")
        #expect(plain.kind == .event(.subscribe(eventKey: nil, ticket: nil)))
        #expect(plain.msgID == nil)
        #expect(plain.dedupeKey == "oOPENID:1348831860:subscribe")
        let viaQR = try Self.event("subscribe", "<EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>")
        #expect(viaQR.kind == .event(.subscribe(eventKey: "qrscene_123123", ticket: "TICKET")))
        #expect(viaQR.dedupeKey == "oOPENID:1348831860:subscribe:qrscene_123123")
    }

    @Test func unsubscribe() throws {
        #expect(try Self.event("unsubscribe").kind == .event(.unsubscribe))
    }

    @Test func scan() throws {
        let push = try Self.event("SCAN", "<EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>")
        #expect(push.kind == .event(.scan(eventKey: "SCENE_VALUE", ticket: "TICKET")))
    }

    @Test func clickAndView() throws {
        let click = try Self.event("CLICK", "<EventKey><![CDATA[EVENTKEY]]></EventKey>")
        #expect(click.kind == .event(.click(eventKey: "EVENTKEY")))
        #expect(click.dedupeKey == "oOPENID:1348831860:CLICK:EVENTKEY")
        let view = try Self.event("VIEW", "<EventKey><![CDATA[https://www.qq.com/]]></EventKey><MenuId>1</MenuId>")
        #expect(view.kind == .event(.view(url: "https://www.qq.com/")))
    }

    /// WeCom spells its menu events in lower case and adds AgentID.
    @Test func weComLowerCaseEvents() throws {
        let push = try Self.event("click", "<EventKey><![CDATA[K]]></EventKey><AgentID>1</AgentID>")
        #expect(push.kind == .event(.click(eventKey: "K")))
        #expect(push.agentID == 1)
    }

    @Test func locationEvent() throws {
        let push = try Self.event("LOCATION", "<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>")
        #expect(push.kind == .event(.location(latitude: 23.137466, longitude: 113.352425, precision: 119.385040)))
    }

    /// The WeCom 微信客服 notification: no FromUserName, keyed by its Token.
    @Test func kfMsgOrEvent() throws {
        let push = try WeChatPush(xml: "<xml><ToUserName><![CDATA[ww12345678910]]></ToUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token><OpenKfId><![CDATA[wkxxxxxxx]]></OpenKfId></xml>")
        #expect(push.kind == .event(.kfMsgOrEvent(token: "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR", openKfID: "wkxxxxxxx")))
        #expect(push.fromUserName == nil)
        #expect(push.dedupeKey == "kf:ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR")
    }

    @Test func unknownEventKeepsNestedFields() throws {
        let push = try WeChatPush(xml: Self.scanCodePush)
        #expect(push.kind == .event(.unknown(event: "scancode_waitmsg")))
        #expect(push.xml.child("ScanCodeInfo")?["ScanResult"] == "2")
        #expect(push.dedupeKey == "oOPENID:1408090606:scancode_waitmsg:6")
    }

    /// Job-finished events spell the ID `MsgID`; it still keys the retry.
    @Test func msgIDSpellingOfJobEvents() throws {
        let push = try Self.event("TEMPLATESENDJOBFINISH", "<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>")
        #expect(push.msgID == "200163836")
        #expect(push.dedupeKey == "200163836")
    }

    // MARK: Errors

    @Test func missingAndInvalidFields() throws {
        #expect(throws: WeChatPushError.missingField("Content")) { try Self.push("text", "<MsgId>1</MsgId>") }
        #expect(throws: WeChatPushError.missingField("MediaId")) { try Self.push("image", "<PicUrl><![CDATA[u]]></PicUrl>") }
        #expect(throws: WeChatPushError.missingField("EventKey")) { try Self.event("CLICK") }
        #expect(throws: WeChatPushError.missingField("Token")) { try Self.event("kf_msg_or_event", "<OpenKfId>wk</OpenKfId>") }
        #expect(throws: WeChatPushError.missingField("MsgType")) {
            try WeChatPush(xml: "<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime></xml>")
        }
        #expect(throws: WeChatPushError.missingField("ToUserName")) {
            try WeChatPush(xml: "<xml><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>")
        }
        #expect(throws: WeChatPushError.invalidField("CreateTime", "soon")) {
            try WeChatPush(xml: "<xml><ToUserName>a</ToUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>")
        }
        #expect(throws: WeChatPushError.invalidField("Location_X", "north")) {
            try Self.push("location", "<Location_X>north</Location_X><Location_Y>1</Location_Y><Scale>1</Scale>")
        }
        #expect(throws: WeChatPushError.invalidField("AgentID", "x")) {
            try Self.push("text", "<Content>a</Content><AgentID>x</AgentID>")
        }
        #expect(WeChatPushError.missingField("Content").description == "WeChat push lacks <Content>")
        // Malformed XML surfaces as the parser's error.
        #expect(throws: WeChatXMLError.self) { try WeChatPush(xml: "<xml><Content>") }
    }
}
