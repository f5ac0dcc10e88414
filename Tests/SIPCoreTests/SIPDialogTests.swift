import NIOCore
import SIPCore
import Testing

@Suite("SIP dialogs and session descriptions")
struct SIPDialogTests {
    static let invite = sip("""
        INVITE sip:agent7@192.0.2.7:5062 SIP/2.0
        Via: SIP/2.0/UDP hub.example.com:5060;branch=z9hG4bKleg
        Max-Forwards: 70
        From: "Support" <sip:support@hub.example.com>;tag=hubtag
        To: <sip:agent7@hub.example.com>
        Call-ID: leg-b-1@hub.example.com
        CSeq: 1 INVITE
        Contact: <sip:hub@198.51.100.1:5060>
        Content-Type: application/sdp
        Content-Length: 0


        """)

    static let ok = sip("""
        SIP/2.0 200 OK
        Via: SIP/2.0/UDP hub.example.com:5060;branch=z9hG4bKleg
        Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
        From: "Support" <sip:support@hub.example.com>;tag=hubtag
        To: <sip:agent7@hub.example.com>;tag=phone9
        Call-ID: leg-b-1@hub.example.com
        CSeq: 1 INVITE
        Contact: <sip:agent7@192.0.2.7:5062;transport=udp>
        Content-Length: 0


        """)

    @Test("a UAC's dialog from its INVITE and the 200: route set reversed, the Contact as target; BYE and the ACK built from it")
    func uacDialog() throws {
        let invite = try SIPParser().parse(Self.invite)
        let ok = try SIPParser().parse(Self.ok)
        var dialog = try #require(SIPDialog.uac(request: invite, response: ok))
        #expect(dialog.localTag == "hubtag" && dialog.remoteTag == "phone9")
        #expect(dialog.routeSet == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"])
        #expect(dialog.remoteTarget.description == "sip:agent7@192.0.2.7:5062;transport=udp")
        #expect(dialog.matches(ok))

        let via: (String) -> String = { "SIP/2.0/UDP 198.51.100.1:5060;branch=\($0)" }
        let ack = dialog.ack(sequence: 1, via: via)
        #expect(ack.method == "ACK" && ack.cseq == SIPCSeq(number: 1, method: "ACK"))
        #expect(ack.vias?.first?.branch?.hasPrefix("z9hG4bK") == true && ack.vias?.first?.branch != "z9hG4bKleg")
        let bye = dialog.request("BYE", via: via)
        #expect(bye.requestURI == "sip:agent7@192.0.2.7:5062;transport=udp")
        #expect(bye.cseq == SIPCSeq(number: 2, method: "BYE"))
        #expect(bye.headers.lines("Route") == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"])
        #expect(bye.from?.tag == "hubtag" && bye.to?.tag == "phone9" && bye.callID == "leg-b-1@hub.example.com")
        #expect(bye.requestProblem() == nil)
        let info = dialog.request("INFO", via: via)
        #expect(info.cseq?.number == 3)
    }

    @Test("a UAS's dialog: the peer's requests in order, an older CSeq out of order; requests of another dialog do not match")
    func uasDialog() throws {
        let invite = try SIPParser().parse(Self.invite)
        var dialog = try #require(SIPDialog.uas(request: invite, localTag: "agentleg"))
        #expect(dialog.remoteTag == "hubtag" && dialog.remoteSequence == 1)
        var bye = try SIPParser().parse(Self.invite)
        bye.startLine = .request(method: "BYE", uri: "sip:hub@198.51.100.1")
        bye.headers.set("CSeq", "2 BYE")
        bye.headers.set("To", "<sip:agent7@hub.example.com>;tag=agentleg")
        #expect(dialog.matches(bye))
        let first = dialog.accept(bye)
        let again = dialog.accept(bye)
        #expect(first)
        #expect(!again, "the same CSeq again is out of order")
        bye.headers.set("To", "<sip:agent7@hub.example.com>;tag=other")
        #expect(!dialog.matches(bye))
        #expect(SIPDialog.uas(request: try SIPParser().parse(sip("OPTIONS sip:a@b SIP/2.0\nCall-ID: x\nCSeq: 1 OPTIONS\n\n")), localTag: "t") == nil)
    }

    static let offer = Array("""
        v=0\r
        o=- 20518 0 IN IP4 203.0.113.1\r
        s=-\r
        c=IN IP4 203.0.113.1\r
        t=0 0\r
        m=audio 54400 RTP/AVP 0 8 101\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:101 telephone-event/8000\r
        a=sendrecv\r
        m=video 0 RTP/AVP 96\r
        c=IN IP4 203.0.113.2\r
        a=inactive\r

        """.utf8)

    @Test("a session description: origin, connection, media with formats, rtpmap and direction; serialized as it came")
    func sdp() throws {
        let session = try SDPSession(parsing: Self.offer)
        #expect(session.sessionID == "20518" && session.sessionVersion == 0)
        #expect(session.connectionAddress == "203.0.113.1")
        #expect(session.media.count == 2)
        let audio = session.media[0]
        #expect(audio.type == "audio" && audio.port == 54_400 && audio.proto == "RTP/AVP" && audio.formats == ["0", "8", "101"])
        #expect(audio.rtpmap["0"] == "PCMU/8000" && audio.direction == "sendrecv" && audio.connectionAddress == "203.0.113.1")
        #expect(session.media[1].connectionAddress == "203.0.113.2" && session.media[1].direction == "inactive")
        #expect(session.serialized() == Self.offer)
        let answer = try SDPSession(
            parsing: Array("v=0\no=- 1 1 IN IP4 192.0.2.7\ns=-\nc=IN IP4 192.0.2.7\nt=0 0\na=sendonly\nm=audio 16300 RTP/AVP 8 0 97\na=rtpmap:97 telephone-event/8000\n".utf8))
        // By encoding: the offer's 101 and the answer's 97 are both telephone-event.
        #expect(SDPSession.commonAudioFormats(offer: session, answer: answer) == ["PCMA/8000", "PCMU/8000", "telephone-event/8000"])
        #expect(answer.media[0].direction == "sendonly")
    }

    @Test("malformed descriptions are refused with a reason", arguments: [
        "o=- 1 1 IN IP4 h\ns=-\nt=0 0\n", "v=1\no=- 1 1 IN IP4 h\ns=-\nt=0 0\n", "v=0\ns=-\nt=0 0\n", "v=0\no=- 1 x IN IP4 h\ns=-\nt=0 0\n",
        "v=0\no=- 1 1 IN IP4 h\nt=0 0\n", "v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nt=0 0\nm=audio port RTP/AVP 0\n",
        "v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\nm=audio 5004 RTP/AVP 0\n", "v=0\no=- 1 1 IN IP4 h\ns=-\nc=XX IP4 h\nt=0 0\n", "v=0\nnot a line\n",
        "v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 h\nt=0 0\nm=audio / RTP/AVP 0\n", "v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 /\nt=0 0\n",
    ])
    func malformedSDP(_ text: String) {
        #expect(throws: SDPError.self) { try SDPSession(parsing: Array(text.utf8)) }
    }

    /// Lines are read from the bytes as a split of the text on its scalars read them: the LF
    /// splits, one CR before it goes, empty lines are skipped, a CR or NUL left inside refuses
    /// the whole description. Checked on random mixes of those bytes, `=`, letters and a
    /// character of three bytes, against that reading done on the text.
    @Test func sdpLinesAsTheTextReadsThem() {
        func expected(_ text: String) -> [String]? {
            var lines: [String] = []
            for raw in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: true) {
                let line = Substring(raw.last == "\r" ? raw.dropLast() : raw)
                if line.isEmpty { continue }
                let utf8 = Array(line.utf8)
                guard !utf8.contains(0x0D), !utf8.contains(0) else { return nil }
                guard utf8.count >= 2, utf8[1] == UInt8(ascii: "="), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(utf8[0]) else { return nil }
                lines.append("\(Character(Unicode.Scalar(utf8[0]))) \(line.dropFirst(2))")
            }
            return lines
        }
        let head = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n"
        let pieces = ["\n", "\r", "\r\n", "\u{0}", "=", "a", "b=", "Z", " ", "中", "a=x", "\n\n"]
        var generator = SystemRandomNumberGenerator()
        var parsed = 0
        for _ in 0..<3_000 {
            let tail = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let text = head + tail
            let session = try? SDPSession(parsing: Array(text.utf8))
            let reference = expected(text)
            #expect(session?.lines.map { "\($0.type) \($0.value)" } == reference, "\(Array(text.utf8))")
            if session != nil { parsed += 1 }
        }
        // Both kinds of outcome were tried.
        #expect(parsed > 100 && parsed < 3_000)
    }

    /// Branches, tags and Call-IDs come from a pool of random bytes refilled in blocks: 16
    /// characters of base 36 each, none repeated, every character about equally likely, also
    /// when many tasks take them at once.
    @Test func tokens() async {
        let tokens = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<5_000).map { _ in SIPBranch.token() } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(tokens.count == 40_000)
        #expect(Set(tokens).count == tokens.count)
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        #expect(tokens.allSatisfy { $0.utf8.count == 16 && $0.utf8.allSatisfy(alphabet.contains) })
        var counts: [UInt8: Int] = [:]
        for token in tokens { for byte in token.utf8 { counts[byte, default: 0] += 1 } }
        // 640,000 characters: about 17,778 of each (one standard deviation is about 131); a pool
        // handed out twice or a wrong index into the alphabet would be far off.
        let expected = 640_000.0 / 36
        #expect(counts.count == 36)
        #expect(counts.values.allSatisfy { abs(Double($0) - expected) < expected * 0.04 }, "\(counts.values.sorted())")
        #expect(SIPBranch.make().hasPrefix("z9hG4bK"))
    }

    /// A peer's IP text is made once and follows its address.
    @Test func peerAddressText() throws {
        var peer = SIPPeer(transport: .udp, address: try SocketAddress(ipAddress: "192.0.2.7", port: 5060))
        #expect(peer.ipAddress == "192.0.2.7")
        let same = SIPPeer(transport: .udp, address: try SocketAddress(ipAddress: "192.0.2.7", port: 5060))
        #expect(peer == same && peer.hashValue == same.hashValue)
        peer.address = try SocketAddress(ipAddress: "2001:db8::5", port: 5060)
        #expect(peer.ipAddress == "2001:db8::5")
        #expect(peer != same)
    }
}
