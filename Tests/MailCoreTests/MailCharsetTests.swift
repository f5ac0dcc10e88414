import Testing

@testable import MailCore

@Suite("charsets")
struct MailCharsetTests {
    @Test(
        "legacy CJK and European labels decode exactly",
        arguments: [
            // (label, bytes, text)
            ("gb2312", [0xD6, 0xEC, 0xE9, 0x46, 0xBB, 0xF9], "朱镕基"),  // GBK-only 镕 under a gb2312 label
            ("GBK", [0xC4, 0xE3, 0xBA, 0xC3], "你好"),
            ("x-gbk", [0xC4, 0xE3, 0xBA, 0xC3], "你好"),
            ("eucgb2312_cn", [0xC4, 0xE3, 0xBA, 0xC3], "你好"),
            ("gb18030", [0x81, 0x30, 0x81, 0x30], "\u{80}"),
            ("big5", [0xA4, 0xA4, 0xA4, 0xE5], "中文"),
            ("Shift_JIS", [0x93, 0xFA, 0x96, 0x7B, 0x87, 0x40], "日本①"),  // ① is a CP932 extension
            ("windows-31j", [0x93, 0xFA], "日"),
            ("ISO-2022-JP", [0x1B, 0x24, 0x42, 0x46, 0x7C, 0x4B, 0x5C, 0x1B, 0x28, 0x42], "日本"),
            ("euc-jp", [0xC6, 0xFC, 0xCB, 0xDC], "日本"),
            ("ks_c_5601-1987", [0xC7, 0xD1, 0xB1, 0xB9], "한국"),
            ("euc-kr", [0x8C, 0x63], "똠"),  // a CP949 (UHC) extension
            ("iso-8859-1", [0x63, 0x61, 0x66, 0xE9, 0x20, 0x80], "café €"),  // as windows-1252, like browsers
            ("latin1", [0xE9], "é"),
            ("ISO-8859-2", [0xB1, 0xE6], "ąć"),
            ("iso-8859-15", [0xA4], "€"),
            ("windows-1251", [0xCF, 0xF0, 0xE8], "При"),
            ("KOI8-R", [0xF0, 0xD2, 0xC9], "При"),
            ("utf-8", [0xE2, 0x9C, 0x93], "✓"),
            ("UTF8", [0x61], "a"),
            ("\"utf-8\"", [0x61], "a"),
        ] as [(String, [UInt8], String)])
    func exact(label: String, bytes: [UInt8], text: String) {
        let decoded = MailCharset.decode(bytes, charset: label)
        #expect(decoded.text == text)
        #expect(decoded.exact)
    }

    @Test("invalid sequences become U+FFFD and the result is inexact")
    func invalidSequences() {
        let utf8 = MailCharset.decode([0x61, 0xFF, 0x62], charset: "utf-8")
        #expect(utf8.text == "a\u{FFFD}b")
        #expect(!utf8.exact)
        let gb = MailCharset.decode([0x61, 0x80, 0x62], charset: "gb2312")
        #expect(gb.text.hasPrefix("a\u{FFFD}"))
        #expect(gb.text.hasSuffix("b"))
        #expect(!gb.exact)
        let truncated = MailCharset.decode([0xC4, 0xE3, 0xBA], charset: "gbk")
        #expect(truncated.text == "你\u{FFFD}")
        #expect(!truncated.exact)
    }

    @Test("an unknown label decodes as UTF-8, inexact")
    func unknownLabel() {
        let decoded = MailCharset.decode(Array("plain ✓".utf8), charset: "x-foo-bar")
        #expect(decoded.text == "plain ✓")
        #expect(!decoded.exact)
        #expect(!MailCharset.isKnown("x-foo-bar"))
        #expect(MailCharset.isKnown("GB2312"))
    }

    @Test("no charset: ASCII exactly, else UTF-8, else GB18030, inexact")
    func undeclared() {
        #expect(MailCharset.decode(Array("hello".utf8), charset: nil) == ("hello", true))
        let utf8 = MailCharset.decode(Array("Grüße".utf8), charset: nil)
        #expect(utf8.text == "Grüße")
        #expect(!utf8.exact)
        let gbk = MailCharset.decode([0xC4, 0xE3, 0xBA, 0xC3], charset: "us-ascii")
        #expect(gbk.text == "你好")
        #expect(!gbk.exact)
    }

    @Test("a UTF-8 byte-order mark is dropped")
    func byteOrderMark() {
        #expect(MailCharset.decode([0xEF, 0xBB, 0xBF, 0x61], charset: "utf-8").text == "a")
    }

    @Test("decoding is safe from many tasks at once (iconv handles are per call)")
    func concurrent() async {
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let label = ["gbk", "big5", "shift_jis", "euc-kr"][index % 4]
                    let bytes: [UInt8] = [[0xC4, 0xE3, 0xBA, 0xC3], [0xA4, 0xA4, 0xA4, 0xE5], [0x93, 0xFA, 0x96, 0x7B], [0xC7, 0xD1, 0xB1, 0xB9]][index % 4]
                    let expected = ["你好", "中文", "日本", "한국"][index % 4]
                    var ok = true
                    for _ in 0..<50 { ok = ok && MailCharset.decode(bytes, charset: label).text == expected }
                    return ok
                }
            }
            var all = [Bool]()
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0 })
    }
}

@Suite("transfer encodings")
struct TransferEncodingTests {
    @Test("base64 ignores whitespace and garbage and tolerates missing padding")
    func base64() {
        #expect(TransferEncoding.decodeBase64(Array("aGVsbG8gd29ybGQ=".utf8)) == Array("hello world".utf8))
        #expect(TransferEncoding.decodeBase64(Array("aGVsbG8gd29ybGQ".utf8)) == Array("hello world".utf8))
        #expect(TransferEncoding.decodeBase64(Array("aGVs\r\nbG8g *!d29y\tbGQ".utf8)) == Array("hello world".utf8))
        #expect(TransferEncoding.decodeBase64(Array("".utf8)) == [])
        #expect(TransferEncoding.decodeBase64(Array("a".utf8)) == [])
        // Two encodings glued together: the padding ends the first.
        #expect(TransferEncoding.decodeBase64(Array("YQ==Yg==".utf8)) == Array("ab".utf8))
    }

    @Test("quoted-printable: escapes, soft breaks, padding, invalid escapes kept")
    func quotedPrintable() {
        #expect(TransferEncoding.decodeQuotedPrintable(Array("caf=C3=A9".utf8)) == Array("café".utf8))
        #expect(TransferEncoding.decodeQuotedPrintable(Array("caf=c3=a9".utf8)) == Array("café".utf8))
        #expect(TransferEncoding.decodeQuotedPrintable(Array("long=\r\nline".utf8)) == Array("longline".utf8))
        #expect(TransferEncoding.decodeQuotedPrintable(Array("long=  \nline".utf8)) == Array("longline".utf8))
        #expect(TransferEncoding.decodeQuotedPrintable(Array("a  \r\nb".utf8)) == Array("a\r\nb".utf8))
        #expect(TransferEncoding.decodeQuotedPrintable(Array("1+1=2 =ZZ =4".utf8)) == Array("1+1=2 =ZZ =4".utf8))
        #expect(TransferEncoding.decodeQuotedPrintable(Array("end=".utf8)) == Array("end".utf8))
        #expect(TransferEncoding.decodeQuotedPrintable(Array("a b".utf8)) == Array("a b".utf8))
    }
}
