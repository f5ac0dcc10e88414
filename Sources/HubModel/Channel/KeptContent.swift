import Crypto

/// Bytes the hub keeps as they arrived (an e-mail's original, an attachment), named by the
/// SHA-256 of their content: `blob:sha256:<64 lower-case hex digits>`. The same content sent twice
/// is kept once, and a reference can never name other content: the only way to make one is
/// from the bytes themselves.
public struct KeptContent: Sendable, Hashable {
    public static let prefix = "blob:sha256:"

    public let reference: String
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        reference = Self.reference(of: bytes)
    }

    /// The reference of `bytes`.
    public static func reference(of bytes: [UInt8]) -> String {
        prefix + SHA256.hash(data: bytes).hexString
    }

    /// The hex digest of a well-formed reference, or nil (nothing else may reach a file name or
    /// a query).
    public static func digest(of reference: String) -> Substring? {
        guard reference.hasPrefix(prefix) else { return nil }
        let hex = reference.dropFirst(prefix.count)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return hex
    }
}
