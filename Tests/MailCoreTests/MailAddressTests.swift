import Testing

@testable import MailCore

@Suite("address lists")
struct MailAddressTests {
    @Test("name-addr, bare addr-spec and angle-addr")
    func basicForms() {
        #expect(MailAddress.parseList("Alice Example <alice@Example.COM>") == [MailAddress(displayName: "Alice Example", address: "alice@example.com")])
        #expect(MailAddress.parseList("bob@example.org") == [MailAddress(displayName: nil, address: "bob@example.org")])
        #expect(MailAddress.parseList("<carol@example.org>") == [MailAddress(displayName: nil, address: "carol@example.org")])
    }

    @Test("the local part keeps its case, the domain is lower-cased")
    func caseHandling() {
        #expect(MailAddress.parseList("John.Doe@EXAMPLE.Org").first?.address == "John.Doe@example.org")
    }

    @Test("quoted display names with commas and escapes")
    func quotedNames() {
        let list = MailAddress.parseList(#""Doe, John" <john@example.org>, "Say \"hi\"" <hi@example.org>"#)
        #expect(list.map(\.displayName) == ["Doe, John", #"Say "hi""#])
        #expect(list.map(\.address) == ["john@example.org", "hi@example.org"])
    }

    @Test("RFC 2047 display names, bare and inside quotes")
    func encodedNames() {
        #expect(MailAddress.parseList("=?GB2312?B?1cXI/Q==?= <zhangsan@example.cn>").first?.displayName == "张三")
        #expect(MailAddress.parseList("\"=?utf-8?B?5byg5LiJ?=\" <zhangsan@example.cn>").first?.displayName == "张三")
        #expect(MailAddress.parseList("=?utf-8?q?J=C3=B6rg?= Smith <j@example.de>").first?.displayName == "Jörg Smith")
    }

    @Test("comments: dropped, or the display name when there is none")
    func comments() {
        #expect(MailAddress.parseList("MAILER-DAEMON@mx.example.com (Mail Delivery System)")
            == [MailAddress(displayName: "Mail Delivery System", address: "MAILER-DAEMON@mx.example.com")])
        #expect(MailAddress.parseList("Ann (work) <ann@example.com>") == [MailAddress(displayName: "Ann", address: "ann@example.com")])
        #expect(MailAddress.parseList("(a (nested) comment) x@example.com").first?.displayName == "a (nested) comment")
    }

    @Test("groups keep their members and drop their names")
    func groups() {
        #expect(MailAddress.parseList("undisclosed-recipients:;") == [])
        let list = MailAddress.parseList("Team: ann@example.com, Bo <bo@example.com>;, last@example.com")
        #expect(list.map(\.address) == ["ann@example.com", "bo@example.com", "last@example.com"])
    }

    @Test("source routes and mailto: prefixes are removed")
    func oddAngles() {
        #expect(MailAddress.parseList("<@relay.example,@b.example:user@example.com>").first?.address == "user@example.com")
        #expect(MailAddress.parseList("X <mailto:x@example.com>").first?.address == "x@example.com")
    }

    @Test("garbage yields nothing, and never traps", arguments: ["", ",,,", "John Doe", "<>", "\"unterminated <a@b", "@", "a@", "<<<>>>", ";:;:"])
    func garbage(raw: String) {
        let list = MailAddress.parseList(raw)
        #expect(list.allSatisfy { $0.address.contains("@") })
    }

    @Test("an unterminated quote still finds nothing wrong to trap on")
    func unterminated() {
        #expect(MailAddress.parseList("\"Broken <a@example.com>").isEmpty)
        #expect(MailAddress.parseList("Broken <a@example.com").map(\.address) == ["a@example.com"])
    }

    @Test("raw UTF-8 (SMTPUTF8) addresses and names")
    func utf8() {
        #expect(MailAddress.parseList("王五 <wangwu@例子.中国>") == [MailAddress(displayName: "王五", address: "wangwu@例子.中国")])
    }
}
