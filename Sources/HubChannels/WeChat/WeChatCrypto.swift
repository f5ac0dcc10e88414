import Crypto
import Foundation
import HubModel
import _CryptoExtras

/// WeChat's message signing and "safe mode" encryption (WXBizMsgCrypt), shared by the Official
/// Account, the third-party platform and WeCom (企业微信, self-built apps and 微信客服).
///
/// WeChat signs with SHA-1 over the sorted request fields and encrypts with AES-256-CBC under a
/// key taken from the 43-character `EncodingAESKey`. The plaintext is
/// `random(16) ‖ length(4, big-endian) ‖ message ‖ receiveID`, padded PKCS#7-style to 32 bytes.
/// The receive ID is the AppID (Official Account), the CorpID (WeCom app) or the SuiteID (WeCom
/// third-party suite); checking it stops a message for one account from being replayed at another
/// that happens to share the key.
public struct WeChatCrypto: Sendable {
    /// The token configured next to the URL in WeChat's console; it keys the signatures.
    public let token: String
    /// The AppID, CorpID or SuiteID that every decrypted message must name.
    public let receiveID: String
    private let key: SymmetricKey
    private let iv: AES._CBC.IV

    /// The PKCS#7 block size WeChat pads to: 32, not AES's 16.
    static let padBlock = 32

    /// Reads the key from `encodingAESKey`, which must be 43 base64 characters encoding 32 bytes.
    public init(token: String, encodingAESKey: String, receiveID: String) throws(WeChatCryptoError) {
        // The console shows the key without its trailing "=", so put it back before decoding.
        guard encodingAESKey.utf8.count == 43, let raw = Data(base64Encoded: encodingAESKey + "="), raw.count == 32 else {
            throw .illegalAESKey
        }
        let keyBytes = [UInt8](raw)
        guard let iv = try? AES._CBC.IV(ivBytes: keyBytes[0..<16]) else { throw .illegalAESKey }
        self.token = token
        self.receiveID = receiveID
        self.key = SymmetricKey(data: keyBytes)
        // WeChat reuses the key's first 16 bytes as the IV; the random prefix in the plaintext is
        // what keeps equal messages from encrypting alike.
        self.iv = iv
    }

    // MARK: Signatures

    /// Lower-case hex SHA-1 of `parts` sorted and concatenated with no separator.
    ///
    /// Plain mode signs `[token, timestamp, nonce]`; safe mode's `msg_signature` adds the base64
    /// `Encrypt` value. Parts are sorted by their UTF-8 bytes (the same order as code points), so
    /// the result matches the official samples whatever Swift's `String` ordering would do.
    public static func signature(_ parts: [String]) -> String {
        let sorted = parts.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let digest = Insecure.SHA1.hash(data: Data(sorted.joined().utf8))
        return digest.hexString
    }

    /// Checks the `signature` query parameter of a plain-mode request (URL check or push).
    public func verifyPlain(signature: String, timestamp: String, nonce: String) -> Bool {
        WebhookSignature.constantTimeEquals(Self.signature([token, timestamp, nonce]), signature)
    }

    /// Checks `msg_signature` over the encrypted payload: `echostr` on a WeCom URL check, or the
    /// `Encrypt` element of a safe-mode push.
    public func verify(msgSignature: String, timestamp: String, nonce: String, encrypt: String) -> Bool {
        WebhookSignature.constantTimeEquals(Self.signature([token, timestamp, nonce, encrypt]), msgSignature)
    }

    // MARK: Decryption

    /// Decrypts a base64 `Encrypt` value (or a WeCom `echostr`) and returns the message.
    ///
    /// Call it only after `verify(msgSignature:…)`: the signature is what authenticates the
    /// ciphertext, CBC alone does not. Every malformed input throws; none can trap.
    public func decrypt(_ base64: String) throws(WeChatCryptoError) -> String {
        guard let data = Data(base64Encoded: base64) else { throw .base64DecodeFailed }
        let ciphertext = [UInt8](data)
        // A CBC ciphertext is a non-empty whole number of AES blocks; checked here so that the
        // library is never handed anything it could refuse for a reason we cannot name.
        guard !ciphertext.isEmpty, ciphertext.count % 16 == 0 else { throw .decryptFailed }
        let plain: [UInt8]
        do {
            plain = [UInt8](try AES._CBC.decrypt(ciphertext, using: key, iv: iv, noPadding: true))
        } catch {
            throw .decryptFailed
        }
        return try unpack(plain)
    }

    /// Verifies and decrypts a safe-mode push body in one step: finds `<Encrypt>` in the outer
    /// XML, checks `msg_signature` over it, then decrypts it.
    public func decryptMessage(
        body: String, msgSignature: String, timestamp: String, nonce: String
    ) throws(WeChatCryptoError) -> String {
        guard let outer = try? WeChatXML(body), let encrypt = outer["Encrypt"] else { throw .parseXMLFailed }
        guard verify(msgSignature: msgSignature, timestamp: timestamp, nonce: nonce, encrypt: encrypt) else {
            throw .signatureMismatch
        }
        return try decrypt(encrypt)
    }

    /// Strips the padding and splits `random ‖ length ‖ message ‖ receiveID`, checking every bound.
    func unpack(_ plain: [UInt8]) throws(WeChatCryptoError) -> String {
        let body = try Self.stripPadding(plain)
        // 16 random bytes, then the 4-byte length.
        guard body.count >= 20 else { throw .illegalBuffer }
        let lengthStart = body.startIndex + 16
        let length = body[lengthStart..<(lengthStart + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard length <= body.count - 20 else { throw .illegalBuffer }
        let messageStart = lengthStart + 4
        let messageEnd = messageStart + length
        guard body[messageEnd...].elementsEqual(receiveID.utf8) else { throw .receiveIDMismatch }
        guard let message = String(validating: body[messageStart..<messageEnd], as: UTF8.self) else {
            throw .illegalBuffer
        }
        return message
    }

    /// Removes PKCS#7 padding to a 32-byte block: the last byte says how many bytes (1...32) to
    /// drop, and each of them must carry that value.
    static func stripPadding(_ plain: [UInt8]) throws(WeChatCryptoError) -> ArraySlice<UInt8> {
        guard let last = plain.last, (1...padBlock).contains(Int(last)), Int(last) <= plain.count else {
            throw .illegalBuffer
        }
        let pad = Int(last)
        // The signature was checked before decryption, so there is no padding oracle to protect;
        // the full check only turns a corrupt buffer into an error instead of a wrong message.
        guard plain[(plain.count - pad)...].allSatisfy({ $0 == last }) else { throw .illegalBuffer }
        return plain[..<(plain.count - pad)]
    }

    // MARK: Encryption

    /// Encrypts `message` for a passive reply and returns the base64 `Encrypt` value.
    ///
    /// `random` is the 16-byte prefix; leave it `nil` in production so that it comes from the
    /// system generator. Tests pass a fixed one to reproduce the official vectors.
    public func encrypt(_ message: String, random: [UInt8]? = nil) throws(WeChatCryptoError) -> String {
        try seal(Self.pack(message, random: random ?? Self.randomPrefix(), receiveID: receiveID))
    }

    /// Lays out `random ‖ length ‖ message ‖ receiveID` and pads it to a multiple of 32 bytes.
    static func pack(_ message: String, random: [UInt8], receiveID: String) throws(WeChatCryptoError) -> [UInt8] {
        guard random.count == 16 else { throw .encryptFailed }
        let body = Array(message.utf8)
        guard body.count <= Int(UInt32.max) else { throw .illegalBuffer }
        var plain = random
        plain.reserveCapacity(16 + 4 + body.count + receiveID.utf8.count + padBlock)
        let length = UInt32(body.count)
        plain += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        plain += body
        plain += receiveID.utf8
        // Always 1...32 bytes: a full block of 32s when the length is already a multiple of 32.
        let pad = padBlock - plain.count % padBlock
        plain += repeatElement(UInt8(pad), count: pad)
        return plain
    }

    /// AES-256-CBC over an already padded buffer (whole AES blocks), as base64.
    func seal(_ plain: [UInt8]) throws(WeChatCryptoError) -> String {
        do {
            return try AES._CBC.encrypt(plain, using: key, iv: iv, noPadding: true).base64EncodedString()
        } catch {
            throw .encryptFailed
        }
    }

    /// The safe-mode passive reply: `xml` encrypted, signed with `msg_signature` over
    /// `[token, timestamp, nonce, encrypt]`, wrapped in WeChat's envelope.
    public func encryptedReply(
        _ xml: String, timestamp: String, nonce: String, random: [UInt8]? = nil
    ) throws(WeChatCryptoError) -> String {
        let encrypt = try encrypt(xml, random: random)
        let signature = Self.signature([token, timestamp, nonce, encrypt])
        return WeChatXML.render([
            .cdata("Encrypt", encrypt),
            .cdata("MsgSignature", signature),
            .text("TimeStamp", timestamp),
            .cdata("Nonce", nonce),
        ])
    }

    // MARK: Helpers

    static func randomPrefix() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

}

/// The errors of WeChat's WXBizMsgCrypt samples, with their official numeric codes, so that logs
/// read the same as WeChat's documentation.
public enum WeChatCryptoError: Error, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// -40001: the signature does not match.
    case signatureMismatch
    /// -40002: the XML could not be parsed (or lacks `<Encrypt>`).
    case parseXMLFailed
    /// -40003: computing the SHA-1 signature failed.
    case computeSignatureFailed
    /// -40004: the EncodingAESKey is not 43 characters of base64 for 32 bytes.
    case illegalAESKey
    /// -40005: the decrypted receive ID is not this account's AppID, CorpID or SuiteID.
    case receiveIDMismatch
    /// -40006: AES encryption failed.
    case encryptFailed
    /// -40007: AES decryption failed (the ciphertext is not whole AES blocks).
    case decryptFailed
    /// -40008: the decrypted buffer is malformed (padding, length or UTF-8).
    case illegalBuffer
    /// -40009: base64 encoding failed.
    case base64EncodeFailed
    /// -40010: the input is not valid base64.
    case base64DecodeFailed

    /// The official code, as WeChat's samples and documentation print it.
    public var code: Int {
        switch self {
        case .signatureMismatch: -40001
        case .parseXMLFailed: -40002
        case .computeSignatureFailed: -40003
        case .illegalAESKey: -40004
        case .receiveIDMismatch: -40005
        case .encryptFailed: -40006
        case .decryptFailed: -40007
        case .illegalBuffer: -40008
        case .base64EncodeFailed: -40009
        case .base64DecodeFailed: -40010
        }
    }

    /// The code followed by a short explanation, for logs.
    public var description: String {
        let reason =
            switch self {
            case .signatureMismatch: "signature mismatch"
            case .parseXMLFailed: "XML parse error"
            case .computeSignatureFailed: "SHA-1 signature computation failed"
            case .illegalAESKey: "illegal EncodingAESKey"
            case .receiveIDMismatch: "receive ID (AppID/CorpID/SuiteID) mismatch"
            case .encryptFailed: "AES encryption failed"
            case .decryptFailed: "AES decryption failed"
            case .illegalBuffer: "illegal decrypted buffer"
            case .base64EncodeFailed: "base64 encoding failed"
            case .base64DecodeFailed: "base64 decoding failed"
            }
        return "WeChat crypto error \(code): \(reason)"
    }
}
