import Foundation
import HubConfig
import HubModel

/// Options of an `sms` channel account that speaks Twilio's Programmable Messaging format: Twilio
/// itself, or any gateway with a Twilio-compatible API (`apiBaseURL`).
public struct TwilioSMSOptions: ChannelOptions, Hashable {
    /// The account (`AC…`) whose Messages API sends and whose webhooks are expected.
    public var accountSID: String
    /// The sending number (E.164) or a Messaging Service (`MG…`): one of the two sends.
    public var from: String?
    public var messagingServiceSID: String?
    /// Where the Messages API lives: `https://api.twilio.com`, a compatible gateway, or a test fake.
    public var apiBaseURL: String
    /// The webhook URL exactly as configured at the provider (what it signs). Status callbacks go
    /// to this URL followed by `/status`. Without it, the URL the request arrived at is used, and
    /// no status callbacks are requested.
    public var publicURL: String?
    /// Ask for status callbacks (sent, delivered, undelivered, failed) on every message sent.
    public var statusCallbacks: Bool
    /// A message consisting of one of these (any case, surrounding spaces and punctuation ignored)
    /// opts the customer out of SMS on that number; one of `optInKeywords` opts them back in.
    public var optOutKeywords: Set<String>
    public var optInKeywords: Set<String>

    /// Twilio's standard opt-out words, and those Chinese carriers' users send ("回复TD退订").
    public static let defaultOptOutKeywords: Set<String> = [
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "TD", "退订", "取消订阅",
    ]
    public static let defaultOptInKeywords: Set<String> = ["START", "UNSTOP", "YES", "订阅"]

    public init(
        accountSID: String, from: String? = nil, messagingServiceSID: String? = nil, apiBaseURL: String = "https://api.twilio.com",
        publicURL: String? = nil, statusCallbacks: Bool = true, optOutKeywords: Set<String> = Self.defaultOptOutKeywords,
        optInKeywords: Set<String> = Self.defaultOptInKeywords
    ) {
        self.accountSID = accountSID
        self.from = from
        self.messagingServiceSID = messagingServiceSID
        self.apiBaseURL = apiBaseURL
        self.publicURL = publicURL
        self.statusCallbacks = statusCallbacks
        self.optOutKeywords = optOutKeywords
        self.optInKeywords = optInKeywords
    }

    /// The configuration schema of `kind: sms` accounts.
    public static let schema = ChannelKindSchema(
        kind: .sms, requiredSecrets: ["authToken"], readOptions: { options, account in read(options, account: account) })

    static let keys = [
        "provider", "accountSid", "from", "messagingServiceSid", "apiBaseURL", "publicURL", "statusCallbacks", "optOutKeywords",
        "optInKeywords",
    ]

    static func read(_ options: ConfigMapping?, account: ConfigNode) -> TwilioSMSOptions? {
        guard let options else {
            account.error("an sms account needs options: accountSid, and from or messagingServiceSid")
            return nil
        }
        for (key, node) in options.entries where !keys.contains(key) {
            node.error("unknown option '\(key)' for an sms channel (known: \(keys.joined(separator: ", ")))")
        }
        if let provider = options["provider"] { _ = provider.oneOf(["twilio"], what: "sms provider") }
        guard let sid = options.required("accountSid")?.nonEmptyString else { return nil }
        guard sid.hasPrefix("AC"), sid.count == 34, sid.dropFirst(2).allSatisfy(\.isHexDigit) else {
            options["accountSid"]?.error("'\(sid)' is not an account SID (AC followed by 32 hexadecimal digits)")
            return nil
        }
        var result = TwilioSMSOptions(accountSID: sid)
        if let node = options["from"], let from = node.nonEmptyString {
            guard (try? PhoneNumber(parsing: from, defaultRegion: nil)) != nil else {
                node.error("'\(from)' is not a phone number in international form (+8613800138000)")
                return nil
            }
            result.from = from
        }
        if let node = options["messagingServiceSid"], let service = node.nonEmptyString {
            guard service.hasPrefix("MG"), service.count == 34 else {
                node.error("'\(service)' is not a Messaging Service SID (MG followed by 32 characters)")
                return nil
            }
            result.messagingServiceSID = service
        }
        if result.from == nil, result.messagingServiceSID == nil {
            options.owner.error("give 'from' (the sending number) or 'messagingServiceSid': without one, replies cannot be sent")
        }
        if let node = options["apiBaseURL"], let url = httpURL(node) { result.apiBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url }
        if let node = options["publicURL"], let url = httpURL(node) {
            if url.contains("?") || url.contains("#") {
                node.error("publicURL is the webhook's URL without a query: '\(url)'")
            } else {
                result.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            }
        }
        if let value = options["statusCallbacks"]?.bool { result.statusCallbacks = value }
        if result.statusCallbacks, result.publicURL == nil, options["statusCallbacks"] != nil {
            options["statusCallbacks"]?.warning("status callbacks need publicURL (the URL the provider reaches the hub at); none will be requested")
        }
        if let words = options["optOutKeywords"]?.stringList { result.optOutKeywords = Set(words.map(normalizedKeyword)) }
        if let words = options["optInKeywords"]?.stringList { result.optInKeywords = Set(words.map(normalizedKeyword)) }
        return result
    }

    private static func httpURL(_ node: ConfigNode) -> String? {
        guard let url = node.nonEmptyString else { return nil }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, !url.contains(" ") else {
            node.error("'\(url)' is not an http(s) URL")
            return nil
        }
        return url
    }

    /// The form a keyword is compared in: upper case, without surrounding spaces and punctuation.
    static func normalizedKeyword(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters).union(.symbols)).uppercased()
    }

    /// Whether a message is an opt-out or opt-in keyword.
    func consent(for text: String?) -> ConsentChange? {
        guard let text, text.count <= 32 else { return nil }
        let word = Self.normalizedKeyword(text)
        if optOutKeywords.contains(word) { return ConsentChange(optedOut: true, keyword: word) }
        if optInKeywords.contains(word) { return ConsentChange(optedOut: false, keyword: word) }
        return nil
    }
}
