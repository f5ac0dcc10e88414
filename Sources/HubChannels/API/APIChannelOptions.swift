import HubConfig
import HubModel

/// Options of an `api` channel account.
public struct APIChannelOptions: ChannelOptions, Hashable {
    /// Where replies are POSTed; without it the account only receives.
    public var outboundURL: String?
    /// Extra headers sent with every delivery (an API key of the integrator's, for instance).
    public var outboundHeaders: [String: String]

    public init(outboundURL: String? = nil, outboundHeaders: [String: String] = [:]) {
        self.outboundURL = outboundURL
        self.outboundHeaders = outboundHeaders
    }

    /// The configuration schema of `kind: api` accounts.
    public static let schema = ChannelKindSchema(
        kind: .api, requiredSecrets: ["signingSecret"], optionalSecrets: ["inboundToken"],
        readOptions: { options, _ in read(options) })

    static func read(_ options: ConfigMapping?) -> APIChannelOptions? {
        guard let options else { return APIChannelOptions() }
        var result = APIChannelOptions()
        for (key, node) in options.entries {
            switch key {
            case "outboundURL":
                guard let url = node.string else { continue }
                guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, !url.contains(" ") else {
                    node.error("'\(url)' is not an http(s) URL")
                    continue
                }
                result.outboundURL = url
            case "outboundHeaders":
                guard let headers = node.mapping(allowedKeys: nil) else { continue }
                for (name, value) in headers.entries {
                    guard let text = value.string else { continue }
                    guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                        value.error("'\(name)' is not an HTTP header name")
                        continue
                    }
                    result.outboundHeaders[name] = text
                }
            default:
                node.error("unknown option '\(key)' for an api channel (known: outboundURL, outboundHeaders)")
            }
        }
        return result
    }
}
