import HubModel
import SIPCore
import Testing

@testable import HubServer

/// Who calls: caller ID from P-Asserted-Identity or From, normalized.
@Suite struct SIPCallerTests {
    func invite(_ extra: String, from: String = "\"Customer\" <sip:+8613800138000@192.0.2.1:5060>;tag=a") throws -> SIPMessage {
        let text =
            "INVITE sip:+861088886666@hub SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: \(from)\r\nTo: <sip:+861088886666@hub>\r\n"
            + "Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n\(extra)Content-Length: 0\r\n\r\n"
        return try SIPParser().parse(Array(text.utf8))
    }

    @Test func assertedTelephoneNumberWins() throws {
        let caller = SIPService.caller(of: try invite("P-Asserted-Identity: <sip:someone@carrier>, <tel:+8613900139000>\r\n"), region: "CN")
        #expect(caller.sender == InboundSender(kind: .phone, address: "+8613900139000"))
        #expect(caller.display == "+8613900139000")
    }

    @Test func fromIsUsedWithoutAssertedIdentityAndNationalNumbersNormalized() throws {
        let caller = SIPService.caller(of: try invite("", from: "<sip:13800138000@192.0.2.1>;tag=a"), region: "CN")
        #expect(caller.sender.address == "+8613800138000")
        #expect(caller.recordAddress == "+8613800138000")
    }

    @Test func withheldNumbersAreKeptButNotShown() throws {
        let caller = SIPService.caller(of: try invite("P-Asserted-Identity: <tel:+8613900139000>\r\nPrivacy: id\r\n"), region: "CN")
        #expect(caller.sender.address == "+8613900139000")
        #expect(caller.display == "anonymous")
    }

    @Test func anonymousCallersAreEachTheirOwn() throws {
        let message = try invite("", from: "\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=a")
        let first = SIPService.caller(of: message, region: "CN")
        let second = SIPService.caller(of: message, region: "CN")
        #expect(first.sender.kind == .sip && first.display == "anonymous")
        #expect(first.sender.address != second.sender.address)
    }

    @Test func sipCallersKeepTheirAddress() throws {
        let caller = SIPService.caller(of: try invite("", from: "<sip:Bob@Example.COM>;tag=a"), region: "CN")
        #expect(caller.sender == InboundSender(kind: .sip, address: "sip:Bob@example.com"))
    }
}
