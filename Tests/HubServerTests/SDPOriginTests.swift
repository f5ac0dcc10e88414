import Testing

@testable import HubServer

/// The hub's origin line in the SDP a caller gets (`SIPService.replacingOrigin`).
@Suite struct SDPOriginTests {
    /// The reading it replaced: split into lines at "\n", the first line that starts with "o="
    /// replaced (its "\r" kept), joined again.
    static func byLines(_ body: [UInt8], _ origin: String) -> [UInt8] {
        var lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        guard let index = lines.firstIndex(where: { $0.starts(with: Array("o=".utf8)) }) else { return body }
        lines[index] = Array(origin.utf8) + (lines[index].last == UInt8(ascii: "\r") ? [UInt8(ascii: "\r")] : [])
        return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
    }

    @Test func replacesTheFirstOriginLineAndKeepsItsEnd() {
        let origin = "o=switchboard 1 2 IN IP4 192.0.2.10"
        let offer = "v=0\r\no=phone 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
        #expect(
            String(decoding: SIPService.replacingOrigin(in: Array(offer.utf8), with: origin), as: UTF8.self)
                == "v=0\r\n\(origin)\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n")
        #expect(String(decoding: SIPService.replacingOrigin(in: Array("v=0\no=a\no=b\n".utf8), with: origin), as: UTF8.self) == "v=0\n\(origin)\no=b\n")
        #expect(String(decoding: SIPService.replacingOrigin(in: Array("v=0\r\no=".utf8), with: origin), as: UTF8.self) == "v=0\r\n\(origin)")
        #expect(SIPService.replacingOrigin(in: Array("v=0\r\ns=-\r\n".utf8), with: origin) == Array("v=0\r\ns=-\r\n".utf8))
        #expect(SIPService.replacingOrigin(in: [], with: origin) == [])
    }

    @Test func agreesWithTheLineByLineReadingOnRandomBodies() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["o=", "o", "=", "\r", "\n", "\r\n", "v=0", "s=-", "x", " ", "oo=", "\u{00e9}"].map { Array($0.utf8) }
        for _ in 0..<5000 {
            var body: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &generator) { body += pieces.randomElement(using: &generator)! }
            let origin = "o=switchboard \(Int.random(in: 0...99, using: &generator)) 1 IN IP4 192.0.2.1"
            #expect(SIPService.replacingOrigin(in: body, with: origin) == Self.byLines(body, origin), "\(body)")
        }
    }
}
