/// Content-Transfer-Encoding decoders (RFC 2045 §6), tolerant of what real mailers send.
public enum TransferEncoding {
    /// Decodes base64, skipping whitespace and any byte outside the alphabet; missing padding is
    /// fine, and `=` inside the data (concatenated encodings) flushes the group in progress.
    public static func decodeBase64(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count / 4 * 3 + 3)
        var accumulator: UInt32 = 0
        var count = 0
        for byte in bytes {
            let value = base64Values[Int(byte)]
            if value < 64 {
                accumulator = (accumulator << 6) | UInt32(value)
                count += 1
                if count == 4 {
                    out.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                    out.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                    out.append(UInt8(truncatingIfNeeded: accumulator))
                    accumulator = 0
                    count = 0
                }
            } else if byte == 0x3D {  // "=": the group ends here
                flush(&accumulator, &count, into: &out)
            }
        }
        flush(&accumulator, &count, into: &out)
        return out
    }

    private static func flush(_ accumulator: inout UInt32, _ count: inout Int, into out: inout [UInt8]) {
        switch count {
        case 2:
            out.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default:
            break  // 0 or a lone sextet, which carries no whole byte
        }
        accumulator = 0
        count = 0
    }

    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    /// Decodes quoted-printable: `=XY` (either case) becomes a byte, `=` at the end of a line is a
    /// soft line break, whitespace before a line break is transport padding; an `=` that starts
    /// no valid escape is kept literally.
    public static func decodeQuotedPrintable(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity(input.count)
        var i = 0
        let n = input.count
        while i < n {
            let byte = input[i]
            if byte == 0x3D {
                // "=" then optional padding, then a line break: a soft break.
                var j = i + 1
                while j < n && (input[j] == MailBytes.space || input[j] == MailBytes.tab) { j += 1 }
                if j == n {
                    i = n
                    continue
                }
                if input[j] == MailBytes.lf {
                    i = j + 1
                    continue
                }
                if input[j] == MailBytes.cr {
                    i = j + 1 < n && input[j + 1] == MailBytes.lf ? j + 2 : j + 1
                    continue
                }
                if i + 2 < n, let high = MailBytes.hexValue(input[i + 1]), let low = MailBytes.hexValue(input[i + 2]) {
                    out.append(high << 4 | low)
                    i += 3
                    continue
                }
                out.append(byte)
                i += 1
            } else if byte == MailBytes.space || byte == MailBytes.tab {
                // Trailing whitespace on a line is padding added in transport (RFC 2045 §6.7 (3)).
                var j = i
                while j < n && (input[j] == MailBytes.space || input[j] == MailBytes.tab) { j += 1 }
                if j < n && input[j] != MailBytes.cr && input[j] != MailBytes.lf {
                    out.append(contentsOf: input[i..<j])
                }
                i = j
            } else {
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    /// Decodes a body by its `Content-Transfer-Encoding` value; identity for 7bit, 8bit, binary
    /// and anything unknown (`known` is then false).
    static func decode(_ bytes: ArraySlice<UInt8>, encoding: String?) -> (bytes: [UInt8], known: Bool) {
        guard let encoding else { return (Array(bytes), true) }
        let name = encoding.trimmingMailWhitespace().asciiLowercased()
        switch name {
        case "base64": return (decodeBase64(bytes), true)
        case "quoted-printable", "quoted_printable", "qp": return (decodeQuotedPrintable(bytes), true)
        case "", "7bit", "8bit", "binary", "7-bit", "8-bit", "none": return (Array(bytes), true)
        default: return (Array(bytes), false)
        }
    }
}
