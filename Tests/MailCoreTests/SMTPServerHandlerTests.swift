import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import MailCore

@Suite("SMTP server handler on a testing channel", .timeLimit(.minutes(1)))
struct SMTPServerHandlerTests {
    static func channel(
        _ configuration: SMTPServerConfiguration = SMTPServerConfiguration(hostname: "mx.hub.test"),
        mailbox: SMTPTestMailbox,
        accepting: Bool = true
    ) async throws -> NIOAsyncTestingChannel {
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(
                SMTPServerHandler(
                    configuration: configuration, delegate: mailbox, remoteAddress: "192.0.2.1",
                    acceptingConnection: accepting, logger: Logger(label: "test")))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 25)).get()
        return channel
    }

    /// Reads written replies until `count` complete replies arrived; returns their last lines.
    static func replies(_ channel: NIOAsyncTestingChannel, count: Int) async throws -> [String] {
        var finals: [String] = []
        var pending = ""
        while finals.count < count {
            let buffer = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
            pending += String(buffer: buffer)
            while let end = pending.range(of: "\r\n") {
                let line = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                let characters = Array(line)
                if characters.count < 4 || characters[3] == " " { finals.append(line) }
            }
        }
        return finals
    }

    @Test("a whole pipelined session in one packet is answered in order around slow delegate calls")
    func pipelinedSession() async throws {
        let mailbox = SMTPTestMailbox(delay: .milliseconds(20))
        let channel = try await Self.channel(mailbox: mailbox)
        try await channel.writeInbound(ByteBuffer(string:
            "EHLO client.test\r\nMAIL FROM:<cust@example.test>\r\nRCPT TO:<support@hub.test>\r\nRCPT TO:<nobody@hub.test>\r\nDATA\r\nSubject: hello\r\n\r\n..dot\r\n.\r\nQUIT\r\n"))
        let replies = try await Self.replies(channel, count: 8)
        #expect(replies.map { $0.prefix(3) } == ["220", "250", "250", "250", "550", "354", "250", "221"])
        #expect(replies[0] == "220 mx.hub.test ESMTP Switchboard")
        #expect(mailbox.checked == ["support@hub.test", "nobody@hub.test"])
        let stored = try #require(mailbox.stored.first)
        #expect(mailbox.stored.count == 1)
        #expect(stored.text.hasSuffix("\r\nSubject: hello\r\n\r\n.dot\r\n"))
        #expect(stored.envelope.recipients == ["support@hub.test"])
        try await channel.closeFuture.get()
    }

    @Test("bytes pipelined after STARTTLS are discarded and TLS goes in front of the pipeline")
    func startTLSInjection() async throws {
        let mailbox = SMTPTestMailbox()
        let configuration = SMTPServerConfiguration(tls: try SMTPTestCertificate.serverContext())
        let channel = try await Self.channel(configuration, mailbox: mailbox)
        try await channel.writeInbound(ByteBuffer(string: "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<support@hub.test>\r\n"))
        let replies = try await Self.replies(channel, count: 3)
        #expect(replies[1] == "250 HELP")
        #expect(replies[2] == "220 2.0.0 Ready to start TLS")
        try await channel.pipeline.containsHandler(type: NIOSSLServerHandler.self).get()
        #expect(try await channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(mailbox.checked.isEmpty)
    }

    @Test("a connection dropped mid-DATA stores nothing")
    func dropMidData() async throws {
        let mailbox = SMTPTestMailbox()
        let channel = try await Self.channel(mailbox: mailbox)
        try await channel.writeInbound(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<support@hub.test>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess"))
        _ = try await Self.replies(channel, count: 5)
        try await channel.close()
        try await Task.sleep(for: .milliseconds(50))
        #expect(mailbox.stored.isEmpty)
    }

    @Test("oversize mail is rejected with 552 after the final dot and never stored")
    func oversize() async throws {
        let mailbox = SMTPTestMailbox()
        let channel = try await Self.channel(SMTPServerConfiguration(maximumMessageSize: 64), mailbox: mailbox)
        try await channel.writeInbound(ByteBuffer(string: "EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<support@hub.test>\r\nDATA\r\n"))
        _ = try await Self.replies(channel, count: 5)
        try await channel.writeInbound(ByteBuffer(string: String(repeating: "0123456789abcdef\r\n", count: 10) + ".\r\n"))
        #expect(try await Self.replies(channel, count: 1) == ["552 5.3.4 Message size exceeds fixed maximum message size"])
        #expect(mailbox.stored.isEmpty)
    }

    @Test("a full server answers 421 and closes")
    func full() async throws {
        let channel = try await Self.channel(mailbox: SMTPTestMailbox(), accepting: false)
        let replies = try await Self.replies(channel, count: 1)
        #expect(replies.first?.hasPrefix("421 4.3.2") == true)
        try await channel.closeFuture.get()
    }
}
