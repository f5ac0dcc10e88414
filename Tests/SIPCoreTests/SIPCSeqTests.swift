import Testing

@testable import SIPCore

/// The CSeq header read by byte (`SIPCSeq(parsing:)`).
@Suite struct SIPCSeqTests {
    /// The reading it replaced: split at spaces and tabs by Character, two parts, digits and a token.
    static func byCharacters(_ text: String) -> SIPCSeq? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].utf8.count <= 10, parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = UInt32(parts[0]),
            number < 1 << 31, SIPGrammar.isToken(parts[1])
        else { return nil }
        return SIPCSeq(number: number, method: String(parts[1]))
    }

    @Test func readsNumberAndMethod() {
        #expect(SIPCSeq(parsing: "1 INVITE") == SIPCSeq(number: 1, method: "INVITE"))
        #expect(SIPCSeq(parsing: " \t4711\t\tBYE  ") == SIPCSeq(number: 4711, method: "BYE"))
        #expect(SIPCSeq(parsing: "2147483647 ACK") == SIPCSeq(number: 2_147_483_647, method: "ACK"))
        #expect(SIPCSeq(parsing: "2147483648 ACK") == nil)
        #expect(SIPCSeq(parsing: "9999999999 ACK") == nil)
        #expect(SIPCSeq(parsing: "00000000001 ACK") == nil)
        #expect(SIPCSeq(parsing: "1") == nil)
        #expect(SIPCSeq(parsing: "") == nil)
        #expect(SIPCSeq(parsing: "1 INVITE extra") == nil)
        #expect(SIPCSeq(parsing: "-1 INVITE") == nil)
        #expect(SIPCSeq(parsing: "1 INV\"ITE") == nil)
        #expect(SIPCSeq(parsing: "１ INVITE") == nil)
    }

    @Test func agreesWithTheCharacterReadingOnRandomText() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["1", "0", "9", "2147483648", "12345678901", " ", "\t", "  ", "INVITE", "BYE", "x", "\"", "\u{301}", "é", "-", "\r\n", "１"]
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...6, using: &generator) { text += pieces.randomElement(using: &generator)! }
            #expect(SIPCSeq(parsing: text) == Self.byCharacters(text), "\(Array(text.utf8))")
        }
    }
}
