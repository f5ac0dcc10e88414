#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns bytes in a MIME charset into text. Never fails: what cannot be decoded becomes U+FFFD
/// and the result is marked inexact.
///
/// Labels go through a table first, as browsers do (WHATWG Encoding): every GB2312/GBK label
/// decodes as GB18030 (mail labelled gb2312 routinely carries GBK-only characters such as 镕),
/// Big5 as Big5-HKSCS, Shift_JIS as CP932, EUC-KR as CP949 and ISO-8859-1 as windows-1252.
/// UTF-8, ASCII and windows-1252 are decoded in Swift; the rest through iconv, one handle per
/// call because iconv handles are not thread-safe.
public enum MailCharset {
    /// Decodes `bytes` in `charset` (a MIME label, any case; nil means US-ASCII). `exact` is
    /// false when bytes were replaced, the label was unknown, or the bytes did not match it.
    public static func decode(_ bytes: some Collection<UInt8>, charset: String?) -> (text: String, exact: Bool) {
        decode(array: bytes as? [UInt8] ?? Array(bytes), charset: charset)
    }

    private static func decode(array bytes: [UInt8], charset: String?) -> (text: String, exact: Bool) {
        if charset == nil { return decodeUndeclared(bytes) }
        switch resolve(charset) {
        case .utf8:
            return decodeUTF8(bytes)
        case .ascii:
            return decodeUndeclared(bytes)
        case .windows1252:
            return (decodeWindows1252(bytes), true)
        case .iconv(let name):
            if let decoded = decodeWithIconv(bytes, from: name) { return decoded }
            return (decodeUTF8(bytes).text, false)
        case .unknown:
            return (decodeUTF8(bytes).text, false)
        }
    }

    /// Decodes bytes that declare no charset (or US-ASCII): ASCII exactly; otherwise UTF-8 if
    /// valid, else GB18030 (the commonest undeclared 8-bit charset in Chinese mail), inexact.
    static func decodeUndeclared(_ bytes: [UInt8]) -> (text: String, exact: Bool) {
        if MailBytes.isASCII(bytes) { return (String(decoding: bytes, as: UTF8.self), true) }
        if let text = String(validating: bytes, as: UTF8.self) { return (text, false) }
        if let decoded = decodeWithIconv(bytes, from: "GB18030"), decoded.exact { return (decoded.text, false) }
        return (decodeWindows1252(bytes), false)
    }

    /// Whether a label names a charset this decoder knows (through its table or iconv).
    public static func isKnown(_ charset: String?) -> Bool {
        if case .unknown = resolve(charset) { return false }
        return true
    }

    /// Whether a label names a charset other than UTF-8 and ASCII that this decoder knows: the
    /// fallback for raw 8-bit header bytes that are not UTF-8.
    static func isLegacyMultibyteOrSingleByte(_ charset: String) -> Bool {
        switch resolve(charset) {
        case .iconv, .windows1252: return true
        case .utf8, .ascii, .unknown: return false
        }
    }

    enum Decoder: Equatable {
        case utf8, ascii, windows1252, unknown
        case iconv(String)
    }

    static func resolve(_ label: String?) -> Decoder {
        guard let label else { return .ascii }
        var name = label.trimmingMailWhitespace().asciiLowercased()
        if name.hasPrefix("\"") || name.hasPrefix("'") {
            name = String(name.unicodeScalars.filter { $0 != "\"" && $0 != "'" })
        }
        if name.isEmpty { return .ascii }
        if let known = table[name] { return known }
        for (prefix, replacement) in [("iso8859-", "iso-8859-"), ("iso_8859-", "iso-8859-"), ("iso8859_", "iso-8859-")]
        where name.hasPrefix(prefix) {
            name = replacement + name.dropFirst(prefix.count)
            if let known = table[name] { return known }
        }
        if name.hasPrefix("iso-8859-"), let part = Int(name.dropFirst(9).prefix(while: { $0.isNumber })),
            (2...16).contains(part), part != 12
        {
            return .iconv("ISO-8859-\(part)")
        }
        if name.hasPrefix("windows-") || name.hasPrefix("cp") || name.hasPrefix("x-cp") {
            let digits = name.drop(while: { !$0.isNumber })
            if let page = Int(digits), (1250...1258).contains(page) {
                return page == 1252 ? .windows1252 : .iconv("CP\(page)")
            }
        }
        // Anything else iconv knows by name (koi8-u, utf-7, ...); only tame labels reach iconv_open.
        if name.utf8.count <= 40,
            name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E || $0 == 0x3A }),
            canOpenIconv(name)
        {
            return .iconv(name.uppercased())
        }
        return .unknown
    }

    private static let table: [String: Decoder] = {
        var table: [String: Decoder] = [:]
        func add(_ labels: [String], _ decoder: Decoder) { for label in labels { table[label] = decoder } }
        add(["utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"], .utf8)
        add(["us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "csascii", "646", "7bit", "8bit"], .ascii)
        add(["gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "x-euc-cn", "eucgb2312_cn",
             "gb_2312-80", "gb_2312", "csgb2312", "chinese", "gb18030", "iso-ir-58", "gb2312-80"], .iconv("GB18030"))
        add(["big5", "big5-hkscs", "x-big5", "cn-big5", "csbig5", "big-5", "x-x-big5"], .iconv("BIG5-HKSCS"))
        add(["shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "cp932", "windows-31j", "csshiftjis",
             "x-ms-cp932", "ms932", "cswindows31j"], .iconv("CP932"))
        add(["iso-2022-jp", "csiso2022jp", "iso2022jp"], .iconv("ISO-2022-JP"))
        add(["euc-jp", "x-euc-jp", "eucjp", "cseucpkdfmtjapanese"], .iconv("EUC-JP"))
        add(["euc-kr", "ks_c_5601-1987", "ks_c_5601", "ksc5601", "ksc_5601", "cp949", "windows-949", "x-windows-949",
             "korean", "csksc56011987", "iso-ir-149", "uhc"], .iconv("CP949"))
        add(["iso-8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1",
             "windows-1252", "cp1252", "x-cp1252", "iso_8859-1:1987"], .windows1252)
        add(["latin2", "l2"], .iconv("ISO-8859-2"))
        add(["latin9", "l9", "latin-9"], .iconv("ISO-8859-15"))
        add(["koi8-r", "koi8r", "cskoi8r", "koi8"], .iconv("KOI8-R"))
        add(["koi8-u", "koi8-ru"], .iconv("KOI8-U"))
        add(["utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be"], .iconv("UTF-16"))
        table["utf-16le"] = .iconv("UTF-16LE")
        table["utf-16be"] = .iconv("UTF-16BE")
        table["utf-32"] = .iconv("UTF-32")
        table["utf-32le"] = .iconv("UTF-32LE")
        table["utf-32be"] = .iconv("UTF-32BE")
        return table
    }()

    static func decodeUTF8(_ bytes: [UInt8]) -> (text: String, exact: Bool) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if let text = String(validating: body, as: UTF8.self) { return (text, true) }
        return (String(decoding: body, as: UTF8.self), false)
    }

    /// windows-1252 with the five unassigned bytes mapped to C1 controls, as browsers do.
    static func decodeWindows1252(_ bytes: [UInt8]) -> String {
        if MailBytes.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            if byte >= 0x80 && byte <= 0x9F {
                scalars.append(Unicode.Scalar(windows1252High[Int(byte - 0x80)]) ?? "\u{FFFD}")
            } else {
                scalars.append(Unicode.Scalar(byte))
            }
        }
        return String(scalars)
    }

    private static let windows1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    private static var invalidHandle: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: -1) }

    private static func canOpenIconv(_ name: String) -> Bool {
        guard let handle = iconv_open("UTF-8", name), handle != invalidHandle else { return false }
        iconv_close(handle)
        return true
    }

    /// Decodes through iconv, replacing each invalid byte with U+FFFD; nil if iconv does not know
    /// the charset.
    static func decodeWithIconv(_ bytes: [UInt8], from name: String) -> (text: String, exact: Bool)? {
        guard let handle = iconv_open("UTF-8", name), handle != invalidHandle else { return nil }
        defer { iconv_close(handle) }
        if bytes.isEmpty { return ("", true) }
        var input = bytes
        var result = [UInt8]()
        result.reserveCapacity(bytes.count * 2)
        var exact = true
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        let chunkSize = 16 * 1024
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        input.withUnsafeMutableBufferPointer { inBuffer in
            chunk.withUnsafeMutableBufferPointer { outBuffer in
                guard let inBase = inBuffer.baseAddress, let outBase = outBuffer.baseAddress else { return }
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                let outStart = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
                while inLeft > 0 {
                    var outPointer: UnsafeMutablePointer<CChar>? = outStart
                    var outLeft = chunkSize
                    let status = iconv(handle, &inPointer, &inLeft, &outPointer, &outLeft)
                    let failure = status == -1 ? errno : 0
                    result.append(contentsOf: UnsafeBufferPointer(start: outBase, count: chunkSize - outLeft))
                    if status != -1 { continue }
                    if failure == E2BIG { continue }
                    exact = false
                    result.append(contentsOf: replacement)
                    if failure == EILSEQ, inLeft > 0 {
                        inPointer = inPointer.map { $0 + 1 }
                        inLeft -= 1
                    } else {
                        break  // EINVAL: an incomplete sequence at the end
                    }
                }
                var outPointer: UnsafeMutablePointer<CChar>? = outStart
                var outLeft = chunkSize
                _ = iconv(handle, nil, nil, &outPointer, &outLeft)
                result.append(contentsOf: UnsafeBufferPointer(start: outBase, count: chunkSize - outLeft))
            }
        }
        return (String(decoding: result, as: UTF8.self), exact)
    }
}
