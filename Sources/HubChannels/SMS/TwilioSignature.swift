import Crypto
import Foundation
import HubModel

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
        url + parameterString(parameters)
    }

    /// The parameters' part of the signed string.
    static func parameterString(_ parameters: [(name: String, value: String)]) -> String {
        var byName: [String: Set<String>] = [:]
        for parameter in parameters { byName[parameter.name, default: []].insert(parameter.value) }
        var result = ""
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
        let signedParameters = parameterString(parameters)
        for candidate in urlVariants(url) {
            let message = Array((candidate + signedParameters).utf8)
            if HMAC<Insecure.SHA1>.isValidAuthenticationCode(expected, authenticating: message, using: key) { return true }
        }
        return false
    }

    /// The URL as given, and with its default port added or removed. The authority is found by
    /// hand (after `://`, up to the first `/`, `?` or `#`): the URL may come from a client's Host
    /// header, and must be neither normalized nor re-encoded, only matched byte for byte.
    static func urlVariants(_ url: String) -> [String] {
        let bytes = Array(url.utf8)
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard let defaultPort = ["https": "443", "http": "80"][scheme] else { return [url] }
        let authorityStart = url.utf8.distance(from: url.startIndex, to: schemeEnd.upperBound)
        var authorityEnd = authorityStart
        while authorityEnd < bytes.count, ![UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#")].contains(bytes[authorityEnd]) {
            authorityEnd += 1
        }
        let authority = bytes[authorityStart..<authorityEnd]
        let head = bytes[..<authorityStart]
        let tail = bytes[authorityEnd...]
        // The port follows the last ':' that is not inside an IPv6 literal's brackets.
        let colon = authority.lastIndex(of: UInt8(ascii: ":")).flatMap { index in
            authority[index...].contains(UInt8(ascii: "]")) ? nil : index
        }
        var other: [UInt8]
        if let colon {
            guard Array(authority[(colon + 1)...]) == Array(defaultPort.utf8) else { return [url] }
            other = Array(head) + Array(authority[..<colon]) + Array(tail)
        } else {
            other = Array(head) + Array(authority) + Array(":\(defaultPort)".utf8) + Array(tail)
        }
        return [url, String(decoding: other, as: UTF8.self)]
    }

    static func utf8Order(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
