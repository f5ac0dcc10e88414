import Foundation

extension MailComposer {
    /// The transfer encodings the composer writes.
    enum TransferEncoding: String {
        case quotedPrintable = "quoted-printable"
        case base64
    }

    /// Text bodies use quoted-printable when that is smaller than base64, i.e. when fewer than
    /// one byte in six needs escaping (QP spends 3 octets on such a byte, base64 4/3 on every
    /// byte); so English stays readable on the wire and Chinese goes base64.
    static func preferredEncoding(forText bytes: [UInt8]) -> TransferEncoding {
        let escaped = bytes.reduce(0) { count, byte in
            count + (byte >= 0x80 || byte == UInt8(ascii: "=") ? 1 : 0)
        }
        return escaped * 6 < bytes.count || bytes.isEmpty ? .quotedPrintable : .base64
    }

    /// The text's UTF-8 with every line end (CRLF, LF or CR) made CRLF: the canonical form
    /// of text (RFC 2045 §6.6).
    static func canonicalText(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + text.utf8.count / 40)
        var previousWasCR = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\r"):
                out += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                previousWasCR = true
            case UInt8(ascii: "\n"):
                if !previousWasCR { out += [UInt8(ascii: "\r"), UInt8(ascii: "\n")] }
                previousWasCR = false
            default:
                out.append(byte)
                previousWasCR = false
            }
        }
        return out
    }

    /// Base64 in lines of 76 characters joined by CRLF (RFC 2045 §6.8), no final CRLF.
    static func base64Lines(_ bytes: [UInt8]) -> [UInt8] {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + encoded.count / 38 + 2)
        var start = 0
        while start < encoded.count {
            if start > 0 { out += [UInt8(ascii: "\r"), UInt8(ascii: "\n")] }
            let end = min(start + 76, encoded.count)
            out += encoded[start..<end]
            start = end
        }
        return out
    }

    /// Quoted-printable (RFC 2045 §6.7) of CRLF text: hard line breaks kept, lines of at most
    /// 76 characters with soft breaks, `=` and non-ASCII escaped, trailing blanks escaped, and
    /// a dot that starts a line escaped too, so relays that mishandle dots cannot alter it.
    static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var lineLength = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                out += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                lineLength = 0
                index += 2
                continue
            }
            let atLineEnd = index + 1 == bytes.count
                || (bytes[index + 1] == UInt8(ascii: "\r") && index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: "\n"))
            let isBlank = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                || (isBlank && !atLineEnd)
            let escapeAtLineStart = lineLength == 0 && byte == UInt8(ascii: ".")
            let tokenLength = literal && !escapeAtLineStart ? 1 : 3
            // Room for the token plus a soft break's "=" (76 in all), unless it ends the line.
            let limit = atLineEnd ? 76 : 75
            if lineLength + tokenLength > limit {
                out += [UInt8(ascii: "="), UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                lineLength = 0
                continue
            }
            if tokenLength == 1 {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
            lineLength += tokenLength
            index += 1
        }
        return out
    }
}
