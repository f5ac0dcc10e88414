import HubModel
import Testing

@Suite("Contact masking")
struct ContactMaskTests {
    @Test(
        "phone numbers keep country code, first digits and the last four",
        arguments: [
            ("+8613812345678", "+86138****5678"),
            ("13812345678", "138****5678"),
            ("+14155550123", "+141****0123"),
            ("+4930123456", "+49****3456"),
            ("12345", "***45"),
        ])
    func phones(address: String, masked: String) {
        #expect(ContactMask.mask(address, kind: .phone) == masked)
    }

    @Test("e-mail addresses keep their first letter and domain")
    func emails() {
        #expect(ContactMask.mask("lilei@example.com", kind: .email) == "l***@example.com")
        #expect(ContactMask.mask("x@y.cn", kind: .email) == "x***@y.cn")
    }

    @Test("provider ids keep their first and last four characters; short ones are hidden")
    func identifiers() {
        #expect(ContactMask.mask("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", kind: .wechat) == "oUpF****eS6o")
        #expect(ContactMask.mask("12345", kind: .telegram) == "*****")
    }

    @Test("a masked value never contains the hidden digits")
    func hides() {
        let masked = ContactMask.mask("+8613800138000", kind: .phone)
        #expect(!masked.contains("0013"))
        #expect(masked.hasSuffix("8000"))
    }
}
