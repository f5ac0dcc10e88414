import Crypto
import Foundation
import HubModel

/// HMAC signatures in the `sha256=<hex>` form used by the `api` channel (and GitHub and Meta).
public enum WebhookSignature {
    /// `sha256=` followed by the lower-case hex HMAC-SHA256 of `body` under `secret`.
    public static func sha256(body: some DataProtocol, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.hexString
    }

    /// Checks a `sha256=<hex>` header in constant time.
    public static func isValidSHA256(_ header: String, body: some DataProtocol, secret: String) -> Bool {
        guard header.hasPrefix("sha256="), let expected = bytes(hex: header.dropFirst(7)), expected.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
    }

    /// Compares two secrets without revealing, by timing, how much of them matched.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        // Comparing digests makes the comparison independent of the inputs' lengths too.
        let left = SHA256.hash(data: Data(a.utf8))
        let right = SHA256.hash(data: Data(b.utf8))
        return zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func bytes(hex: Substring) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}
