/// Byte-level helpers shared by the parsers: they work on `[UInt8]` and `ArraySlice<UInt8>` so
/// bodies are never walked as `Character`s.
enum MailBytes {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || byte == cr || byte == lf
    }

    /// The value of a hexadecimal digit (either case), or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// Whether every byte is 7-bit ASCII (eight bytes at a time on contiguous storage).
    static func isASCII(_ bytes: some Collection<UInt8>) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ isASCII(buffer: $0) }) { return result }
        for byte in bytes where byte >= 0x80 { return false }
        return true
    }

    static func isASCII(buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let count = buffer.count
        var i = 0
        while i + 8 <= count {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < count {
            if buffer[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// The index of the next LF at or after `from`, or nil.
    static func indexOfLineFeed(in bytes: ArraySlice<UInt8>, from: Int) -> Int? {
        guard from < bytes.endIndex else { return nil }
        return bytes[from...].firstIndex(of: lf)
    }

    /// The line that starts at `start`: its content (without CR LF or LF) and where the next
    /// line starts (`bytes.endIndex` for the last line).
    @inline(__always)
    static func line(in bytes: ArraySlice<UInt8>, at start: Int) -> (content: Range<Int>, next: Int) {
        if let end = indexOfLineFeed(in: bytes, from: start) {
            let contentEnd = end > start && bytes[end - 1] == cr ? end - 1 : end
            return (start..<contentEnd, end + 1)
        }
        return (start..<bytes.endIndex, bytes.endIndex)
    }

    /// Whether `bytes` starts with `prefix` at `index`, ASCII case-insensitively.
    static func hasPrefixIgnoringCase(_ bytes: ArraySlice<UInt8>, at index: Int, _ prefix: [UInt8]) -> Bool {
        guard index >= bytes.startIndex, bytes.endIndex - index >= prefix.count else { return false }
        var i = index
        for p in prefix {
            if lowercased(bytes[i]) != lowercased(p) { return false }
            i += 1
        }
        return true
    }

    /// The bytes with every CR LF turned into LF (text shown to agents uses `\n` only).
    static func normalizingLineEndings(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(cr) else { return bytes }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == cr {
                if i + 1 < bytes.count && bytes[i + 1] == lf {
                    i += 1
                    continue
                }
                out.append(lf)
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    /// The index of the first occurrence of `needle` in `haystack`, ASCII case-insensitively.
    static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>, ignoringCase: Bool) -> Range<Int>? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        let firstLower = lowercased(first)
        var i = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while i <= last {
            let b = haystack[i]
            if b == first || (ignoringCase && lowercased(b) == firstLower) {
                var matched = true
                var j = 1
                while j < needle.count {
                    let h = haystack[i + j]
                    let n = needle[j]
                    if h != n && !(ignoringCase && lowercased(h) == lowercased(n)) {
                        matched = false
                        break
                    }
                    j += 1
                }
                if matched { return i..<(i + needle.count) }
            }
            i += 1
        }
        return nil
    }
}
