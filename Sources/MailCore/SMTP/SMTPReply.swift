import NIOCore

/// One SMTP reply (RFC 5321 §4.2): a three-digit code, an optional RFC 3463 enhanced status code
/// and human-readable text. A `text` with several lines (separated by `\n`) is sent as a
/// multi-line reply (`250-first`, `250 last`).
///
/// It is also the error a server delegate or the client reports: errors are values mapped to
/// the wire once, here.
public struct SMTPReply: Sendable, Hashable, Error, CustomStringConvertible {
    /// The reply code, e.g. 250 or 550.
    public var code: Int
    /// The RFC 3463 enhanced status code without the reply code, e.g. `"5.1.1"`.
    public var enhancedCode: String?
    /// The text; lines separated by `\n`.
    public var text: String

    /// Creates a reply.
    public init(code: Int, enhancedCode: String? = nil, text: String) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.text = text
    }

    /// `250 2.0.0 <text>`.
    public static func ok(_ text: String = "OK") -> SMTPReply {
        SMTPReply(code: 250, enhancedCode: "2.0.0", text: text)
    }

    /// `451 4.3.0 <text>`: a transient local failure; the sender retries later.
    public static func unavailable(_ text: String = "Temporary local problem, try again later") -> SMTPReply {
        SMTPReply(code: 451, enhancedCode: "4.3.0", text: text)
    }

    /// A rejection with the given codes, e.g. `.rejected(code: 550, enhanced: "5.1.1", text: "No such user")`.
    public static func rejected(code: Int, enhanced: String?, text: String) -> SMTPReply {
        SMTPReply(code: code, enhancedCode: enhanced, text: text)
    }

    /// `550 5.1.1 <text>`: unknown recipient (RFC 3463 "bad destination mailbox address").
    public static func unknownRecipient(_ text: String = "No such user here") -> SMTPReply {
        SMTPReply(code: 550, enhancedCode: "5.1.1", text: text)
    }

    /// `554 5.6.0 <text>`: the message was refused for its content.
    public static func messageRefused(_ text: String = "Message refused") -> SMTPReply {
        SMTPReply(code: 554, enhancedCode: "5.6.0", text: text)
    }

    /// 2xx and 3xx.
    public var isPositive: Bool { code >= 200 && code < 400 }
    /// 4xx: try again later.
    public var isTransient: Bool { code >= 400 && code < 500 }
    /// 5xx: do not try again.
    public var isPermanent: Bool { code >= 500 && code < 600 }

    /// The text lines (at least one).
    public var lines: [Substring] {
        let split = text.split(separator: "\n", omittingEmptySubsequences: false)
        return split.isEmpty ? [""] : split
    }

    /// Writes `wireFormat` into `buffer`; a one-line reply (nearly all of them) without building
    /// a string first.
    public func write(to buffer: inout ByteBuffer) {
        guard (100...999).contains(code), !text.utf8.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
            buffer.writeString(wireFormat)
            return
        }
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 100))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
        buffer.writeInteger(UInt8(ascii: " "))
        if let enhancedCode {
            buffer.writeString(enhancedCode)
            if !text.isEmpty { buffer.writeInteger(UInt8(ascii: " ")) }
        }
        buffer.writeString(text)
        buffer.writeInteger(UInt8(ascii: "\r"))
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// The reply as it goes on the wire, CRLF-terminated, with the enhanced code on every line.
    public var wireFormat: String {
        let all = lines
        var result = ""
        for (index, line) in all.enumerated() {
            let separator = index == all.count - 1 ? " " : "-"
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            result += "\(code)\(separator)"
            if let enhancedCode {
                result += trimmed.isEmpty ? enhancedCode : "\(enhancedCode) "
            }
            result += "\(trimmed)\r\n"
        }
        return result
    }

    public var description: String {
        var text = "\(code)"
        if let enhancedCode { text += " \(enhancedCode)" }
        return text + " " + lines.joined(separator: " / ")
    }
}
