import Foundation

/// Turns an `OutgoingMail` into RFC 5322 bytes: CRLF line ends, header lines folded to 78
/// characters (never beyond 998), encoded body lines of at most 76, UTF-8 throughout.
///
/// Structure: `text/plain`; with HTML, `multipart/alternative`; with inline parts (content IDs)
/// and HTML, `multipart/related` around that; with attachments, `multipart/mixed` around it all.
/// Boundaries start with `=_`, which neither base64 nor quoted-printable output can contain, so
/// they cannot occur in the content; a random part keeps nested boundaries distinct.
public enum MailComposer {
    /// A MIME body part before rendering.
    private indirect enum Part {
        case leaf(headers: [String], body: [UInt8])
        case multipart(subtype: String, parts: [Part])
    }

    /// The message as bytes ready for SMTP (the client dot-stuffs them).
    public static func compose(_ mail: OutgoingMail) -> [UInt8] {
        var headers = ""
        headers += field("Date") { $0.append(dateHeaderValue(mail.date, timeZone: mail.timeZone)) }
        headers += field("From") { appendAddresses([mail.from], to: &$0) }
        if !mail.to.isEmpty { headers += field("To") { appendAddresses(mail.to, to: &$0) } }
        if !mail.cc.isEmpty { headers += field("Cc") { appendAddresses(mail.cc, to: &$0) } }
        if !mail.replyTo.isEmpty { headers += field("Reply-To") { appendAddresses(mail.replyTo, to: &$0) } }
        headers += field("Subject") { $0.appendUnstructured(mail.subject) }
        headers += field("Message-ID") { $0.append(angleBracketed(mail.messageID)) }
        if let inReplyTo = mail.inReplyTo {
            headers += field("In-Reply-To") { $0.append(angleBracketed(inReplyTo)) }
        }
        if !mail.references.isEmpty {
            headers += field("References") { folder in
                for reference in mail.references { folder.append(angleBracketed(reference)) }
            }
        }
        if let autoSubmitted = mail.autoSubmitted.map(singleLine), !autoSubmitted.isEmpty {
            // RFC 3834 §5; the Microsoft header stops Exchange out-of-office replies to it.
            headers += field("Auto-Submitted") { $0.append(autoSubmitted) }
            if autoSubmitted.lowercased() != "no" {
                headers += field("X-Auto-Response-Suppress") { $0.append("All") }
            }
        }
        for extra in mail.extraHeaders {
            let name = String(extra.name.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" })
            guard !name.isEmpty else { continue }
            headers += field(name) { $0.appendUnstructured(extra.value) }
        }
        headers += "MIME-Version: 1.0\r\n"

        var out = Array(headers.utf8)
        render(structure(of: mail), into: &out, depth: 0)
        if out.suffix(2) != [UInt8(ascii: "\r"), UInt8(ascii: "\n")] { out += Array("\r\n".utf8) }
        return out
    }

    /// A fresh Message-ID (without brackets) under `domain`: `<time>.<random>@domain`.
    public static func makeMessageID(domain: String) -> String {
        let time = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
        return "\(time).\(randomToken())@\(domain)"
    }

    // MARK: - Structure

    private static func structure(of mail: OutgoingMail) -> Part {
        var body = textPart(mail.text, subtype: "plain")
        if let html = mail.html {
            body = .multipart(subtype: "alternative", parts: [body, textPart(html, subtype: "html")])
        }
        var attachments = mail.attachments
        if mail.html != nil {
            let inline = attachments.filter { $0.contentID != nil }
            if !inline.isEmpty {
                body = .multipart(subtype: "related", parts: [body] + inline.map(attachmentPart))
                attachments.removeAll { $0.contentID != nil }
            }
        }
        guard !attachments.isEmpty else { return body }
        return .multipart(subtype: "mixed", parts: [body] + attachments.map(attachmentPart))
    }

    private static func textPart(_ text: String, subtype: String) -> Part {
        let bytes = canonicalText(text)
        let encoding = preferredEncoding(forText: bytes)
        var body = encoding == .base64 ? base64Lines(bytes) : quotedPrintable(bytes)
        // Text that does not end in a line break ends in a soft break, so the CRLF that must
        // close the message (or precede a boundary) adds no line break to it.
        if encoding == .quotedPrintable, !body.isEmpty, body.suffix(2) != [13, 10] {
            body += [UInt8(ascii: "="), 13, 10]
        }
        return .leaf(
            headers: [
                "Content-Type: text/\(subtype); charset=UTF-8",
                "Content-Transfer-Encoding: \(encoding.rawValue)",
            ],
            body: body)
    }

    private static func attachmentPart(_ attachment: OutgoingAttachment) -> Part {
        var contentType = singleLine(attachment.contentType).trimmingCharacters(in: .whitespaces)
        if contentType.isEmpty || !contentType.contains("/") { contentType = "application/octet-stream" }
        var typeField = HeaderFolder(name: "Content-Type")
        typeField.append(contentType + ";")
        for (index, token) in legacyNameTokens(attachment.filename).enumerated() {
            typeField.append(token, newLine: index > 0)
        }

        var disposition = HeaderFolder(name: "Content-Disposition")
        disposition.append(attachment.contentID == nil ? "attachment;" : "inline;")
        let filename = parameter("filename", attachment.filename)
        for (index, piece) in filename.enumerated() {
            disposition.append(piece + (index == filename.count - 1 ? "" : ";"), newLine: index > 0)
        }
        var headers = [typeField.text, disposition.text, "Content-Transfer-Encoding: base64"]
        if let contentID = attachment.contentID {
            headers.append("Content-ID: \(angleBracketed(contentID))")
        }
        return .leaf(headers: headers, body: base64Lines(attachment.bytes))
    }

    // MARK: - Rendering

    private static func render(_ part: Part, into out: inout [UInt8], depth: Int) {
        switch part {
        case .leaf(let headers, let body):
            for header in headers { out += Array((header + "\r\n").utf8) }
            out += Array("\r\n".utf8)
            out += body
        case .multipart(let subtype, let parts):
            let boundary = "=_SB\(depth)_\(randomToken())"
            out += Array("Content-Type: multipart/\(subtype);\r\n boundary=\"\(boundary)\"\r\n\r\n".utf8)
            if depth == 0 { out += Array("This is a multi-part message in MIME format.\r\n".utf8) }
            for child in parts {
                out += Array("\r\n--\(boundary)\r\n".utf8)
                render(child, into: &out, depth: depth + 1)
            }
            out += Array("\r\n--\(boundary)--\r\n".utf8)
        }
    }

    private static func field(_ name: String, _ build: (inout HeaderFolder) -> Void) -> String {
        var folder = HeaderFolder(name: name)
        build(&folder)
        return folder.field
    }

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 36) + String(generator.next() as UInt64, radix: 36)
    }
}
