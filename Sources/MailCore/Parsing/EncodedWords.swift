/// RFC 2047 encoded words in header text: `=?charset?B?base64?=` and `=?charset?Q?text?=`.
public enum EncodedWords {
    /// Decodes every well-formed encoded word in `raw`. Whitespace between adjacent encoded words
    /// is dropped (RFC 2047 §6.2), adjacent words in one charset are joined before decoding (so a
    /// character split across words survives), the RFC 2231 `charset*language` form is accepted,
    /// and malformed words are left as they are.
    public static func decode(_ raw: String) -> String {
        let bytes = Array(raw.utf8)
        guard MailBytes.firstRange(of: [0x3D, 0x3F], in: bytes[...], ignoringCase: false) != nil else { return raw }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var pendingCharset: String?
        var pendingBytes = [UInt8]()

        func flush() {
            guard let charset = pendingCharset else { return }
            out.append(contentsOf: MailCharset.decode(pendingBytes, charset: charset).text.utf8)
            pendingCharset = nil
            pendingBytes.removeAll(keepingCapacity: true)
        }

        var i = 0
        let n = bytes.count
        var afterWord = false
        while i < n {
            if bytes[i] == 0x3D, let word = parseWord(bytes, at: i) {
                if let current = pendingCharset, !current.isEqualIgnoringASCIICase(word.charset) { flush() }
                if pendingCharset == nil { pendingCharset = word.charset }
                pendingBytes.append(contentsOf: word.bytes)
                i = word.end
                afterWord = true
                continue
            }
            if afterWord && MailBytes.isWhitespace(bytes[i]) {
                var j = i
                while j < n && MailBytes.isWhitespace(bytes[j]) { j += 1 }
                if j < n && bytes[j] == 0x3D && parseWord(bytes, at: j) != nil {
                    i = j  // whitespace between two encoded words is not displayed
                    continue
                }
                flush()
                out.append(contentsOf: bytes[i..<j])
                i = j
                afterWord = false
                continue
            }
            flush()
            afterWord = false
            out.append(bytes[i])
            i += 1
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// One encoded word starting at `start` (on its `=`): its charset, decoded bytes and the
    /// index just past its closing `?=`; nil if malformed.
    static func parseWord(_ bytes: [UInt8], at start: Int) -> (charset: String, bytes: [UInt8], end: Int)? {
        let n = bytes.count
        guard start + 1 < n, bytes[start] == 0x3D, bytes[start + 1] == 0x3F else { return nil }
        var i = start + 2
        let charsetStart = i
        while i < n && bytes[i] != 0x3F {
            let b = bytes[i]
            if b <= 0x20 || b >= 0x7F || b == 0x3D || i - charsetStart > 64 { return nil }
            i += 1
        }
        guard i < n, i > charsetStart, i + 2 < n, bytes[i + 2] == 0x3F else { return nil }
        var charsetEnd = i
        if let star = bytes[charsetStart..<i].firstIndex(of: 0x2A) { charsetEnd = star }  // RFC 2231 §5 language
        guard charsetEnd > charsetStart else { return nil }
        let encoding = MailBytes.lowercased(bytes[i + 1])
        guard encoding == 0x62 || encoding == 0x71 else { return nil }
        let textStart = i + 3
        var j = textStart
        while j < n && bytes[j] != 0x3F { j += 1 }
        guard j + 1 < n, bytes[j + 1] == 0x3D else { return nil }
        let text = bytes[textStart..<j]
        let decoded = encoding == 0x62 ? TransferEncoding.decodeBase64(text) : decodeQ(text)
        let charset = String(decoding: bytes[charsetStart..<charsetEnd], as: UTF8.self)
        return (charset, decoded, j + 2)
    }

    /// The Q encoding (RFC 2047 §4.2): `_` is a space, `=XY` a byte.
    static func decodeQ(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            let b = text[i]
            if b == 0x5F {
                out.append(0x20)
            } else if b == 0x3D, i + 2 < text.endIndex, let high = MailBytes.hexValue(text[i + 1]),
                let low = MailBytes.hexValue(text[i + 2])
            {
                out.append(high << 4 | low)
                i += 3
                continue
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }
}
