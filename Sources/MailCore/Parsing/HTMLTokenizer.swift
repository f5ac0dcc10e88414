/// A forgiving HTML tokenizer for mail bodies (enough of the WHATWG rules for sanitizing and
/// text extraction): tags with attributes, text, and raw-text elements (`script`, `style`,
/// ...) whose content is never parsed as markup. Comments, doctypes and processing
/// instructions are skipped. Linear in the input.
struct HTMLTokenizer {
    enum Token {
        case text(Range<Int>)
        case startTag(name: String, attributes: [(name: String, value: String)], selfClosing: Bool)
        case endTag(name: String)
        /// The content of a raw-text element, which consumers drop.
        case rawText(Range<Int>)
    }

    /// Elements whose content is text up to their end tag, never markup.
    static let rawTextElements: Set<String> = ["script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"]

    let bytes: [UInt8]
    private var index = 0
    private var rawTextEnd: [UInt8]?

    init(_ html: String) {
        bytes = Array(html.utf8)
    }

    mutating func next() -> Token? {
        let n = bytes.count
        if let end = rawTextEnd {
            rawTextEnd = nil
            let start = index
            let found = MailBytes.firstRange(of: end, in: bytes[start...], ignoringCase: true)
            index = found?.lowerBound ?? n
            return .rawText(start..<index)
        }
        while index < n {
            let start = index
            guard bytes[index] == 0x3C else {
                index = bytes[index...].firstIndex(of: 0x3C) ?? n
                return .text(start..<index)
            }
            guard index + 1 < n else {
                index = n
                return .text(start..<n)
            }
            let next = bytes[index + 1]
            if next == 0x21 {  // <!-- comment -->, <!DOCTYPE>, <![CDATA[ ]]>
                if bytes[index...].starts(with: "<!--".utf8) {
                    let end = MailBytes.firstRange(of: Array("-->".utf8), in: bytes[(index + 4)...], ignoringCase: false)
                    index = end?.upperBound ?? n
                } else {
                    index = skipPastClosingBracket(from: index + 2)
                }
                continue
            }
            if next == 0x3F {  // <?xml ... ?>
                index = skipPastClosingBracket(from: index + 2)
                continue
            }
            if next == 0x2F {  // end tag
                let nameStart = index + 2
                var i = nameStart
                while i < n && isNameByte(bytes[i]) { i += 1 }
                let hasName = i > nameStart && isLetter(bytes[nameStart])
                index = skipPastClosingBracket(from: i)
                if hasName { return .endTag(name: lowercasedString(nameStart..<i)) }
                continue
            }
            guard isLetter(next) else {
                index += 1
                return .text(start..<(start + 1))
            }
            return startTag()
        }
        return nil
    }

    private mutating func startTag() -> Token {
        let n = bytes.count
        let nameStart = index + 1
        var i = nameStart
        while i < n && isNameByte(bytes[i]) { i += 1 }
        let name = lowercasedString(nameStart..<i)
        var attributes = [(name: String, value: String)]()
        var selfClosing = false
        while i < n {
            while i < n && (MailBytes.isWhitespace(bytes[i]) || bytes[i] == 0x2F) {
                if bytes[i] == 0x2F { selfClosing = true }
                i += 1
            }
            guard i < n else { break }
            if bytes[i] == 0x3E {
                i += 1
                break
            }
            selfClosing = false
            let attributeStart = i
            while i < n && !MailBytes.isWhitespace(bytes[i]) && bytes[i] != 0x3D && bytes[i] != 0x3E && bytes[i] != 0x2F {
                i += 1
            }
            if i == attributeStart { i += 1 }  // a stray "=": skip it
            let attributeName = lowercasedString(attributeStart..<i)
            while i < n && MailBytes.isWhitespace(bytes[i]) { i += 1 }
            var value = ""
            if i < n && bytes[i] == 0x3D {
                i += 1
                while i < n && MailBytes.isWhitespace(bytes[i]) { i += 1 }
                if i < n && (bytes[i] == 0x22 || bytes[i] == 0x27) {
                    let quote = bytes[i]
                    let valueStart = i + 1
                    let valueEnd = bytes[valueStart...].firstIndex(of: quote) ?? n
                    value = String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)
                    i = min(n, valueEnd + 1)
                } else {
                    let valueStart = i
                    while i < n && !MailBytes.isWhitespace(bytes[i]) && bytes[i] != 0x3E { i += 1 }
                    value = String(decoding: bytes[valueStart..<i], as: UTF8.self)
                }
            }
            if attributes.count < 64 && !attributeName.isEmpty { attributes.append((attributeName, value)) }
        }
        index = i
        if Self.rawTextElements.contains(name) && !selfClosing { rawTextEnd = Array("</\(name)".utf8) }
        return .startTag(name: name, attributes: attributes, selfClosing: selfClosing)
    }

    private func skipPastClosingBracket(from start: Int) -> Int {
        guard start < bytes.count else { return bytes.count }
        return (bytes[start...].firstIndex(of: 0x3E) ?? (bytes.count - 1)) + 1
    }

    private func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private func isNameByte(_ byte: UInt8) -> Bool {
        !MailBytes.isWhitespace(byte) && byte != 0x2F && byte != 0x3E && byte != 0x3C
    }

    private func lowercasedString(_ range: Range<Int>) -> String {
        String(decoding: bytes[range].map(MailBytes.lowercased), as: UTF8.self)
    }

    /// The text of a `.text` or `.rawText` range.
    func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }
}
