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
