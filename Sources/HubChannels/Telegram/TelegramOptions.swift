import HubConfig
import HubModel

/// Options of a `telegram` channel account: one bot, whose updates arrive by webhook and whose
/// replies go through the Bot API.
public struct TelegramOptions: ChannelOptions, Hashable {
    /// Where the Bot API lives: `https://api.telegram.org`, a self-hosted Bot API server, or a
    /// test fake.
    public var apiBaseURL: String
    /// The bot's username (without `@`), for documentation and logs; the hub never needs it.
    public var botUsername: String?

    public static let defaultAPIBaseURL = "https://api.telegram.org"

    public init(apiBaseURL: String = Self.defaultAPIBaseURL, botUsername: String? = nil) {
        self.apiBaseURL = apiBaseURL
        self.botUsername = botUsername
    }

    /// The configuration schema of `kind: telegram` accounts. `botToken` authorizes Bot API calls;
    /// `secretToken` is the `secret_token` given to `setWebhook`, which Telegram sends back in
    /// every update's `X-Telegram-Bot-Api-Secret-Token` header.
    public static let schema = ChannelKindSchema(
        kind: .telegram, requiredSecrets: ["botToken", "secretToken"], readOptions: { options, _ in read(options) })

    static let keys = ["apiBaseURL", "botUsername"]

    static func read(_ options: ConfigMapping?) -> TelegramOptions? {
        var result = TelegramOptions()
        guard let options else { return result }
        ChannelOptionValue.reportUnknownKeys(options, known: keys, kind: .telegram)
        if let node = options["apiBaseURL"], let url = ChannelOptionValue.baseURL(node) { result.apiBaseURL = url }
        if let node = options["botUsername"], var name = node.nonEmptyString {
            if name.hasPrefix("@") { name.removeFirst() }
            // Telegram's rule for bot usernames: 5 to 32 of A-Z a-z 0-9 _, ending in "bot".
            guard (5...32).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                name.lowercased().hasSuffix("bot")
            else {
                node.error("'\(name)' is not a bot username (5 to 32 letters, digits and '_', ending in 'bot')")
                return nil
            }
            result.botUsername = name
        }
        return result
    }

    /// Why a secret token cannot be the one given to `setWebhook` (which takes 1 to 256 of
    /// A-Z a-z 0-9 _ -), or nil when it can. Secrets come from the environment after the options
    /// are read, so the adapter checks this when it starts.
    public static func secretTokenProblem(_ token: String) -> String? {
        guard (1...256).contains(token.utf8.count) else { return "the secret token must be 1 to 256 characters long" }
        let valid = token.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "_"), UInt8(ascii: "-"): true
            default: false
            }
        }
        return valid ? nil : "the secret token may contain only A-Z, a-z, 0-9, '_' and '-' (Telegram's setWebhook refuses others)"
    }
}
