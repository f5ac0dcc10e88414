import Foundation
import NIOCore

/// Splits what an SMTP client sends into command lines and DATA messages (RFC 5321 §2.3.8,
/// §4.5.2), without knowing anything else about the session.
///
/// Bytes are appended as they arrive and consumed only on request, so input pipelined behind a
/// command whose reply is pending stays queued here, in order.
///
/// Line-ending policy:
/// - Command lines end at LF; a CR before it is dropped. Bare-LF command lines are tolerated
///   (as Postfix does) because a command line cannot smuggle anything.
/// - In DATA only CRLF ends a line: dot-unstuffing applies after CRLF, and only
///   `CRLF . CRLF` ends the message. `LF . LF`, `CR . CR` and `LF . CRLF` are content, which
///   makes "SMTP smuggling" (CVE-2023-51764 class) impossible through this server. Bare CR and
///   LF inside the content are stored unchanged.
///
/// DATA is copied into one growing buffer a run of lines at a time: only a line that starts
/// with a dot interrupts the bulk copy.
struct SMTPInputFramer {
    /// One unit of input.
    enum Frame: Equatable {
        /// A command line without its line ending.
        case command(ByteBuffer)
        /// A command line longer than the limit; its bytes are dropped up to the next LF.
        case commandTooLong
        /// The final dot of a message arrived. `message` holds the prefix given to `beginData`
        /// and the unstuffed content, or is `nil` when the content exceeded the limit;
        /// `octets` counts the content received (without the prefix).
        case message(ByteBuffer?, octets: Int)
    }

    private struct MessageProgress {
        var message: ByteBuffer?
        var octets = 0
        var limit: Int
        var atLineStart = true
        var afterCR = false
    }

    private var input: ByteBuffer
    private var discardingLongLine = false
    private var data: MessageProgress?
    private let allocator: ByteBufferAllocator

    init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.allocator = allocator
        self.input = allocator.buffer(capacity: 0)
    }

    /// Whether the framer is inside a message (between `beginData` and the final dot).
    var isReadingData: Bool { data != nil }

    /// The number of queued bytes not yet consumed.
    var bufferedBytes: Int { input.readableBytes }

    /// Queues bytes received from the client.
    mutating func append(_ bytes: ByteBuffer) {
        if input.readableBytes == 0 {
            input = bytes
        } else {
            if input.readerIndex > 64 * 1024 { input.discardReadBytes() }
            var bytes = bytes
            input.writeBuffer(&bytes)
        }
    }

    /// Drops everything queued (STARTTLS: plaintext sent before the handshake must be ignored).
    mutating func discardBuffered() {
        input = allocator.buffer(capacity: 0)
        discardingLongLine = false
    }

    /// Switches to DATA: the next bytes are message content, stored after `prefix`, up to
    /// `limit` octets of content; beyond it the content is counted and dropped.
    mutating func beginData(prefix: String, limit: Int, expectedSize: Int?) {
        let capacity = min(max(expectedSize ?? 0, 16 * 1024), max(limit, 0)) + prefix.utf8.count
        var message = allocator.buffer(capacity: capacity)
        message.writeString(prefix)
        data = MessageProgress(message: message, limit: limit)
    }

    /// The next complete frame, or `nil` when more bytes are needed.
    mutating func next(maximumLineLength: Int) -> Frame? {
        if data != nil { return nextMessage() }
        return nextCommand(maximumLineLength: maximumLineLength)
    }

    private mutating func nextCommand(maximumLineLength: Int) -> Frame? {
        while input.readableBytes > 0 {
            guard let newline = input.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                if input.readableBytes > maximumLineLength && !discardingLongLine {
                    discardingLongLine = true
                    input.moveReaderIndex(to: input.writerIndex)
                    return .commandTooLong
                }
                if discardingLongLine { input.moveReaderIndex(to: input.writerIndex) }
                return nil
            }
            let lineLength = newline - input.readerIndex
            if discardingLongLine {
                discardingLongLine = false
                input.moveReaderIndex(forwardBy: lineLength + 1)
                continue
            }
            if lineLength + 1 > maximumLineLength {
                input.moveReaderIndex(forwardBy: lineLength + 1)
                return .commandTooLong
            }
            var line = input.readSlice(length: lineLength)!
            input.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            return .command(line)
        }
        return nil
    }

    private mutating func nextMessage() -> Frame? {
        // Taken out of `data` while working so that writing to the message does not copy it.
        guard var progress = data else { return nil }
        data = nil
        var ended = false
        defer { if !ended { data = progress } }
        while input.readableBytes > 0 {
            if progress.atLineStart && input.readableBytesView.first == UInt8(ascii: ".") {
                // RFC 5321 §4.5.2: a line of a single dot ends the message; otherwise the
                // leading dot is removed.
                let view = input.readableBytesView
                guard view.count >= 2 else { return nil }
                let second = view[view.startIndex + 1]
                if second == UInt8(ascii: "\r") {
                    guard view.count >= 3 else { return nil }
                    if view[view.startIndex + 2] == UInt8(ascii: "\n") {
                        input.moveReaderIndex(forwardBy: 3)
                        ended = true
                        return .message(progress.message, octets: progress.octets)
                    }
                }
                input.moveReaderIndex(forwardBy: 1)
                progress.atLineStart = false
                progress.afterCR = false
                continue
            }
            copyRun(into: &progress)
        }
        return nil
    }

    /// Copies queued content up to (not including) the next dot that starts a line, or all of
    /// it, in one write.
    private mutating func copyRun(into progress: inout MessageProgress) {
        let afterCR = progress.afterCR
        let (runLength, endsAtLineStart) = input.withUnsafeReadableBytes { bytes -> (Int, Bool) in
            let count = bytes.count
            guard let base = bytes.baseAddress else { return (0, false) }
            var position = 0
            while position < count {
                guard let found = memchr(base + position, Int32(UInt8(ascii: "\n")), count - position) else {
                    break
                }
                let index = base.distance(to: UnsafeRawPointer(found))
                let precededByCR = index > 0 ? bytes[index - 1] == UInt8(ascii: "\r") : afterCR
                if precededByCR {
                    if index + 1 == count { return (count, true) }
                    if bytes[index + 1] == UInt8(ascii: ".") { return (index + 1, true) }
                }
                position = index + 1
            }
            return (count, false)
        }
        guard runLength > 0 else { return }
        progress.afterCR = input.getInteger(at: input.readerIndex + runLength - 1, as: UInt8.self) == UInt8(ascii: "\r")
        progress.atLineStart = endsAtLineStart
        progress.octets += runLength
        if progress.octets <= progress.limit {
            progress.message?.writeImmutableBuffer(input.readSlice(length: runLength)!)
        } else {
            progress.message = nil
            input.moveReaderIndex(forwardBy: runLength)
        }
    }
}
