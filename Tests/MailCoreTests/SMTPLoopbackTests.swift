import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import MailCore

@Suite("SMTP server and client over loopback", .timeLimit(.minutes(1)))
struct SMTPLoopbackTests {
    static let message = Array("From: cust@example.test\r\nTo: support@hub.test\r\nSubject: help\r\n\r\nHello.\r\n.leading dot\r\nÜnïcode\r\n".utf8)

    static func withServer(
        _ configuration: SMTPServerConfiguration = SMTPServerConfiguration(port: 0, hostname: "mx.hub.test"),
        mailbox: SMTPTestMailbox = SMTPTestMailbox(),
        _ body: (Int, SMTPTestMailbox) async throws -> Void
    ) async throws {
        let server = SMTPServer(configuration: configuration, delegate: mailbox)
        let address = try await server.start()
        let port = try #require(address.port)
        do {
            try await body(port, mailbox)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test("a plain send: accepted and rejected recipients, the stored message with its Received header")
    func plainSend() async throws {
        try await Self.withServer { port, mailbox in
            let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "hub.example")
            let result = try await SMTPClient().send(
                from: "bounces+t1@hub.example", to: ["support@hub.test", "nobody@hub.test"], message: Self.message, via: relay)
            #expect(result.acceptedRecipients == ["support@hub.test"])
            #expect(result.rejectedRecipients["nobody@hub.test"]?.code == 550)
            #expect(result.rejectedRecipients["nobody@hub.test"]?.enhancedCode == "5.1.1")
            #expect(result.finalReply == SMTPReply(code: 250, enhancedCode: "2.0.0", text: "queued"))
            let stored = try #require(mailbox.stored.first)
            #expect(stored.text.hasPrefix("Received: from hub.example ([127.0.0.1])\r\n\tby mx.hub.test (Switchboard) with ESMTP\r\n"))
            #expect(stored.message.suffix(Self.message.count) == Self.message[...])
            #expect(stored.envelope.mailFrom == "bounces+t1@hub.example")
            #expect(stored.envelope.parameters["BODY"] == "8BITMIME")
            #expect(stored.envelope.parameters["SIZE"] == "\(Self.message.count)")
            #expect(!stored.envelope.usedTLS)
        }
    }

    @Test("STARTTLS with a self-signed certificate; the envelope says TLS")
    func startTLS() async throws {
        let configuration = SMTPServerConfiguration(port: 0, hostname: "mx.hub.test", tls: try SMTPTestCertificate.serverContext(), requireTLS: true)
        try await Self.withServer(configuration) { port, mailbox in
            let relay = SMTPRelay(host: "localhost", port: port, security: .startTLS, certificateVerification: .none)
            let result = try await SMTPClient().send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: relay)
            #expect(result.acceptedRecipients == ["support@hub.test"])
            let stored = try #require(mailbox.stored.first)
            #expect(stored.envelope.usedTLS)
            #expect(stored.text.contains("with ESMTPS"))

            let trusting = SMTPRelay(host: "localhost", port: port, security: .startTLS, trustRootsPEM: SMTPTestCertificate.certificatePEM)
            _ = try await SMTPClient().send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: trusting)
            #expect(mailbox.stored.count == 2)
        }
    }

    @Test("a relay requiring TLS refuses a plaintext client with a permanent 530 at MAIL")
    func requireTLS() async throws {
        let configuration = SMTPServerConfiguration(port: 0, tls: try SMTPTestCertificate.serverContext(), requireTLS: true)
        try await Self.withServer(configuration) { port, _ in
            let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none)
            let error = await #expect(throws: SMTPSendError.self) {
                try await SMTPClient().send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: relay)
            }
            #expect(error?.stage == "mail")
            #expect(error?.reply?.code == 530)
            #expect(error?.isPermanent == true)
        }
    }

    @Test("every recipient unknown: a permanent error at RCPT with the first 550")
    func unknownRecipient() async throws {
        try await Self.withServer { port, mailbox in
            let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none)
            let error = await #expect(throws: SMTPSendError.self) {
                try await SMTPClient().send(from: "a@hub.example", to: ["x@hub.test", "y@hub.test"], message: Self.message, via: relay)
            }
            #expect(error?.stage == "rcpt")
            #expect(error?.isPermanent == true)
            #expect(error?.reply?.code == 550)
            #expect(error?.reply?.text == "<x@hub.test>: no such mailbox")
            #expect(mailbox.stored.isEmpty)
        }
    }

    @Test("a 451 after the final dot is a transient error at the message stage")
    func transientAtDataEnd() async throws {
        try await Self.withServer(mailbox: SMTPTestMailbox(finalReply: .unavailable("disk busy"))) { port, _ in
            let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .startTLSIfAvailable)
            let error = await #expect(throws: SMTPSendError.self) {
                try await SMTPClient().send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: relay)
            }
            #expect(error?.stage == "message")
            #expect(error?.isPermanent == false)
            #expect(error?.reply == SMTPReply(code: 451, enhancedCode: "4.3.0", text: "disk busy"))
        }
    }

    @Test("a message larger than the relay's SIZE fails before DATA, permanently")
    func sizeRefusedByClient() async throws {
        try await Self.withServer(SMTPServerConfiguration(port: 0, maximumMessageSize: 16)) { port, mailbox in
            let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none)
            let error = await #expect(throws: SMTPSendError.self) {
                try await SMTPClient().send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: relay)
            }
            #expect(error?.stage == "mail")
            #expect(error?.isPermanent == true)
            #expect(mailbox.stored.isEmpty)
        }
    }

    @Test("raw sessions: 552 for oversize DATA, nothing stored when the client vanishes mid-DATA")
    func rawSessions() async throws {
        try await Self.withServer(SMTPServerConfiguration(port: 0, maximumMessageSize: 100)) { port, mailbox in
            let connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: port, group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(5), tls: nil)
            #expect(try await connection.command(nil, timeout: .seconds(5)).code == 220)
            let setup = try await connection.pipeline(["EHLO raw", "MAIL FROM:<a@b.test>", "RCPT TO:<support@hub.test>", "DATA"], timeout: .seconds(5))
            #expect(setup.map(\.code) == [250, 250, 250, 354])
            let big = ByteBuffer(string: String(repeating: "x", count: 70) + "\r\n" + String(repeating: "y", count: 70) + "\r\n.\r\n")
            let oversize = try await connection.raw(big, timeout: .seconds(5))
            #expect(oversize.code == 552)
            #expect(oversize.enhancedCode == "5.3.4")
            // The session goes on: now a message cut off mid-DATA.
            let again = try await connection.pipeline(["MAIL FROM:<a@b.test>", "RCPT TO:<support@hub.test>", "DATA"], timeout: .seconds(5))
            #expect(again.map(\.code) == [250, 250, 354])
            let unanswered = connection.channel.eventLoop.makePromise(of: SMTPReply.self)
            try await connection.channel.writeAndFlush(
                SMTPClientHandler.Request(bytes: ByteBuffer(string: "Subject: cut\r\n\r\nhalf"), promise: unanswered, timeout: .seconds(5))).get()
            await connection.close()
            await #expect(throws: SMTPClientHandler.Failure.connectionClosed) { try await unanswered.futureResult.get() }
            try await Task.sleep(for: .milliseconds(100))
            #expect(mailbox.stored.isEmpty)
        }
    }

    @Test("over a real socket: a command pipelined behind STARTTLS in plaintext is never executed")
    func startTLSInjectionLive() async throws {
        let configuration = SMTPServerConfiguration(port: 0, hostname: "mx.hub.test", tls: try SMTPTestCertificate.serverContext())
        try await Self.withServer(configuration) { port, _ in
            var connection = try await SMTPClientConnection.connect(
                host: "127.0.0.1", port: port, group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(5), tls: nil)
            #expect(try await connection.command(nil, timeout: .seconds(5)).code == 220)
            #expect(try await connection.command("EHLO x", timeout: .seconds(5)).code == 250)
            // One segment: STARTTLS and an injected NOOP.
            #expect(try await connection.command("STARTTLS\r\nNOOP", timeout: .seconds(5)).code == 220)
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            try await connection.startTLS(context: try NIOSSLContext(configuration: tls), serverHostname: "localhost")
            let ehlo = try await connection.command("EHLO x", timeout: .seconds(5))
            #expect(ehlo.code == 250)
            #expect(ehlo.lines.first == "mx.hub.test Hello x")
            #expect(!ehlo.lines.contains("STARTTLS"))
            #expect(try await connection.command("NOOP", timeout: .seconds(5)) == .ok())
            await connection.close()
        }
    }

    @Test("shutdown() ends an idle session with 421 at once, not after the grace period")
    func shutdownIdleSession() async throws {
        let server = SMTPServer(configuration: SMTPServerConfiguration(port: 0, shutdownGracePeriod: .seconds(30)), delegate: SMTPTestMailbox())
        let port = try #require(try await server.start().port)
        let connection = try await SMTPClientConnection.connect(
            host: "127.0.0.1", port: port, group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(5), tls: nil)
        #expect(try await connection.command(nil, timeout: .seconds(5)).code == 220)
        #expect(try await connection.command("EHLO x", timeout: .seconds(5)).code == 250)
        let started = ContinuousClock.now
        async let goodbye = connection.command(nil, timeout: .seconds(5))
        // Let the read be waiting before the server says goodbye and closes (a read started
        // after the close finds the channel gone).
        try await Task.sleep(for: .milliseconds(200))
        await server.shutdown()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(try await goodbye.code == 421)
        await connection.close()
    }

    @Test("run() serves until cancelled")
    func runUntilCancelled() async throws {
        let mailbox = SMTPTestMailbox()
        let server = SMTPServer(configuration: SMTPServerConfiguration(port: 0), delegate: mailbox)
        let address = try await server.start()
        let port = try #require(address.port)
        let task = Task { try await server.run() }
        let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none)
        _ = try await SMTPClient().send(from: "a@hub.example", to: ["sales@hub.test"], message: Self.message, via: relay)
        task.cancel()
        try await task.value
        let error = await #expect(throws: SMTPSendError.self) {
            try await SMTPClient().send(from: "a@hub.example", to: ["sales@hub.test"], message: Self.message, via: relay)
        }
        #expect(error?.stage == "connect")
        #expect(error?.isPermanent == false)
        #expect(mailbox.stored.count == 1)
    }

    // MARK: - Sessions kept between messages

    @Test("a kept session carries the next messages (one connection for three), is retired after its message limit, and is closed once idle too long")
    func keptSessions() async throws {
        try await Self.withServer { port, mailbox in
            let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "hub.example")
            let client = SMTPClient(sessionLimits: SMTPSessionCache.Limits(idleLimit: .milliseconds(300), maximumMessages: 3))
            for index in 0..<5 {
                let result = try await client.send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: relay)
                #expect(result.acceptedRecipients == ["support@hub.test"], "message \(index)")
            }
            let connections = mailbox.stored.map { "\($0.envelope.remotePort ?? 0)" }
            #expect(connections.count == 5)
            // Three messages on the first connection, then a new one for the next two.
            #expect(Set(connections[0..<3]).count == 1 && Set(connections[3..<5]).count == 1 && connections[0] != connections[3])
            #expect(client.idleSessions(relay) == 1)
            try await Task.sleep(for: .milliseconds(700))
            #expect(client.idleSessions(relay) == 0, "closed after 300 ms idle")
            // The next message opens a new session.
            _ = try await client.send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: relay)
            #expect(Set(mailbox.stored.map { "\($0.envelope.remotePort ?? 0)" }).count == 3)
        }
    }

    @Test("a kept session the relay closed while idle is given up at once; one that answers MAIL with 421 is replaced within the send")
    func keptSessionClosedByTheRelay() async throws {
        // A relay that closes each session after its message, as one does a session left idle:
        // the kept one is found closed (before its MAIL, or by it) and replaced. (The real server's
        // idle timeout did this before, with a sleep past it; on a loaded machine the new
        // session's own steps could then outlast the timeout.)
        let closing = try await SMTPScriptedRelay.start(closeAfterMessage: true) { line, _ in Self.standardReply(line) }
        let closingRelay = SMTPRelay(host: "127.0.0.1", port: closing.port, security: .none, heloName: "hub.example")
        let keeping = SMTPClient()
        for sender in ["a@hub.example", "b@hub.example"] {
            let result = try await keeping.send(from: sender, to: ["sales@hub.test"], message: Self.message, via: closingRelay)
            #expect(result.acceptedRecipients == ["sales@hub.test"])
        }
        #expect(closing.lines.filter { $0.hasPrefix("EHLO") }.count == 2, "a new session for the second message")
        #expect(closing.lines.filter { $0.hasPrefix("MAIL") }.map { $0.prefix { $0 != ">" } } == ["MAIL FROM:<a@hub.example", "MAIL FROM:<b@hub.example"])
        #expect(closing.lines.filter { $0 == "." }.count == 2, "each message went once")
        keeping.closeIdleSessions()
        #expect(keeping.idleSessions(closingRelay) == 0)
        await closing.stop()
        // A relay that keeps the socket open but answers the second MAIL of a session with 421.
        let scripted = try await SMTPScriptedRelay.start { line, history in
            if line.hasPrefix("MAIL"), history.contains(where: { $0.hasPrefix("MAIL") }) { return "421 4.4.2 relay.test closing, too long idle" }
            return Self.standardReply(line)
        }
        defer { Task { await scripted.stop() } }
        let relay = SMTPRelay(host: "127.0.0.1", port: scripted.port, security: .none, heloName: "hub.example")
        let client = SMTPClient()
        for sender in ["a@hub.example", "b@hub.example"] {
            let result = try await client.send(from: sender, to: ["c@example.test"], message: Self.message, via: relay)
            #expect(result.finalReply.code == 250)
        }
        #expect(scripted.lines.filter { $0.hasPrefix("EHLO") }.count == 2, "a second session for the second message")
        let mails = scripted.lines.filter { $0.hasPrefix("MAIL") }.map { $0.prefix { $0 != ">" } }
        #expect(mails == ["MAIL FROM:<a@hub.example", "MAIL FROM:<b@hub.example", "MAIL FROM:<b@hub.example"], "the 421 and the retry")
        #expect(scripted.lines.filter { $0 == "." }.count == 2, "each message went once")
    }

    @Test("a kept session with a reply the relay sent unasked is not reused: the stray reply would answer the next command")
    func strayReplyRetiresTheSession() async throws {
        let scripted = try await SMTPScriptedRelay.start(finalReply: "250 2.0.0 OK queued\n250 2.0.0 stray") { line, _ in Self.standardReply(line) }
        defer { Task { await scripted.stop() } }
        let relay = SMTPRelay(host: "127.0.0.1", port: scripted.port, security: .none, heloName: "hub.example")
        let client = SMTPClient()
        for _ in 0..<2 {
            let result = try await client.send(from: "a@hub.example", to: ["c@example.test"], message: Self.message, via: relay)
            #expect(result.finalReply.text == "OK queued")
        }
        #expect(scripted.lines.filter { $0.hasPrefix("EHLO") }.count == 2)
    }

    @Test("a refused transaction is not retried on a new session, and its session is not kept")
    func refusedOnAKeptSession() async throws {
        try await Self.withServer { port, mailbox in
            let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "hub.example")
            let client = SMTPClient()
            _ = try await client.send(from: "a@hub.example", to: ["support@hub.test"], message: Self.message, via: relay)
            let error = await #expect(throws: SMTPSendError.self) {
                try await client.send(from: "a@hub.example", to: ["nobody@hub.test"], message: Self.message, via: relay)
            }
            #expect(error?.stage == "rcpt" && error?.isPermanent == true && error?.reply?.code == 550)
            #expect(client.idleSessions(relay) == 0)
            #expect(mailbox.checked == ["support@hub.test", "nobody@hub.test"], "asked once")
        }
    }

    // MARK: - Client against a scripted relay

    static let ehloWithAuth = "250-relay.test\n250-AUTH PLAIN LOGIN\n250-PIPELINING\n250 8BITMIME"

    static func standardReply(_ line: String) -> String {
        switch line.prefix(4).uppercased() {
        case "EHLO": ehloWithAuth
        case "MAIL", "RCPT": "250 2.1.0 OK"
        case "DATA": "354 go ahead"
        case "QUIT": "221 bye"
        default: "500 what"
        }
    }

    @Test("AUTH PLAIN sends the RFC 4616 token")
    func authPlain() async throws {
        let relay = try await SMTPScriptedRelay.start { line, _ in
            line.hasPrefix("AUTH") ? (line == "AUTH PLAIN AGh1YgBzM2NyZXQ=" ? "235 2.7.0 Authentication successful" : "535 5.7.8 bad") : Self.standardReply(line)
        }
        defer { Task { await relay.stop() } }
        let result = try await SMTPClient().send(
            from: "a@hub.example", to: ["c@example.test"], message: Self.message,
            via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .none, username: "hub", password: "s3cret"))
        #expect(result.finalReply.code == 250)
        #expect(relay.lines.contains("AUTH PLAIN AGh1YgBzM2NyZXQ="))
        #expect(relay.lines.firstIndex(of: "AUTH PLAIN AGh1YgBzM2NyZXQ=")! < relay.lines.firstIndex(where: { $0.hasPrefix("MAIL") })!)
    }

    @Test("AUTH LOGIN when preferred, the user name and password each base64")
    func authLogin() async throws {
        let relay = try await SMTPScriptedRelay.start { line, history in
            switch history.last {
            case "AUTH LOGIN": return line == "aHVi" ? "334 UGFzc3dvcmQ6" : "535 5.7.8 bad user"
            case "aHVi": return line == "czNjcmV0" ? "235 2.7.0 OK" : "535 5.7.8 bad password"
            default: return line == "AUTH LOGIN" ? "334 VXNlcm5hbWU6" : Self.standardReply(line)
            }
        }
        defer { Task { await relay.stop() } }
        let result = try await SMTPClient().send(
            from: "a@hub.example", to: ["c@example.test"], message: Self.message,
            via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .none, username: "hub", password: "s3cret", authMechanisms: [.login, .plain]))
        #expect(result.acceptedRecipients == ["c@example.test"])
        #expect(Array(relay.lines.drop(while: { $0 != "AUTH LOGIN" }).prefix(3)) == ["AUTH LOGIN", "aHVi", "czNjcmV0"])
    }

    @Test("a refused AUTH is a permanent error at the auth stage")
    func authRefused() async throws {
        let relay = try await SMTPScriptedRelay.start { line, _ in
            line.hasPrefix("AUTH") ? "535 5.7.8 Authentication credentials invalid" : Self.standardReply(line)
        }
        defer { Task { await relay.stop() } }
        let error = await #expect(throws: SMTPSendError.self) {
            try await SMTPClient().send(
                from: "a@hub.example", to: ["c@example.test"], message: Self.message,
                via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .none, username: "hub", password: "wrong"))
        }
        #expect(error?.stage == "auth")
        #expect(error?.isPermanent == true)
        #expect(error?.reply?.code == 535)
    }

    @Test("EHLO refused: HELO fallback, no extensions used; a 4xx greylisting at RCPT is transient")
    func heloFallbackAndGreylisting() async throws {
        let relay = try await SMTPScriptedRelay.start { line, _ in
            switch line.prefix(4) {
            case "EHLO": "502 5.5.1 no ESMTP here"
            case "HELO": "250 relay.test"
            case "MAIL": line == "MAIL FROM:<a@hub.example>" ? "250 OK" : "501 no parameters please"
            case "RCPT": "450 4.2.0 greylisted, try later"
            default: Self.standardReply(line)
            }
        }
        defer { Task { await relay.stop() } }
        let error = await #expect(throws: SMTPSendError.self) {
            try await SMTPClient().send(
                from: "a@hub.example", to: ["c@example.test"], message: Self.message,
                via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .startTLSIfAvailable))
        }
        #expect(error?.stage == "rcpt")
        #expect(error?.isPermanent == false)
        #expect(relay.lines.prefix(3) == ["EHLO localhost", "HELO localhost", "MAIL FROM:<a@hub.example>"])
    }

    @Test("STARTTLS required but not offered: a transient error, nothing sent")
    func startTLSMissing() async throws {
        let relay = try await SMTPScriptedRelay.start { line, _ in Self.standardReply(line) }
        defer { Task { await relay.stop() } }
        let error = await #expect(throws: SMTPSendError.self) {
            try await SMTPClient().send(
                from: "a@hub.example", to: ["c@example.test"], message: Self.message,
                via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .startTLS))
        }
        #expect(error?.stage == "starttls")
        #expect(error?.isPermanent == false)
        #expect(!relay.lines.contains { $0.hasPrefix("MAIL") })
    }

    @Test("a relay that never answers times out as a transient error")
    func timeout() async throws {
        let relay = try await SMTPScriptedRelay.start(greeting: "220 slow") { line, _ in
            line.hasPrefix("EHLO") ? "250-slow\n250 PIPELINING" : ""
        }
        defer { Task { await relay.stop() } }
        let error = await #expect(throws: SMTPSendError.self) {
            try await SMTPClient().send(
                from: "a@hub.example", to: ["c@example.test"], message: Self.message,
                via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .none, commandTimeout: .milliseconds(300)))
        }
        #expect(error?.stage == "mail")
        #expect(error?.isPermanent == false)
        #expect(error?.reply == nil)
    }
}
