/// Why a message could not be parsed, and the status a request that cannot be parsed gets
/// (RFC 3261 §16.3, §21.4: 400 with the reason, 505 for another version, 513 when too large).
public struct SIPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var reason: String
    /// The header fields, when they could be read (the start line or the body was at fault): a
    /// request can then still be answered.
    public var headers: SIPHeaders?

    public init(_ reason: String, status: Int = 400, headers: SIPHeaders? = nil) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    public var description: String { "\(status) \(reason)" }
}

/// RFC 3261 §7 messages from bytes: one UDP datagram, or one message cut from a TCP stream by
/// `SIPStreamFramer`. Header lines may end in CRLF or a bare LF, folded lines are unfolded,
/// compact names expanded, whitespace around the colon allowed. Bounded: at most
/// `maximumHeaders` fields and `maximumLineLength` bytes per unfolded line.
public struct SIPParser: Sendable {
    public var maximumHeaders: Int
    public var maximumLineLength: Int

    public init(maximumHeaders: Int = 256, maximumLineLength: Int = 16 * 1024) {
        self.maximumHeaders = maximumHeaders
        self.maximumLineLength = maximumLineLength
    }

    /// Where a message's bytes came from: a datagram carries one message whose body may run to
    /// its end; on a stream the body is exactly Content-Length bytes, which must be present.
    public enum Framing: Sendable {
        case datagram
        case stream
    }

    /// Parses one whole message.
    public func parse(_ bytes: [UInt8], framing: Framing = .datagram) throws(SIPParseError) -> SIPMessage {
        var start = 0
        // Leading CRLFs (keep-alives, stray line ends) are skipped (§7.5).
        while start < bytes.count, bytes[start] == 0x0D || bytes[start] == 0x0A { start += 1 }
        guard let (headerEnd, bodyStart) = Self.headerEnd(bytes, from: start) else {
            throw SIPParseError("no empty line after the headers")
        }
        let lines = try unfoldedLines(bytes, start..<headerEnd)
        guard let firstLine = lines.first else { throw SIPParseError("empty message") }
        var headers = SIPHeaders()
        headers.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() {
            guard headers.count < maximumHeaders else { throw SIPParseError("more than \(maximumHeaders) header fields", status: 513) }
            try line.withBytes(bytes) { (line: UnsafeBufferPointer<UInt8>) throws(SIPParseError) in
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                    throw SIPParseError("a header line without a colon")
                }
                var nameEnd = colon
                while nameEnd > 0, SIPGrammar.isWhitespace(line[nameEnd - 1]) { nameEnd -= 1 }
                let name = UnsafeBufferPointer(rebasing: line[0..<nameEnd])
                guard !name.isEmpty, name.allSatisfy(SIPGrammar.isTokenByte) else {
                    throw SIPParseError("a malformed header name")
                }
                var valueStart = colon + 1
                while valueStart < line.count, SIPGrammar.isWhitespace(line[valueStart]) { valueStart += 1 }
                var valueEnd = line.count
                while valueEnd > valueStart, SIPGrammar.isWhitespace(line[valueEnd - 1]) { valueEnd -= 1 }
                guard let value = Self.text(UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd])) else {
                    throw SIPParseError("header \(String(decoding: name, as: UTF8.self)) is not UTF-8")
                }
                headers.add(SIPHeaders.Field(parsedName: name, value: value))
            }
        }
        let startLine: SIPMessage.StartLine
        do {
            startLine = try firstLine.withBytes(bytes) { (line: UnsafeBufferPointer<UInt8>) throws(SIPParseError) in try Self.startLine(line) }
        } catch {
            throw SIPParseError(error.reason, status: error.status, headers: headers)
        }
        let available = bytes.count - bodyStart
        let lengths = headers.lines("Content-Length")
        var bodyLength = available
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), first.utf8.count <= 9, first.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let declared = Int(first)
            else { throw SIPParseError("a malformed Content-Length", headers: headers) }
            guard declared <= available else {
                throw SIPParseError("Content-Length \(declared) is larger than the \(available) bytes of body received", headers: headers)
            }
            bodyLength = declared
        } else if framing == .stream {
            throw SIPParseError("Content-Length is required on a stream", headers: headers)
        }
        return SIPMessage(startLine: startLine, headers: headers, body: Array(bytes[bodyStart..<(bodyStart + bodyLength)]))
    }

    /// The bytes as text when they are UTF-8 (nil otherwise).
    static func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        isUTF8(bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }

    /// The end of the header section (where its empty line begins) and the start of the body.
    static func headerEnd(_ bytes: [UInt8], from start: Int) -> (Int, Int)? {
        bytes.withUnsafeBufferPointer { bytes in
            var index = start
            while index < bytes.count {
                guard bytes[index] == 0x0A else {
                    index += 1
                    continue
                }
                // A line ends here; an empty line follows if the next is CRLF or LF.
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return (index + 1, index + 2) }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return (index + 1, index + 3) }
                index += 1
            }
            return nil
        }
    }

    /// One logical header line: a range of the message's bytes, or, when it was folded, its
    /// physical lines joined by one space.
    enum Line {
        case range(Range<Int>)
        case unfolded([UInt8])

        func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> R) throws(SIPParseError) -> R {
            switch self {
            case .range(let range):
                return try bytes.withUnsafeBufferPointer { (all: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> R in
                    try body(UnsafeBufferPointer(rebasing: all[range]))
                }
            case .unfolded(let line):
                return try line.withUnsafeBufferPointer { (line: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> R in try body(line) }
            }
        }
    }

    /// The header section's lines, with folded continuations joined by one space (only a folded
    /// line is copied; each grows in one buffer). Physical lines are bounded too.
    private func unfoldedLines(_ bytes: [UInt8], _ section: Range<Int>) throws(SIPParseError) -> [Line] {
        try bytes.withUnsafeBufferPointer { (bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> [Line] in
            var lines: [Line] = []
            lines.reserveCapacity(16)
            var current: Line?
            var physical = 0
            var lineStart = section.lowerBound
            var index = section.lowerBound
            while index <= section.upperBound {
                guard index == section.upperBound || bytes[index] == 0x0A else {
                    index += 1
                    continue
                }
                var lineEnd = index
                if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = lineStart..<lineEnd
                lineStart = index + 1
                index += 1
                physical += 1
                guard physical <= 4 * maximumHeaders else { throw SIPParseError("more than \(4 * maximumHeaders) header lines", status: 513) }
                if line.isEmpty {
                    // Only the end of the section may be empty (the parser cut it at the empty line).
                    if index <= section.upperBound { throw SIPParseError("an empty line inside the headers") }
                    continue
                }
                // (A NUL may be there, escaped in a quoted string; a bare CR may not, on any line.)
                if bytes[line].contains(0x0D) { throw SIPParseError("a bare CR in a header line") }
                var length = line.count
                if SIPGrammar.isWhitespace(bytes[line.lowerBound]), let folded = current {
                    // A continuation: the whitespace run becomes one space.
                    var rest = line.lowerBound
                    while rest < line.upperBound, SIPGrammar.isWhitespace(bytes[rest]) { rest += 1 }
                    var joined: [UInt8]
                    switch folded {
                    case .range(let range): joined = Array(bytes[range])
                    case .unfolded(let line): joined = line
                    }
                    if rest < line.upperBound {
                        joined.append(0x20)
                        joined.append(contentsOf: bytes[rest..<line.upperBound])
                    }
                    length = joined.count
                    current = .unfolded(joined)
                } else {
                    if let finished = current { lines.append(finished) }
                    current = .range(line)
                }
                if length > maximumLineLength {
                    throw SIPParseError("a header line longer than \(maximumLineLength) bytes", status: 513)
                }
            }
            if let current { lines.append(current) }
            return lines
        }
    }

    /// `METHOD SP Request-URI SP SIP/2.0` or `SIP/2.0 SP 3DIGIT SP Reason-Phrase`: single spaces.
    static func startLine(_ line: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> SIPMessage.StartLine {
        guard Self.isUTF8(line) else { throw SIPParseError("the start line is not UTF-8") }
        func matches(_ range: Range<Int>, _ text: StaticString) -> Bool { SIPGrammar.equalsIgnoringCase(line, range, text) }
        func string(_ range: Range<Int>) -> String { SIPGrammar.string(line, range) }
        let space = UInt8(ascii: " ")
        if line.count >= 8, matches(0..<4, "sip/") {
            guard let firstSpace = line.firstIndex(of: space) else { throw SIPParseError("a malformed status line") }
            guard matches(0..<firstSpace, "sip/2.0") else {
                throw SIPParseError("SIP version \(string(0..<firstSpace)) is not supported", status: 505)
            }
            let codeEnd = line[(firstSpace + 1)...].firstIndex(of: space) ?? line.count
            let code = line[(firstSpace + 1)..<codeEnd]
            guard code.count == 3, code.allSatisfy({ (0x30...0x39).contains($0) }) else { throw SIPParseError("a malformed status code") }
            let status = code.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard (100...699).contains(status) else { throw SIPParseError("a malformed status code") }
            let reason = min(codeEnd + 1, line.count)..<line.count
            guard !line[reason].contains(where: { $0 < 0x20 && $0 != 0x09 }) else { throw SIPParseError("a control character in the reason phrase") }
            return .response(status: status, reason: string(reason))
        }
        // Exactly two spaces, none at either end.
        guard let first = line.firstIndex(of: space), let second = line[(first + 1)...].firstIndex(of: space),
            !line[(second + 1)...].contains(space), first > 0, second > first + 1, second + 1 < line.count
        else {
            throw SIPParseError("a malformed request line (method, Request-URI and version separated by single spaces)")
        }
        let method = 0..<first
        guard line[method].allSatisfy(SIPGrammar.isTokenByte) else { throw SIPParseError("a malformed method") }
        let version = (second + 1)..<line.count
        guard version.count >= 4, matches(version.lowerBound..<(version.lowerBound + 4), "sip/") else { throw SIPParseError("a malformed request line") }
        guard matches(version, "sip/2.0") else { throw SIPParseError("SIP version \(string(version)) is not supported", status: 505) }
        let uri = (first + 1)..<second
        guard line[uri].contains(UInt8(ascii: ":")),
            !line[uri].contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
        else {
            throw SIPParseError("a malformed Request-URI")
        }
        return .request(method: string(method), uri: string(uri))
    }

    /// Whether the bytes are UTF-8: ASCII, nearly every line, without the general validation.
    static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 < 0x80 } || String(validating: bytes, as: UTF8.self) != nil
    }
}

/// Cuts SIP messages out of a TCP byte stream (RFC 3261 §18.3): the headers up to the empty
/// line, then exactly Content-Length bytes. CRLF keep-alives between messages (RFC 5626) are
/// reported so the transport can answer them. Bounded: a message larger than `maximumSize`
/// is an error, after which the stream cannot be trusted (close it).
public struct SIPStreamFramer: Sendable {
    public enum Item: Sendable {
        case message([UInt8])
        /// A double CRLF ping between messages: answer with a single CRLF pong.
        case keepAlivePing
    }

    public var maximumSize: Int
    private var buffer: [UInt8] = []
    /// The first byte not yet consumed; the buffer is compacted once per `append`.
    private var start = 0
    /// Where the search for the end of the headers resumes.
    private var searched = 0
    /// The end of the message whose headers are complete, while its body arrives.
    private var pendingEnd: Int?
    private var failed = false

    public init(maximumSize: Int = 64 * 1024) {
        self.maximumSize = maximumSize
    }

    /// Adds received bytes; returns the complete items, in order (at most one ping per call,
    /// however many a peer packs in). Linear in the bytes received.
    public mutating func append(_ bytes: some Sequence<UInt8>) throws(SIPParseError) -> [Item] {
        guard !failed else { throw SIPParseError("the stream failed before") }
        buffer.append(contentsOf: bytes)
        defer { compact() }
        var items: [Item] = []
        var pinged = false
        let ping: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        while start < buffer.count {
            if pendingEnd == nil, buffer[start] == 0x0D || buffer[start] == 0x0A {
                // Keep-alives between messages: CRLFCRLF is a ping; a lone CRLF (a pong) or a
                // stray line end is skipped.
                if buffer[start...].starts(with: ping) {
                    if !pinged { items.append(.keepAlivePing) }
                    pinged = true
                    start += 4
                } else if buffer.count - start < 4, ping.starts(with: buffer[start...]) {
                    break  // perhaps a ping still arriving
                } else {
                    start += buffer[start] == 0x0D && start + 1 < buffer.count && buffer[start + 1] == 0x0A ? 2 : 1
                }
                searched = start
                continue
            }
            if pendingEnd == nil {
                guard let (_, bodyStart) = SIPParser.headerEnd(buffer, from: max(start, searched - 3)) else {
                    searched = buffer.count
                    if buffer.count - start > maximumSize {
                        failed = true
                        throw SIPParseError("headers longer than \(maximumSize) bytes", status: 513)
                    }
                    break
                }
                let length: Int
                do {
                    length = try Self.contentLength(buffer[start..<bodyStart])
                } catch {
                    failed = true
                    throw error
                }
                guard bodyStart - start + length <= maximumSize else {
                    failed = true
                    throw SIPParseError("a message larger than \(maximumSize) bytes", status: 513)
                }
                pendingEnd = bodyStart + length
            }
            guard let end = pendingEnd, buffer.count >= end else { break }
            items.append(.message(Array(buffer[start..<end])))
            start = end
            searched = end
            pendingEnd = nil
        }
        return items
    }

    private mutating func compact() {
        guard start > 0 else { return }
        buffer.removeFirst(start)
        searched = max(0, searched - start)
        pendingEnd = pendingEnd.map { $0 - start }
        start = 0
    }

    /// The Content-Length (or `l`) header of a header section; required on a stream.
    static func contentLength(_ section: ArraySlice<UInt8>) throws(SIPParseError) -> Int {
        var found: Int?
        for line in section.split(separator: 0x0A) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            var name = line[line.startIndex..<colon]
            while let last = name.last, SIPGrammar.isWhitespace(last) { name = name.dropLast() }
            let lower = name.map { $0 | 0x20 }
            guard lower == Array("content-length".utf8) || lower == [UInt8(ascii: "l")] else { continue }
            let value = line[(colon + 1)...].filter { !SIPGrammar.isWhitespace($0) && $0 != 0x0D }
            guard !value.isEmpty, value.count <= 9, value.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(String(decoding: value, as: UTF8.self))
            else { throw SIPParseError("a malformed Content-Length") }
            if let found, found != number { throw SIPParseError("two different Content-Length values") }
            found = number
        }
        guard let found else { throw SIPParseError("Content-Length is required on a stream") }
        return found
    }
}
