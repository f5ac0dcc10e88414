/// Follows quoted strings (with their backslash escapes) byte by byte: every byte of a multi-byte
/// character is 0x80 or above, so none is taken for a quote or a backslash.
struct QuotedStrings {
    private var inQuotes = false
    private var escaped = false

    /// Takes the next byte; true when it belongs to a quoted string, its quotes included.
    mutating func take(_ byte: UInt8) -> Bool {
        if inQuotes {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = false
            }
            return true
        }
        inQuotes = byte == UInt8(ascii: "\"")
        return inQuotes
    }
}

/// Pieces of the RFC 3261 §25 grammar shared by the parsers.
enum SIPGrammar {
    /// `token` characters: alphanumerics and `-.!%*_+`'~`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "*"), UInt8(ascii: "_"),
            UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    static func isToken<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// What an unquoted parameter value may hold: token characters, and `:`, `[`, `]` for host
    /// values (`received=`, `maddr=`) that are IPv6 references.
    static func isParameterValueByte(_ byte: UInt8) -> Bool {
        isTokenByte(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
    }

    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// An ASCII capital as its small letter; every other byte as it is.
    static func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// `text` lower-cased: byte by byte when it is ASCII (names, tokens, hosts: nearly always),
    /// which costs a fraction of `lowercased()`; the full Unicode mapping otherwise.
    static func lowercasedASCII<S: StringProtocol>(_ text: S) -> String {
        var upper = false
        for byte in text.utf8 {
            if byte >= 0x80 { return text.lowercased() }
            if byte >= 0x41 && byte <= 0x5A { upper = true }
        }
        guard upper else { return String(text) }
        let count = text.utf8.count
        return String(unsafeUninitializedCapacity: count) { buffer in
            var index = 0
            for byte in text.utf8 {
                buffer[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                index += 1
            }
            return index
        }
    }

    static func trimmed(_ text: Substring) -> Substring {
        // By byte: the four are ASCII, and no byte of a multi-byte character is.
        let utf8 = text.utf8
        func kept(_ byte: UInt8) -> Bool { byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A }
        guard let start = utf8.firstIndex(where: kept), let last = utf8.lastIndex(where: kept) else { return "" }
        return text[start..<utf8.index(after: last)]
    }

    static func trimmed(_ text: String) -> Substring { trimmed(text[...]) }

    /// Splits a list header's value at commas outside quoted strings and `<...>`; empty elements
    /// are dropped, each element trimmed.
    /// `splitList(value).first`, without splitting the rest.
    static func firstListValue(_ value: String) -> String? {
        guard value.utf8.contains(UInt8(ascii: ",")) else {
            let single = trimmed(value[...])
            return single.isEmpty ? nil : String(single)
        }
        for part in split(value, at: UInt8(ascii: ","), outsideAngles: true) {
            let value = trimmed(part)
            if !value.isEmpty { return String(value) }
        }
        return nil
    }

    static func splitList(_ value: String) -> [String] {
        // Nearly every line holds one value: nothing to split.
        guard value.utf8.contains(UInt8(ascii: ",")) else {
            let single = trimmed(value)
            return single.isEmpty ? [] : [String(single)]
        }
        return split(value, at: UInt8(ascii: ","), outsideAngles: true).map { trimmed($0) }.filter { !$0.isEmpty }.map(String.init)
    }

    /// `;name=value;flag` parameters after a value: lower-cased names in order, values as
    /// written (quoted values unquoted). Nil when a name is not a token or a quote is open. Read
    /// by byte in one pass, a string made only for each name and value (every Via, From, To and
    /// URI has some; splitting the text into substrings first was a tenth of a message's cost).
    static func parameterList<S: StringProtocol>(_ text: S) -> [SIPParameter]? {
        var text = String(text)
        return text.withUTF8 { bytes in parameterList(bytes, 0..<bytes.count) }
    }

    /// The parameters in `range` of `bytes` (after the ';' that opens them).
    static func parameterList(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [SIPParameter]? {
        var result: [SIPParameter] = []
        var start = range.lowerBound
        var index = range.lowerBound
        var quotes = QuotedStrings()
        // Each piece ends at a ';' outside quotes, or at the end.
        while index <= range.upperBound {
            if index < range.upperBound, quotes.take(bytes[index]) || bytes[index] != UInt8(ascii: ";") {
                index += 1
                continue
            }
            guard let parameter = parameter(bytes, start..<index) else { return nil }
            result.append(parameter)
            index += 1
            start = index
        }
        return result
    }

    /// One `name=value` or `flag` piece, trimmed.
    private static func parameter(_ bytes: UnsafeBufferPointer<UInt8>, _ piece: Range<Int>) -> SIPParameter? {
        let piece = trimmed(bytes, piece)
        guard !piece.isEmpty else { return nil }
        guard let equals = bytes[piece].firstIndex(of: UInt8(ascii: "=")) else {
            guard isToken(bytes, piece) else { return nil }
            return SIPParameter(lowercasedName: lowercasedASCII(bytes, piece), value: nil)
        }
        let name = trimmed(bytes, piece.lowerBound..<equals)
        let value = trimmed(bytes, (equals + 1)..<piece.upperBound)
        guard isToken(bytes, name) else { return nil }
        let text: String
        if value.first.map({ bytes[$0] }) == UInt8(ascii: "\"") {
            guard let unquoted = unquote(UnsafeBufferPointer(rebasing: bytes[value])) else { return nil }
            text = unquoted
        } else {
            guard !value.isEmpty, bytes[value].allSatisfy(isParameterValueByte) else { return nil }
            text = string(bytes, value)
        }
        return SIPParameter(lowercasedName: lowercasedASCII(bytes, name), value: text)
    }

    /// The range without leading and trailing space, tab, CR and LF.
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        func kept(_ byte: UInt8) -> Bool { byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A }
        var start = range.lowerBound
        var end = range.upperBound
        while start < end, !kept(bytes[start]) { start += 1 }
        while end > start, !kept(bytes[end - 1]) { end -= 1 }
        return start..<end
    }

    /// The bytes as a string (they are a slice of valid UTF-8 cut at ASCII bytes).
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Whether the bytes are a token (not empty, token characters only).
    static func isToken(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        !range.isEmpty && bytes[range].allSatisfy(isTokenByte)
    }

    /// Whether the bytes are `expected` (lower-case ASCII) in any case.
    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ expected: StaticString) -> Bool {
        guard range.count == expected.utf8CodeUnitCount else { return false }
        let pattern = expected.utf8Start
        for offset in 0..<range.count where lowercased(bytes[range.lowerBound + offset]) != pattern[offset] { return false }
        return true
    }

    /// The bytes (a token: ASCII) as a lower-cased string.
    static func lowercasedASCII(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(unsafeUninitializedCapacity: range.count) { buffer in
            for (offset, byte) in bytes[range].enumerated() { buffer[offset] = lowercased(byte) }
            return range.count
        }
    }

    /// Splits at `separator` outside quoted strings.
    static func splitOutsideQuotes(_ text: String, separator: UInt8) -> [Substring] {
        split(text, at: separator, outsideAngles: false)
    }

    /// Splits at `separator` where it is not inside a quoted string (with its backslash escapes)
    /// nor, when asked, inside `<...>`.
    private static func split(_ text: String, at separator: UInt8, outsideAngles: Bool) -> [Substring] {
        var parts: [Substring] = []
        var quotes = QuotedStrings()
        var inAngle = false
        var start = text.utf8.startIndex
        var index = start
        while index < text.utf8.endIndex {
            let byte = text.utf8[index]
            if quotes.take(byte) {
                // Inside a quoted string (or its quotes): nothing separates there.
            } else if outsideAngles, byte == UInt8(ascii: "<") {
                inAngle = true
            } else if outsideAngles, byte == UInt8(ascii: ">") {
                inAngle = false
            } else if byte == separator, !inAngle {
                parts.append(text[start..<index])
                start = text.utf8.index(after: index)
            }
            index = text.utf8.index(after: index)
        }
        parts.append(text[start...])
        return parts
    }

    /// `text` as a quoted string: `"` and `\` escaped, CR, LF and NUL (which no quoted string
    /// may hold raw) dropped. By byte, so that no combining mark hides a quote.
    static func quoted(_ text: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text.utf8 where byte != 0x0D && byte != 0x0A && byte != 0 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// The content of a quoted string (`"a \"b\""` → `a "b"`), or nil when it is not one.
    static func unquote<S: StringProtocol>(_ text: S) -> String? {
        Array(text.utf8).withUnsafeBufferPointer { unquote($0) }
    }

    static func unquote(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
        var out: [UInt8] = []
        var index = 1
        while index < bytes.count - 1 {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count - 1 else { return nil }
                out.append(bytes[index + 1])
                index += 2
                continue
            }
            if byte == UInt8(ascii: "\"") { return nil }
            out.append(byte)
            index += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; nil for a malformed escape or bytes that are not UTF-8.
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard bytes[range].contains(UInt8(ascii: "%")) else { return string(bytes, range) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 2 < range.upperBound, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
            out.append(high << 4 | low)
            index += 3
        }
        return String(validating: out, as: UTF8.self)
    }

    static func unescape<S: StringProtocol>(_ text: S) -> String? {
        var text = String(text)
        return text.withUTF8 { bytes in unescape(bytes, 0..<bytes.count) }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
