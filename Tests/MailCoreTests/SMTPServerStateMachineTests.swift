import Foundation
import NIOCore
import Testing

@testable import MailCore

@Suite("SMTP server state machine")
struct SMTPServerStateMachineTests {
    typealias Action = SMTPServerStateMachine.Action

    static let fixedDate = Date(timeIntervalSince1970: 1_800_000_000)

    static func machine(
        _ configuration: SMTPServerConfiguration = SMTPServerConfiguration(hostname: "mx.hub.test")
    ) -> SMTPServerStateMachine {
        var machine = SMTPServerStateMachine(
            configuration: configuration, remoteAddress: "192.0.2.7", now: { SMTPServerStateMachineTests.fixedDate })
        _ = machine.connected()
        return machine
    }

    /// A machine after EHLO and MAIL FROM with one accepted recipient.
    static func machineReadyForData(_ configuration: SMTPServerConfiguration = SMTPServerConfiguration(hostname: "mx.hub.test")) -> SMTPServerStateMachine {
        var machine = machine(configuration)
        _ = machine.received(ByteBuffer(string: "EHLO client.test\r\nMAIL FROM:<cust@example.test>\r\nRCPT TO:<support@hub.test>\r\n"))
        _ = machine.recipientChecked(nil)
        return machine
    }

    static func codes(_ actions: [Action]) -> [Int] {
        actions.compactMap { if case .send(let reply) = $0 { reply.code } else { nil } }
    }

    static func replies(_ actions: [Action]) -> [SMTPReply] {
        actions.compactMap { if case .send(let reply) = $0 { reply } else { nil } }
    }

    static func delivered(_ actions: [Action]) -> ([UInt8], SMTPEnvelope)? {
        for action in actions { if case .deliver(let bytes, let envelope) = action { return (bytes, envelope) } }
        return nil
    }

    @Test("the greeting names the host; a full server turns the client away with 421")
    func greeting() {
        var machine = SMTPServerStateMachine(configuration: SMTPServerConfiguration(hostname: "mx.hub.test"), remoteAddress: nil)
        let actions = machine.connected()
        #expect(actions == [.send(SMTPReply(code: 220, text: "mx.hub.test ESMTP Switchboard"))])
        #expect(actions.first.map { if case .send(let reply) = $0 { reply.wireFormat } else { "" } } == "220 mx.hub.test ESMTP Switchboard\r\n")

        var full = SMTPServerStateMachine(configuration: SMTPServerConfiguration(), remoteAddress: nil)
        let refused = full.connected(acceptingConnections: false)
        #expect(Self.codes(refused) == [421])
        #expect(refused.last == .close)
        #expect(full.received(ByteBuffer(string: "EHLO x\r\n")).isEmpty)
    }

    @Test("EHLO lists the extensions; STARTTLS only with a TLS context")
    func ehlo() throws {
        var machine = Self.machine(SMTPServerConfiguration(hostname: "mx.hub.test", maximumMessageSize: 1000))
        let reply = try #require(Self.replies(machine.received(ByteBuffer(string: "EHLO client.test\r\n"))).first)
        #expect(reply.code == 250)
        #expect(reply.lines.map(String.init) == ["mx.hub.test Hello client.test", "PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "HELP"])
        #expect(reply.wireFormat.hasPrefix("250-mx.hub.test Hello client.test\r\n250-PIPELINING\r\n"))
        #expect(reply.wireFormat.hasSuffix("250 HELP\r\n"))

        var tlsMachine = Self.machine(SMTPServerConfiguration(tls: try SMTPTestCertificate.serverContext()))
        let tlsReply = try #require(Self.replies(tlsMachine.received(ByteBuffer(string: "ehlo client.test\r\n"))).first)
        #expect(tlsReply.lines.contains("STARTTLS"))
    }

    @Test("HELO works; EHLO and HELO need a name")
    func helo() {
        var machine = Self.machine()
        #expect(Self.codes(machine.received(ByteBuffer(string: "HELO client.test\r\n"))) == [250])
        #expect(Self.codes(machine.received(ByteBuffer(string: "EHLO\r\nHELO \r\n"))) == [501, 501])
    }

    @Test("MAIL before EHLO, nested MAIL, RCPT and DATA before MAIL are out of sequence (503 5.5.1)")
    func outOfSequence() {
        var machine = Self.machine()
        let early = Self.replies(machine.received(ByteBuffer(string: "MAIL FROM:<a@b.test>\r\n")))
        #expect(early.map(\.code) == [503])
        #expect(early.first?.enhancedCode == "5.5.1")
        #expect(Self.codes(machine.received(ByteBuffer(string: "EHLO c\r\nRCPT TO:<x@hub.test>\r\nDATA\r\n"))) == [250, 503, 503])
        #expect(Self.codes(machine.received(ByteBuffer(string: "MAIL FROM:<a@b.test>\r\nMAIL FROM:<a@b.test>\r\n"))) == [250, 503])
    }

    @Test("MAIL FROM accepts the null sender, parameters and a space after the colon; rejects bad syntax")
    func mailFrom() throws {
        var machine = Self.machine()
        _ = machine.received(ByteBuffer(string: "EHLO c\r\n"))
        #expect(Self.codes(machine.received(ByteBuffer(string: "MAIL FROM:<> SIZE=100 BODY=8BITMIME SMTPUTF8\r\n"))) == [250])
        let actions = machine.received(ByteBuffer(string: "RCPT TO:<support@hub.test>\r\n"))
        guard case .checkRecipient(let address, let envelope) = try #require(actions.first) else {
            Issue.record("expected a recipient check, got \(actions)")
            return
        }
        #expect(address == "support@hub.test")
        #expect(envelope.mailFrom == "")
        #expect(envelope.parameters == ["SIZE": "100", "BODY": "8BITMIME", "SMTPUTF8": ""])
        #expect(envelope.heloName == "c")
        #expect(envelope.remoteAddress == "192.0.2.7")

        var other = Self.machine()
        _ = other.received(ByteBuffer(string: "EHLO c\r\n"))
        #expect(Self.codes(other.received(ByteBuffer(string: "MAIL FROM: <a@b.test>\r\n"))) == [250])
        _ = other.received(ByteBuffer(string: "RSET\r\n"))
        #expect(Self.codes(other.received(ByteBuffer(string: "MAIL FROM:a@b.test\r\nMAIL TO:<a@b>\r\nMAIL FROM:<a@b> FOO=1\r\nMAIL FROM:<a@b> BODY=BINARYMIME\r\n"))) == [501, 501, 555, 501])
    }

    @Test("SIZE above the limit at MAIL FROM gets 552 5.3.4")
    func sizeAtMailFrom() {
        var machine = Self.machine(SMTPServerConfiguration(maximumMessageSize: 1000))
        let replies = Self.replies(machine.received(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test> SIZE=1001\r\nMAIL FROM:<a@b.test> SIZE=1000\r\n")))
        #expect(replies.map(\.code) == [250, 552, 250])
        #expect(replies[1].enhancedCode == "5.3.4")
    }

    @Test("RCPT asks the delegate: a rejection is sent as is, an acceptance is 250 2.1.5")
    func recipientCheck() {
        var machine = Self.machine()
        _ = machine.received(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test>\r\n"))
        let ask = machine.received(ByteBuffer(string: "RCPT TO:<nobody@hub.test>\r\n"))
        #expect(ask.count == 1)
        #expect(machine.isAwaitingDelegate)
        let rejected = machine.recipientChecked(.unknownRecipient())
        #expect(rejected == [.send(SMTPReply(code: 550, enhancedCode: "5.1.1", text: "No such user here"))])
        #expect(Self.codes(machine.received(ByteBuffer(string: "DATA\r\n"))) == [554])
        _ = machine.received(ByteBuffer(string: "RCPT TO:<support@hub.test>\r\n"))
        let accepted = Self.replies(machine.recipientChecked(nil))
        #expect(accepted.map(\.code) == [250])
        #expect(accepted.first?.enhancedCode == "2.1.5")
        #expect(Self.codes(machine.received(ByteBuffer(string: "RCPT TO:<>\r\nRCPT TO:<a@hub.test> NOTIFY=NEVER\r\n"))) == [501, 555])
    }

    @Test("more recipients than allowed get 452 4.5.3")
    func tooManyRecipients() {
        var machine = Self.machine(SMTPServerConfiguration(maximumRecipients: 2))
        _ = machine.received(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test>\r\n"))
        for index in 0..<2 {
            _ = machine.received(ByteBuffer(string: "RCPT TO:<r\(index)@hub.test>\r\n"))
            _ = machine.recipientChecked(nil)
        }
        let replies = Self.replies(machine.received(ByteBuffer(string: "RCPT TO:<r2@hub.test>\r\n")))
        #expect(replies.map(\.code) == [452])
        #expect(replies.first?.enhancedCode == "4.5.3")
    }

    @Test("a whole transaction: 354, dot-unstuffing, a Received header, the delegate's reply")
    func transaction() throws {
        var machine = Self.machineReadyForData()
        let dataReply = Self.replies(machine.received(ByteBuffer(string: "DATA\r\n")))
        #expect(dataReply.map(\.code) == [354])
        let actions = machine.received(ByteBuffer(string: "Subject: hi\r\n\r\n..leading dot\r\n... three\r\nend\r\n.\r\n"))
        let (bytes, envelope) = try #require(Self.delivered(actions))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("Received: from client.test ([192.0.2.7])\r\n\tby mx.hub.test (Switchboard) with ESMTP\r\n\tfor <support@hub.test>;\r\n\tFri, 15 Jan 2027 08:00:00 +0000\r\n"))
        #expect(text.hasSuffix("+0000\r\nSubject: hi\r\n\r\n.leading dot\r\n.. three\r\nend\r\n"))
        #expect(envelope.recipients == ["support@hub.test"])
        #expect(machine.isAwaitingDelegate)
        // What was pipelined after the final dot waits for the delegate.
        #expect(machine.received(ByteBuffer(string: "QUIT\r\n")).isEmpty)
        let after = machine.messageStored(.ok("queued"))
        #expect(Self.codes(after) == [250, 221])
        #expect(after.last == .close)
    }

    @Test("the message after its final dot, with every dot rule")
    func dotUnstuffing() throws {
        var machine = Self.machineReadyForData()
        _ = machine.received(ByteBuffer(string: "DATA\r\n"))
        let actions = machine.received(ByteBuffer(string: "..\r\n...x\r\n.y\r\na.b\r\n.\r\n"))
        let (bytes, _) = try #require(Self.delivered(actions))
        let text = String(decoding: bytes, as: UTF8.self)
        let body = String(text[text.range(of: "+0000\r\n")!.upperBound...])
        #expect(body == ".\r\n..x\r\ny\r\na.b\r\n")
    }

    @Test("a message larger than the limit gets 552 5.3.4 after its final dot, and the delegate is never asked")
    func oversizeData() {
        var machine = Self.machineReadyForData(SMTPServerConfiguration(maximumMessageSize: 100))
        _ = machine.received(ByteBuffer(string: "DATA\r\n"))
        var actions: [Action] = []
        for _ in 0..<50 { actions += machine.received(ByteBuffer(string: String(repeating: "x", count: 78) + "\r\n")) }
        #expect(actions.isEmpty)
        actions = machine.received(ByteBuffer(string: ".\r\nMAIL FROM:<a@b.test>\r\n"))
        #expect(Self.delivered(actions) == nil)
        let replies = Self.replies(actions)
        #expect(replies.map(\.code) == [552, 250])
        #expect(replies.first?.enhancedCode == "5.3.4")
    }

    @Test("a connection dropped mid-DATA delivers nothing, even if the rest arrives later")
    func dropMidData() {
        var machine = Self.machineReadyForData()
        _ = machine.received(ByteBuffer(string: "DATA\r\nSubject: half\r\n\r\nbody"))
        machine.connectionClosed()
        #expect(machine.received(ByteBuffer(string: "\r\n.\r\n")).isEmpty)
        #expect(machine.messageStored(.ok()).isEmpty)
        #expect(machine.idleTimeoutFired().isEmpty)
    }

    @Test("a pipelined batch in one packet is answered in order, pausing for the delegate")
    func pipelining() throws {
        var machine = Self.machine()
        var actions = machine.received(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@hub.test>\r\nRCPT TO:<y@hub.test>\r\nDATA\r\n"))
        #expect(Self.codes(actions) == [250, 250])
        #expect(actions.last == .checkRecipient("x@hub.test", SMTPEnvelope(heloName: "c", mailFrom: "a@b.test", remoteAddress: "192.0.2.7")))
        actions = machine.recipientChecked(.unknownRecipient())
        #expect(Self.codes(actions) == [550])
        guard case .checkRecipient("y@hub.test", _) = try #require(actions.last) else {
            Issue.record("expected the second check, got \(actions)")
            return
        }
        actions = machine.recipientChecked(nil)
        #expect(Self.codes(actions) == [250, 354])
        actions = machine.received(ByteBuffer(string: "hello\r\n.\r\nNOOP\r\n"))
        let (_, envelope) = try #require(Self.delivered(actions))
        #expect(envelope.recipients == ["y@hub.test"])
        #expect(Self.codes(machine.messageStored(.ok())) == [250, 250])
    }

    @Test("RSET, NOOP, VRFY, HELP, QUIT and unknown or unimplemented commands")
    func simpleCommands() {
        var machine = Self.machine()
        let replies = Self.replies(machine.received(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRSET\r\nRCPT TO:<x@hub.test>\r\nNOOP\r\nVRFY x\r\nHELP\r\nFOO bar\r\nEXPN list\r\n\r\n")))
        #expect(replies.map(\.code) == [250, 250, 250, 503, 250, 252, 214, 500, 502, 500])
        #expect(replies[7].enhancedCode == "5.5.1")
        let quit = machine.received(ByteBuffer(string: "QUIT\r\nNOOP\r\n"))
        #expect(Self.codes(quit) == [221])
        #expect(quit.last == .close)
        #expect(machine.isClosed)
    }

    @Test("too many bad commands end the session with 421")
    func badCommandLimit() {
        var machine = Self.machine(SMTPServerConfiguration(maximumBadCommands: 3))
        let actions = machine.received(ByteBuffer(string: "A\r\nB\r\nC\r\nNOOP\r\n"))
        #expect(Self.codes(actions) == [500, 500, 500, 421])
        #expect(actions.last == .close)
    }

    @Test("an over-long command line gets 500 5.5.2 and the session resynchronises at the next line end")
    func longLine() {
        var machine = Self.machine(SMTPServerConfiguration(maximumLineLength: 64))
        var actions = machine.received(ByteBuffer(string: "NOOP " + String(repeating: "a", count: 100)))
        #expect(Self.replies(actions).map(\.enhancedCode) == ["5.5.2"])
        actions = machine.received(ByteBuffer(string: String(repeating: "b", count: 100) + "\r\nNOOP\r\n"))
        #expect(Self.codes(actions) == [250])
    }

    @Test("command lines may end in a bare LF")
    func bareLFCommands() {
        var machine = Self.machine()
        #expect(Self.codes(machine.received(ByteBuffer(string: "EHLO c\nNOOP\n"))) == [250, 250])
    }

    @Test("in DATA only CRLF.CRLF ends the message: LF.LF is content (no SMTP smuggling)")
    func noSmuggling() throws {
        var machine = Self.machineReadyForData()
        _ = machine.received(ByteBuffer(string: "DATA\r\n"))
        let smuggled = "body\n.\nMAIL FROM:<evil@x>\r\n\r.\r\n.\n"
        #expect(Self.delivered(machine.received(ByteBuffer(string: smuggled))) == nil)
        let (bytes, _) = try #require(Self.delivered(machine.received(ByteBuffer(string: "\r\n.\r\n"))))
        let text = String(decoding: bytes, as: UTF8.self)
        // The dot after CRLF is unstuffed like any other; the bare-LF dot lines stay.
        #expect(text.hasSuffix("body\n.\nMAIL FROM:<evil@x>\r\n\r.\r\n\n\r\n"))
    }

    @Test("STARTTLS: 220, start TLS, forget EHLO, and discard what was pipelined after it (CVE-2011-0411)")
    func startTLSInjection() throws {
        var machine = Self.machine(SMTPServerConfiguration(tls: try SMTPTestCertificate.serverContext()))
        let actions = machine.received(ByteBuffer(string: "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<y@hub.test>\r\n"))
        #expect(Self.codes(actions) == [250, 220])
        #expect(actions.last == .startTLS)
        // After the handshake the client must say EHLO again.
        #expect(Self.codes(machine.received(ByteBuffer(string: "MAIL FROM:<a@b.test>\r\n"))) == [503])
        let ehlo = try #require(Self.replies(machine.received(ByteBuffer(string: "EHLO c\r\n"))).first)
        #expect(!ehlo.lines.contains("STARTTLS"))
        #expect(Self.codes(machine.received(ByteBuffer(string: "STARTTLS\r\n"))) == [503])
        let rcpt = machine.received(ByteBuffer(string: "MAIL FROM:<a@b.test>\r\nRCPT TO:<y@hub.test>\r\n"))
        guard case .checkRecipient(_, let envelope) = try #require(rcpt.last) else {
            Issue.record("expected a recipient check")
            return
        }
        #expect(envelope.usedTLS)
    }

    @Test("STARTTLS without a TLS context is 502; requireTLS refuses MAIL with 530 5.7.0")
    func tlsPolicy() throws {
        var plain = Self.machine()
        #expect(Self.codes(plain.received(ByteBuffer(string: "EHLO c\r\nSTARTTLS\r\n"))) == [250, 502])

        var strict = Self.machine(SMTPServerConfiguration(tls: try SMTPTestCertificate.serverContext(), requireTLS: true))
        let replies = Self.replies(strict.received(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test>\r\nNOOP\r\n")))
        #expect(replies.map(\.code) == [250, 530, 250])
        #expect(replies[1].enhancedCode == "5.7.0")
    }

    @Test("the idle timeout closes with 421 4.4.2, but not while the delegate works")
    func idleTimeout() {
        var machine = Self.machineReadyForData()
        _ = machine.received(ByteBuffer(string: "RCPT TO:<b@hub.test>\r\n"))
        #expect(machine.idleTimeoutFired().isEmpty)
        _ = machine.recipientChecked(nil)
        let actions = machine.idleTimeoutFired()
        #expect(Self.replies(actions).map(\.enhancedCode) == ["4.4.2"])
        #expect(actions.last == .close)
    }

    @Test("shutdown: 421 between messages; a message in progress finishes first")
    func shutdown() throws {
        var idle = Self.machine()
        #expect(Self.codes(idle.shutdownRequested()) == [421])

        var busy = Self.machineReadyForData()
        _ = busy.received(ByteBuffer(string: "DATA\r\npart"))
        #expect(busy.shutdownRequested().isEmpty)
        let actions = busy.received(ByteBuffer(string: "\r\n.\r\n"))
        _ = try #require(Self.delivered(actions))
        let after = busy.messageStored(.ok())
        #expect(Self.codes(after) == [250, 421])
        #expect(after.last == .close)
    }
}
