/// HTML character references: numeric ones and the named ones mail actually uses.
public enum HTMLEntities {
    /// `text` with `&name;`, `&#nn;` and `&#xhh;` replaced; unknown references stay as written.
    static func decode(_ text: String) -> String {
        guard text.utf8.contains(0x26) else { return text }
        let bytes = Array(text.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        let n = bytes.count
        while i < n {
            guard bytes[i] == 0x26 else {
                out.append(bytes[i])
                i += 1
                continue
            }
            var j = i + 1
            while j < n && j - i <= 32 && bytes[j] != 0x3B && bytes[j] != 0x26 && !MailBytes.isWhitespace(bytes[j]) { j += 1 }
            let body = bytes[(i + 1)..<j]
            let terminated = j < n && bytes[j] == 0x3B
            if body.first == 0x23 {  // numeric
                let digits = body.dropFirst()
                var value: UInt32?
                if let first = digits.first, first == 0x78 || first == 0x58 {
                    let hex = digits.dropFirst()
                    if !hex.isEmpty && hex.count <= 6 { value = UInt32(String(decoding: hex, as: UTF8.self), radix: 16) }
                } else if !digits.isEmpty && digits.count <= 7 {
                    value = UInt32(String(decoding: digits, as: UTF8.self))
                }
                if let value {
                    let scalar = value == 0 ? nil : Unicode.Scalar(value)
                    out.append(contentsOf: String(scalar ?? "\u{FFFD}").utf8)
                    i = terminated ? j + 1 : j
                    continue
                }
            } else if terminated, let replacement = named[String(decoding: body, as: UTF8.self)] {
                out.append(contentsOf: replacement.utf8)
                i = j + 1
                continue
            }
            out.append(0x26)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` escaped for an HTML text node or a double-quoted attribute value.
    public static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©", "reg": "®",
        "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
        "laquo": "«", "raquo": "»", "middot": "·", "bull": "•", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢",
        "sect": "§", "deg": "°", "plusmn": "±", "times": "×", "divide": "÷", "para": "¶", "shy": "\u{AD}",
        "zwnj": "\u{200C}", "zwj": "\u{200D}", "thinsp": "\u{2009}", "ensp": "\u{2002}", "emsp": "\u{2003}",
        "iexcl": "¡", "iquest": "¿", "larr": "←", "rarr": "→", "uarr": "↑", "darr": "↓", "hearts": "♥",
        "auml": "ä", "ouml": "ö", "uuml": "ü", "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "szlig": "ß",
        "eacute": "é", "egrave": "è", "agrave": "à", "aacute": "á", "ccedil": "ç", "ntilde": "ñ", "oacute": "ó",
        "iacute": "í", "uacute": "ú", "ecirc": "ê", "acirc": "â", "ocirc": "ô",
    ]
}
