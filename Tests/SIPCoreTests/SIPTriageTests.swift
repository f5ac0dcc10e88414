import SIPCore
import Testing

@Suite("Answers before the element's own logic")
struct SIPTriageTests {
    static func torture(_ name: String) throws -> [UInt8] {
        try #require(TortureCorpus.messages().first { $0.name == name }).bytes
    }

    static func decide(_ bytes: [UInt8]) -> SIPRequestTriage.Decision {
        let triage = SIPRequestTriage(toTag: "hub1")
        do {
            return triage.decide(try SIPParser().parse(bytes))
        } catch {
            return triage.decide(error)
        }
    }

    static func response(_ decision: SIPRequestTriage.Decision) -> SIPMessage? {
        if case .respond(let response) = decision { response } else { nil }
    }

    @Test("a response copies the Vias in order, From, Call-ID and CSeq, and tags the To")
    func responseCopies() throws {
        let request = try SIPParser().parse(sip(SIPParserTests.invite))
        let ringing = request.response(180, toTag: "x9")
        #expect(ringing.startLine == .response(status: 180, reason: "Ringing"))
        #expect(ringing.headers.values("Via") == request.headers.values("Via"))
        #expect(ringing.headers.first("From") == request.headers.first("From"))
        #expect(ringing.to?.tag == "x9")
        #expect(ringing.callID == request.callID && ringing.cseq == request.cseq)
        #expect(request.response(100, toTag: "x9").to?.tag == nil)
        let again = try SIPParser().parse(ringing.serialized(), framing: .stream)
        #expect(again.responseProblem() == nil)
    }

    /// A response as the headers were first copied: each header looked up by name and added by
    /// name (the format's reference for the one-pass copy).
    static func referenceResponse(to request: SIPMessage, status: Int, toTag: String?, extra: [(String, String)]) -> SIPMessage {
        var headers = SIPHeaders()
        for via in request.headers.lines("Via") { headers.add("Via", via) }
        if let from = request.headers.first("From") { headers.add("From", from) }
        if var to = request.headers.first("To") {
            if status > 100, let toTag, !(SIPNameAddress(parsing: to).map({ $0.tag != nil }) ?? true) { to += ";tag=\(toTag)" }
            headers.add("To", to)
        }
        if let callID = request.headers.first("Call-ID") { headers.add("Call-ID", callID) }
        if let cseq = request.headers.first("CSeq") { headers.add("CSeq", cseq) }
        for (name, value) in extra { headers.add(name, value) }
        return .response(status, headers: headers)
    }

    @Test("a response's headers are the reference's, name for name and line for line: compact and odd-case names, several Vias and Froms, tagged or not")
    func responseAgainstReference() throws {
        var random = SystemRandomNumberGenerator()
        let lines: [(String, [String])] = [
            ("Via", ["SIP/2.0/UDP a.example:5060;branch=z9hG4bK1", "SIP/2.0/TCP b:5070;branch=z9hG4bK2;rport, SIP/2.0/UDP c;branch=z9hG4bK3"]),
            ("v", ["SIP/2.0/UDP d;branch=z9hG4bK4"]), ("VIA", ["SIP/2.0/UDP e;branch=z9hG4bK5"]),
            ("From", ["<sip:a@b>;tag=1", "\"A, B\" <sip:c@d>;tag=2"]), ("f", ["<sip:e@f>;tag=3"]),
            ("To", ["<sip:hub@h>", "<sip:hub@h>;tag=old", "hub <sip:hub@h>"]), ("t", ["<sip:x@y>"]),
            ("Call-ID", ["c1@h", "c2"]), ("i", ["c3"]), ("CSeq", ["1 INVITE", "2 BYE"]), ("cseq", ["3 OPTIONS"]),
            ("Max-Forwards", ["70"]), ("X-Other", ["v"]), ("Contact", ["<sip:a@192.0.2.1>"]),
        ]
        for _ in 0..<2_000 {
            var headers = SIPHeaders()
            for _ in 0..<Int.random(in: 0...9, using: &random) {
                let (name, values) = lines.randomElement(using: &random)!
                headers.add(name, values.randomElement(using: &random)!)
            }
            let request = SIPMessage.request("INVITE", uri: "sip:hub@h", headers: headers)
            let status = [100, 180, 200, 486].randomElement(using: &random)!
            let toTag = Bool.random(using: &random) ? "t\(Int.random(in: 0...9, using: &random))" : nil
            let extra: [(String, String)] = Bool.random(using: &random) ? [("Allow", "INVITE, ACK"), ("Retry-After", "30")] : []
            let response = request.response(status, toTag: toTag, headers: extra)
            let reference = Self.referenceResponse(to: request, status: status, toTag: toTag, extra: extra)
            #expect(response.headers.fields.map { "\($0.name): \($0.value)" } == reference.headers.fields.map { "\($0.name): \($0.value)" })
            #expect(response.serialized() == reference.serialized())
        }
    }

    @Test("torture messages get the answers RFC 4475 asks for")
    func tortureAnswers() throws {
        // Another version: 505.
        #expect(Self.response(Self.decide(try Self.torture("badvers")))?.status == 505)
        // Content-Length larger than the datagram: 400 saying so.
        let clerr = try #require(Self.response(Self.decide(try Self.torture("clerr"))))
        #expect(clerr.status == 400)
        guard case .response(_, let reason) = clerr.startLine else { return }
        #expect(reason.contains("Content-Length"))
        #expect(clerr.to?.tag == "hub1")
        // Missing headers: 400; a CSeq for another method: 400.
        #expect(Self.response(Self.decide(try Self.torture("insuf")))?.status == 400)
        #expect(Self.response(Self.decide(try Self.torture("mismatch01")))?.status == 400)
        // An escaped method name is an unknown method: 501 with Allow.
        let esc02 = try #require(Self.response(Self.decide(try Self.torture("esc02"))))
        #expect(esc02.status == 501 && esc02.headers.first("Allow")?.contains("INVITE") == true)
        #expect(Self.response(Self.decide(try Self.torture("intmeth")))?.status == 501)
        // An unknown URI scheme: 416; a required extension the hub lacks: 420 with Unsupported.
        #expect(Self.response(Self.decide(try Self.torture("unkscm")))?.status == 416)
        let bext01 = try #require(Self.response(Self.decide(try Self.torture("bext01"))))
        #expect(bext01.status == 420 && bext01.headers.first("Unsupported") != nil)
        // Ordinary ones go on to the element.
        for name in ["wsinv", "esc01", "lwsdisp", "longreq", "semiuri", "transports", "zeromf", "inv2543", "regaut01"] {
            #expect(Self.decide(try Self.torture(name)) == .proceed, "\(name)")
        }
    }
}
