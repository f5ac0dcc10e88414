import Foundation
import SIPCore
import Testing

/// A bounded, seeded fuzzer: the torture corpus and a few ordinary messages, mutated (bytes
/// flipped, inserted, deleted, lines duplicated, cut short, CRLFs and separators injected), go
/// through the parser, the structured views and the stream framer. Nothing may crash or hang; a
/// refusal carries a status the hub can send; anything parsed serializes and parses again.
@Suite("SIP parser properties")
struct SIPFuzzTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func seeds() -> [[UInt8]] {
        var seeds = TortureCorpus.messages().map(\.bytes)
        seeds.append(sip(SIPParserTests.invite))
        seeds.append(sip(SIPParserTests.invite.replacingOccurrences(of: "Content-Length: 12\n\nv=0\no=- 1 1", with: "Content-Length: 71\n\nv=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0 8\n")))
        seeds.append(sip("SIP/2.0 200 OK\nv: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5070;branch=z9hG4bK2;received=192.0.2.1\nf: <sip:a@b>;tag=1\nt: \"x\" <sip:c@d>;tag=2\ni: id\nCSeq: 1 INVITE\nm: <sip:c@192.0.2.2>\nl: 0\n\n"))
        return seeds
    }

    static let fragments: [[UInt8]] = ["\r\n", "\r\n ", ":", ";", ",", "\"", "<", ">", "%", "%0", "@", "[", "]", "/", " ", "\u{0}", "\r", "\n\n",
        "Content-Length: 99999\r\n", "l: -5\r\n", "Via: SIP/2.0/UDP\r\n", "SIP/2.0 ", "\u{FEFF}", "\u{00E9}"].map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], _ random: inout Generator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...6, using: &random) {
            switch Int.random(in: 0..<7, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !bytes.isEmpty:
                bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random))
            case 2:
                bytes.insert(contentsOf: fragments.randomElement(using: &random)!, at: Int.random(in: 0...bytes.count, using: &random))
            case 3 where !bytes.isEmpty:
                bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
            case 4:
                // Duplicate a line.
                let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                if let line = lines.randomElement(using: &random) {
                    bytes.insert(contentsOf: Array(line) + [0x0A], at: Int.random(in: 0...bytes.count, using: &random))
                }
            case 5 where bytes.count > 2:
                let start = Int.random(in: 0..<bytes.count, using: &random)
                let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
                bytes.replaceSubrange(start..<end, with: Array(repeating: bytes[start], count: Int.random(in: 0...200, using: &random)))
            default:
                bytes.append(contentsOf: fragments.randomElement(using: &random)!)
            }
        }
        return bytes
    }

    @Test("mutated messages never crash the parser; refusals carry 400, 505 or 513; what parses round-trips")
    func mutations() throws {
        let seeds = Self.seeds()
        var random = Generator(state: 0x5EED_0F_51_9)
        let deadline = ContinuousClock.now + .seconds(6)
        var parsed = 0
        var refused = 0
        var iterations = 0
        while ContinuousClock.now < deadline || iterations < 2_000 {
            iterations += 1
            let input = Self.mutate(seeds[iterations % seeds.count], &random)
            do {
                let message = try SIPParser().parse(input)
                parsed += 1
                // The structured views must not crash either.
                _ = (message.cseq, message.vias, message.from, message.to, message.callID)
                for value in message.headers.values("Contact") { _ = SIPNameAddress(parsing: value) }
                if let uri = message.requestURI { _ = SIPURI(parsing: uri) }
                if !message.body.isEmpty, let session = try? SDPSession(parsing: message.body) {
                    let again = try? SDPSession(parsing: session.serialized())
                    #expect(again?.media == session.media)
                }
                _ = SIPDialog.uas(request: message, localTag: "fuzz")
                let again = try SIPParser().parse(message.serialized(), framing: .stream)
                #expect(again.startLine == message.startLine)
                #expect(again.body == message.body)
            } catch {
                refused += 1
                #expect([400, 505, 513].contains(error.status), "\(error)")
            }
            var framer = SIPStreamFramer(maximumSize: 8 * 1024)
            _ = try? framer.append(input)
        }
        #expect(parsed > 0 && refused > 0)
    }
}
