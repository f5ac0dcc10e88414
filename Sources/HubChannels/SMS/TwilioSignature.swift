import Crypto
import Foundation

/// Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's auth token, of the
/// URL Twilio called followed by every POST parameter as `name` + `value`, names sorted by byte
/// order, without separators (twilio.com "webhooks security"; the same steps as the `twilio`
/// SDK's `RequestValidator`).
public enum TwilioSignature {
    /// The signature of `url` and `parameters` under `authToken`.
    public static func compute(url: String, parameters: [(name: String, value: String)], authToken: String) -> String {
        let code = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(signedString(url: url, parameters: parameters).utf8), using: SymmetricKey(data: Array(authToken.utf8)))
        return Data(code).base64EncodedString()
    }

    /// The string Twilio signs. A name given several times contributes each distinct value once,
    /// sorted, as the SDK does.
    public static func signedString(url: String, parameters: [(name: String, value: String)]) -> String {
        var byName: [String: Set<String>] = [:]
        for parameter in parameters { byName[parameter.name, default: []].insert(parameter.value) }
        var result = url
        for name in byName.keys.sorted(by: utf8Order) {
            for value in byName[name, default: []].sorted(by: utf8Order) {
                result += name
                result += value
            }
        }
        return result
    }

    /// Checks a signature in constant time. Like the SDK, a match on the URL with or without its
    /// default port (`:443`, `:80`) counts, since proxies differ in which one Twilio sees.
    /// A JSON body is signed through its SHA-256 in the URL's `bodySHA256` parameter: pass the
    /// raw body as `jsonBody` and no parameters.
    public static func isValid(
        _ signature: String, url: String, parameters: [(name: String, value: String)], authToken: String, jsonBody: [UInt8]? = nil
    ) -> Bool {
        guard let expected = Data(base64Encoded: signature), expected.count == Insecure.SHA1.byteCount else { return false }
        if let jsonBody {
            guard let components = URLComponents(string: url),
                let hash = components.queryItems?.first(where: { $0.name == "bodySHA256" })?.value,
                WebhookSignature.constantTimeEquals(hash.lowercased(), SHA256.hash(data: jsonBody).hexString)
            else { return false }
        }
        let key = SymmetricKey(data: Array(authToken.utf8))
        for candidate in urlVariants(url) {
            let message = Array(signedString(url: candidate, parameters: parameters).utf8)
            if HMAC<Insecure.SHA1>.isValidAuthenticationCode(expected, authenticating: message, using: key) { return true }
        }
        return false
    }

    /// The URL as given, and with its default port added or removed.
    static func urlVariants(_ url: String) -> [String] {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let defaultPort = ["https": 443, "http": 80][scheme], let hostRange = components.rangeOfHost
        else { return [url] }
        var variants = [url]
        if let portRange = components.rangeOfPort {
            if components.port == defaultPort {
                // Drop ":443" (the colon precedes the port).
                var without = url
                without.removeSubrange(url.index(before: portRange.lowerBound)..<portRange.upperBound)
                variants.append(without)
            }
        } else {
            var with = url
            with.insert(contentsOf: ":\(defaultPort)", at: hostRange.upperBound)
            variants.append(with)
        }
        return variants
    }

    static func utf8Order(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
