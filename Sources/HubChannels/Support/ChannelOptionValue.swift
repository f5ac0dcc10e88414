import HubConfig
import HubModel

/// Option values shared by channel kinds' schemas.
enum ChannelOptionValue {
    /// An http(s) base URL without a trailing slash, or nil with an error on the node.
    static func baseURL(_ node: ConfigNode) -> String? {
        guard let url = node.nonEmptyString else { return nil }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, !url.contains(" "), !url.contains("?") else {
            node.error("'\(url)' is not an http(s) base URL")
            return nil
        }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// Reports the keys of an options block that the kind does not know.
    static func reportUnknownKeys(_ options: ConfigMapping, known: [String], kind: ChannelKind) {
        for (key, node) in options.entries where !known.contains(key) {
            node.error("unknown option '\(key)' for a \(kind.rawValue) channel (known: \(known.joined(separator: ", ")))")
        }
    }
}
