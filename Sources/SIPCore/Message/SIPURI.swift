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
        let text = String(SIPGrammar.trimmed(String(text)))
        // (Searches by byte: the grammar is ASCII, and a Character search breaks graphemes.)
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let scheme = SIPGrammar.lowercasedASCII(text[..<colon])
        guard !scheme.isEmpty, scheme.utf8.first.map({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) == true,
            scheme.utf8.allSatisfy({ SIPGrammar.isTokenByte($0) })
        else { return nil }
        self.scheme = scheme
        parameters = []
        var rest = text[text.utf8.index(after: colon)...]
        guard !rest.isEmpty, !rest.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { return nil }
        switch scheme {
        case "sip", "sips":
            break
        case "tel":
            // tel:+1-555-0100;phone-context=...
            let pieces = rest.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            host = String(pieces[0])
            guard !host.isEmpty else { return nil }
            if pieces.count > 1 {
                guard let parameters = SIPGrammar.parameterList(pieces[1]) else { return nil }
                self.parameters = parameters
            }
            return
        default:
            host = ""
            opaque = String(rest)
            return
        }
        // The user part may hold ';' and '?' but never a raw '@' (nor may the parameters or the
        // headers): the last '@' ends the user part, and the headers begin at the first '?' after it.
        let atSign = UInt8(ascii: "@")
        let questionMark = UInt8(ascii: "?")
        if let at = rest.utf8.lastIndex(of: atSign), let question = rest[at...].utf8.firstIndex(of: questionMark) {
            headers = String(rest[rest.utf8.index(after: question)...])
            rest = rest[..<question]
        } else if !rest.utf8.contains(atSign), let question = rest.utf8.firstIndex(of: questionMark) {
            headers = String(rest[rest.utf8.index(after: question)...])
            rest = rest[..<question]
        }
        if let at = rest.utf8.lastIndex(of: atSign) {
            let userinfo = rest[..<at]
            rest = rest[rest.utf8.index(after: at)...]
            var userText = userinfo
            if let passwordColon = userinfo.utf8.firstIndex(of: UInt8(ascii: ":")) {
                guard let password = SIPGrammar.unescape(userinfo[userinfo.utf8.index(after: passwordColon)...]) else { return nil }
                self.password = password
                userText = userinfo[..<passwordColon]
            }
            guard !userText.isEmpty, let user = SIPGrammar.unescape(userText) else { return nil }
            self.user = user
        }
        var hostport = rest
        if let semicolon = rest.utf8.firstIndex(of: UInt8(ascii: ";")) {
            hostport = rest[..<semicolon]
            guard let parameters = SIPGrammar.parameterList(rest[rest.utf8.index(after: semicolon)...]) else { return nil }
            self.parameters = parameters
        }
        guard let (host, port) = Self.hostPort(hostport) else { return nil }
        self.host = host
        self.port = port
    }

    /// `host[:port]`: a host name (labels of alphanumerics and hyphens), an IPv4 address or a
    /// bracketed IPv6 reference, lower-cased; the port 0-65535.
    static func hostPort(_ text: some StringProtocol) -> (String, Int?)? {
        let text = SIPGrammar.trimmed(String(text))
        var hostText = text
        var port: Int?
        if text.utf8.first == UInt8(ascii: "[") {
            guard let close = text.utf8.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostText = text[...close]
            let after = text[text.utf8.index(after: close)...]
            if !after.isEmpty {
                let digits = after.dropFirst()
                guard after.hasPrefix(":"), (1...5).contains(digits.utf8.count), digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                    let number = Int(digits), (0...65535).contains(number)
                else { return nil }
                port = number
            }
            let inside = hostText.dropFirst().dropLast()
            guard !inside.isEmpty, inside.utf8.allSatisfy({ SIPGrammar.hexValue($0) != nil || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return nil }
        } else {
            if let colon = text.utf8.lastIndex(of: UInt8(ascii: ":")) {
                let portText = SIPGrammar.trimmed(text[text.utf8.index(after: colon)...])
                guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(portText),
                    (0...65535).contains(number)
                else { return nil }
                port = number
                hostText = SIPGrammar.trimmed(text[..<colon])
            }
            guard !hostText.isEmpty,
                hostText.utf8.allSatisfy({ byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                }),
                hostText.utf8.first != UInt8(ascii: "-"), hostText.utf8.first != UInt8(ascii: ".")
            else { return nil }
        }
        return (SIPGrammar.lowercasedASCII(hostText), port)
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
