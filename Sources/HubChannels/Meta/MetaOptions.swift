import HubConfig
import HubModel

/// Options of a `messenger` or `instagram` channel account: one Facebook Page (or one Instagram
/// professional account) connected through a Meta app. Both kinds share Meta's webhook format
/// and Send API, so they share the options; the kind decides which `object` the webhooks carry
/// and which message tags exist.
public struct MetaOptions: ChannelOptions, Hashable {
    /// The Page id (messenger), or the Instagram professional account id (instagram): the
    /// webhook entries for it are received, and replies are sent as it.
    public var pageID: String
    /// Where the Graph API lives: `https://graph.facebook.com`, or a test fake.
    public var graphBaseURL: String
    /// The Graph API version in request paths (`v25.0`).
    public var graphVersion: String
    /// The message tag that may carry a human reply outside the 24-hour window (`HUMAN_AGENT`),
    /// for the hub's outbound service to put in `OutboundContent.options["messageTag"]`; nil
    /// when this account has no permission for one. The adapter itself sends whatever tag a
    /// delivery names and never decides.
    public var outsideWindowTag: String?

    /// How the outbound service may use the tag: `HUMAN_AGENT`, up to 7 days after the customer's
    /// last message. The update tags are for non-promotional notifications of a kind Meta lists,
    /// not for any agent's reply, so they never extend the window automatically.
    public var windowExtension: WindowExtension? {
        guard outsideWindowTag == "HUMAN_AGENT" else { return nil }
        return WindowExtension(tag: "HUMAN_AGENT", lasts: .seconds(7 * 24 * 3600))
    }

    public static let defaultGraphBaseURL = "https://graph.facebook.com"
    public static let defaultGraphVersion = "v25.0"

    /// The message tags Meta accepts for each kind: `HUMAN_AGENT` on both (a human reply up to 7
    /// days after the customer's last message), the update tags on Messenger only.
    public static func messageTags(for kind: ChannelKind) -> [String] {
        kind == .instagram ? ["HUMAN_AGENT"] : ["HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"]
    }

    public init(
        pageID: String, graphBaseURL: String = Self.defaultGraphBaseURL, graphVersion: String = Self.defaultGraphVersion,
        outsideWindowTag: String? = nil
    ) {
        self.pageID = pageID
        self.graphBaseURL = graphBaseURL
        self.graphVersion = graphVersion
        self.outsideWindowTag = outsideWindowTag
    }

    /// The secrets of both kinds: the app secret signs webhooks (X-Hub-Signature-256), the verify
    /// token answers Meta's subscription check, the Page access token authorizes sends.
    static let secrets = ["appSecret", "verifyToken", "pageAccessToken"]

    /// The configuration schema of `kind: messenger` accounts.
    public static let messengerSchema = ChannelKindSchema(
        kind: .messenger, requiredSecrets: secrets, readOptions: { options, account in read(options, account: account, kind: .messenger) })

    /// The configuration schema of `kind: instagram` accounts.
    public static let instagramSchema = ChannelKindSchema(
        kind: .instagram, requiredSecrets: secrets, readOptions: { options, account in read(options, account: account, kind: .instagram) })

    static let keys = ["pageId", "graphBaseURL", "graphVersion", "outsideWindowTag"]

    static func read(_ options: ConfigMapping?, account: ConfigNode, kind: ChannelKind) -> MetaOptions? {
        let what = kind == .instagram ? "the Instagram professional account id" : "the Facebook Page id"
        guard let options else {
            account.error("a \(kind.rawValue) account needs options: pageId (\(what))")
            return nil
        }
        ChannelOptionValue.reportUnknownKeys(options, known: keys, kind: kind)
        guard let pageID = options.required("pageId")?.nonEmptyString else { return nil }
        // Graph object ids are decimal numbers; anything else is a username or a URL pasted by mistake.
        guard pageID.count <= 32, pageID.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            options["pageId"]?.error("'\(pageID)' is not \(what) (a number, as Meta's app dashboard shows it)")
            return nil
        }
        var result = MetaOptions(pageID: pageID)
        if let node = options["graphBaseURL"], let url = ChannelOptionValue.baseURL(node) { result.graphBaseURL = url }
        if let node = options["graphVersion"], let version = node.nonEmptyString {
            let parts = version.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
            guard version.hasPrefix("v"), parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
            else {
                node.error("'\(version)' is not a Graph API version (such as \(Self.defaultGraphVersion))")
                return nil
            }
            result.graphVersion = version
        }
        if let node = options["outsideWindowTag"] {
            guard let tag = node.oneOf(messageTags(for: kind), what: "message tag for \(kind.rawValue)") else { return nil }
            guard tag == "HUMAN_AGENT" else {
                node.error("\(tag) is for Meta's listed non-promotional updates, not agents' replies after the window: only HUMAN_AGENT extends it")
                return nil
            }
            result.outsideWindowTag = tag
        }
        return result
    }
}
