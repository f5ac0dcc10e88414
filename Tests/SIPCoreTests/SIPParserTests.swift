import Foundation
import NIOCore
import SIPCore
import Testing

/// Text with LF line ends as SIP bytes with CRLF.
func sip(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

@Suite("SIP message parser")
struct SIPParserTests {
    static let invite = """
        INVITE sip:support@hub.example.com SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport
        Max-Forwards: 70
        To: <sip:support@hub.example.com>
        From: "Ada Lovelace" <sip:+14155550100@trunk.example.net>;tag=1928301774
        Call-ID: a84b4c76e66710@pc33.example.net
        CSeq: 314159 INVITE
        Contact: <sip:+14155550100@192.0.2.10:5060>
        Content-Type: application/sdp
        Content-Length: 12

        v=0
        o=- 1 1
        """

    @Test("a request: start line, headers in order, structured views and the body")
    func invite() throws {
        let message = try SIPParser().parse(sip(Self.invite))
        #expect(message.method == "INVITE")
        #expect(message.requestURI == "sip:support@hub.example.com")
        #expect(message.callID == "a84b4c76e66710@pc33.example.net")
        #expect(message.cseq == SIPCSeq(number: 314_159, method: "INVITE"))
        #expect(message.headers.first("max-forwards") == "70")
        #expect(message.headers.fields.map(\.name) == [
            "Via", "Max-Forwards", "To", "From", "Call-ID", "CSeq", "Contact", "Content-Type", "Content-Length",
        ])
        let via = try #require(message.vias?.first)
        #expect(message.topVia == via)
        #expect(via.transport == "UDP" && via.host == "192.0.2.10" && via.port == 5060)
        #expect(via.branch == "z9hG4bK776asdhds")
        #expect(via.parameters[parameter: "rport"] == "")
        let from = try #require(message.from)
        #expect(from.displayName == "Ada Lovelace")
        #expect(from.uri.user == "+14155550100" && from.uri.host == "trunk.example.net")
        #expect(from.tag == "1928301774")
        #expect(message.to?.tag == nil)
        #expect(message.body == Array("v=0\r\no=- 1 1".utf8))
    }

    @Test("compact names, folding, whitespace around the colon, any case; comma lists split outside quotes and <>")
    func headerForms() throws {
        let message = try SIPParser().parse(sip("""
            OPTIONS sip:hub.example.com SIP/2.0
            v: SIP/2.0/TCP a.example.com;branch=z9hG4bK1,
             SIP/2.0/UDP b.example.com:5070;branch=z9hG4bK2
            VIA  :   SIP / 2.0 / UDP [2001:db8::9]:5062 ;branch=z9hG4bK3
            i: folded-call-id@example.com
            f: sip:caller@example.com;tag=77
            t: sip:hub.example.com
            cseq:
              2 OPTIONS
            m: "Smith, John" <sip:john@a.example.com;transport=tcp>;q=0.7, <sip:john@b.example.com>
            Max-Forwards: 70
            l: 0


            """))
        #expect(message.callID == "folded-call-id@example.com")
        #expect(message.cseq?.number == 2)
        let vias = try #require(message.vias)
        #expect(vias.map(\.host) == ["a.example.com", "b.example.com", "[2001:db8::9]"])
        #expect(vias.map(\.port) == [nil, 5070, 5062])
        #expect(vias.map(\.branch) == ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"])
        let contacts = message.headers.values("Contact").compactMap(SIPNameAddress.init(parsing:))
        #expect(contacts.count == 2)
        #expect(contacts[0].displayName == "Smith, John")
        #expect(contacts[0].uri.parameters[parameter: "transport"] == "tcp")
        #expect(contacts[0].parameters[parameter: "q"] == "0.7")
        #expect(message.from?.tag == "77")
        #expect(message.from?.uri.parameters.isEmpty == true)
        #expect(message.body.isEmpty)
        // Lines counted without collecting them; a line of one value (no comma) is that value,
        // trimmed, and an empty one none.
        #expect(message.headers.count("Via") == 2 && message.headers.count("v") == 2 && message.headers.count("Route") == 0)
        #expect(message.headers.count("Call-ID") == 1 && message.requestProblem() == nil)
        var lines = SIPHeaders()
        lines.add("Contact", "  <sip:a@b>;q=1 ")
        lines.add("Contact", " \t ")
        lines.add("Contact", "<sip:c@d>, ,<sip:e@f>")
        #expect(lines.values("Contact") == ["<sip:a@b>;q=1", "<sip:c@d>", "<sip:e@f>"])
    }

    @Test("Content-Length: larger than the body is refused, smaller cuts a datagram, absent runs to the end (not on a stream)")
    func contentLength() throws {
        let head = "MESSAGE sip:a@b.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\nTo: <sip:a@b.example>\nFrom: <sip:c@d.example>;tag=1\nCall-ID: x\nCSeq: 1 MESSAGE\nMax-Forwards: 70\n"
        #expect(throws: SIPParseError.self) { try SIPParser().parse(sip(head + "Content-Length: 50\n\nhello")) }
        #expect(try SIPParser().parse(sip(head + "Content-Length: 3\n\nhello")).body == Array("hel".utf8))
        #expect(try SIPParser().parse(sip(head + "\nhello")).body == Array("hello".utf8))
        #expect(throws: SIPParseError.self) { try SIPParser().parse(sip(head + "\nhello"), framing: .stream) }
        #expect(throws: SIPParseError.self) { try SIPParser().parse(sip(head + "Content-Length: 5\nl: 4\n\nhello")) }
        #expect(throws: SIPParseError.self) { try SIPParser().parse(sip(head + "Content-Length: -1\n\nhello")) }
    }

    @Test("start lines: single spaces, SIP/2.0 only (505), three-digit codes, an empty reason phrase")
    func startLines() throws {
        let rest = "\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\nCall-ID: x\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n"
        #expect(try SIPParser().parse(sip("SIP/2.0 180 Ringing" + rest)).status == 180)
        let noReason = try SIPParser().parse(sip("SIP/2.0 100 " + rest))
        #expect(noReason.startLine == .response(status: 100, reason: ""))
        for bad in ["OPTIONS  sip:a@b SIP/2.0", "OPTIONS sip:a@b  SIP/2.0", "OPTIONS sip:a@b", "SIP/2.0 2000 OK", "SIP/2.0 099 Low", "OPT<IONS sip:a@b SIP/2.0"] {
            #expect(throws: SIPParseError.self, "\(bad)") { try SIPParser().parse(sip(bad + rest)) }
        }
        do {
            _ = try SIPParser().parse(sip("OPTIONS sip:a@b SIP/7.0" + rest))
            Issue.record("SIP/7.0 was accepted")
        } catch {
            #expect(error.status == 505)
        }
        do {
            _ = try SIPParser().parse(sip("SIP/3.0 200 OK" + rest))
            Issue.record("SIP/3.0 was accepted")
        } catch {
            #expect(error.status == 505)
        }
        // The version in any case; a control byte that differs from '/', '2', '.' or '0' only in
        // the bit a lower-casing sets is not one of them.
        #expect(try SIPParser().parse(sip("options sip:a@b sip/2.0" + rest)).startLine == .request(method: "options", uri: "sip:a@b"))
        #expect(try SIPParser().parse(sip("sip/2.0 200 Fine, thanks" + rest)).startLine == .response(status: 200, reason: "Fine, thanks"))
        for version in ["SIP\u{0F}2.0", "SIP/\u{12}.0", "SIP/2\u{0E}0", "SIP/2.\u{10}"] {
            #expect(throws: SIPParseError.self, "\(version)") { try SIPParser().parse(sip("OPTIONS sip:a@b \(version)" + rest)) }
            #expect(throws: SIPParseError.self, "\(version)") { try SIPParser().parse(sip("\(version) 200 OK" + rest)) }
        }
        // A reason phrase and a Request-URI in UTF-8 come through whole; other bytes are refused.
        #expect(try SIPParser().parse(sip("SIP/2.0 486 忙线中" + rest)).startLine == .response(status: 486, reason: "忙线中"))
        var latin1 = Array("SIP/2.0 486 Occup".utf8) + [0xE9] + Array(rest.utf8)
        #expect(throws: SIPParseError.self) { try SIPParser().parse(latin1) }
        latin1 = Array("OPTIONS sip:caf".utf8) + [0xE9] + Array("@b SIP/2.0".utf8) + Array(rest.utf8)
        #expect(throws: SIPParseError.self) { try SIPParser().parse(latin1) }
    }

    @Test("header names: known ones spelled canonically in any case, compact forms expanded, unknown ones kept as written")
    func headerNames() throws {
        let message = try SIPParser().parse(
            sip(
                "OPTIONS sip:a@b SIP/2.0\nvIA: SIP/2.0/UDP h;branch=z9hG4bKx\ncall-id: x\nCSEQ: 1 OPTIONS\nP-ASSERTED-identity: <tel:+1>\n"
                    + "X-Custom-Thing: 1\nx-custom-thing: 2\nl: 0\nm: <sip:c@d>\nMax-Forwards : 70\n\n"))
        #expect(message.headers.fields.map(\.name) == [
            "Via", "Call-ID", "CSeq", "P-Asserted-Identity", "X-Custom-Thing", "x-custom-thing", "Content-Length", "Contact", "Max-Forwards",
        ])
        #expect(message.headers.lines("X-CUSTOM-THING") == ["1", "2"])
        #expect(message.headers.first("contact") == "<sip:c@d>" && message.headers.first("Max-Forwards") == "70")
        #expect(message.callID == "x" && message.cseq?.method == "OPTIONS")
    }

    @Test("bounded: too many header fields or too long a line is 513, never a crash")
    func limits() {
        var text = "OPTIONS sip:a@b SIP/2.0\n"
        for index in 0..<300 { text += "X-H\(index): \(index)\n" }
        do {
            _ = try SIPParser().parse(sip(text + "\n"))
            Issue.record("300 headers accepted")
        } catch {
            #expect(error.status == 513)
        }
        do {
            _ = try SIPParser(maximumLineLength: 100).parse(sip("OPTIONS sip:a@b SIP/2.0\nSubject: " + String(repeating: "x", count: 200) + "\n\n"))
            Issue.record("a long line accepted")
        } catch {
            #expect(error.status == 513)
        }
    }

    @Test("serializing gives canonical names, one field per line and the body's Content-Length; parsing it back gives the same message")
    func roundTrip() throws {
        let message = try SIPParser().parse(sip(Self.invite))
        var changed = message
        changed.body = Array("v=0\r\n".utf8)
        let wire = changed.serialized()
        let text = String(decoding: wire, as: UTF8.self)
        #expect(text.hasPrefix("INVITE sip:support@hub.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"))
        #expect(text.hasSuffix("Content-Length: 5\r\n\r\nv=0\r\n"))
        let again = try SIPParser().parse(wire, framing: .stream)
        #expect(again.startLine == changed.startLine)
        #expect(again.body == changed.body)
        #expect(again.headers.fields.filter { $0.name != "Content-Length" } == changed.headers.fields.filter { $0.name != "Content-Length" })
    }

    @Test("header editing: a new top Via, the top value of a list line removed, a header set once")
    func editing() throws {
        var headers = try SIPParser().parse(sip(Self.invite)).headers
        headers.prepend("Via", "SIP/2.0/UDP hub.example.com;branch=z9hG4bKhub")
        #expect(headers.values("Via").count == 2)
        headers.removeFirstValue("Via")
        #expect(headers.values("Via") == ["SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport"])
        headers.add("Via", "SIP/2.0/UDP a;branch=z9hG4bKa, SIP/2.0/UDP b;branch=z9hG4bKb")
        headers.removeFirstValue("v")
        #expect(headers.values("Via").count == 2)
        headers.set("Max-Forwards", "69")
        headers.add("max-forwards", "1")
        headers.set("MAX-FORWARDS", "68")
        #expect(headers.lines("Max-Forwards") == ["68"])
    }

    @Test("From, To, CSeq and the top Via parsed once read the same as parsed each time; a change of the headers forgets them")
    func commonHeaders() throws {
        let plain = try SIPParser().parse(sip(Self.invite))
        var cached = plain
        cached.parseCommonHeaders()
        #expect(cached.from == plain.from && cached.to == plain.to && cached.cseq == plain.cseq && cached.topVia == plain.topVia)
        #expect(cached.from != nil && cached.cseq?.method == "INVITE")
        #expect(cached == plain && cached.hashValue == plain.hashValue)
        cached.headers.set("From", "<sip:carol@example.org>;tag=9")
        cached.headers.set("CSeq", "7 BYE")
        #expect(cached.from?.uri.user == "carol" && cached.from?.tag == "9")
        #expect(cached.cseq == SIPCSeq(number: 7, method: "BYE"))
        #expect(cached.to == plain.to)
    }
}

@Suite("SIP stream framing")
struct SIPStreamFramerTests {
    static let message = sip("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\nCall-ID: x\nCSeq: 1 OPTIONS\nContent-Length: 4\n\nbody")

    @Test("messages back to back, split anywhere, with keep-alive pings between them")
    func framing() throws {
        let stream = Self.message + [0x0D, 0x0A, 0x0D, 0x0A] + Self.message + [0x0D, 0x0A] + Self.message
        for chunk in [1, 3, 7, stream.count] {
            var framer = SIPStreamFramer()
            var items: [SIPStreamFramer.Item] = []
            var offset = 0
            while offset < stream.count {
                items += try framer.append(stream[offset..<min(stream.count, offset + chunk)])
                offset += chunk
            }
            let messages = items.compactMap { if case .message(let bytes) = $0 { bytes } else { nil } }
            let pings = items.filter { if case .keepAlivePing = $0 { true } else { false } }.count
            #expect(messages == [Self.message, Self.message, Self.message], "chunk \(chunk)")
            #expect(pings == 1, "chunk \(chunk)")
            #expect(try messages.map { try SIPParser().parse($0, framing: .stream).body } == Array(repeating: Array("body".utf8), count: 3))
        }
    }

    @Test("a message without Content-Length, or larger than the limit, fails the stream")
    func failures() {
        var framer = SIPStreamFramer()
        #expect(throws: SIPParseError.self) { try framer.append(sip("OPTIONS sip:a@b SIP/2.0\nCall-ID: x\n\n")) }
        #expect(throws: SIPParseError.self) { try framer.append(Self.message) }
        var small = SIPStreamFramer(maximumSize: 64)
        #expect(throws: SIPParseError.self) { try small.append(Self.message) }
        var endless = SIPStreamFramer(maximumSize: 1024)
        #expect(throws: SIPParseError.self) { try endless.append(Array(repeating: UInt8(ascii: "A"), count: 2000)) }
    }
}

@Suite("SIP hostile input")
struct SIPHostileInputTests {
    @Test("thousands of folded continuation lines are refused (bounded), not joined line by line; a bare CR in a continuation is refused")
    func folding() {
        var text = "OPTIONS sip:h@h SIP/2.0\r\nX: " + String(repeating: "a", count: 16_000) + "\r\n"
        text += String(repeating: " \r\n", count: 16_000) + "\r\n"
        do {
            _ = try SIPParser().parse(Array(text.utf8))
            Issue.record("accepted")
        } catch {
            #expect(error.status == 513)
        }
        #expect(throws: SIPParseError.self) { try SIPParser().parse(Array("OPTIONS sip:h@h SIP/2.0\r\nVia: x\r\n \rX: y\r\n\r\n".utf8)) }
    }

    @Test("a stream of line ends and pings is consumed in one pass, answered with one pong per read")
    func keepAliveFlood() throws {
        var framer = SIPStreamFramer()
        let pings = try framer.append(Array(repeating: [UInt8]([0x0D, 0x0A, 0x0D, 0x0A]), count: 16_384).joined())
        #expect(pings.count == 1)
        #expect(try framer.append(Array(repeating: UInt8(0x0A), count: 65_536)).isEmpty)
        let message = sip("OPTIONS sip:a@b SIP/2.0\nContent-Length: 0\n\n")
        #expect(try framer.append(message).count == 1)
    }

    @Test("Via stamping keeps quoted parameters quoted: no injected Via, no valid request turned bad; received replaces the client's own")
    func stamping() throws {
        let peer = SIPPeer(transport: .udp, address: try SocketAddress(ipAddress: "192.0.2.7", port: 40_000))
        var message = try SIPParser().parse(sip("""
            OPTIONS sip:hub@hub.example SIP/2.0
            Via: SIP/2.0/UDP client.invalid;branch=z9hG4bK1;x="a, SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bKevil";y="a b"
            Call-ID: c
            CSeq: 1 OPTIONS
            Content-Length: 0


            """))
        SIPTransport.stampVia(&message, from: peer)
        let vias = try #require(message.vias)
        #expect(vias.count == 1)
        #expect(vias[0].parameters[parameter: "received"] == "192.0.2.7")
        #expect(vias[0].parameters[parameter: "y"] == "a b")
        let again = try SIPParser().parse(message.serialized())
        #expect(again.vias?.count == 1)

        var spoofed = try SIPParser().parse(sip("""
            OPTIONS sip:hub@hub.example SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK2;received=198.51.100.9;rport=9999
            Call-ID: c
            CSeq: 1 OPTIONS
            Content-Length: 0


            """))
        SIPTransport.stampVia(&spoofed, from: peer)
        let via = try #require(spoofed.vias?.first)
        #expect(via.parameters[parameter: "received"] == "192.0.2.7" && via.parameters[parameter: "rport"] == "40000")
        #expect(via.parameters.filter { $0.name == "received" }.count == 1)
    }

    @Test("nothing breaks a header on the wire: CR and LF in values, quotes hidden behind combining marks, unknown names in any case")
    func serializing() throws {
        var headers = SIPHeaders()
        headers.add("Subject", "hi\r\nContact: <sip:evil@evil.example>")
        headers.add("x-Custom", "1")
        #expect(headers.first("X-CUSTOM") == "1")
        headers.set("X-CUSTOM", "2")
        #expect(headers.lines("x-custom") == ["2"])
        let name = "Acme\"\u{301} <sip:attacker@evil.example>;x="
        let display = SIPNameAddress(displayName: name, uri: SIPURI(parsing: "sip:customer@example.com")!)
        headers.add("From", display.description)
        let wire = SIPMessage.request("MESSAGE", uri: "sip:hub@hub.example", headers: headers).serialized()
        let parsed = try SIPParser().parse(wire)
        #expect(parsed.headers.lines("Contact").isEmpty)
        #expect(parsed.headers.first("Subject") == "hi  Contact: <sip:evil@evil.example>")
        #expect(parsed.from?.uri.host == "example.com")
        let parsedName = parsed.from?.displayName
        #expect(parsedName == name)
    }

    @Test("firstValue is values(name).first for list and other headers: commas in quotes and <>, empty lines, compact and odd-case names")
    func firstValue() {
        var random = SystemRandomNumberGenerator()
        let names = ["Via", "v", "VIA", "Contact", "m", "Record-Route", "Route", "Subject", "Call-ID", "X-Custom", "Authorization"]
        let pieces = [
            "SIP/2.0/UDP a:5060;branch=z9hG4bK1", "\"Doe, J\" <sip:j@d>", "<sip:p1;lr>", "<sip:a,b@c>", " ", "", ",", " , ",
            "Digest username=\"a\", realm=\"b\"", "x", "\"q,\\\"r\" <sip:r@s>;tag=1",
        ]
        for _ in 0..<3_000 {
            var headers = SIPHeaders()
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                let parts = (0..<Int.random(in: 1...3, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                headers.add(names.randomElement(using: &random)!, parts.joined(separator: ", "))
            }
            for name in names {
                #expect(headers.firstValue(name) == headers.values(name).first, "\(name) \(Array(headers))")
            }
        }
    }
}
