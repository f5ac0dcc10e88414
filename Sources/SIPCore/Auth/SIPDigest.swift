import Crypto

/// HTTP digest authentication as SIP uses it (RFC 3261 §22.4 with RFC 8760): MD5 and SHA-256,
/// `qop=auth` (and the RFC 2069 form without qop, which old phones still send).
public enum SIPDigestAlgorithm: String, Sendable, Hashable, CaseIterable {
    case md5 = "MD5"
    case sha256 = "SHA-256"

    init?(parsing text: String?) {
        guard let text else {
            self = .md5
            return
        }
        guard let algorithm = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else { return nil }
        self = algorithm
    }

    func hash(_ text: String) -> String {
        switch self {
        case .md5: Insecure.MD5.hash(data: Array(text.utf8)).lowerHex
        case .sha256: SHA256.hash(data: Array(text.utf8)).lowerHex
        }
    }
}

extension Sequence<UInt8> {
    var lowerHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

public enum SIPDigest {
    /// H(username:realm:password): what a registrar may store instead of the password.
    public static func ha1(_ algorithm: SIPDigestAlgorithm, username: String, realm: String, password: String) -> String {
        algorithm.hash("\(username):\(realm):\(password)")
    }

    /// The `response` value: KD(HA1, nonce:nc:cnonce:qop:HA2) with qop, KD(HA1, nonce:HA2)
    /// without (RFC 2069), where HA2 = H(method:uri).
    public static func response(
        _ algorithm: SIPDigestAlgorithm, ha1: String, method: String, uri: String, nonce: String, qop: String?, nc: String?, cnonce: String?
    ) -> String {
        let ha2 = algorithm.hash("\(method):\(uri)")
        if let qop, let nc, let cnonce {
            return algorithm.hash("\(ha1):\(nonce):\(nc):\(cnonce):\(qop):\(ha2)")
        }
        return algorithm.hash("\(ha1):\(nonce):\(ha2)")
    }

    /// Parses `Digest name=value, name="quoted, value"` (the scheme checked, names lower-cased).
    static func parameters(_ text: String, scheme expected: String = "Digest") -> [String: String]? {
        let trimmed = SIPGrammar.trimmed(text)
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }),
            trimmed[..<space].lowercased() == expected.lowercased()
        else { return nil }
        var result: [String: String] = [:]
        for piece in SIPGrammar.splitOutsideQuotes(String(trimmed[space...]), separator: UInt8(ascii: ",")) {
            let piece = SIPGrammar.trimmed(piece)
            if piece.isEmpty { continue }
            guard let equals = piece.firstIndex(of: "=") else { return nil }
            let name = SIPGrammar.trimmed(piece[..<equals]).lowercased()
            let raw = SIPGrammar.trimmed(piece[piece.index(after: equals)...])
            guard SIPGrammar.isToken(name), result[name] == nil else { return nil }
            if raw.hasPrefix("\"") {
                guard let value = SIPGrammar.unquote(raw) else { return nil }
                result[name] = value
            } else {
                guard SIPGrammar.isToken(raw) else { return nil }
                result[name] = String(raw)
            }
        }
        return result
    }

    static func quoted(_ text: String) -> String { SIPGrammar.quoted(text) }
}

/// A server's challenge (`WWW-Authenticate` / `Proxy-Authenticate`).
public struct SIPDigestChallenge: Sendable, Hashable {
    public var realm: String
    public var nonce: String
    public var algorithm: SIPDigestAlgorithm
    public var opaque: String?
    /// Whether the credentials were right but the nonce had expired (the client retries without
    /// asking its user again).
    public var stale: Bool

    public init(realm: String, nonce: String, algorithm: SIPDigestAlgorithm = .md5, opaque: String? = nil, stale: Bool = false) {
        self.realm = realm
        self.nonce = nonce
        self.algorithm = algorithm
        self.opaque = opaque
        self.stale = stale
    }

    public init?(parsing text: String) {
        guard let parameters = SIPDigest.parameters(text), let realm = parameters["realm"], let nonce = parameters["nonce"],
            let algorithm = SIPDigestAlgorithm(parsing: parameters["algorithm"])
        else { return nil }
        self.init(realm: realm, nonce: nonce, algorithm: algorithm, opaque: parameters["opaque"], stale: parameters["stale"]?.lowercased() == "true")
    }

    /// The header value, offering `qop="auth"`.
    public var headerValue: String {
        var text = "Digest realm=\(SIPDigest.quoted(realm)), nonce=\(SIPDigest.quoted(nonce)), algorithm=\(algorithm.rawValue), qop=\"auth\""
        if let opaque { text += ", opaque=\(SIPDigest.quoted(opaque))" }
        if stale { text += ", stale=true" }
        return text
    }
}

/// A client's answer (`Authorization` / `Proxy-Authorization`).
public struct SIPDigestCredentials: Sendable, Hashable {
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var algorithm: SIPDigestAlgorithm
    public var qop: String?
    public var nc: String?
    public var cnonce: String?
    public var opaque: String?

    public init?(parsing text: String) {
        guard let parameters = SIPDigest.parameters(text), let username = parameters["username"], let realm = parameters["realm"],
            let nonce = parameters["nonce"], let uri = parameters["uri"], let response = parameters["response"],
            let algorithm = SIPDigestAlgorithm(parsing: parameters["algorithm"])
        else { return nil }
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response.lowercased()
        self.algorithm = algorithm
        qop = parameters["qop"]
        nc = parameters["nc"]
        cnonce = parameters["cnonce"]
        opaque = parameters["opaque"]
        // With qop, nc and cnonce are required (RFC 7616 §3.4).
        if qop != nil, nc == nil || cnonce == nil { return nil }
    }

    /// Answers a challenge (what a client, or a test, sends).
    public init(
        answering challenge: SIPDigestChallenge, username: String, password: String, method: String, uri: String, cnonce: String? = nil,
        nc: Int = 1
    ) {
        self.username = username
        realm = challenge.realm
        nonce = challenge.nonce
        self.uri = uri
        algorithm = challenge.algorithm
        opaque = challenge.opaque
        if let cnonce {
            qop = "auth"
            let count = String(nc, radix: 16)
            self.nc = String(repeating: "0", count: max(0, 8 - count.count)) + count
            self.cnonce = cnonce
        }
        let ha1 = SIPDigest.ha1(challenge.algorithm, username: username, realm: challenge.realm, password: password)
        response = SIPDigest.response(algorithm, ha1: ha1, method: method, uri: uri, nonce: nonce, qop: qop, nc: self.nc, cnonce: self.cnonce)
    }

    public var headerValue: String {
        var text = "Digest username=\(SIPDigest.quoted(username)), realm=\(SIPDigest.quoted(realm)), nonce=\(SIPDigest.quoted(nonce)), "
            + "uri=\(SIPDigest.quoted(uri)), response=\(SIPDigest.quoted(response)), algorithm=\(algorithm.rawValue)"
        if let qop, let nc, let cnonce { text += ", qop=\(qop), nc=\(nc), cnonce=\(SIPDigest.quoted(cnonce))" }
        if let opaque { text += ", opaque=\(SIPDigest.quoted(opaque))" }
        return text
    }

    /// Whether the response proves knowledge of the password whose HA1 is given, for this method
    /// (compared in constant time). Only `qop=auth` or no qop.
    public func verifies(ha1: String, method: String) -> Bool {
        if let qop, qop.lowercased() != "auth" { return false }
        let expected = SIPDigest.response(algorithm, ha1: ha1, method: method, uri: uri, nonce: nonce, qop: qop, nc: nc, cnonce: cnonce)
        let a = Array(expected.utf8)
        let b = Array(response.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// Stateless nonces: the issue time and a MAC over it and the realm, so that a registrar needs
/// no table to know that a nonce is its own and how old it is (RFC 7616 §5.4's suggestion).
public struct SIPNonceIssuer: Sendable {
    public enum Check: Sendable, Hashable {
        case valid
        /// Ours, but older than the lifetime: challenge again with `stale=true`.
        case stale
        /// Not ours (forged, garbled, or another realm's).
        case invalid
    }

    private let key: SymmetricKey
    public let lifetime: Duration

    public init(key: SymmetricKey = SymmetricKey(size: .bits256), lifetime: Duration = .seconds(300)) {
        self.key = key
        self.lifetime = lifetime
    }

    /// A nonce issued at `now` (milliseconds since the epoch) for `realm`: the time, eight random
    /// bytes (no two challenges share a nonce, even in the same millisecond), and the MAC.
    public func issue(realm: String, now: Int64) -> String {
        let time = UInt64(bitPattern: now)
        var random = SystemRandomNumberGenerator()
        let salt = random.next()
        let issued = (0..<8).map { UInt8(truncatingIfNeeded: time >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: salt >> (8 * $0)) }
        return issued.lowerHex + mac(issued, realm: realm).lowerHex
    }

    public func check(_ nonce: String, realm: String, now: Int64) -> Check {
        let utf8 = Array(nonce.utf8)
        guard utf8.count == 32 + 32, let bytes = Self.bytes(fromHex: utf8) else { return .invalid }
        let issued = Array(bytes[0..<16])
        let timeBytes = Array(bytes[0..<8])
        let given = bytes[16...]
        let expected = mac(issued, realm: realm)
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        guard difference == 0 else { return .invalid }
        let issuedAt = Int64(bitPattern: timeBytes.reduce(0) { $0 << 8 | UInt64($1) })
        let age = now - issuedAt
        let limit = lifetime.components.seconds * 1000 + lifetime.components.attoseconds / 1_000_000_000_000_000
        guard age >= -5_000 else { return .invalid }
        return age <= limit ? .valid : .stale
    }

    private func mac(_ issued: [UInt8], realm: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: issued + Array(realm.utf8), using: key).prefix(16))
    }

    private static func bytes(fromHex hex: [UInt8]) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < hex.count {
            guard let high = SIPGrammar.hexValue(hex[index]), let low = SIPGrammar.hexValue(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
