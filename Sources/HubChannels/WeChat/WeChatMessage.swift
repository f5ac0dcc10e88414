/// One push from WeChat or WeCom after decryption: a user's message or an event.
///
/// Only what the hub acts on is typed; everything else stays reachable through `xml`, and a
/// message or event type we do not model becomes `.unknown` rather than an error, because
/// WeChat adds types over time and a refused push would be retried and then lost.
public struct WeChatPush: Sendable {
    /// The account that received the push: the Official Account's original ID (`gh_…`), or the
    /// CorpID for WeCom.
    public let toUserName: String
    /// The sender's OpenID (Official Account) or UserID (WeCom). Absent only in WeCom 微信客服
    /// `kf_msg_or_event` notifications, which name no user.
    public let fromUserName: String?
    /// When WeChat created the push, in seconds since 1970.
    public let createTime: Int
    /// The message ID. Messages carry `MsgId`; events carry none, except the job-finished
    /// events, which spell it `MsgID`.
    public let msgID: String?
    /// The WeCom application the push is for; absent on the Official Account.
    public let agentID: Int?
    /// What the push says.
    public let kind: Kind
    /// The whole document, for fields not modelled here.
    public let xml: WeChatXML

    /// The content of a push.
    public enum Kind: Sendable, Equatable {
        /// A text message.
        case text(content: String)
        /// An image; `mediaID` downloads it for three days.
        case image(picURL: String, mediaID: String)
        /// A voice message; `recognition` is WeChat's transcript when speech recognition is on.
        case voice(mediaID: String, format: String, recognition: String?)
        /// A video.
        case video(mediaID: String, thumbMediaID: String)
        /// A short video (Official Account only).
        case shortVideo(mediaID: String, thumbMediaID: String)
        /// A shared location: `Location_X` is the latitude, `Location_Y` the longitude.
        case location(latitude: Double, longitude: Double, scale: Int, label: String)
        /// A shared link (from favourites; links typed in a chat arrive as text).
        case link(title: String, description: String, url: String)
        /// A file. No current official page documents its fields: samples show either `Title`
        /// plus `FileKey` (Official Account) or `MediaId` plus `FileName` (WeCom), so both parts
        /// are optional and the rest is in `xml`.
        case file(name: String?, mediaID: String?)
        /// An event (`MsgType` `event`).
        case event(Event)
        /// A message type not modelled here, with its `MsgType`.
        case unknown(msgType: String)
    }

    /// An event push. Names are matched case-insensitively: the Official Account sends `CLICK`,
    /// WeCom sends `click`.
    public enum Event: Sendable, Equatable {
        /// A follow; through a parametric QR code `eventKey` is `qrscene_<scene>` and `ticket` is set.
        case subscribe(eventKey: String?, ticket: String?)
        /// An unfollow.
        case unsubscribe
        /// A follower scanned a parametric QR code; `eventKey` is the scene value.
        case scan(eventKey: String, ticket: String?)
        /// A menu click with the button's key.
        case click(eventKey: String)
        /// A menu link opened; `EventKey` carries the URL.
        case view(url: String)
        /// The periodic location report.
        case location(latitude: Double, longitude: Double, precision: Double)
        /// WeCom 微信客服: new messages wait; fetch them with `kf/sync_msg` using this token.
        case kfMsgOrEvent(token: String, openKfID: String)
        /// An event not modelled here, with its `Event` value as sent.
        case unknown(event: String)
    }

    /// Reads the common fields and the typed content of a decrypted push.
    public init(_ xml: WeChatXML) throws(WeChatPushError) {
        let fields = Fields(xml: xml)
        self.xml = xml
        self.toUserName = try fields.required("ToUserName")
        self.fromUserName = xml["FromUserName"]
        self.createTime = try fields.integer("CreateTime")
        self.msgID = xml["MsgId"] ?? xml["MsgID"]
        self.agentID = try xml["AgentID"] == nil ? nil : fields.integer("AgentID")
        self.kind = try Self.kind(fields)
    }

    /// Parses a decrypted push body. Throws `WeChatXMLError` or `WeChatPushError`.
    public init(xml: String) throws {
        try self.init(WeChatXML(xml))
    }

    /// The key to drop WeChat's retries with (it retries up to three times when the hub is slow).
    ///
    /// Messages use `MsgId`. Events carry none, so they use `FromUserName:CreateTime:Event`, plus
    /// `:EventKey` when there is one: retries repeat the key, and two different menu clicks in
    /// the same second must not collapse into one. 微信客服 notifications use their `Token`,
    /// which is unique per notification, because they carry no user and many arrive per second.
    public var dedupeKey: String {
        if let msgID, !msgID.isEmpty { return msgID }
        if case .event(.kfMsgOrEvent(let token, _)) = kind { return "kf:" + token }
        var key = "\(fromUserName ?? ""):\(createTime):\(xml["Event"] ?? "")"
        if let eventKey = xml["EventKey"], !eventKey.isEmpty { key += ":" + eventKey }
        return key
    }

    private static func kind(_ fields: Fields) throws(WeChatPushError) -> Kind {
        let type = try fields.required("MsgType")
        switch type {
        case "text": return .text(content: try fields.required("Content"))
        case "image": return .image(picURL: try fields.required("PicUrl"), mediaID: try fields.required("MediaId"))
        case "voice":
            return .voice(
                mediaID: try fields.required("MediaId"), format: try fields.required("Format"),
                recognition: fields.optional("Recognition"))
        case "video", "shortvideo":
            let mediaID = try fields.required("MediaId")
            let thumb = try fields.required("ThumbMediaId")
            return type == "video" ? .video(mediaID: mediaID, thumbMediaID: thumb) : .shortVideo(mediaID: mediaID, thumbMediaID: thumb)
        case "location":
            return .location(
                latitude: try fields.double("Location_X"), longitude: try fields.double("Location_Y"),
                scale: try fields.integer("Scale"), label: fields.xml["Label"] ?? "")
        case "link":
            return .link(
                title: fields.xml["Title"] ?? "", description: fields.xml["Description"] ?? "",
                url: try fields.required("Url"))
        case "file": return .file(name: fields.optional("Title") ?? fields.optional("FileName"), mediaID: fields.optional("MediaId"))
        case "event": return .event(try event(fields))
        default: return .unknown(msgType: type)
        }
    }

    private static func event(_ fields: Fields) throws(WeChatPushError) -> Event {
        let name = try fields.required("Event")
        switch name.lowercased() {
        case "subscribe": return .subscribe(eventKey: fields.optional("EventKey"), ticket: fields.optional("Ticket"))
        case "unsubscribe": return .unsubscribe
        case "scan": return .scan(eventKey: try fields.required("EventKey"), ticket: fields.optional("Ticket"))
        case "click": return .click(eventKey: try fields.required("EventKey"))
        case "view": return .view(url: try fields.required("EventKey"))
        case "location":
            return .location(
                latitude: try fields.double("Latitude"), longitude: try fields.double("Longitude"),
                precision: try fields.double("Precision"))
        case "kf_msg_or_event":
            return .kfMsgOrEvent(token: try fields.required("Token"), openKfID: try fields.required("OpenKfId"))
        default: return .unknown(event: name)
        }
    }

    /// Typed reads of top-level fields, each naming the field in its error.
    private struct Fields {
        let xml: WeChatXML

        /// A non-empty field.
        func required(_ name: String) throws(WeChatPushError) -> String {
            guard let value = xml[name], !value.isEmpty else { throw .missingField(name) }
            return value
        }

        /// A field that may be absent; WeChat often sends optional fields as empty CDATA.
        func optional(_ name: String) -> String? {
            guard let value = xml[name], !value.isEmpty else { return nil }
            return value
        }

        func integer(_ name: String) throws(WeChatPushError) -> Int {
            let value = try required(name)
            guard let number = Int(value) else { throw .invalidField(name, value) }
            return number
        }

        func double(_ name: String) throws(WeChatPushError) -> Double {
            let value = try required(name)
            guard let number = Double(value), number.isFinite else { throw .invalidField(name, value) }
            return number
        }
    }
}

/// A decrypted push that is well-formed XML but lacks a field its type requires.
public enum WeChatPushError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field is absent or empty.
    case missingField(String)
    /// The field is present but not of the expected form (an integer or a decimal number).
    case invalidField(String, String)

    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .missingField(let name): "WeChat push lacks <\(name)>"
        case .invalidField(let name, let value): "WeChat push has an invalid <\(name)>: \(value.prefix(64))"
        }
    }
}
