import NIOCore

/// Assembles SMTP replies from the lines a server sends, including multi-line replies
/// (`250-first`, `250 last`; RFC 5321 §4.2.1) and RFC 2034 enhanced codes.
struct SMTPReplyParser {
    /// The server sent something that is not an SMTP reply.
    struct MalformedReply: Error, Hashable {
        var line: String
    }

    private var pendingLine: ByteBuffer?
    private var lines: [String] = []
    private var code: Int?

    /// The longest reply line kept while waiting for its end (RFC 5321 allows 512 octets).
    static let maximumLineLength = 16 * 1024

    /// Whether part of a line or of a multi-line reply has arrived without its end.
    var hasPartialReply: Bool { pendingLine != nil || !lines.isEmpty }

    /// Consumes complete lines from `incoming` and returns the replies they finish. A line split
    /// across reads is kept until its end arrives.
    mutating func parse(_ incoming: inout ByteBuffer) throws -> [SMTPReply] {
        var buffer: ByteBuffer
        if var pending = pendingLine {
            pending.writeBuffer(&incoming)
            buffer = pending
            pendingLine = nil
        } else {
            buffer = incoming
            incoming.moveReaderIndex(forwardBy: incoming.readableBytes)
        }
        defer {
            if buffer.readableBytes > 0 { pendingLine = buffer.slice() }
        }
        var replies: [SMTPReply] = []
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer.readSlice(length: newline - buffer.readerIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            if let reply = try parseLine(String(decoding: line.readableBytesView, as: UTF8.self)) {
                replies.append(reply)
            }
        }
        if buffer.readableBytes > Self.maximumLineLength {
            let start = String(decoding: buffer.readableBytesView.prefix(80), as: UTF8.self)
            buffer.clear()
            throw MalformedReply(line: start + "… (a line longer than \(Self.maximumLineLength) octets)")
        }
        return replies
    }

    private mutating func parseLine(_ line: String) throws -> SMTPReply? {
        let utf8 = Array(line.utf8)
        guard utf8.count >= 3, utf8[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let lineCode = Int(String(decoding: utf8[0...2], as: UTF8.self)),
              utf8.count == 3 || utf8[3] == UInt8(ascii: " ") || utf8[3] == UInt8(ascii: "-")
        else { throw MalformedReply(line: line) }
        if let code, code != lineCode { throw MalformedReply(line: line) }
        code = lineCode
        lines.append(utf8.count > 4 ? String(decoding: utf8[4...], as: UTF8.self) : "")
        guard utf8.count == 3 || utf8[3] == UInt8(ascii: " ") else { return nil }
        defer {
            code = nil
            lines = []
        }
        return Self.reply(code: lineCode, lines: lines)
    }

    /// Splits off the enhanced code when every line starts with the same one.
    private static func reply(code: Int, lines: [String]) -> SMTPReply {
        let token = lines[0].split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        if isEnhancedCode(token, for: code), lines.allSatisfy({ $0 == token || $0.hasPrefix(token + " ") }) {
            let texts = lines.map { $0 == token ? "" : String($0.dropFirst(token.count + 1)) }
            return SMTPReply(code: code, enhancedCode: token, text: texts.joined(separator: "\n"))
        }
        return SMTPReply(code: code, text: lines.joined(separator: "\n"))
    }

    private static func isEnhancedCode(_ text: String, for code: Int) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "\(code / 100)",
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else { return false }
        return true
    }
}
