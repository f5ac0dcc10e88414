import NIOCore
import Testing

@testable import MailCore

@Suite("SMTP client pieces")
struct SMTPClientTests {
    static func parse(_ chunks: [String]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        var buffer = ByteBuffer()
        for chunk in chunks {
            buffer.writeString(chunk)
            replies += try parser.parse(&buffer)
        }
        return replies
    }

    @Test("single and multi-line replies, split anywhere, with and without enhanced codes")
    func replies() throws {
        let replies = try Self.parse(["220 relay.test ESMTP\r\n250-relay.test\r\n250-SIZE 1000", "\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n", "550 5.1.1 <x@y>: unknown\r\n354\r\n451-4.3.0 one\r\n451 4.3.0 two\r\n"])
        #expect(replies == [
            SMTPReply(code: 220, text: "relay.test ESMTP"),
            SMTPReply(code: 250, text: "relay.test\nSIZE 1000\nAUTH PLAIN LOGIN\n8BITMIME"),
            SMTPReply(code: 550, enhancedCode: "5.1.1", text: "<x@y>: unknown"),
            SMTPReply(code: 354, text: ""),
            SMTPReply(code: 451, enhancedCode: "4.3.0", text: "one\ntwo"),
        ])
        #expect(replies[4].isTransient && replies[2].isPermanent)
    }

    @Test("a reply split across reads, each read a fresh buffer as the channel delivers them, is kept until its end")
    func splitAcrossReads() throws {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        for chunk in ["25", "0 2.0.0 Ok: queued as 4X", "YZ\r", "\n221-bye\r\n", "221 now\r\n"] {
            var read = ByteBuffer(string: chunk)
            replies += try parser.parse(&read)
            #expect(replies.count <= 2)
        }
        #expect(replies == [SMTPReply(code: 250, enhancedCode: "2.0.0", text: "Ok: queued as 4XYZ"), SMTPReply(code: 221, text: "bye\nnow")])
        #expect(!parser.hasPartialReply)
        var endless = ByteBuffer(string: "250 " + String(repeating: "x", count: SMTPReplyParser.maximumLineLength + 1))
        #expect(throws: SMTPReplyParser.MalformedReply.self) { try parser.parse(&endless) }
    }

    @Test("garbage and mixed codes are errors")
    func malformed() {
        #expect(throws: SMTPReplyParser.MalformedReply.self) { try Self.parse(["HTTP/1.1 400 Bad\r\n"]) }
        #expect(throws: SMTPReplyParser.MalformedReply.self) { try Self.parse(["250-a\r\n251 b\r\n"]) }
    }

    @Test("a reply's wire format round-trips through the parser")
    func roundTrip() throws {
        let reply = SMTPReply(code: 250, enhancedCode: "2.0.0", text: "first\nsecond")
        #expect(reply.wireFormat == "250-2.0.0 first\r\n250 2.0.0 second\r\n")
        #expect(try Self.parse([reply.wireFormat]) == [reply])
    }

    @Test("the bytes a reply is written as are its wire format, one line or several", arguments: [
        SMTPReply(code: 250, enhancedCode: "2.0.0", text: "OK queued as 12"),
        SMTPReply(code: 354, text: "End data with <CR><LF>.<CR><LF>"),
        SMTPReply(code: 250, enhancedCode: "2.1.0", text: ""),
        SMTPReply(code: 221, text: ""),
        SMTPReply(code: 250, text: "first\nsecond"),
        SMTPReply(code: 451, enhancedCode: "4.3.0", text: "two\r\nlines"),
        SMTPReply(code: 1000, text: "out of range"),
    ])
    func written(_ reply: SMTPReply) {
        var buffer = ByteBuffer()
        reply.write(to: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == reply.wireFormat)
    }

    @Test("EHLO keywords, including the old AUTH= form")
    func capabilities() {
        let reply = SMTPReply(code: 250, text: "relay.test Hello\nsize 2048\nAUTH=LOGIN\nAUTH PLAIN\nPIPELINING")
        let capabilities = SMTPClient.capabilities(of: reply)
        #expect(capabilities["SIZE"] == "2048")
        #expect(capabilities["AUTH"] == "LOGIN PLAIN")
        #expect(capabilities["PIPELINING"] == "")
    }

    @Test("DATA encoding: CRLF normalisation, dot-stuffing, final CRLF and dot")
    func dataEncoding() {
        let encoded = SMTPClient.dataEncoded(Array("a\n.b\r\n..c\rd.\n.".utf8))
        #expect(String(buffer: encoded) == "a\r\n..b\r\n...c\r\nd.\r\n..\r\n.\r\n")
        #expect(String(buffer: SMTPClient.dataEncoded([])) == ".\r\n")
        #expect(String(buffer: SMTPClient.dataEncoded(Array("x\r\n".utf8))) == "x\r\n.\r\n")
    }

    @Test("errors: permanent exactly for 5xx, with a readable description")
    func errors() {
        let permanent = SMTPSendError.unexpected(SMTPReply(code: 550, enhancedCode: "5.1.1", text: "unknown"), at: "rcpt")
        #expect(permanent.isPermanent)
        #expect(permanent.description == "SMTP permanent failure at rcpt: 550 5.1.1 unknown")
        #expect(!SMTPSendError.unexpected(.unavailable(), at: "message").isPermanent)
    }
}
