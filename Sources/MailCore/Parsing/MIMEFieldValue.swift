/// A structured MIME field value such as Content-Type or Content-Disposition: a lower-cased
/// token (`text/plain`, `attachment`) and its parameters (RFC 2045 §5.1), with RFC 2231
/// extended and continued parameters already joined and decoded.
struct MIMEFieldValue: Hashable {
    /// The token before the first `;`, lower-cased and trimmed.
    var value: String
    /// Parameters by lower-cased name; values unquoted and decoded.
    var parameters: [String: String]

    /// Parses a raw field value; never fails (garbage yields an empty value).
    init(_ raw: String) {
        let bytes = Array(raw.utf8)
        let n = bytes.count
        var i = 0
        var token = [UInt8]()
        var commentDepth = 0
        while i < n && bytes[i] != 0x3B {
            let b = bytes[i]
            if b == 0x28 {
                commentDepth += 1
            } else if b == 0x29 && commentDepth > 0 {
                commentDepth -= 1
            } else if commentDepth == 0 && !MailBytes.isWhitespace(b) && b != 0x22 {
                token.append(MailBytes.lowercased(b))
            }
            i += 1
        }
        value = String(decoding: token, as: UTF8.self)

        var plain: [String: String] = [:]
        // RFC 2231 pieces: name -> [(section, extended, bytes)]
        var sections: [String: [(index: Int, extended: Bool, value: [UInt8])]] = [:]
        while i < n {
            while i < n && (bytes[i] == 0x3B || MailBytes.isWhitespace(bytes[i])) { i += 1 }
            let nameStart = i
            while i < n && bytes[i] != 0x3D && bytes[i] != 0x3B { i += 1 }
            guard i < n, bytes[i] == 0x3D else { continue }
            var nameBytes = bytes[nameStart..<i].filter { !MailBytes.isWhitespace($0) }.map(MailBytes.lowercased)
            i += 1
            while i < n && (bytes[i] == MailBytes.space || bytes[i] == MailBytes.tab) { i += 1 }
            var valueBytes = [UInt8]()
            if i < n && bytes[i] == 0x22 {
                i += 1
                while i < n && bytes[i] != 0x22 {
                    if bytes[i] == 0x5C && i + 1 < n { i += 1 }
                    valueBytes.append(bytes[i])
                    i += 1
                }
                i += 1
                // Anything after the closing quote up to `;` is garbage.
                while i < n && bytes[i] != 0x3B { i += 1 }
            } else {
                let start = i
                while i < n && bytes[i] != 0x3B { i += 1 }
                var end = i
                while end > start && MailBytes.isWhitespace(bytes[end - 1]) { end -= 1 }
                valueBytes.append(contentsOf: bytes[start..<end])
            }
            guard !nameBytes.isEmpty else { continue }
            // RFC 2231: name*, name*0, name*0*, name*1 ...
            if let star = nameBytes.firstIndex(of: 0x2A) {
                let extended = nameBytes.last == 0x2A
                let middle = nameBytes[(star + 1)..<(extended ? max(star + 1, nameBytes.count - 1) : nameBytes.count)]
                var index = 0
                if !middle.isEmpty {
                    guard middle.count <= 3, middle.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { continue }
                    index = Int(String(decoding: middle, as: UTF8.self)) ?? 0
                }
                nameBytes.removeSubrange(star...)
                let name = String(decoding: nameBytes, as: UTF8.self)
                sections[name, default: []].append((index, extended, valueBytes))
            } else {
                let name = String(decoding: nameBytes, as: UTF8.self)
                if plain[name] == nil { plain[name] = String(decoding: valueBytes, as: UTF8.self) }
            }
        }
        for (name, pieces) in sections {
            plain[name] = Self.joinExtended(pieces.sorted { $0.index < $1.index })
        }
        parameters = plain
    }

    /// Joins RFC 2231 sections: the first extended one may carry `charset'language'`; extended
    /// sections are percent-encoded.
    private static func joinExtended(_ pieces: [(index: Int, extended: Bool, value: [UInt8])]) -> String {
        var charset: String?
        var joined = [UInt8]()
        for (position, piece) in pieces.enumerated() {
            var value = piece.value[...]
            if piece.extended {
                if position == 0, let firstQuote = value.firstIndex(of: 0x27),
                    let secondQuote = value[(firstQuote + 1)...].firstIndex(of: 0x27)
                {
                    let label = String(decoding: value[..<firstQuote], as: UTF8.self)
                    if !label.isEmpty { charset = label }
                    value = value[(secondQuote + 1)...]
                }
                joined.append(contentsOf: percentDecoded(value))
            } else {
                joined.append(contentsOf: value)
            }
        }
        if charset == nil, String(validating: joined, as: UTF8.self) != nil { charset = "utf-8" }
        return MailCharset.decode(joined, charset: charset).text
    }

    private static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 0x25, i + 2 < bytes.endIndex, let high = MailBytes.hexValue(bytes[i + 1]),
                let low = MailBytes.hexValue(bytes[i + 2])
            {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// A parameter by (lower-case) name.
    subscript(parameter: String) -> String? { parameters[parameter] }
}
