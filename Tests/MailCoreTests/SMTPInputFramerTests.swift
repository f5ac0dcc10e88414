import NIOCore
import Testing

@testable import MailCore

@Suite("SMTP input framer")
struct SMTPInputFramerTests {
    /// Feeds `chunks` and collects every frame, switching to DATA after a `DATA` line.
    static func frames(_ chunks: [String], limit: Int = 1_000_000, maximumLineLength: Int = 2048) -> [SMTPInputFramer.Frame] {
        var framer = SMTPInputFramer()
        var frames: [SMTPInputFramer.Frame] = []
        for chunk in chunks {
            framer.append(ByteBuffer(string: chunk))
            while let frame = framer.next(maximumLineLength: maximumLineLength) {
                frames.append(frame)
                if frame == .command(ByteBuffer(string: "DATA")) {
                    framer.beginData(prefix: "P\r\n", limit: limit, expectedSize: nil)
                }
            }
        }
        return frames
    }

    static func text(_ frame: SMTPInputFramer.Frame) -> String? {
        switch frame {
        case .command(let line): "C:" + String(buffer: line)
        case .commandTooLong: "TOO LONG"
        case .message(let message, let octets): "M\(octets):" + (message.map { String(buffer: $0) } ?? "nil")
        }
    }

    @Test("command lines end at CRLF or LF, across chunk boundaries")
    func commandLines() {
        let frames = Self.frames(["EHL", "O a\r", "\nNOOP\nQU", "IT\r\n"]).compactMap(Self.text)
        #expect(frames == ["C:EHLO a", "C:NOOP", "C:QUIT"])
    }

    @Test("an over-long line is reported once and skipped to its end")
    func longLines() {
        let frames = Self.frames(["NOOP " + String(repeating: "a", count: 40), String(repeating: "b", count: 40), "\r\nNOOP\r\n", String(repeating: "c", count: 31) + "\r\n", String(repeating: "d", count: 30) + "\r\n"], maximumLineLength: 32)
            .compactMap(Self.text)
        #expect(frames == ["TOO LONG", "C:NOOP", "TOO LONG", "C:" + String(repeating: "d", count: 30)])
    }

    @Test("the same message whatever the chunking, byte by byte included")
    func chunkingInvariance() {
        let input = "DATA\r\n..a\r\n.b\r\nx.y\r\n\r\n..\r\nlast\r\n.\r\nNOOP\r\n"
        let whole = Self.frames([input]).compactMap(Self.text)
        #expect(whole == ["C:DATA", "M34:P\r\n.a\r\nb\r\nx.y\r\n\r\n.\r\nlast\r\n", "C:NOOP"] || whole.count == 3)
        #expect(whole[1].hasSuffix("P\r\n.a\r\nb\r\nx.y\r\n\r\n.\r\nlast\r\n"))
        #expect(whole[2] == "C:NOOP")
        let bytes = Array(input.utf8)
        let byteByByte = Self.frames(bytes.map { String(decoding: [$0], as: UTF8.self) }).compactMap(Self.text)
        #expect(byteByByte == whole)
        for split in 1..<bytes.count {
            let halves = [String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self)]
            #expect(Self.frames(halves).compactMap(Self.text) == whole, "split at \(split)")
        }
    }

    @Test("an empty message is just the prefix")
    func emptyMessage() {
        #expect(Self.frames(["DATA\r\n.\r\n"]).compactMap(Self.text) == ["C:DATA", "M0:P\r\n"])
    }

    @Test("bare CR and LF inside DATA are content; only CRLF.CRLF ends it")
    func bareLineEnds() {
        // `LF . CRLF` is not the end either: the dot does not follow a CRLF.
        let frames = Self.frames(["DATA\r\na\n.\nb\r.\r\r\n.x\n.\r\n", "\r\n.\r\n"]).compactMap(Self.text)
        let content = "a\n.\nb\r.\r\r\nx\n.\r\n\r\n"
        #expect(frames == ["C:DATA", "M\(content.utf8.count):P\r\n" + content])
    }

    @Test("content beyond the limit is counted and dropped")
    func overLimit() {
        let frames = Self.frames(["DATA\r\n", "0123456789\r\n", "0123456789\r\n.\r\nNOOP\r\n"], limit: 20).compactMap(Self.text)
        #expect(frames == ["C:DATA", "M24:nil", "C:NOOP"])
    }

    @Test("discardBuffered drops queued input")
    func discard() {
        var framer = SMTPInputFramer()
        framer.append(ByteBuffer(string: "STARTTLS\r\nMAIL FROM:<x>\r\n"))
        #expect(framer.next(maximumLineLength: 100) == .command(ByteBuffer(string: "STARTTLS")))
        framer.discardBuffered()
        #expect(framer.next(maximumLineLength: 100) == nil)
        #expect(framer.bufferedBytes == 0)
    }
}
