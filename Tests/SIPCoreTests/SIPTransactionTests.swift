import SIPCore
import Testing

/// RFC 3261 §17 on a virtual clock: what goes out when, and what the transaction user hears.
@Suite("SIP transactions")
struct SIPTransactionTests {
    static func request(_ method: String, branch: String = "z9hG4bKc1") -> SIPMessage {
        var headers = SIPHeaders()
        headers.add("Via", "SIP/2.0/UDP hub.example.com:5060;branch=\(branch)")
        headers.add("Max-Forwards", "70")
        headers.add("From", "<sip:hub@hub.example.com>;tag=h1")
        headers.add("To", "<sip:agent7@192.0.2.7>")
        headers.add("Call-ID", "leg-b@hub.example.com")
        headers.add("CSeq", "1 \(method)")
        headers.add("Route", "<sip:proxy.example.com;lr>")
        return .request(method, uri: "sip:agent7@192.0.2.7:5062", headers: headers)
    }

    static func sends(_ actions: [SIPTransactionAction]) -> [SIPMessage] {
        actions.compactMap { if case .send(let message) = $0 { message } else { nil } }
    }

    /// Runs the clock from `from` to `to` in 10 ms steps; returns when each send happened.
    static func run<T>(_ transaction: inout T, from: Int64, to: Int64, fire: (inout T, Int64) -> [SIPTransactionAction])
        -> [(Int64, SIPTransactionAction)]
    {
        var events: [(Int64, SIPTransactionAction)] = []
        var now = from
        while now <= to {
            for action in fire(&transaction, now) { events.append((now, action)) }
            now += 10
        }
        return events
    }

    @Test("INVITE client over UDP: timer A doubles from T1, timer B gives up at 64*T1")
    func inviteClientTimeout() {
        var transaction = SIPClientTransaction(request: Self.request("INVITE"), reliable: false, now: 0)
        #expect(transaction.start == [.send(Self.request("INVITE"))])
        let events = Self.run(&transaction, from: 0, to: 40_000) { $0.fire(now: $1) }
        let sends = events.filter { if case .send = $0.1 { true } else { false } }.map(\.0)
        #expect(sends == [500, 1_500, 3_500, 7_500, 15_500, 31_500])
        #expect(events.suffix(2).map(\.1) == [.timedOut, .terminated])
        #expect(events.last?.0 == 32_000)
        #expect(transaction.state == .terminated)
    }

    @Test("INVITE client: a 180 stops retransmissions; a 486 is ACKed (and again when it is retransmitted); timer D ends it")
    func inviteClientRejected() throws {
        var transaction = SIPClientTransaction(request: Self.request("INVITE"), reliable: false, now: 0)
        let ringing = Self.request("INVITE").response(180, toTag: "a7")
        #expect(transaction.receive(ringing, now: 200) == [.response(ringing)])
        #expect(Self.run(&transaction, from: 210, to: 5_000) { $0.fire(now: $1) }.isEmpty)
        let busy = Self.request("INVITE").response(486, toTag: "a7")
        let actions = transaction.receive(busy, now: 6_000)
        let ack = try #require(Self.sends(actions).first)
        #expect(ack.method == "ACK" && ack.cseq == SIPCSeq(number: 1, method: "ACK"))
        #expect(ack.requestURI == "sip:agent7@192.0.2.7:5062")
        #expect(ack.to?.tag == "a7" && ack.vias?.first?.branch == "z9hG4bKc1")
        #expect(ack.headers.lines("Route") == ["<sip:proxy.example.com;lr>"])
        #expect(actions.contains(.response(busy)))
        #expect(transaction.receive(busy, now: 6_500) == [.send(ack)])
        #expect(transaction.fire(now: 6_000 + 31_990).isEmpty)
        #expect(transaction.fire(now: 6_000 + 32_000) == [.terminated])
    }

    @Test("INVITE client: once it rings, no timer ends it; a 200 after 40 s of ringing is the answer")
    func longRing() {
        var transaction = SIPClientTransaction(request: Self.request("INVITE"), reliable: false, now: 0)
        let ringing = Self.request("INVITE").response(180, toTag: "a7")
        #expect(transaction.receive(ringing, now: 200) == [.response(ringing)])
        #expect(transaction.nextDeadline == nil)
        #expect(Self.run(&transaction, from: 210, to: 40_000) { $0.fire(now: $1) }.isEmpty)
        let ok = Self.request("INVITE").response(200, toTag: "a7")
        #expect(transaction.receive(ok, now: 40_000) == [.response(ok)])
        #expect(transaction.state == .accepted)
    }

    @Test("INVITE client: a 2xx goes to the TU, and so do its retransmissions for 64*T1 (RFC 6026); over TCP nothing is retransmitted")
    func inviteClientAccepted() {
        var transaction = SIPClientTransaction(request: Self.request("INVITE"), reliable: true, now: 0)
        #expect(Self.run(&transaction, from: 0, to: 20_000) { $0.fire(now: $1) }.isEmpty)
        let ok = Self.request("INVITE").response(200, toTag: "a7")
        #expect(transaction.receive(ok, now: 20_000) == [.response(ok)])
        #expect(transaction.state == .accepted)
        #expect(transaction.receive(ok, now: 21_000) == [.response(ok)])
        #expect(transaction.fire(now: 52_000) == [.terminated])
    }

    @Test("non-INVITE client: timer E doubles up to T2, continues at T2 after a 1xx; timer K after the final response")
    func nonInviteClient() {
        var transaction = SIPClientTransaction(request: Self.request("OPTIONS"), reliable: false, now: 0)
        let events = Self.run(&transaction, from: 0, to: 12_000) { $0.fire(now: $1) }
        #expect(events.map(\.0) == [500, 1_500, 3_500, 7_500, 11_500])
        let trying = Self.request("OPTIONS").response(100)
        #expect(transaction.receive(trying, now: 12_000) == [.response(trying)])
        #expect(Self.run(&transaction, from: 12_010, to: 20_000) { $0.fire(now: $1) }.map(\.0) == [16_000, 20_000])
        let ok = Self.request("OPTIONS").response(200, toTag: "x")
        #expect(transaction.receive(ok, now: 20_500) == [.response(ok)])
        #expect(transaction.receive(ok, now: 20_600).isEmpty)
        #expect(transaction.fire(now: 25_499).isEmpty)
        #expect(transaction.fire(now: 25_500) == [.terminated])
        var timedOut = SIPClientTransaction(request: Self.request("BYE"), reliable: true, now: 0)
        #expect(timedOut.fire(now: 32_000) == [.timedOut, .terminated])
    }

    @Test("INVITE server: retransmitted INVITEs get the last provisional; a 486 is retransmitted by timer G until the ACK, then timer I")
    func inviteServerRejected() {
        let invite = Self.request("INVITE", branch: "z9hG4bKs1")
        var transaction = SIPServerTransaction(request: invite, reliable: false)
        #expect(transaction.receive(invite, now: 100).isEmpty)
        let ringing = invite.response(180, toTag: "hub")
        #expect(transaction.respond(ringing, now: 200) == [.send(ringing)])
        #expect(transaction.receive(invite, now: 600) == [.send(ringing)])
        let busy = invite.response(486, toTag: "hub")
        #expect(transaction.respond(busy, now: 1_000) == [.send(busy)])
        #expect(transaction.receive(invite, now: 1_100) == [.send(busy)])
        let events = Self.run(&transaction, from: 1_010, to: 9_000) { $0.fire(now: $1) }
        #expect(events.map(\.0) == [1_500, 2_500, 4_500, 8_500])
        var ack = invite
        ack.startLine = .request(method: "ACK", uri: invite.requestURI!)
        ack.headers.set("CSeq", "1 ACK")
        #expect(SIPTransactionKey.server(ack) == transaction.key)
        #expect(transaction.receive(ack, now: 9_000).isEmpty)
        #expect(transaction.state == .confirmed)
        #expect(transaction.fire(now: 13_999).isEmpty)
        #expect(transaction.fire(now: 14_000) == [.terminated])
    }

    @Test("INVITE server: without an ACK, timer H gives up at 64*T1; a 2xx is absorbed and ACKs go to the TU (RFC 6026)")
    func inviteServerNoAck() {
        let invite = Self.request("INVITE", branch: "z9hG4bKs2")
        var rejected = SIPServerTransaction(request: invite, reliable: true)
        #expect(rejected.respond(invite.response(603, toTag: "hub"), now: 0).count == 1)
        #expect(rejected.fire(now: 31_999).isEmpty)
        #expect(rejected.fire(now: 32_000) == [.timedOut, .terminated])

        var accepted = SIPServerTransaction(request: invite, reliable: false)
        let ok = invite.response(200, toTag: "hub")
        #expect(accepted.respond(ok, now: 0) == [.send(ok)])
        #expect(accepted.receive(invite, now: 400).isEmpty)
        var ack = invite
        ack.startLine = .request(method: "ACK", uri: invite.requestURI!)
        #expect(accepted.receive(ack, now: 500) == [.ack(ack)])
        #expect(accepted.fire(now: 32_000) == [.terminated])
    }

    @Test("non-INVITE server: retransmissions get the final response again; timer J (none over TCP)")
    func nonInviteServer() {
        let options = Self.request("OPTIONS", branch: "z9hG4bKs3")
        var transaction = SIPServerTransaction(request: options, reliable: false)
        #expect(transaction.receive(options, now: 100).isEmpty)
        let ok = options.response(200, toTag: "hub")
        #expect(transaction.respond(ok, now: 200) == [.send(ok)])
        #expect(transaction.receive(options, now: 700) == [.send(ok)])
        #expect(transaction.fire(now: 32_199).isEmpty)
        #expect(transaction.fire(now: 32_200) == [.terminated])
        var overTCP = SIPServerTransaction(request: options, reliable: true)
        #expect(overTCP.respond(ok, now: 0) == [.send(ok), .terminated])
    }

    @Test("keys: the branch, the sent-by and the method, with ACK finding its INVITE; RFC 2543 requests have none")
    func keys() throws {
        let invite = Self.request("INVITE", branch: "z9hG4bKk1")
        let key = try #require(SIPTransactionKey.server(invite))
        #expect(key == SIPTransactionKey(branch: "z9hG4bKk1", sentBy: "hub.example.com:5060", method: "INVITE"))
        #expect(SIPTransactionKey.server(Self.request("CANCEL", branch: "z9hG4bKk1"))?.method == "CANCEL")
        #expect(SIPTransactionKey.server(Self.request("INVITE", branch: "1234")) == nil)
        let response = invite.response(180)
        #expect(SIPTransactionKey.client(response) == SIPTransactionKey(branch: "z9hG4bKk1", sentBy: "", method: "INVITE"))
        #expect(SIPClientTransaction(request: invite, reliable: false, now: 0).key == SIPTransactionKey.client(response))
    }
}

/// A transaction's key is hashed once, when made: equal keys are equal in all three parts, and
/// a dictionary keyed by them finds each one among many (as the element's tables hold them).
@Suite("SIP transaction keys")
struct SIPTransactionKeyTests {
    @Test("equal exactly when branch, sent-by and method are; equal keys hash alike; with(method:) changes the method only")
    func equality() {
        var random = SystemRandomNumberGenerator()
        let branches = ["z9hG4bK1", "z9hG4bK2", "z9hG4bK776asdhds", "z9hG4bK-4611-1-0", "z9hG4bKnashds8", "Z9HG4BK1", ""]
        let sentBys = ["", "192.0.2.1:5060", "192.0.2.1:5061", "[2001:db8::1]:5060"]
        let methods = ["INVITE", "ACK", "BYE", "CANCEL", "invite"]
        var keys: [(SIPTransactionKey, [String])] = []
        for _ in 0..<400 {
            let parts = [branches.randomElement(using: &random)!, sentBys.randomElement(using: &random)!, methods.randomElement(using: &random)!]
            keys.append((SIPTransactionKey(branch: parts[0], sentBy: parts[1], method: parts[2]), parts))
        }
        for (a, aParts) in keys.prefix(100) {
            for (b, bParts) in keys {
                #expect((a == b) == (aParts == bParts), "\(a) \(b)")
                if a == b { #expect(a.hashValue == b.hashValue) }
            }
            let cancel = a.with(method: "CANCEL")
            #expect(cancel.branch == a.branch && cancel.sentBy == a.sentBy && cancel.method == "CANCEL")
            #expect(cancel == SIPTransactionKey(branch: a.branch, sentBy: a.sentBy, method: "CANCEL"))
            #expect((cancel == a) == (a.method == "CANCEL"))
        }
    }

    @Test("a dictionary of fifty thousand keys finds each one, and no key it does not hold")
    func manyKeys() {
        var table: [SIPTransactionKey: Int] = [:]
        for index in 0..<50_000 {
            table[SIPTransactionKey(branch: "z9hG4bK-\(index)-1-0", sentBy: index % 2 == 0 ? "" : "127.0.0.1:5060", method: index % 3 == 0 ? "BYE" : "INVITE")] = index
        }
        #expect(table.count == 50_000)
        for index in stride(from: 0, to: 50_000, by: 7) {
            let key = SIPTransactionKey(branch: "z9hG4bK-\(index)-1-0", sentBy: index % 2 == 0 ? "" : "127.0.0.1:5060", method: index % 3 == 0 ? "BYE" : "INVITE")
            #expect(table[key] == index)
            // The same branch under another method or sent-by is another transaction.
            #expect(table[key.with(method: "CANCEL")] == nil)
            #expect(table[SIPTransactionKey(branch: key.branch, sentBy: "192.0.2.9:5060", method: key.method)] == nil)
        }
    }
}
