import ArgumentParser
import Foundation
import SIPCore

/// What one SIP message costs the hub on its own, without the network: the messages of one call
/// as SIPp's caller and phones send them (scripts/bench-sip), parsed, with their common headers
/// (From, To, CSeq, the top Via) read, answered (a response built from a request) and written
/// back to bytes. Nanoseconds per message, best of `--rounds` rounds.
@main
struct SIPMessageBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub-sip-message-bench", abstract: "Nanoseconds per SIP message: parse, common headers, response, serialization.")

    @Option(help: "Messages per round (the call's seven messages in turn).")
    var messages = 200_000

    @Option(help: "Rounds; the best is reported.")
    var rounds = 5

    static let call: [String] = [
        """
        INVITE sip:+861088886666@127.0.0.1:5060 SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.2.1:5062;branch=z9hG4bK-12345-1-0\r
        From: "Customer" <sip:+8613800138000@127.0.2.1:5062>;tag=12345c1\r
        To: <sip:+861088886666@127.0.0.1:5060>\r
        Call-ID: 1-12345@127.0.2.1\r
        CSeq: 1 INVITE\r
        Contact: <sip:trunk@127.0.2.1:5062>\r
        P-Asserted-Identity: <tel:+8613800138000>\r
        Max-Forwards: 70\r
        Content-Type: application/sdp\r
        Content-Length: 171\r
        \r
        v=0\r
        o=customer 53655765 2353687637 IN IP4 127.0.2.1\r
        s=customer-session\r
        c=IN IP4 127.0.2.1\r
        t=0 0\r
        m=audio 40000 RTP/AVP 0 8\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r

        """,
        """
        SIP/2.0 180 Ringing\r
        Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.a8f3c2d1e0b94f7a\r
        From: "+86 138****8000" <sip:caller@switchboard>;tag=8c1f2e3d4a5b\r
        To: <sip:agent1@switchboard>;tag=12346p1\r
        Call-ID: 4f6e2a1b3c9d8e7f@127.0.0.1\r
        CSeq: 1 INVITE\r
        Contact: <sip:phone@127.0.3.1:5070>\r
        Content-Length: 0\r
        \r

        """,
        """
        SIP/2.0 200 OK\r
        Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.a8f3c2d1e0b94f7a\r
        From: "+86 138****8000" <sip:caller@switchboard>;tag=8c1f2e3d4a5b\r
        To: <sip:agent1@switchboard>;tag=12346p1\r
        Call-ID: 4f6e2a1b3c9d8e7f@127.0.0.1\r
        CSeq: 1 INVITE\r
        Contact: <sip:phone@127.0.3.1:5070>\r
        Content-Type: application/sdp\r
        Content-Length: 125\r
        \r
        v=0\r
        o=phone 53655765 2353687637 IN IP4 127.0.3.1\r
        s=-\r
        c=IN IP4 127.0.3.1\r
        t=0 0\r
        m=audio 6000 RTP/AVP 0\r
        a=rtpmap:0 PCMU/8000\r

        """,
        """
        ACK sip:+861088886666@127.0.0.1:5060 SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.2.1:5062;branch=z9hG4bK-12345-1-5\r
        From: "Customer" <sip:+8613800138000@127.0.2.1:5062>;tag=12345c1\r
        To: <sip:+861088886666@127.0.0.1:5060>;tag=9a8b7c6d5e4f\r
        Call-ID: 1-12345@127.0.2.1\r
        CSeq: 1 ACK\r
        Max-Forwards: 70\r
        Content-Length: 0\r
        \r

        """,
        """
        BYE sip:+861088886666@127.0.0.1:5060 SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.2.1:5062;branch=z9hG4bK-12345-1-7\r
        From: "Customer" <sip:+8613800138000@127.0.2.1:5062>;tag=12345c1\r
        To: <sip:+861088886666@127.0.0.1:5060>;tag=9a8b7c6d5e4f\r
        Call-ID: 1-12345@127.0.2.1\r
        CSeq: 2 BYE\r
        Contact: <sip:trunk@127.0.2.1:5062>\r
        Max-Forwards: 70\r
        Content-Length: 0\r
        \r

        """,
        """
        SIP/2.0 200 OK\r
        Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.77e1d2c3b4a59687\r
        From: <sip:caller@switchboard>;tag=8c1f2e3d4a5b\r
        To: <sip:agent1@switchboard>;tag=12346p1\r
        Call-ID: 4f6e2a1b3c9d8e7f@127.0.0.1\r
        CSeq: 2 BYE\r
        Content-Length: 0\r
        \r

        """,
        """
        OPTIONS sip:127.0.0.1:5060 SIP/2.0\r
        Via: SIP/2.0/UDP 127.0.3.1:5070;branch=z9hG4bK-opt-1;rport\r
        From: <sip:agent1@switchboard>;tag=opt1\r
        To: <sip:127.0.0.1:5060>\r
        Call-ID: opt-1@127.0.3.1\r
        CSeq: 1 OPTIONS\r
        Max-Forwards: 70\r
        Content-Length: 0\r
        \r

        """,
    ]

    func run() throws {
        let corpus = Self.call.map { Array($0.utf8) }
        let parser = SIPParser()
        // Each message parses, and its common headers are there.
        var parsed: [SIPMessage] = []
        for bytes in corpus {
            var message = try parser.parse(bytes)
            message.parseCommonHeaders()
            guard message.callID != nil, message.cseq != nil, message.topVia?.branch != nil, message.from?.tag != nil, message.to != nil else {
                throw ValidationError("a message of the corpus lost a header")
            }
            parsed.append(message)
        }
        let requests = parsed.filter(\.isRequest)
        print("messages per round: \(messages); best of \(rounds) rounds; ns per message")
        func measure(_ name: String, _ body: (Int) throws -> Int) rethrows {
            var best = Double.infinity
            var check = 0
            for _ in 0..<rounds {
                let start = ContinuousClock.now
                check &+= try body(messages)
                let elapsed = start.duration(to: .now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                best = min(best, seconds * 1e9 / Double(messages))
            }
            print("\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", best))   (check \(check))")
        }
        try measure("parse") { count in
            var total = 0
            for index in 0..<count { total &+= try parser.parse(corpus[index % corpus.count]).headers.count }
            return total
        }
        try measure("parse + common headers") { count in
            var total = 0
            for index in 0..<count {
                var message = try parser.parse(corpus[index % corpus.count])
                message.parseCommonHeaders()
                total &+= Int(message.cseq?.number ?? 0)
            }
            return total
        }
        measure("common headers alone") { count in
            var total = 0
            for index in 0..<count {
                var message = parsed[index % parsed.count]
                message.parseCommonHeaders()
                total &+= Int(message.cseq?.number ?? 0)
            }
            return total
        }
        measure("validation (common headers parsed)") { count in
            var total = 0
            for index in 0..<count {
                let message = parsed[index % parsed.count]
                total &+= (message.isRequest ? message.requestProblem() : message.responseProblem()) == nil ? 1 : 0
            }
            return total
        }
        measure("response to a request (180)") { count in
            var total = 0
            for index in 0..<count { total &+= requests[index % requests.count].response(180, toTag: "a1b2c3").headers.count }
            return total
        }
        measure("serialize") { count in
            var total = 0
            for index in 0..<count { total &+= parsed[index % parsed.count].serialized().count }
            return total
        }
    }
}
