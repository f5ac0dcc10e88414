import Foundation
import SIPCore
import Testing

/// RFC 4475's torture messages (`Torture/*.sip`, decoded from the RFC's notation) with what the
/// RFC says of each (`Torture/expectations.json`).
enum TortureCorpus {
    struct Expectation: Decodable, Sendable {
        var section: String?
        var valid: Bool
        var kind: String?
        var method: String?
        var status: Int?
        var callID: String?
        var cseq: Int?
        var viaCount: Int?
        var contentLength: Int?
        var bodyLength: Int?
        var expected: String?
        var note: String?
    }

    struct Message: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var expectation: Expectation
        var testDescription: String { name }
    }

    static func messages() -> [Message] {
        guard let directory = Bundle.module.url(forResource: "Torture", withExtension: nil),
            let data = try? Data(contentsOf: directory.appendingPathComponent("expectations.json")),
            let expectations = try? JSONDecoder().decode([String: Expectation].self, from: data)
        else { return [] }
        return expectations.keys.sorted().compactMap { name in
            guard let bytes = FileManager.default.contents(atPath: directory.appendingPathComponent(name + ".sip").path) else { return nil }
            return Message(name: name, bytes: Array(bytes), expectation: expectations[name]!)
        }
    }
}

@Suite("RFC 4475 torture messages")
struct TortureTests {
    /// Where RFC 4475 lets an element choose between refusing a malformed message and a liberal
    /// reading, the reading chosen here.
    static let liberal: [String: String] = [
        "badaspec": "spaces inside <> around the URI are ignored",
        "baddate": "the Date header is not used",
        "escruri": "the Request-URI's escaped headers are kept, never acted on",
        "regbadct": "a Contact addr-spec holding '?' is read as if bracketed",
    ]

    enum Outcome: Equatable {
        case accepted(SIPMessage)
        case refused(SIPParseError)
    }

    static func outcome(_ bytes: [UInt8], framing: SIPParser.Framing = .datagram) -> Outcome {
        do {
            let message = try SIPParser().parse(bytes, framing: framing)
            if let problem = message.isRequest ? message.requestProblem() : message.responseProblem() { return .refused(problem) }
            return .accepted(message)
        } catch {
            return .refused(error)
        }
    }

    @Test("the corpus is all there: 49 messages")
    func corpus() {
        #expect(TortureCorpus.messages().count == 49)
    }

    @Test("valid messages parse, with the facts the RFC gives", arguments: TortureCorpus.messages().filter { $0.expectation.valid })
    func valid(_ message: TortureCorpus.Message) throws {
        guard case .accepted(let parsed) = Self.outcome(message.bytes) else {
            Issue.record("\(message.name) refused: \(Self.outcome(message.bytes))")
            return
        }
        let expectation = message.expectation
        #expect(parsed.isRequest == (expectation.kind == "request"))
        if parsed.isRequest { #expect(parsed.method == expectation.method) } else { #expect(parsed.status == expectation.status) }
        if let callID = expectation.callID { #expect(parsed.callID == callID) }
        if let cseq = expectation.cseq { #expect(parsed.cseq.map { Int($0.number) } == cseq) }
        if let vias = expectation.viaCount { #expect(parsed.vias?.count == vias) }
        if let declared = expectation.contentLength { #expect(parsed.body.count == declared) }
        // Whatever parsed serializes to a message that parses the same way, on a stream too.
        guard case .accepted(let again) = Self.outcome(parsed.serialized(), framing: .stream) else {
            Issue.record("\(message.name) does not survive serializing")
            return
        }
        #expect(again.startLine == parsed.startLine && again.body == parsed.body)
        #expect(again.headers.fields.filter { $0.name != "Content-Length" } == parsed.headers.fields.filter { $0.name != "Content-Length" })
    }

    @Test("invalid messages are refused (400, or 505 for another version), except the liberal readings chosen above",
        arguments: TortureCorpus.messages().filter { !$0.expectation.valid })
    func invalid(_ message: TortureCorpus.Message) {
        let outcome = Self.outcome(message.bytes)
        if Self.liberal[message.name] != nil {
            guard case .accepted = outcome else {
                Issue.record("\(message.name) was to be read liberally: \(outcome)")
                return
            }
            return
        }
        guard case .refused(let error) = outcome else {
            Issue.record("\(message.name) was accepted")
            return
        }
        #expect(error.status == (message.name == "badvers" ? 505 : 400), "\(message.name): \(error)")
    }

    @Test("the details the RFC singles out")
    func details() throws {
        func parsed(_ name: String) throws -> SIPMessage {
            let message = try #require(TortureCorpus.messages().first { $0.name == name })
            guard case .accepted(let parsed) = Self.outcome(message.bytes) else { throw SIPParseError("\(name) refused") }
            return parsed
        }
        // semiuri: the user part of the Request-URI holds a ';' and an escaped '@'.
        #expect(SIPURI(parsing: try parsed("semiuri").requestURI ?? "")?.user == "user;par=u@example.net")
        // esc02: an escaped method name is another method, not REGISTER.
        #expect(try parsed("esc02").method == "RE%47IST%45R")
        // escnull: %00 does not cut the user name; two different contacts.
        let contacts = try parsed("escnull").headers.values("Contact").compactMap(SIPNameAddress.init(parsing:))
        #expect(contacts.count == 2 && contacts[0].uri.user != contacts[1].uri.user)
        #expect(contacts.allSatisfy { $0.uri.user?.contains("\u{0}") == true })
        // cparam01: unknownparam belongs to the Contact header; cparam02: to the URI.
        let cparam01 = try #require(SIPNameAddress(parsing: try parsed("cparam01").headers.values("Contact")[0]))
        #expect(cparam01.parameters[parameter: "unknownparam"] != nil && cparam01.uri.parameters[parameter: "unknownparam"] == nil)
        let cparam02 = try #require(SIPNameAddress(parsing: try parsed("cparam02").headers.values("Contact")[0]))
        #expect(cparam02.uri.parameters[parameter: "unknownparam"] != nil && cparam02.parameters[parameter: "unknownparam"] == nil)
        // transports: every transport token, an unknown one included.
        #expect(try parsed("transports").vias?.map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
        // dblreq: Content-Length 0; what follows is not this message's body.
        #expect(try parsed("dblreq").body.isEmpty)
        // mpart01: a binary body framed by Content-Length.
        #expect(try parsed("mpart01").body.count == 553)
        // noreason: an empty reason phrase.
        #expect(try parsed("noreason").startLine == .response(status: 100, reason: ""))
        // zeromf: Max-Forwards 0 parses (the element, not the parser, answers 483).
        #expect(try parsed("zeromf").headers.first("Max-Forwards") == "0")
        // inv2543: an RFC 2543 INVITE without Max-Forwards or Content-Length, over UDP.
        #expect(try parsed("inv2543").headers.contains("Max-Forwards") == false)
        // longreq: 34 Via values, and long everything else.
        #expect(try parsed("longreq").vias?.count == 34)
    }
}
