/// A parameter of a URI or header value (`;transport=tcp`, `;lr`): its name lower-cased, its
/// value as written.
public struct SIPParameter: Sendable, Hashable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = SIPGrammar.lowercasedASCII(name)
        self.value = value
    }

    init(lowercasedName: String, value: String?) {
        name = lowercasedName
        self.value = value
    }
}

extension [SIPParameter] {
    /// The value of the named parameter ("" for a flag), nil when absent.
    public subscript(parameter name: String) -> String? {
        let name = SIPGrammar.lowercasedASCII(name)
        return first { $0.name == name }.map { $0.value ?? "" }
    }

    /// `;name=value` each; a value that is not plain token or host characters goes out as a
    /// quoted string (it came in as one), so that re-serializing never changes what a header says.
    var wireFormat: String {
        map { parameter in
            guard let value = parameter.value else { return ";" + parameter.name }
            let plain = !value.isEmpty && value.utf8.allSatisfy(SIPGrammar.isParameterValueByte)
            return ";" + parameter.name + "=" + (plain ? value : SIPGrammar.quoted(value))
        }.joined()
    }
}

/// A SIP, SIPS or tel URI (RFC 3261 §19.1, RFC 3966); other schemes keep their text only.
/// User and password are kept unescaped; the host lower-cased (§19.1.4 compares it so).
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    public var scheme: String
    public var user: String?
    public var password: String?
    /// Host name, IPv4 address or bracketed IPv6 reference; for `tel:` the number.
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]
    /// The `?` headers part, as written.
    public var headers: String?
    /// For schemes other than sip, sips and tel: everything after the colon.
    public var opaque: String?

    public var isSIP: Bool { scheme == "sip" || scheme == "sips" }

    public init?(parsing text: some StringProtocol) {
        var text = String(text)
        guard let uri = text.withUTF8({ bytes in SIPURI(bytes, 0..<bytes.count) }) else { return nil }
        self = uri
    }

    /// The URI in `range` of `bytes` (UTF-8), read by byte: the grammar is ASCII, and no byte of
    /// a multi-byte character is taken for a delimiter. Strings are made only for the parts kept
    /// (a From, a To and a Request-URI are read in every message).
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ whole: Range<Int>) {
        let range = SIPGrammar.trimmed(bytes, whole)
        guard let colon = bytes[range].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let schemeRange = range.lowerBound..<colon
        guard SIPGrammar.isToken(bytes, schemeRange), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(SIPGrammar.lowercased(bytes[schemeRange.lowerBound]))
        else { return nil }
        let scheme = SIPGrammar.lowercasedASCII(bytes, schemeRange)
        self.scheme = scheme
        parameters = []
        var rest = (colon + 1)..<range.upperBound
        guard !rest.isEmpty, !bytes[rest].contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { return nil }
        switch scheme {
        case "sip", "sips":
            break
        case "tel":
            // tel:+1-555-0100;phone-context=...
            let semicolon = bytes[rest].firstIndex(of: UInt8(ascii: ";"))
            host = SIPGrammar.string(bytes, rest.lowerBound..<(semicolon ?? rest.upperBound))
            guard !host.isEmpty else { return nil }
            if let semicolon {
                guard let parameters = SIPGrammar.parameterList(bytes, (semicolon + 1)..<rest.upperBound) else { return nil }
                self.parameters = parameters
            }
            return
        default:
            host = ""
            opaque = SIPGrammar.string(bytes, rest)
            return
        }
        // The user part may hold ';' and '?' but never a raw '@' (nor may the parameters or the
        // headers): the last '@' ends the user part, and the headers begin at the first '?' after it.
        let atSign = UInt8(ascii: "@")
        let questionMark = UInt8(ascii: "?")
        let lastAt = bytes[rest].lastIndex(of: atSign)
        if let question = bytes[(lastAt ?? rest.lowerBound)..<rest.upperBound].firstIndex(of: questionMark) {
            headers = SIPGrammar.string(bytes, (question + 1)..<rest.upperBound)
            rest = rest.lowerBound..<question
        }
        if let at = lastAt {
            let userinfo = rest.lowerBound..<at
            rest = (at + 1)..<rest.upperBound
            var userText = userinfo
            if let passwordColon = bytes[userinfo].firstIndex(of: UInt8(ascii: ":")) {
                guard let password = SIPGrammar.unescape(bytes, (passwordColon + 1)..<at) else { return nil }
                self.password = password
                userText = userinfo.lowerBound..<passwordColon
            }
            guard !userText.isEmpty, let user = SIPGrammar.unescape(bytes, userText) else { return nil }
            self.user = user
        }
        var hostport = rest
        if let semicolon = bytes[rest].firstIndex(of: UInt8(ascii: ";")) {
            hostport = rest.lowerBound..<semicolon
            guard let parameters = SIPGrammar.parameterList(bytes, (semicolon + 1)..<rest.upperBound) else { return nil }
            self.parameters = parameters
        }
        guard let (host, port) = Self.hostPort(bytes, hostport) else { return nil }
        self.host = host
        self.port = port
    }

    /// `host[:port]`: a host name (labels of alphanumerics and hyphens), an IPv4 address or a
    /// bracketed IPv6 reference, lower-cased; the port 0-65535.
    static func hostPort(_ text: some StringProtocol) -> (String, Int?)? {
        var text = String(text)
        return text.withUTF8 { bytes in hostPort(bytes, 0..<bytes.count) }
    }

    static func hostPort(_ bytes: UnsafeBufferPointer<UInt8>, _ whole: Range<Int>) -> (String, Int?)? {
        let text = SIPGrammar.trimmed(bytes, whole)
        guard !text.isEmpty else { return nil }
        var host = text
        var port: Int?
        if bytes[text.lowerBound] == UInt8(ascii: "[") {
            guard let close = bytes[text].firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = text.lowerBound..<(close + 1)
            if close + 1 < text.upperBound {
                guard bytes[close + 1] == UInt8(ascii: ":"), let number = portNumber(bytes, (close + 2)..<text.upperBound) else { return nil }
                port = number
            }
            let inside = (host.lowerBound + 1)..<(host.upperBound - 1)
            guard !inside.isEmpty,
                bytes[inside].allSatisfy({ SIPGrammar.hexValue($0) != nil || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return nil }
        } else {
            if let colon = bytes[text].lastIndex(of: UInt8(ascii: ":")) {
                guard let number = portNumber(bytes, SIPGrammar.trimmed(bytes, (colon + 1)..<text.upperBound)) else { return nil }
                port = number
                host = SIPGrammar.trimmed(bytes, text.lowerBound..<colon)
            }
            guard !host.isEmpty,
                bytes[host].allSatisfy({ byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                }),
                bytes[host.lowerBound] != UInt8(ascii: "-"), bytes[host.lowerBound] != UInt8(ascii: ".")
            else { return nil }
        }
        return (SIPGrammar.lowercasedASCII(bytes, host), port)
    }

    /// 1-5 digits, 0-65535.
    private static func portNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard (1...5).contains(range.count) else { return nil }
        var number = 0
        for byte in bytes[range] {
            guard (0x30...0x39).contains(byte) else { return nil }
            number = number * 10 + Int(byte - 0x30)
        }
        return number <= 65535 ? number : nil
    }

    public var description: String {
        if let opaque { return scheme + ":" + opaque }
        if scheme == "tel" { return "tel:" + host + parameters.wireFormat }
        var text = scheme + ":"
        if let user {
            text += Self.escape(user, allowed: Self.userAllowed)
            if let password { text += ":" + Self.escape(password, allowed: Self.passwordAllowed) }
            text += "@"
        }
        text += host
        if let port { text += ":\(port)" }
        text += parameters.wireFormat
        if let headers { text += "?" + headers }
        return text
    }

    /// The `?` headers as a set of `name=value` (names lower-cased, values unescaped): their
    /// order does not matter, their presence does.
    private var headerSet: Set<String> {
        guard let headers else { return [] }
        return Set(headers.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = SIPGrammar.lowercasedASCII(SIPGrammar.unescape(parts[0]) ?? String(parts[0]))
            let value = parts.count > 1 ? (SIPGrammar.unescape(parts[1]) ?? String(parts[1])) : ""
            return name + "=" + value
        })
    }

    // unreserved, plus user-unreserved / the password's own set (§25.1).
    private static let unreserved = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()".utf8)
    private static let userAllowed = unreserved.union("&=+$,;?/".utf8)
    private static let passwordAllowed = unreserved.union("&=+$,".utf8)

    static func escape(_ text: String, allowed: Set<UInt8>) -> String {
        var out = ""
        for byte in text.utf8 {
            if allowed.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// RFC 3261 §19.1.4 comparison: scheme, user and password case-sensitive after unescaping,
    /// host case-insensitive, ports and the transport, user, ttl, method and maddr parameters
    /// equal when present in either; other parameters equal when present in both.
    public func matches(_ other: SIPURI) -> Bool {
        guard scheme == other.scheme, user == other.user, password == other.password, host == other.host, port == other.port,
            opaque == other.opaque, headerSet == other.headerSet
        else { return false }
        let significant = ["transport", "user", "ttl", "method", "maddr"]
        for name in significant where parameters[parameter: name]?.lowercased() != other.parameters[parameter: name]?.lowercased() {
            return false
        }
        for parameter in parameters where !significant.contains(parameter.name) {
            if let theirs = other.parameters[parameter: parameter.name], theirs.lowercased() != (parameter.value ?? "").lowercased() {
                return false
            }
        }
        return true
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
