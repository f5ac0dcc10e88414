import Foundation
import Testing

@testable import MailCore

@Suite("message parsing")
struct MailParserTests {
    private let simple = """
        From: Ann <ann@example.com>
        To: support@hub.test
        Subject: Where is
         my parcel?
        Date: Wed, 2 Dec 2026 10:00:00 +0800
        Message-ID:   <abc@example.com>  
        In-Reply-To: <t1.m2@hub.test>
        References: <t1.m1@hub.test> <t1.m2@hub.test>
        Content-Type: text/plain; charset=utf-8

        Hello,
        where is my parcel?

        """

    @Test("CRLF and bare LF messages parse the same")
    func lineEndings() {
        let lf = parseMail(simple)
        let crlfMessage = parseMail(crlf(simple))
        for message in [lf, crlfMessage] {
            #expect(message.subject == "Where is my parcel?")
            #expect(message.from == [MailAddress(displayName: "Ann", address: "ann@example.com")])
            #expect(message.to.map(\.address) == ["support@hub.test"])
            #expect(message.messageID == "abc@example.com")
            #expect(message.inReplyTo == ["t1.m2@hub.test"])
            #expect(message.references == ["t1.m1@hub.test", "t1.m2@hub.test"])
            #expect(message.textBody == "Hello,\nwhere is my parcel?\n")
            #expect(message.date == Date(timeIntervalSince1970: 1_796_176_800))
            #expect(message.problems.isEmpty)
            #expect(message.contentType == "text/plain")
        }
        #expect(crlfMessage.raw == Array(crlf(simple).utf8))
    }

    @Test("header access: first value, all values, decoded, case-insensitive names")
    func headerAccess() {
        let message = parseMail("Subject: =?utf-8?q?a?=\nsubject: second\nX-Tag: 1\nx-tag: 2\n\nbody\n")
        #expect(message.headers["SUBJECT"] == "=?utf-8?q?a?=")
        #expect(message.headers.decoded("subject") == "a")
        #expect(message.headers.values("X-TAG") == ["1", "2"])
        #expect(message.headers["Missing"] == nil)
        #expect(message.headers.fields.map(\.name) == ["Subject", "subject", "X-Tag", "x-tag"])
    }

    @Test("folded headers keep the folding whitespace, tabs included")
    func folding() {
        let message = parseMail("Subject: one\r\n\ttwo\r\n   three\r\nX-Empty:\r\n\r\nb")
        #expect(message.headers["Subject"] == "one\ttwo   three")
        #expect(message.headers["X-Empty"] == "")
    }

    @Test(
        "tolerant dates",
        arguments: [
            ("Wed, 2 Dec 2026 10:00:00 +0800", 1_796_176_800.0),
            ("2 Dec 2026 02:00:00 GMT", 1_796_176_800.0),
            ("Wed, 02 Dec 2026 02:00 UT", 1_796_176_800.0),
            ("Wed, 2 Dec 26 02:00:00 Z", 1_796_176_800.0),
            ("Tue, 1 Dec 2026 21:00:00 EST", 1_796_176_800.0),
            ("Tue, 1 Dec 2026 18:00:00 PST (Pacific)", 1_796_176_800.0),
            ("Wed Dec  2 02:00:00 2026", 1_796_176_800.0),
            ("Wed, 2 Dec 2026 10:00:00 +08:00", 1_796_176_800.0),
            ("Thu, 1 Jan 70 00:00:00 +0000", 0.0),
            ("Sat, 1 Jan 1 00:00:00", nil),
        ] as [(String, Double?)])
    func dates(raw: String, seconds: Double?) {
        let message = parseMail("Date: \(raw)\n\nx")
        #expect(message.date == seconds.map(Date.init(timeIntervalSince1970:)))
    }

    @Test("a message with headers and no body")
    func headersOnly() {
        let message = parseMail("From: a@example.com\r\nSubject: Only headers\r\n")
        #expect(message.subject == "Only headers")
        #expect(message.textBody == nil)
        #expect(message.attachments.isEmpty)
        #expect(message.problems.isEmpty)
    }

    @Test("a body with no header section at all")
    func bodyOnly() {
        let message = parseMail("Just some words\nand more\n")
        #expect(message.headers.fields.isEmpty)
        #expect(message.textBody == "Just some words\nand more\n")
        #expect(!message.problems.isEmpty)
    }

    @Test("raw 8-bit headers: UTF-8 first, then the part's charset, then GB18030, then windows-1252")
    func raw8BitHeaders() {
        let utf8 = MailMessage.parse(Array("Subject: Grüße\n\nx".utf8))
        #expect(utf8.subject == "Grüße")
        #expect(utf8.problems.isEmpty)
        let big5 = MailMessage.parse(Array("Subject: ".utf8) + [0xA4, 0xA4, 0xA4, 0xE5] + Array("\nContent-Type: text/plain; charset=big5\n\nx".utf8))
        #expect(big5.subject == "中文")
        #expect(big5.problems == ["raw 8-bit Subject header is not UTF-8; decoded as big5"])
        let gbk = MailMessage.parse(Array("Subject: ".utf8) + [0xC4, 0xE3, 0xBA, 0xC3] + Array("\n\nx".utf8))
        #expect(gbk.subject == "你好")
        let latin1 = MailMessage.parse(Array("Subject: Caf".utf8) + [0xE9] + Array("\n\nx".utf8))
        #expect(latin1.subject == "Café")
        #expect(latin1.problems == ["raw 8-bit Subject header is not UTF-8; decoded as windows-1252"])
    }

    @Test("format=flowed text is unwrapped (RFC 3676), quotes and signature kept apart")
    func formatFlowed() {
        let body = "This is a long \nparagraph that was \nwrapped.\n> quoted \n> text\n \n-- \nSig\n"
        let message = parseMail("Content-Type: text/plain; charset=utf-8; format=flowed\n\n" + body)
        #expect(message.textBody == "This is a long paragraph that was wrapped.\n> quoted text\n\n-- \nSig\n")
        let delsp = parseMail("Content-Type: text/plain; format=flowed; delsp=yes\n\n日本語の \n文章です。\n")
        #expect(delsp.textBody == "日本語の文章です。\n")
    }

    @Test("a raw GBK file name in Content-Type name= is readable")
    func rawGBKFilename() {
        var bytes = Array("Content-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: application/pdf; name=\"".utf8)
        bytes += [0xB7, 0xA2, 0xC6, 0xB1]  // 发票 in GBK
        bytes += Array(".pdf\"\n\n%PDF\n--z--\n".utf8)
        let message = MailMessage.parse(bytes)
        #expect(message.attachments.map(\.filename) == ["发票.pdf"])
    }

    @Test("an mbox From_ line at the top is skipped")
    func mboxLine() {
        let message = parseMail("From ann@example.com Wed Dec  2 10:00:00 2026\nSubject: mbox\n\nbody")
        #expect(message.subject == "mbox")
        #expect(message.headers.fields.count == 1)
    }

    @Test("a 1 MB header line is truncated with a problem, in linear time")
    func hugeHeader() {
        var text = "From: a@example.com\r\nX-Huge: "
        text += String(repeating: "x", count: 1_000_000)
        text += "\r\nSubject: after\r\nContent-Type: text/plain\r\n\r\nBody.\r\n"
        let start = ContinuousClock.now
        let message = parseMail(text)
        let elapsed = ContinuousClock.now - start
        #expect(message.headers["X-Huge"]?.utf8.count ?? 0 <= MailLimits.standard.maximumHeaderBytes)
        #expect(message.headers["X-Huge"]?.utf8.count ?? 0 > 200_000)
        #expect(message.problems.contains("header section truncated at 262144 bytes"))
        #expect(message.textBody == "Body.\n")
        #expect(elapsed < .seconds(5))
    }

    @Test("many folded lines in one header stay linear")
    func manyContinuations() {
        let text = "Subject: a\r\n" + String(repeating: " b\r\n", count: 200_000) + "\r\nbody"
        let start = ContinuousClock.now
        let message = parseMail(text)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(message.textBody == "body")
    }

    @Test("header count beyond the limit")
    func headerCount() {
        let text = (0..<50).map { "X-\($0): v\n" }.joined() + "\nbody"
        let message = parseMail(text, limits: MailLimits(maximumHeaderCount: 10))
        #expect(message.headers.fields.count == 10)
        #expect(message.problems.contains("more than 10 header fields; the rest ignored"))
        #expect(message.textBody == "body")
    }

    @Test("nesting beyond the depth limit stops with a problem")
    func depthLimit() {
        var text = "Content-Type: multipart/mixed; boundary=b0\n\n"
        for level in 1...5 { text += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=b\(level)\n\n" }
        text += "--b5\nContent-Type: text/plain\n\ndeep text\n--b5--\n"
        for level in (0...4).reversed() { text += "--b\(level)--\n" }
        let shallow = parseMail(text, limits: MailLimits(maximumDepth: 3))
        #expect(shallow.textBody == nil)
        #expect(shallow.problems.contains("nesting deeper than 3 levels; inner parts ignored"))
        let deep = parseMail(text)
        #expect(deep.textBody == "deep text")
        #expect(deep.problems.isEmpty)
    }

    @Test("parts beyond the part limit are dropped with a problem")
    func partLimit() {
        var text = "Content-Type: multipart/mixed; boundary=p\n\n--p\nContent-Type: text/plain\n\nbody\n"
        for index in 0..<30 { text += "--p\nContent-Type: application/octet-stream; name=f\(index).bin\n\nx\n" }
        text += "--p--\n"
        let message = parseMail(text, limits: MailLimits(maximumParts: 10))
        #expect(message.partCount == 10)
        #expect(message.attachments.count == 8)
        #expect(message.problems.contains("truncated at part limit (10 parts)"))
        #expect(parseMail(text).attachments.count == 30)
    }

    @Test("multipart/alternative prefers text/plain and keeps sanitized HTML")
    func alternative() {
        let message = parseMail("""
            Content-Type: multipart/alternative; boundary="=_alt"

            --=_alt
            Content-Type: text/plain; charset=utf-8

            plain
            --=_alt
            Content-Type: text/html; charset=utf-8

            <p onclick="x()">rich <script>bad()</script><b>text</b></p>
            --=_alt--
            """)
        #expect(message.textBody == "plain")
        #expect(message.htmlBody == "<p>rich <b>text</b></p>")
        #expect(message.problems.isEmpty)
    }

    @Test("alternatives that each carry the attachment: text from the plain one, the file once")
    func alternativesWithAttachments() {
        let message = parseMail("""
            Content-Type: multipart/alternative; boundary=A

            --A
            Content-Type: multipart/mixed; boundary=M1

            --M1
            Content-Type: text/plain

            plain version
            --M1
            Content-Type: application/pdf; name=a.pdf

            pdf
            --M1--
            --A
            Content-Type: multipart/mixed; boundary=M2

            --M2
            Content-Type: text/html

            <p>html version</p>
            --M2
            Content-Type: application/pdf; name=a.pdf

            pdf
            --M2--
            --A--
            """)
        #expect(message.textBody == "plain version")
        #expect(message.htmlBody == "<p>html version</p>")
        #expect(message.attachments.map(\.filename) == ["a.pdf"])
    }

    @Test("text in a charset that does not match its bytes is replaced and reported")
    func charsetProblems() {
        let invalid = MailMessage.parse(Array("Content-Type: text/plain; charset=utf-8\n\nbad ".utf8) + [0xFF, 0xFE])
        #expect(invalid.textBody == "bad \u{FFFD}\u{FFFD}")
        #expect(invalid.problems == ["invalid bytes for charset utf-8; replaced with U+FFFD"])
        let unknown = parseMail("Content-Type: text/plain; charset=x-foo\n\ntext")
        #expect(unknown.textBody == "text")
        #expect(unknown.problems == ["undecodable charset x-foo, decoded as UTF-8 with replacement"])
    }

    @Test("an HTML-only message gets text with line breaks and a quoted blockquote")
    func htmlOnly() {
        let message = parseMail("""
            Content-Type: text/html

            <div>Thanks!<br>Ann</div><div class="gmail_quote">On Mon, Support wrote:<blockquote>Old <b>text</b><br>more</blockquote></div>
            """)
        #expect(message.textBody == "Thanks!\nAnn\nOn Mon, Support wrote:\n> Old text\n> more")
        #expect(message.visibleText == "Thanks!\nAnn")
    }

    @Test("multipart/related root is the body, its images are inline attachments")
    func related() {
        let message = parseMail("""
            Content-Type: multipart/related; boundary=r; start="<root@x>"

            --r
            Content-Type: image/gif
            Content-ID: <img1@x>
            Content-Transfer-Encoding: base64

            R0lGODlh
            --r
            Content-Type: text/html
            Content-ID: <root@x>

            <img src="cid:img1@x">
            --r--
            """)
        #expect(message.htmlBody == "<img src=\"cid:img1@x\">")
        #expect(message.attachments == [MailAttachment(filename: nil, contentType: "image/gif", contentID: "img1@x", isInline: true, bytes: Array("GIF89a".utf8))])
    }

    @Test("message/rfc822 becomes an attachment named after its subject")
    func forwarded() {
        let inner = "Subject: Invoice / March\r\nFrom: b@example.com\r\n\r\nInner body\r\n"
        let message = parseMail("Content-Type: multipart/mixed; boundary=f\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--f\r\nContent-Type: message/rfc822\r\n\r\n\(inner)--f--\r\n")
        #expect(message.attachments.count == 1)
        #expect(message.attachments.first?.filename == "March.eml")
        #expect(message.attachments.first?.contentType == "message/rfc822")
        #expect(message.attachments.first?.bytes == Array(Array(inner.utf8).dropLast(2)))
        #expect(message.textBody == "see attached")
    }

    @Test("a boundary that is a prefix of the inner boundary does not split the inner part")
    func prefixBoundaries() {
        let message = parseMail("""
            Content-Type: multipart/mixed; boundary="abc"

            --abc
            Content-Type: multipart/alternative; boundary="abc-1"

            --abc-1
            Content-Type: text/plain

            inner text
            --abc-1--
            --abc
            Content-Type: application/pdf; name=a.pdf

            pdf
            --abc--
            """)
        #expect(message.textBody == "inner text")
        #expect(message.attachments.map(\.filename) == ["a.pdf"])
        #expect(message.problems.isEmpty)
    }

    @Test("a multipart without a boundary parameter is read as text")
    func noBoundaryParameter() {
        let message = parseMail("Content-Type: multipart/mixed\n\nhello\n")
        #expect(message.textBody == "hello\n")
        #expect(message.problems == ["multipart without boundary; body read as text"])
    }

    @Test("an invalid Content-Type is read as text/plain with a problem")
    func invalidContentType() {
        let message = parseMail("Content-Type: garbage\n\nhello")
        #expect(message.textBody == "hello")
        #expect(message.problems.count == 1)
    }

    @Test("an HTML part without a charset parameter uses its meta charset")
    func metaCharset() {
        var bytes = Array("Content-Type: text/html\n\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><p>".utf8)
        bytes += [0xC4, 0xE3, 0xBA, 0xC3]
        bytes += Array("</p>".utf8)
        let message = MailMessage.parse(bytes)
        #expect(message.textBody == "你好")
        #expect(message.problems.isEmpty)
    }

    @Test("a Postfix DSN yields a failed delivery report for the original message")
    func deliveryReport() throws {
        let message = MailMessage.parse(try corpusBytes("19-postfix-dsn.eml"))
        let report = try #require(message.deliveryReport)
        #expect(report.originalMessageID == "t1234.m77.k3j4@hub.test")
        #expect(report.originalEnvelopeID == "t1234.m77")
        #expect(report.recipients == [
            DeliveryReport.Recipient(
                finalRecipient: "nosuchuser@example.org", action: "failed", status: "5.1.1",
                diagnosticCode: "550 5.1.1 <nosuchuser@example.org>: Recipient address rejected: User unknown in virtual mailbox table")
        ])
        #expect(report.isFailure)
        #expect(message.autoSubmission?.isBounce == true)
    }

    @Test("a delayed DSN with a returned message/rfc822 and two recipients")
    func delayedReport() {
        let message = parseMail(crlf("""
            From: postmaster@example.org
            Content-Type: multipart/report; report-type=delivery-status; boundary=R

            --R
            Content-Type: text/plain

            Delayed.
            --R
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.org

            Final-Recipient: rfc822; a@example.com
            Action: delayed
            Status: 4.4.1
            Final-Recipient: rfc822; b@example.com
            Action: delivered
            Status: 2.0.0
            --R
            Content-Type: message/rfc822

            Message-ID: <orig@hub.test>
            Subject: Hello

            body
            --R--
            """))
        let report = message.deliveryReport
        #expect(report?.originalMessageID == "orig@hub.test")
        #expect(report?.recipients.map(\.finalRecipient) == ["a@example.com", "b@example.com"])
        #expect(report?.recipients.map(\.action) == ["delayed", "delivered"])
        #expect(report?.isFailure == false)
        #expect(message.attachments.map(\.filename) == ["Hello.eml"])
    }

    @Test("inline images in multipart/mixed and attachment flags")
    func inlineFlags() {
        let message = parseMail("""
            Content-Type: multipart/mixed; boundary=m

            --m
            Content-Type: text/plain

            top
            --m
            Content-Type: image/jpeg
            Content-Disposition: inline; filename=photo.jpg

            jpg
            --m
            Content-Type: text/plain
            Content-Disposition: attachment; filename="notes.txt"

            notes
            --m
            Content-Type: text/plain

            bottom
            --m--
            """)
        #expect(message.textBody == "top\n\nbottom")
        #expect(message.attachments.map(\.filename) == ["photo.jpg", "notes.txt"])
        #expect(message.attachments.map(\.isInline) == [true, false])
        #expect(message.attachments.map(\.contentType) == ["image/jpeg", "text/plain"])
    }

    @Test(
        "attachment names are made safe",
        arguments: [
            ("attachment; filename=\"../../etc/passwd\"", "passwd"),
            ("attachment; filename=\"C:\\\\Users\\\\x\\\\a.doc\"", "a.doc"),
            ("attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf", "发票.pdf"),
            ("attachment; filename*0*=UTF-8''%E5%8F%91; filename*1*=%E7%A5%A8; filename*2=.pdf", "发票.pdf"),
            ("attachment; filename*1=\"b.txt\"; filename*0=\"a\"", "ab.txt"),
            ("attachment; filename=\"=?utf-8?B?5Y+R56Wo?=.pdf\"", "发票.pdf"),
            ("attachment; filename=plain name.txt", "plain name.txt"),
            ("attachment; filename=\"..hidden\"", "hidden"),
            ("attachment; filename=\"\"", nil),
        ] as [(String, String?)])
    func filenames(disposition: String, expected: String?) {
        let message = parseMail("Content-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: application/octet-stream\nContent-Disposition: \(disposition)\n\ndata\n--z--\n")
        #expect(message.attachments.first?.filename == expected)
    }
}

@Suite("HTML sanitizing")
struct HTMLSanitizerTests {
    @Test(
        "dangerous markup is removed",
        arguments: [
            ("<script>alert(1)</script>ok", "ok"),
            ("<SCRIPT SRC=x></SCRIPT>ok", "ok"),
            ("<style>b{}</style><b>ok</b>", "<b>ok</b>"),
            ("<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>"),
            ("<a href=\"java\tscript:alert(1)\">x</a>", "<a>x</a>"),
            ("<a href=\"&#106;avascript:alert(1)\">x</a>", "<a>x</a>"),
            ("<a href='https://e.example/?a=1&b=\"2'>x</a>", "<a href=\"https://e.example/?a=1&amp;b=&quot;2\" rel=\"noopener noreferrer nofollow\">x</a>"),
            ("<img src=x onerror=alert(1)>", "<img>"),
            ("<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">", "<img>"),
            ("<iframe src=\"https://e.example\">inner</iframe>after", "after"),
            ("<object data=x><param name=a>fallback</object>after", "after"),
            ("<svg><script>x</script><text>t</text></svg>after", "after"),
            ("<div style=\"background:url(javascript:x)\" onmouseover=x>t</div>", "<div>t</div>"),
            ("<b><i>unclosed", "<b><i>unclosed</i></b>"),
            ("</b>stray close", "stray close"),
            ("a < b > c", "a &lt; b &gt; c"),
            ("<!-- <script>x</script> -->visible", "visible"),
            ("<td colspan=2 width=x>c</td>", "<td colspan=\"2\">c</td>"),
            ("<font color=red>text</font>", "text"),
            ("<a href=\"mailto:a@example.com\">m</a>", "<a href=\"mailto:a@example.com\" rel=\"noopener noreferrer nofollow\">m</a>"),
        ])
    func sanitize(html: String, expected: String) {
        #expect(HTMLSanitizer.sanitize(html) == expected)
    }
}
