import Foundation

extension MailComposer {
    /// Builds one header field, folding (RFC 5322 §2.2.3) before a token that would take the
    /// line past 78 characters.
    struct HeaderFolder {
        private(set) var text: String
        private var lineLength: Int

        init(name: String) {
            text = name + ":"
            lineLength = text.utf8.count
        }

        /// Characters left on the current line within the 76 RFC 2047 allows.
        var roomForEncodedWord: Int { 76 - lineLength - 1 }

        /// Appends `token` after a space, or on a new line when it would not fit (or `newLine`).
        mutating func append(_ token: String, newLine: Bool = false) {
            let length = token.utf8.count
            if newLine || (lineLength + 1 + length > 78 && lineLength > 1) {
                text += "\r\n "
                lineLength = 1
            } else {
                text += " "
                lineLength += 1
            }
            text += token
            lineLength += length
        }

        /// Appends text glued to the previous token (a comma between addresses).
        mutating func appendGlued(_ token: String) {
            text += token
            lineLength += token.utf8.count
        }

        /// Appends unstructured text: words folded on spaces, or RFC 2047 encoded words when
        /// it is not ASCII.
        mutating func appendUnstructured(_ value: String) {
            let clean = MailComposer.singleLine(value)
            // A word too long to fold would break the 998-octet limit: encoded words split it.
            let foldable = !clean.split(separator: " ").contains { $0.utf8.count > 900 }
            if foldable && clean.utf8.allSatisfy({ $0 < 0x80 }) {
                for word in clean.split(separator: " ", omittingEmptySubsequences: true) {
                    append(String(word))
                }
            } else {
                appendEncodedWords(clean)
            }
        }

        /// Appends `value` as RFC 2047 B-encoded UTF-8 words of at most 75 characters, each
        /// on a line of at most 76, never splitting a character.
        mutating func appendEncodedWords(_ value: String) {
            var first = true
            for word in MailComposer.encodedWords(value, firstWordRoom: roomForEncodedWord) {
                append(word, newLine: !first)
                first = false
            }
        }

        /// The finished field with its CRLF.
        var field: String { text + "\r\n" }
    }

    /// Replaces CR and LF (header injection) and other controls by spaces.
    static func singleLine(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// Splits `value` into `=?UTF-8?B?...?=` words; the first fits in `firstWordRoom`
    /// characters (when that leaves room for at least one character), the others in 75.
    static func encodedWords(_ value: String, firstWordRoom: Int) -> [String] {
        let overhead = "=?UTF-8?B??=".utf8.count
        func capacity(_ room: Int) -> Int { (min(room, 75) - overhead) / 4 * 3 }
        var limit = capacity(firstWordRoom) >= 4 ? capacity(firstWordRoom) : capacity(75)
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            guard !chunk.isEmpty else { return }
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk = []
            limit = capacity(75)
        }
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count <= limit {
                chunk += bytes
                continue
            }
            flush()
            if bytes.count <= limit {
                chunk = bytes
            } else {
                // A grapheme longer than one word (long emoji sequences): split between scalars.
                for scalar in character.unicodeScalars {
                    let scalarBytes = Array(String(scalar).utf8)
                    if chunk.count + scalarBytes.count > limit { flush() }
                    chunk += scalarBytes
                }
            }
        }
        flush()
        return words.isEmpty ? ["=?UTF-8?B??="] : words
    }

    /// Adds an address list (From, To, Cc, Reply-To) to a header.
    static func appendAddresses(_ addresses: [MailboxAddress], to folder: inout HeaderFolder) {
        for (index, mailbox) in addresses.enumerated() {
            let address = singleLine(mailbox.address).trimmingCharacters(in: .whitespaces)
            let isLast = index == addresses.count - 1
            guard let name = mailbox.displayName.map(singleLine), !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                folder.append(address)
                if !isLast { folder.appendGlued(",") }
                continue
            }
            if name.utf8.allSatisfy({ $0 < 0x80 }) {
                folder.append(phrase(name))
            } else {
                folder.appendEncodedWords(name)
            }
            folder.append("<\(address)>")
            if !isLast { folder.appendGlued(",") }
        }
    }

    /// An ASCII display name as atoms when it can be, else as a quoted string.
    static func phrase(_ name: String) -> String {
        let atext = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
        if name.unicodeScalars.allSatisfy({ atext.contains($0) }), !name.hasPrefix(" "), !name.contains("  ") {
            return name
        }
        return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `<id>` for a Message-ID given with or without brackets.
    static func angleBracketed(_ id: String) -> String {
        var bare = singleLine(id).trimmingCharacters(in: .whitespaces)
        if bare.hasPrefix("<") { bare.removeFirst() }
        if bare.hasSuffix(">") { bare.removeLast() }
        return "<\(bare)>"
    }

    // MARK: - MIME parameters

    /// A Content-Disposition parameter: `name="value"` for ASCII values, else RFC 2231
    /// `name*=UTF-8''...` (split into `name*0*`, `name*1*`, ... when long) alone. No plain
    /// `name=` fallback goes with it: Python's `email` (both policies) and other readers take
    /// the plain one over the extended one when both are present, which would hide the real
    /// name; the fallback for old readers is the Content-Type `name` (`legacyNameTokens`).
    static func parameter(_ name: String, _ value: String) -> [String] {
        let clean = singleLine(value)
        if clean.utf8.allSatisfy({ $0 < 0x80 }) {
            return ["\(name)=\(quoted(clean))"]
        }
        let encoded = percentEncoded(clean)
        if encoded.count + name.count + 12 <= 76 {
            return ["\(name)*=UTF-8''\(encoded)"]
        }
        // RFC 2231 §3 continuations, never splitting a %XX triplet.
        var pieces: [String] = []
        var current = "UTF-8''"
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let step = encoded[index] == "%" ? 3 : 1
            let end = encoded.index(index, offsetBy: step, limitedBy: encoded.endIndex) ?? encoded.endIndex
            if current.count + step > 60 {
                pieces.append(current)
                current = ""
            }
            current += encoded[index..<end]
            index = end
        }
        pieces.append(current)
        return pieces.enumerated().map { "\(name)*\($0.offset)*=\($0.element)" }
    }

    /// The Content-Type `name` parameter as tokens to fold: quoted ASCII, or RFC 2047 words
    /// inside the quotes (not standard, but what Outlook, Gmail and Thunderbird write and
    /// read), for readers that ignore RFC 2231.
    static func legacyNameTokens(_ value: String) -> [String] {
        let clean = singleLine(value)
        if clean.utf8.allSatisfy({ $0 < 0x80 }) { return ["name=\(quoted(clean))"] }
        var words = encodedWords(clean, firstWordRoom: 70)
        words[0] = "name=\"" + words[0]
        words[words.count - 1] += "\""
        return words
    }

    /// The value as a quoted string.
    static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }


    /// RFC 2231 §7 percent-encoding of UTF-8 (attribute-char stays literal).
    static func percentEncoded(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in value.utf8 {
            let isAttributeChar = byte > 0x20 && byte < 0x7F && !Array("*'%()<>@,;:\\\"/[]?=".utf8).contains(byte)
            if isAttributeChar {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
