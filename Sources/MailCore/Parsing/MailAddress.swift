/// One mailbox from an address header: `"Display Name" <local@domain>`.
public struct MailAddress: Sendable, Hashable {
    /// The display name, RFC 2047-decoded and unquoted; nil when absent.
    public var displayName: String?
    /// `local@domain`: the domain lower-cased, the local part as given.
    public var address: String

    /// Creates an address; the domain is lower-cased.
    public init(displayName: String? = nil, address: String) {
        self.displayName = displayName
        self.address = Self.normalized(address) ?? address
    }

    /// Parses an RFC 5322 address-list (§3.4): name-addr, bare addr-spec, groups (their names
    /// dropped, their members kept), comments (used as the display name when there is none),
    /// quoted and RFC 2047 display names (also encoded words inside quotes, which clients send).
    /// Garbage is skipped: an entry without `local@domain` yields nothing.
    public static func parseList(_ raw: String) -> [MailAddress] {
        let bytes = Array(raw.utf8)
        var result = [MailAddress]()
        var entry = Entry()
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            switch b {
            case 0x22:  // quoted string
                i += 1
                if entry.inAngle { entry.angle.append(0x22) }
                entry.bare.append(0x22)
                while i < n && bytes[i] != 0x22 {
                    if bytes[i] == 0x5C && i + 1 < n { i += 1 }
                    if entry.inAngle { entry.angle.append(bytes[i]) } else { entry.phrase.append(bytes[i]) }
                    entry.bare.append(bytes[i])
                    i += 1
                }
                if entry.inAngle { entry.angle.append(0x22) }
                entry.bare.append(0x22)
            case 0x28:  // comment, possibly nested
                var depth = 1
                var comment = [UInt8]()
                i += 1
                while i < n && depth > 0 {
                    let c = bytes[i]
                    if c == 0x5C && i + 1 < n {
                        i += 1
                        comment.append(bytes[i])
                    } else if c == 0x28 {
                        depth += 1
                        comment.append(c)
                    } else if c == 0x29 {
                        depth -= 1
                        if depth > 0 { comment.append(c) }
                    } else {
                        comment.append(c)
                    }
                    i += 1
                }
                if entry.comment.isEmpty { entry.comment = comment }
                entry.phrase.append(0x20)
                continue
            case 0x3C where !entry.inAngle:
                entry.inAngle = true
                entry.sawAngle = true
            case 0x3E where entry.inAngle:
                entry.inAngle = false
                entry.closedAngle = true
            case 0x2C where !entry.inAngle, 0x3B where !entry.inAngle:
                entry.finish(into: &result)
                entry = Entry()
            case 0x3A where !entry.inAngle && !entry.sawAngle:
                entry = Entry()  // a group: its display name is dropped
            default:
                if entry.inAngle {
                    if !MailBytes.isWhitespace(b) { entry.angle.append(b) }
                } else if !entry.closedAngle {
                    if MailBytes.isWhitespace(b) {
                        if entry.phrase.last != 0x20 { entry.phrase.append(0x20) }
                    } else {
                        entry.phrase.append(b)
                        entry.bare.append(b)
                    }
                }
            }
            i += 1
        }
        entry.finish(into: &result)
        return result
    }

    /// `local@domain` with the domain lower-cased, or nil if there is no usable address: an
    /// obsolete source route (RFC 5322 §4.4, `@a,@b:user@c`) and a `mailto:` prefix are removed;
    /// blanks, brackets and other specials outside a quoted local part make it unusable.
    static func normalized(_ raw: String) -> String? {
        let all = Array(raw.utf8)
        guard let first = all.firstIndex(where: { !MailBytes.isWhitespace($0) }),
            let last = all.lastIndex(where: { !MailBytes.isWhitespace($0) })
        else { return nil }
        var text = all[first...last]
        if MailBytes.hasPrefixIgnoringCase(text, at: text.startIndex, Array("mailto:".utf8)) { text = text.dropFirst(7) }
        if text.first == 0x40, let colon = text.lastIndex(of: 0x3A) { text = text[(colon + 1)...] }
        guard let at = text.lastIndex(of: 0x40) else { return nil }
        let local = text[..<at]
        let domain = text[(at + 1)...]
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        let quotedLocal = local.count >= 2 && local.first == 0x22 && local.last == 0x22
        if !quotedLocal && local.contains(where: isSpecial) { return nil }
        if domain.contains(where: isSpecial) { return nil }
        let domainText: String
        if MailBytes.isASCII(domain) {
            domainText = String(decoding: domain.map(MailBytes.lowercased), as: UTF8.self)
        } else {
            domainText = String(decoding: domain, as: UTF8.self).lowercased()
        }
        return String(decoding: local, as: UTF8.self) + "@" + domainText
    }

    /// Bytes that cannot appear unquoted in an address (RFC 5322 §3.2.3 specials and blanks).
    private static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0D, 0x0A, 0x3C, 0x3E, 0x22, 0x28, 0x29, 0x2C, 0x3B, 0x3A, 0x5C: return true
        default: return false
        }
    }

    /// The pieces of one address-list entry as it is read.
    private struct Entry {
        var phrase = [UInt8]()
        var bare = [UInt8]()
        var angle = [UInt8]()
        var comment = [UInt8]()
        var inAngle = false
        var sawAngle = false
        var closedAngle = false

        func finish(into result: inout [MailAddress]) {
            let addressText: String
            var name: String?
            if sawAngle {
                addressText = String(decoding: angle, as: UTF8.self)
                name = Self.displayText(phrase)
            } else {
                addressText = String(decoding: bare, as: UTF8.self)
            }
            guard let address = MailAddress.normalized(addressText) else { return }
            if name == nil, !comment.isEmpty { name = Self.displayText(comment) }
            result.append(MailAddress(displayName: name, address: address))
        }

        private static func displayText(_ bytes: [UInt8]) -> String? {
            let text = EncodedWords.decode(String(decoding: bytes, as: UTF8.self)).trimmingMailWhitespace()
            guard !text.isEmpty else { return nil }
            // Collapse runs of blanks left by folding and comments.
            var collapsed = ""
            var lastWasSpace = false
            for scalar in text.unicodeScalars {
                let isSpace = scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
                if isSpace {
                    if !lastWasSpace { collapsed.unicodeScalars.append(" ") }
                } else {
                    collapsed.unicodeScalars.append(scalar)
                }
                lastWasSpace = isSpace
            }
            return collapsed
        }
    }
}
