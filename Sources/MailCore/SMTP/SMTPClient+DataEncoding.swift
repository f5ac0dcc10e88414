import NIOCore

extension SMTPClient {
    /// The message as it goes after `354`: line ends normalised to CRLF (a bare LF or CR becomes
    /// CRLF, RFC 5321 §2.3.8), a dot doubled at the start of a line (§4.5.2), a final CRLF added
    /// if missing, and the terminating `.` CRLF.
    static func dataEncoded(_ message: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: message.count + message.count / 64 + 8)
        var atLineStart = true
        var index = 0
        let count = message.count
        while index < count {
            let byte = message[index]
            switch byte {
            case UInt8(ascii: "\r"):
                buffer.writeStaticString("\r\n")
                if index + 1 < count && message[index + 1] == UInt8(ascii: "\n") { index += 1 }
                atLineStart = true
            case UInt8(ascii: "\n"):
                buffer.writeStaticString("\r\n")
                atLineStart = true
            default:
                if atLineStart && byte == UInt8(ascii: ".") { buffer.writeInteger(UInt8(ascii: ".")) }
                buffer.writeInteger(byte)
                atLineStart = false
            }
            index += 1
        }
        if !atLineStart { buffer.writeStaticString("\r\n") }
        buffer.writeStaticString(".\r\n")
        return buffer
    }
}
