extension String {
    /// Whether two strings are equal when ASCII letters are compared case-insensitively
    /// (header names, parameter names, MIME types); no allocation.
    func isEqualIgnoringASCIICase(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var left = utf8.makeIterator()
        var right = other.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return true
            case (let a?, let b?):
                if a != b && MailBytes.lowercased(a) != MailBytes.lowercased(b) { return false }
            default: return false
            }
        }
    }

    /// Whether the string starts with `prefix`, ASCII letters compared case-insensitively.
    func hasPrefixIgnoringASCIICase(_ prefix: String) -> Bool {
        var left = utf8.makeIterator()
        for b in prefix.utf8 {
            guard let a = left.next(), MailBytes.lowercased(a) == MailBytes.lowercased(b) else { return false }
        }
        return true
    }

    /// The string lower-cased in ASCII only (MIME tokens; no locale, no Unicode tables).
    func asciiLowercased() -> String {
        guard utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return self }
        return String(decoding: utf8.map(MailBytes.lowercased), as: UTF8.self)
    }

    /// The string without leading and trailing spaces, tabs, CR and LF.
    func trimmingMailWhitespace() -> String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { !MailBytes.isWhitespace($0) }) else { return "" }
        guard let last = bytes.lastIndex(where: { !MailBytes.isWhitespace($0) }) else { return "" }
        if first == bytes.startIndex && last == bytes.index(before: bytes.endIndex) { return self }
        return String(self[first...last])
    }
}
