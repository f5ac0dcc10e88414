import HubConfig
import HubModel

/// Options of a `wecom` channel account: WeCom's customer service (企业微信 微信客服), through which
/// WeChat users write to a company. WeCom calls `/webhooks/<account>` (always encrypted) to say
/// that messages wait; the hub fetches them with `kf/sync_msg` and answers with `kf/send_msg`.
public struct WeComOptions: ChannelOptions, Hashable {
    /// The company (`ww…`): the receive id of every callback, and the token's corp.
    public var corpID: String
    /// The customer-service account (`wk…`) the hub answers as.
    public var openKfID: String
    /// Where WeCom's API lives: `https://qyapi.weixin.qq.com`, or a test fake.
    public var apiBaseURL: String
    /// Callbacks whose timestamp is further than this from the hub's clock are refused as replays.
    public var maximumClockSkew: Duration

    public init(corpID: String, openKfID: String, apiBaseURL: String = "https://qyapi.weixin.qq.com", maximumClockSkew: Duration = .seconds(300)) {
        self.corpID = corpID
        self.openKfID = openKfID
        self.apiBaseURL = apiBaseURL
        self.maximumClockSkew = maximumClockSkew
    }

    /// The configuration schema of `kind: wecom` accounts.
    public static let schema = ChannelKindSchema(
        kind: .wecom, requiredSecrets: ["token", "encodingAESKey", "secret"], readOptions: { options, account in read(options, account: account) })

    static let keys = ["corpId", "openKfId", "apiBaseURL", "maximumClockSkew"]

    static func read(_ options: ConfigMapping?, account: ConfigNode) -> WeComOptions? {
        guard let options else {
            account.error("a wecom account needs options: corpId and openKfId")
            return nil
        }
        for (key, node) in options.entries where !keys.contains(key) {
            node.error("unknown option '\(key)' for a wecom channel (known: \(keys.joined(separator: ", ")))")
        }
        guard let corp = options.required("corpId")?.nonEmptyString, let kf = options.required("openKfId")?.nonEmptyString else { return nil }
        guard corp.count <= 64, corp.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            options["corpId"]?.error("'\(corp)' is not a CorpID (letters and digits, such as ww0123456789abcdef)")
            return nil
        }
        guard kf.hasPrefix("wk"), kf.count <= 64, kf.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            options["openKfId"]?.error("'\(kf)' is not a customer-service account id (wk…)")
            return nil
        }
        var result = WeComOptions(corpID: corp, openKfID: kf)
        if let node = options["apiBaseURL"], let url = node.nonEmptyString {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, !url.contains(" "), !url.contains("?") else {
                node.error("'\(url)' is not an http(s) base URL")
                return nil
            }
            result.apiBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let skew = options["maximumClockSkew"]?.duration { result.maximumClockSkew = skew }
        return result
    }
}
