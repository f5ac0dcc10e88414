/// A header section read from bytes, before its values become text: values stay bytes because
/// their charset (for raw 8-bit headers) is only known once Content-Type has been read.
struct MailHeaderSection {
    /// Field names and unfolded values, in order.
    var fields: [(name: String, value: [UInt8])] = []
    /// Where the body starts (the end of the input when there is no body).
    var bodyStart: Int
    /// What was malformed.
    var problems: [String] = []

    /// Reads the header section at the start of `bytes` (RFC 5322 §2.2): lines up to the first
    /// empty line, continuation lines (starting with space or tab) unfolded into the field above.
    /// A line that is neither a field nor a continuation ends the section (a missing blank
    /// line). Past the limits, fields are still skipped (to find the body) but not kept.
    init(_ bytes: ArraySlice<UInt8>, limits: MailLimits) {
        bodyStart = bytes.endIndex
        var i = bytes.startIndex
        // An mbox "From " separator line left at the top.
        if bytes[i...].starts(with: "From ".utf8) {
            let line = MailBytes.line(in: bytes, at: i)
            if Self.fieldNameEnd(bytes, line.content) == nil { i = line.next }
        }
        var storedBytes = 0
        var truncated = false
        var countExceeded = false
        var keepingCurrent = false
        var reachedEnd = false

        while i < bytes.endIndex {
            let (content, next) = MailBytes.line(in: bytes, at: i)
            if content.isEmpty {
                bodyStart = next
                reachedEnd = true
                break
            }
            let first = bytes[content.lowerBound]
            if first == MailBytes.space || first == MailBytes.tab {
                if fields.isEmpty {
                    problems.append("header section starts with a continuation line")
                } else if keepingCurrent {
                    let room = limits.maximumHeaderBytes - storedBytes
                    if content.count <= room {
                        fields[fields.count - 1].value.append(contentsOf: bytes[content])
                        storedBytes += content.count
                    } else {
                        fields[fields.count - 1].value.append(contentsOf: bytes[content].prefix(max(0, room)))
                        storedBytes = limits.maximumHeaderBytes
                        truncated = true
                        keepingCurrent = false
                    }
                }
                i = next
                continue
            }
            guard let colon = Self.fieldNameEnd(bytes, content) else {
                problems.append("missing blank line between header and body")
                bodyStart = i
                reachedEnd = true
                break
            }
            var nameEnd = colon
            while nameEnd > content.lowerBound && (bytes[nameEnd - 1] == MailBytes.space || bytes[nameEnd - 1] == MailBytes.tab) {
                nameEnd -= 1
            }
            keepingCurrent = false
            if fields.count >= limits.maximumHeaderCount {
                countExceeded = true
            } else if storedBytes >= limits.maximumHeaderBytes {
                truncated = true
            } else {
                let name = String(decoding: bytes[content.lowerBound..<nameEnd], as: UTF8.self)
                var valueStart = colon + 1
                while valueStart < content.upperBound && (bytes[valueStart] == MailBytes.space || bytes[valueStart] == MailBytes.tab) {
                    valueStart += 1
                }
                let room = limits.maximumHeaderBytes - storedBytes - (nameEnd - content.lowerBound)
                let valueCount = content.upperBound - valueStart
                var value = [UInt8]()
                if valueCount <= room {
                    value.append(contentsOf: bytes[valueStart..<content.upperBound])
                    keepingCurrent = true
                } else {
                    value.append(contentsOf: bytes[valueStart..<(valueStart + max(0, room))])
                    truncated = true
                }
                storedBytes += (nameEnd - content.lowerBound) + value.count
                fields.append((name, value))
            }
            i = next
        }
        if !reachedEnd { bodyStart = bytes.endIndex }
        if truncated { problems.append("header section truncated at \(limits.maximumHeaderBytes) bytes") }
        if countExceeded { problems.append("more than \(limits.maximumHeaderCount) header fields; the rest ignored") }
        for index in fields.indices {
            // Trailing whitespace of the unfolded value is not part of it.
            while let last = fields[index].value.last, MailBytes.isWhitespace(last) { fields[index].value.removeLast() }
        }
    }

    /// The index of the colon ending a field name on this line, or nil if the line is not a
    /// field (RFC 5322 §2.2: printable ASCII except colon; trailing blanks tolerated, §4.5.8).
    private static func fieldNameEnd(_ bytes: ArraySlice<UInt8>, _ line: Range<Int>) -> Int? {
        var i = line.lowerBound
        let limit = min(line.upperBound, line.lowerBound + 256)
        var sawBlank = false
        while i < limit {
            let b = bytes[i]
            if b == 0x3A { return i > line.lowerBound ? i : nil }
            if b == MailBytes.space || b == MailBytes.tab {
                sawBlank = true
            } else if b < 0x21 || b > 0x7E || sawBlank {
                return nil
            }
            i += 1
        }
        return nil
    }

    /// The value of the first field with this name, as bytes.
    func value(_ name: String) -> [UInt8]? {
        fields.first { $0.name.isEqualIgnoringASCIICase(name) }?.value
    }

    /// The fields as text. Values that are not UTF-8 (raw 8-bit headers from old clients) are
    /// decoded in `fallbackCharset` when it names a legacy charset, else as GB18030.
    func headers(fallbackCharset: String?, problems: inout [String]) -> MailHeaders {
        var result = [MailHeader]()
        result.reserveCapacity(fields.count)
        for field in fields {
            let value: String
            if MailBytes.isASCII(field.value) {
                value = String(decoding: field.value, as: UTF8.self)
            } else if let text = String(validating: field.value, as: UTF8.self) {
                value = text
            } else {
                var charset = "gb18030"
                if let fallback = fallbackCharset, MailCharset.isLegacyMultibyteOrSingleByte(fallback) { charset = fallback }
                var decoded = MailCharset.decode(field.value, charset: charset)
                if !decoded.exact && charset == "gb18030" {
                    // Not GB18030 either: most likely Latin-1 from an old Western client.
                    charset = "windows-1252"
                    decoded = MailCharset.decode(field.value, charset: charset)
                }
                value = decoded.text
                problems.append("raw 8-bit \(field.name) header is not UTF-8; decoded as \(charset.asciiLowercased())")
            }
            result.append(MailHeader(name: field.name, rawValue: value))
        }
        return MailHeaders(result)
    }
}
