import Foundation
import Testing

@testable import MailCore

@Suite("Mail composer")
struct MailComposerTests {
    // MARK: - A minimal reader for what the composer writes

    struct Entity {
        var headers: [(name: String, value: String)]
        var rawHeaderLines: [String]
        var body: String

        init(_ text: String) {
            let split = text.range(of: "\r\n\r\n")
            let head = split.map { String(text[..<$0.lowerBound]) } ?? text
            body = split.map { String(text[$0.upperBound...]) } ?? ""
            rawHeaderLines = head.components(separatedBy: "\r\n")
            let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: " ")
            headers = unfolded.components(separatedBy: "\r\n").compactMap { line in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
            }
        }

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        func all(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        var boundary: String? {
            guard let type = header("Content-Type"), let range = type.range(of: "boundary=\"") else { return nil }
            let rest = type[range.upperBound...]
            return String(rest[..<rest.firstIndex(of: "\"")!])
        }

        var parts: [Entity] {
            guard let boundary else { return [] }
            let pieces = body.components(separatedBy: "\r\n--" + boundary)
            // pieces[0] is the preamble; the last starts with "--" (the close delimiter).
            #expect(pieces.last?.hasPrefix("--\r\n") == true)
            // "\r\n" is one Character, so dropFirst() drops the line end after the delimiter.
            return pieces.dropFirst().dropLast().map { Entity(String($0.dropFirst())) }
        }

        var decodedBody: [UInt8] {
            switch header("Content-Transfer-Encoding")?.lowercased() {
            case "base64":
                return Array(Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")) ?? Data())
            case "quoted-printable":
                return MailComposerTests.decodeQuotedPrintable(body)
            default:
                return Array(body.utf8)
            }
        }
    }

    static func decodeQuotedPrintable(_ text: String) -> [UInt8] {
        let bytes = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 2 < bytes.count,
               let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// RFC 2047 B words (UTF-8) decoded, each on its own, joined.
    static func decodeEncodedWords(_ value: String) -> (text: String, words: [String])? {
        let words = value.split(separator: " ").map(String.init)
        guard words.allSatisfy({ $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") }) else { return nil }
        var text = ""
        for word in words {
            let payload = String(word.dropFirst(10).dropLast(2))
            guard let data = Data(base64Encoded: payload), let piece = String(data: data, encoding: .utf8) else { return nil }
            text += piece
        }
        return (text, words)
    }

    /// CRLF only, lines within 998 octets, and encoded-body lines within 76.
    static func checkWellFormed(_ bytes: [UInt8]) {
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\n") { #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\r"), "bare LF at \(index)") }
            if byte == UInt8(ascii: "\r") { #expect(index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"), "bare CR at \(index)") }
        }
        #expect(bytes.suffix(2) == [13, 10])
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        for line in lines {
            #expect(line.utf8.count <= 998)
            #expect(line.utf8.count <= 78 || line.hasPrefix("Received"), "long line: \(line)")
        }
    }

    static func mail(
        subject: String = "Your ticket #1234", text: String = "Hello,\nthanks for writing.\n",
        html: String? = nil, attachments: [OutgoingAttachment] = []
    ) -> OutgoingMail {
        OutgoingMail(
            from: MailboxAddress(displayName: "Support Team", address: "support@hub.example"),
            to: [MailboxAddress(displayName: "Doe, Jane", address: "jane@example.test"), MailboxAddress(address: "bob@example.test")],
            cc: [MailboxAddress(displayName: "李雷", address: "li@example.test")],
            replyTo: [MailboxAddress(address: "support+t1234@hub.example")],
            subject: subject, text: text, html: html, messageID: "t1234.m5.abc@hub.example",
            date: Date(timeIntervalSince1970: 1_800_000_000), attachments: attachments)
    }

    static func entity(_ mail: OutgoingMail) -> Entity {
        let bytes = MailComposer.compose(mail)
        checkWellFormed(bytes)
        return Entity(String(decoding: bytes, as: UTF8.self))
    }

    // MARK: - Tests

    @Test("headers: date, addresses, Message-ID, MIME-Version, a quoted-printable text body")
    func basicHeaders() {
        let message = Self.entity(Self.mail())
        #expect(message.header("Date") == "Fri, 15 Jan 2027 08:00:00 +0000")
        #expect(message.header("From") == "Support Team <support@hub.example>")
        #expect(message.header("To") == "\"Doe, Jane\" <jane@example.test>, bob@example.test")
        #expect(message.header("Reply-To") == "support+t1234@hub.example")
        #expect(message.header("Message-ID") == "<t1234.m5.abc@hub.example>")
        #expect(message.header("MIME-Version") == "1.0")
        #expect(message.header("Subject") == "Your ticket #1234")
        #expect(message.header("Content-Type") == "text/plain; charset=UTF-8")
        #expect(message.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(message.header("In-Reply-To") == nil)
        #expect(message.header("Auto-Submitted") == nil)
        #expect(message.decodedBody == Array("Hello,\r\nthanks for writing.\r\n".utf8))
        let cc = message.header("Cc") ?? ""
        let name = cc.components(separatedBy: " <")[0]
        #expect(Self.decodeEncodedWords(name)?.text == "李雷")
        #expect(cc.hasSuffix(" <li@example.test>"))
    }

    @Test("the Date header in another zone")
    func dateZone() {
        var mail = Self.mail()
        mail.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        #expect(Self.entity(mail).header("Date") == "Fri, 15 Jan 2027 16:00:00 +0800")
        mail.timeZone = TimeZone(secondsFromGMT: -(3 * 3600 + 1800))!
        #expect(Self.entity(mail).header("Date") == "Fri, 15 Jan 2027 04:30:00 -0330")
    }

    @Test("a long non-ASCII subject: encoded words of at most 75 characters on lines of at most 76, no split character")
    func encodedSubject() throws {
        let subject = "Re: 您的工单 #1234 状态已更新 — 退款进度 " + String(repeating: "已处理😀", count: 20) + " 👩‍👩‍👧‍👦 end"
        let message = Self.entity(Self.mail(subject: subject))
        let header = try #require(message.header("Subject"))
        let decoded = try #require(Self.decodeEncodedWords(header))
        #expect(decoded.text == subject)
        #expect(decoded.words.count > 4)
        for word in decoded.words { #expect(word.count <= 75) }
        let lines = message.rawHeaderLines.drop { !$0.hasPrefix("Subject:") }.prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        #expect(lines.count == decoded.words.count)
        for line in lines { #expect(line.utf8.count <= 76) }
    }

    @Test("a long ASCII subject folds on spaces")
    func foldedSubject() {
        let subject = (1...30).map { "word\($0)" }.joined(separator: " ")
        let message = Self.entity(Self.mail(subject: subject))
        #expect(message.header("Subject") == subject)
        #expect(message.rawHeaderLines.filter { $0.hasPrefix(" word") }.count >= 2)
    }

    @Test("a header word too long to fold is encoded instead, within 998 octets")
    func unfoldableWord() throws {
        let subject = "Token " + String(repeating: "x", count: 1500)
        let message = Self.entity(Self.mail(subject: subject))
        let header = try #require(message.header("Subject"))
        #expect(Self.decodeEncodedWords(header)?.text == subject)
    }

    @Test("quoted-printable: long lines soft-broken, trailing blanks, = and a leading dot escaped")
    func quotedPrintable() throws {
        let text = String(repeating: "abcdefghij", count: 20) + "\n.dot = sign \t\nend ü"
        let message = Self.entity(Self.mail(text: text))
        #expect(message.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(message.decodedBody == Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        let lines = message.body.components(separatedBy: "\r\n")
        for line in lines { #expect(line.count <= 76) }
        #expect(lines.contains("=2Edot =3D sign =09"))
        #expect(lines.suffix(2) == ["end =C3=BC=", ""])
    }

    @Test("mostly non-ASCII text goes base64 and decodes back")
    func base64Text() {
        let text = "您好，\n您的退款已经处理完毕。\n"
        let message = Self.entity(Self.mail(text: text))
        #expect(message.header("Content-Transfer-Encoding") == "base64")
        #expect(message.decodedBody == Array("您好，\r\n您的退款已经处理完毕。\r\n".utf8))
    }

    @Test("HTML makes multipart/alternative with plain text first")
    func alternative() throws {
        let message = Self.entity(Self.mail(html: "<p>Hello <b>there</b></p>"))
        #expect(message.header("Content-Type")?.hasPrefix("multipart/alternative;") == true)
        let parts = message.parts
        #expect(parts.count == 2)
        #expect(parts[0].header("Content-Type") == "text/plain; charset=UTF-8")
        #expect(parts[1].header("Content-Type") == "text/html; charset=UTF-8")
        #expect(parts[1].decodedBody == Array("<p>Hello <b>there</b></p>".utf8))
    }

    @Test("attachments: multipart/mixed, base64 content, RFC 2231 names, RFC 2047 in the legacy name")
    func attachments() throws {
        let binary = (0...255).map { UInt8($0) } + Array("--=_SB0_ fake boundary\r\n".utf8)
        let longName = String(repeating: "发票", count: 20) + ".pdf"
        let message = Self.entity(Self.mail(
            html: "<p>hi</p>",
            attachments: [
                OutgoingAttachment(filename: "发票.pdf", contentType: "application/pdf", bytes: binary),
                OutgoingAttachment(filename: "report \"Q1\".csv", contentType: "text/csv", bytes: Array("a,b\n1,2\n".utf8)),
                OutgoingAttachment(filename: longName, contentType: "", bytes: [1, 2, 3]),
            ]))
        #expect(message.header("Content-Type")?.hasPrefix("multipart/mixed;") == true)
        let parts = message.parts
        #expect(parts.count == 4)
        #expect(parts[0].header("Content-Type")?.hasPrefix("multipart/alternative;") == true)
        #expect(parts[0].parts.count == 2)

        let invoice = parts[1]
        let invoiceType = try #require(invoice.header("Content-Type"))
        #expect(invoiceType.hasPrefix("application/pdf; name=\"=?UTF-8?B?"))
        #expect(Self.decodeEncodedWords(String(invoiceType.dropFirst("application/pdf; name=\"".count).dropLast()))?.text == "发票.pdf")
        #expect(invoice.header("Content-Disposition") == "attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf")
        #expect(invoice.decodedBody == binary)
        for line in invoice.body.components(separatedBy: "\r\n") { #expect(line.count <= 76) }

        #expect(parts[2].header("Content-Disposition") == "attachment; filename=\"report \\\"Q1\\\".csv\"")
        #expect(parts[2].header("Content-Type") == "text/csv; name=\"report \\\"Q1\\\".csv\"")
        #expect(parts[2].decodedBody == Array("a,b\n1,2\n".utf8))

        let long = try #require(parts[3].header("Content-Disposition"))
        #expect(parts[3].header("Content-Type")?.hasPrefix("application/octet-stream;") == true)
        #expect(long.contains("filename*0*=UTF-8''%E5%8F%91"))
        #expect(long.contains("filename*1*="))
        let pieces = long.components(separatedBy: "; ").filter { $0.hasPrefix("filename*") }
        let joined = pieces.map { $0.components(separatedBy: "=").dropFirst().joined(separator: "=") }.joined()
        #expect(joined.dropFirst("UTF-8''".count).removingPercentEncoding == longName)
    }

    @Test("inline parts with HTML go in multipart/related with their Content-ID")
    func related() {
        let message = Self.entity(Self.mail(
            html: "<img src=\"cid:logo@hub\">",
            attachments: [OutgoingAttachment(filename: "logo.png", contentType: "image/png", bytes: [0x89, 0x50], contentID: "logo@hub")]))
        #expect(message.header("Content-Type")?.hasPrefix("multipart/related;") == true)
        let parts = message.parts
        #expect(parts.count == 2)
        #expect(parts[0].header("Content-Type")?.hasPrefix("multipart/alternative;") == true)
        #expect(parts[1].header("Content-ID") == "<logo@hub>")
        #expect(parts[1].header("Content-Disposition")?.hasPrefix("inline;") == true)
        #expect(parts[1].decodedBody == [0x89, 0x50])
    }

    @Test("threading headers: In-Reply-To and References folded one id per fold")
    func threading() {
        var mail = Self.mail()
        mail.inReplyTo = "<parent@example.test>"
        mail.references = (1...10).map { "message-\($0).with-a-long-local-part@mail.example.test" } + ["parent@example.test"]
        let message = Self.entity(mail)
        #expect(message.header("In-Reply-To") == "<parent@example.test>")
        let references = message.header("References")?.split(separator: " ").map(String.init)
        #expect(references == mail.references.map { "<\($0)>" })
        #expect(message.rawHeaderLines.filter { $0.hasPrefix(" <message-") }.count >= 9)
    }

    @Test("automatic mail says so (RFC 3834) and suppresses Exchange auto-replies")
    func autoSubmitted() {
        var mail = Self.mail()
        mail.autoSubmitted = "auto-replied"
        let message = Self.entity(mail)
        #expect(message.header("Auto-Submitted") == "auto-replied")
        #expect(message.header("X-Auto-Response-Suppress") == "All")
    }

    @Test("CR and LF in values cannot inject headers")
    func headerInjection() {
        var mail = Self.mail(subject: "Hi\r\nBcc: evil@example.test")
        mail.extraHeaders = [MailHeaderField(name: "X-Ticket\r\nBcc", value: "1234\nBcc: evil@example.test"), MailHeaderField(name: "X-Ok", value: "yes")]
        let message = Self.entity(mail)
        #expect(message.header("Bcc") == nil)
        #expect(message.header("Subject") == "Hi Bcc: evil@example.test")
        #expect(message.header("X-TicketBcc") == "1234 Bcc: evil@example.test")
        #expect(message.header("X-Ok") == "yes")
    }

    @Test("boundaries are distinct and never occur inside the parts")
    func boundaries() {
        let message = Self.entity(Self.mail(
            text: "--=_SB1_x\n", html: "<p>--=_SB1_</p>",
            attachments: [OutgoingAttachment(filename: "a.txt", contentType: "text/plain", bytes: Array("--=_SB0_\r\n".utf8))]))
        let outer = message.boundary!
        let inner = message.parts[0].boundary!
        #expect(outer != inner)
        #expect(outer.hasPrefix("=_"))
        for part in message.parts[0].parts + message.parts.dropFirst() {
            #expect(!part.body.contains(outer))
            #expect(!part.body.contains(inner))
        }
        #expect(message.parts[0].parts[0].decodedBody == Array("--=_SB1_x\r\n".utf8))
    }

    @Test("generated Message-IDs are unique and well-formed")
    func messageIDs() {
        let first = MailComposer.makeMessageID(domain: "hub.example")
        let second = MailComposer.makeMessageID(domain: "hub.example")
        #expect(first != second)
        #expect(first.hasSuffix("@hub.example"))
        #expect(!first.contains("<") && !first.contains(" "))
    }
}
