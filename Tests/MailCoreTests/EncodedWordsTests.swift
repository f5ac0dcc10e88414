import Testing

@testable import MailCore

@Suite("RFC 2047 encoded words")
struct EncodedWordsTests {
    @Test(
        "published examples decode exactly",
        arguments: [
            ("=?GB2312?B?xPq1xLmktaUgIzEyMzQg17TMrNLRuPzQwg==?=", "您的工单 #1234 状态已更新"),
            ("Re: =?UTF-8?B?6YCA5qy+6L+b5bqm?= =?UTF-8?Q?_=E5=B7=B2?=", "Re: 退款进度 已"),
            ("=?UTF-8?Q?=E9=80=80=E6=AC=BE=E8=BF=9B=E5=BA=A6?=", "退款进度"),
        ])
    func publishedExamples(raw: String, expected: String) {
        #expect(EncodedWords.decode(raw) == expected)
    }

    @Test("朱镕基 in GBK labelled gb2312 decodes (as GB18030)")
    func gbkUnderGB2312Label() {
        // 朱镕基 in GBK: D6 EC E9 46 BB F9; 镕 (E9 46) is not in GB2312.
        #expect(EncodedWords.decode("=?gb2312?B?1uzpRrv5?=") == "朱镕基")
        #expect(EncodedWords.decode("=?gb2312?Q?=D6=EC=E9F=BB=F9?=") == "朱镕基")
    }

    @Test("lower-case b and q, and the charset*language form")
    func lowercaseAndLanguage() {
        #expect(EncodedWords.decode("=?utf-8?b?w6k=?=") == "é")
        #expect(EncodedWords.decode("=?utf-8*en?q?hello_world?=") == "hello world")
        #expect(EncodedWords.decode("=?ISO-8859-1*fr?Q?caf=E9?=") == "café")
    }

    @Test("whitespace between adjacent encoded words is dropped, around plain text kept")
    func adjacency() {
        #expect(EncodedWords.decode("=?utf-8?q?a?= =?utf-8?q?b?=") == "ab")
        #expect(EncodedWords.decode("=?utf-8?q?a?=\t  =?utf-8?q?b?=") == "ab")
        #expect(EncodedWords.decode("=?utf-8?q?a?= b =?utf-8?q?c?=") == "a b c")
        #expect(EncodedWords.decode("x =?utf-8?q?a?=") == "x a")
        // Encoded words glued together without whitespace (seen from broken mailers).
        #expect(EncodedWords.decode("=?utf-8?q?a?==?utf-8?q?b?=") == "ab")
    }

    @Test("a character split across two words survives")
    func splitCharacter() {
        // 退 is E9 80 80: the first word carries E9 80, the second 80.
        #expect(EncodedWords.decode("=?utf-8?Q?=E9=80?= =?utf-8?Q?=80?=") == "退")
        #expect(EncodedWords.decode("=?utf-8?B?6YA=?= =?utf-8?B?gA==?=") == "退")
    }

    @Test("words in different charsets decode separately")
    func mixedCharsets() {
        #expect(EncodedWords.decode("=?gb2312?B?1uw=?= =?big5?B?pOU=?=") == "朱文")
    }

    @Test(
        "malformed words are left as they are",
        arguments: [
            "=?utf-8?X?abc?=", "=?utf-8?Q?unterminated", "=??Q?abc?=", "=?utf-8?Q", "=?", "plain = text ? here",
            "=?utf 8?Q?a?=",
        ])
    func malformed(raw: String) {
        #expect(EncodedWords.decode(raw) == raw)
    }

    @Test("an unknown charset decodes as UTF-8")
    func unknownCharset() {
        #expect(EncodedWords.decode("=?x-klingon?Q?Qapla=27?=") == "Qapla'")
    }

    @Test("text without encoded words is returned unchanged")
    func passThrough() {
        let text = "Re: 订单 = 42?"
        #expect(EncodedWords.decode(text) == text)
    }
}
