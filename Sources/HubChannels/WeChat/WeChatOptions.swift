import HubConfig
import HubModel

/// Options of a `wechat` channel account: a WeChat Official Account (公众号) receiving pushes at
/// `/webhooks/<account>` and answering through the customer-service message API.
public struct WeChatOptions: ChannelOptions, Hashable {
    /// How pushes are protected, as set in the Official Account's console (消息加解密方式).
    public enum Encryption: String, Sendable, Hashable, CaseIterable {
        /// 明文模式: signed, not encrypted.
        case plain
        /// 兼容模式: both forms accepted (while switching to safe mode).
        case compatible
        /// 安全模式: encrypted with the EncodingAESKey; plain pushes are refused.
        case safe
    }

    /// The AppID (`wx…`): the receive id every encrypted push must name, and the token's app.
    public var appID: String
    /// The account's original id (`gh_…`); when set, pushes addressed to another are refused.
    public var originalID: String?
    public var encryption: Encryption
    /// Where the WeChat API lives: `https://api.weixin.qq.com`, or a test fake.
    public var apiBaseURL: String
    /// Pushes whose timestamp is further than this from the hub's clock are refused as replays.
    public var maximumClockSkew: Duration

    public init(
        appID: String, originalID: String? = nil, encryption: Encryption = .safe, apiBaseURL: String = "https://api.weixin.qq.com",
        maximumClockSkew: Duration = .seconds(300)
    ) {
        self.appID = appID
        self.originalID = originalID
        self.encryption = encryption
        self.apiBaseURL = apiBaseURL
        self.maximumClockSkew = maximumClockSkew
    }

    /// The configuration schema of `kind: wechat` accounts.
    public static let schema = ChannelKindSchema(
        kind: .wechat, requiredSecrets: ["token", "appSecret"], optionalSecrets: ["encodingAESKey"],
        readOptions: { options, account in read(options, account: account) })

    static let keys = ["appId", "originalId", "encryption", "apiBaseURL", "maximumClockSkew"]

    static func read(_ options: ConfigMapping?, account: ConfigNode) -> WeChatOptions? {
        guard let options else {
            account.error("a wechat account needs options: appId (and encryption: safe with the encodingAESKey secret)")
            return nil
        }
        for (key, node) in options.entries where !keys.contains(key) {
            node.error("unknown option '\(key)' for a wechat channel (known: \(keys.joined(separator: ", ")))")
        }
        guard let appID = options.required("appId")?.nonEmptyString else { return nil }
        guard appID.hasPrefix("wx"), appID.count == 18, appID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            options["appId"]?.error("'\(appID)' is not an AppID (wx followed by 16 letters and digits)")
            return nil
        }
        var result = WeChatOptions(appID: appID)
        if let node = options["originalId"], let id = node.nonEmptyString {
            guard id.hasPrefix("gh_") else {
                node.error("'\(id)' is not an original id (gh_…)")
                return nil
            }
            result.originalID = id
        }
        if let node = options["encryption"], let text = node.oneOf(Encryption.allCases.map(\.rawValue), what: "encryption") {
            result.encryption = Encryption(rawValue: text)!
        }
        if let node = options["apiBaseURL"], let url = node.nonEmptyString {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, !url.contains(" ") else {
                node.error("'\(url)' is not an http(s) URL")
                return nil
            }
            result.apiBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let skew = options["maximumClockSkew"]?.duration { result.maximumClockSkew = skew }
        return result
    }
}
