/// A From, To, Contact, Route or P-Asserted-Identity value (RFC 3261 §20.10, §25.1): an optional
/// display name, a URI, and header parameters such as `tag`. In the bare `addr-spec` form the
/// parameters after the URI belong to the header, not to the URI.
public struct SIPNameAddress: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    public var uri: SIPURI
    public var parameters: [SIPParameter]

    public init(displayName: String? = nil, uri: SIPURI, parameters: [SIPParameter] = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public var tag: String? {
        get { parameters[parameter: "tag"] }
        set {
            parameters.removeAll { $0.name == "tag" }
            if let newValue { parameters.append(SIPParameter("tag", newValue)) }
        }
    }

    public init?(parsing text: some StringProtocol) {
        let text = SIPGrammar.trimmed(String(text))
        guard !text.isEmpty else { return nil }
        var afterURI: Substring
        if let open = Self.angleOpen(text) {
            // name-addr: [display-name] <URI> params
            let name = SIPGrammar.trimmed(text[..<open])
            if name.hasPrefix("\"") {
                guard let unquoted = SIPGrammar.unquote(name) else { return nil }
                displayName = unquoted
            } else if !name.isEmpty {
                // A run of tokens separated by whitespace.
                guard name.split(whereSeparator: { $0 == " " || $0 == "\t" }).allSatisfy({ SIPGrammar.isToken($0) }) else { return nil }
                displayName = String(name)
            }
            let inside = text[text.utf8.index(after: open)...]
            guard let close = inside.utf8.firstIndex(of: UInt8(ascii: ">")), let uri = SIPURI(parsing: inside[..<close]) else { return nil }
            self.uri = uri
            afterURI = inside[inside.utf8.index(after: close)...]
        } else {
            // addr-spec: the URI ends at the first ';' (its parameters would be ambiguous).
            let semicolon = text.utf8.firstIndex(of: UInt8(ascii: ";")) ?? text.endIndex
            guard let uri = SIPURI(parsing: text[..<semicolon]) else { return nil }
            self.uri = uri
            afterURI = text[semicolon...]
        }
        afterURI = SIPGrammar.trimmed(afterURI)
        if afterURI.isEmpty {
            parameters = []
        } else {
            guard afterURI.utf8.first == UInt8(ascii: ";"),
                let parameters = SIPGrammar.parameterList(afterURI[afterURI.utf8.index(after: afterURI.startIndex)...])
            else { return nil }
            self.parameters = parameters
        }
    }

    /// The `<` that opens the URI, outside a quoted display name.
    private static func angleOpen(_ text: Substring) -> Substring.Index? {
        // Byte by byte (no byte of a multi-byte character is taken for a '<'); a UTF-8 index is
        // an index of the text.
        var quotes = QuotedStrings()
        let utf8 = text.utf8
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if !quotes.take(byte), byte == UInt8(ascii: "<") { return index }
            utf8.formIndex(after: &index)
        }
        return nil
    }

    public var description: String {
        var text = ""
        if let displayName { text = SIPGrammar.quoted(displayName) + " " }
        return text + "<\(uri)>" + parameters.wireFormat
    }
}

/// One Via value (RFC 3261 §20.42): the protocol and transport, the sent-by host and port, and
/// parameters (`branch`, `received`, `rport`, `maddr`, `ttl`).
public struct SIPVia: Sendable, Hashable, CustomStringConvertible {
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`... upper-cased.
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: [SIPParameter]

    public var branch: String? { parameters[parameter: "branch"] }

    /// `SIP / 2.0 / UDP host:port;params` (whitespace allowed around the slashes and the colon).
    public init?(parsing text: some StringProtocol) {
        let text = String(SIPGrammar.trimmed(String(text)))
        // By byte (the grammar is ASCII; a Character split breaks graphemes, and costs more).
        let slash = UInt8(ascii: "/")
        guard let first = text.utf8.firstIndex(of: slash), let second = text[text.utf8.index(after: first)...].utf8.firstIndex(of: slash),
            SIPGrammar.lowercasedASCII(SIPGrammar.trimmed(text[..<first])) == "sip",
            SIPGrammar.trimmed(text[text.utf8.index(after: first)..<second]) == "2.0"
        else { return nil }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var rest = text[text.utf8.index(after: second)...]
        rest = rest[(rest.utf8.firstIndex { !isBlank($0) } ?? rest.endIndex)...]
        let transportEnd = rest.utf8.firstIndex(where: isBlank) ?? rest.endIndex
        let transport = rest[..<transportEnd]
        guard SIPGrammar.isToken(transport) else { return nil }
        self.transport = transport.uppercased()
        rest = rest[transportEnd...]
        guard let blank = rest.utf8.first, isBlank(blank) else { return nil }
        var sentBy = rest
        parameters = []
        if let semicolon = rest.utf8.firstIndex(of: UInt8(ascii: ";")) {
            sentBy = rest[..<semicolon]
            guard let parameters = SIPGrammar.parameterList(rest[rest.utf8.index(after: semicolon)...]) else { return nil }
            self.parameters = parameters
        }
        guard let (host, port) = SIPURI.hostPort(sentBy) else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String {
        "SIP/2.0/\(transport) \(host)\(port.map { ":\($0)" } ?? "")" + parameters.wireFormat
    }
}
