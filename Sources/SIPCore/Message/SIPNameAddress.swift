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
        var text = String(text)
        guard let value = text.withUTF8({ bytes in SIPNameAddress(bytes, 0..<bytes.count) }) else { return nil }
        self = value
    }

    /// The value in `range` of `bytes` (UTF-8), read by byte (see `SIPURI.init(_:_:)`).
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ whole: Range<Int>) {
        let text = SIPGrammar.trimmed(bytes, whole)
        guard !text.isEmpty else { return nil }
        var afterURI: Range<Int>
        if let open = Self.angleOpen(bytes, text) {
            // name-addr: [display-name] <URI> params
            let name = SIPGrammar.trimmed(bytes, text.lowerBound..<open)
            if !name.isEmpty, bytes[name.lowerBound] == UInt8(ascii: "\"") {
                guard let unquoted = SIPGrammar.unquote(UnsafeBufferPointer(rebasing: bytes[name])) else { return nil }
                displayName = unquoted
            } else if !name.isEmpty {
                // A run of tokens separated by whitespace.
                guard bytes[name].allSatisfy({ SIPGrammar.isTokenByte($0) || SIPGrammar.isWhitespace($0) }) else { return nil }
                displayName = SIPGrammar.string(bytes, name)
            }
            guard let close = bytes[(open + 1)..<text.upperBound].firstIndex(of: UInt8(ascii: ">")),
                let uri = SIPURI(bytes, (open + 1)..<close)
            else { return nil }
            self.uri = uri
            afterURI = (close + 1)..<text.upperBound
        } else {
            // addr-spec: the URI ends at the first ';' (its parameters would be ambiguous).
            let semicolon = bytes[text].firstIndex(of: UInt8(ascii: ";")) ?? text.upperBound
            guard let uri = SIPURI(bytes, text.lowerBound..<semicolon) else { return nil }
            self.uri = uri
            afterURI = semicolon..<text.upperBound
        }
        afterURI = SIPGrammar.trimmed(bytes, afterURI)
        if afterURI.isEmpty {
            parameters = []
        } else {
            guard bytes[afterURI.lowerBound] == UInt8(ascii: ";"),
                let parameters = SIPGrammar.parameterList(bytes, (afterURI.lowerBound + 1)..<afterURI.upperBound)
            else { return nil }
            self.parameters = parameters
        }
    }

    /// The `<` that opens the URI, outside a quoted display name.
    private static func angleOpen(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        var quotes = QuotedStrings()
        for index in range where !quotes.take(bytes[index]) && bytes[index] == UInt8(ascii: "<") { return index }
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
        var text = String(text)
        guard let via = text.withUTF8({ bytes in SIPVia(bytes, 0..<bytes.count) }) else { return nil }
        self = via
    }

    /// The value in `range` of `bytes` (UTF-8), read by byte.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ whole: Range<Int>) {
        let text = SIPGrammar.trimmed(bytes, whole)
        let slash = UInt8(ascii: "/")
        guard let first = bytes[text].firstIndex(of: slash), let second = bytes[(first + 1)..<text.upperBound].firstIndex(of: slash),
            SIPGrammar.equalsIgnoringCase(bytes, SIPGrammar.trimmed(bytes, text.lowerBound..<first), "sip"),
            SIPGrammar.equalsIgnoringCase(bytes, SIPGrammar.trimmed(bytes, (first + 1)..<second), "2.0")
        else { return nil }
        var start = second + 1
        while start < text.upperBound, SIPGrammar.isWhitespace(bytes[start]) { start += 1 }
        let transportEnd = bytes[start..<text.upperBound].firstIndex(where: SIPGrammar.isWhitespace) ?? text.upperBound
        guard SIPGrammar.isToken(bytes, start..<transportEnd) else { return nil }
        transport = String(unsafeUninitializedCapacity: transportEnd - start) { buffer in
            for offset in 0..<(transportEnd - start) {
                let byte = bytes[start + offset]
                buffer[offset] = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
            }
            return transportEnd - start
        }
        let rest = transportEnd..<text.upperBound
        guard !rest.isEmpty, SIPGrammar.isWhitespace(bytes[rest.lowerBound]) else { return nil }
        var sentBy = rest
        parameters = []
        if let semicolon = bytes[rest].firstIndex(of: UInt8(ascii: ";")) {
            sentBy = rest.lowerBound..<semicolon
            guard let parameters = SIPGrammar.parameterList(bytes, (semicolon + 1)..<rest.upperBound) else { return nil }
            self.parameters = parameters
        }
        guard let (host, port) = SIPURI.hostPort(bytes, sentBy) else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String {
        "SIP/2.0/\(transport) \(host)\(port.map { ":\($0)" } ?? "")" + parameters.wireFormat
    }
}
