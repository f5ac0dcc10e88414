/// What the SMTP server asks of its owner: whether a recipient exists, and to store a message.
///
/// The server asks `checkRecipient` on the connection's event loop (answer from memory) and
/// `receive(_:envelope:completion:)` there too, waiting for the answer before it reads the next
/// pipelined command, so replies stay in order. By default that calls the `async` `receive` from
/// a task; a delegate whose storage answers by callback (a group commit) implements the
/// completion form itself and saves the task and the thread hop per message.
public protocol SMTPServerDelegate: Sendable {
    /// RCPT TO: accept (return `nil`) or reject with a reply (e.g. `550 5.1.1`). Called on the
    /// connection's event loop: answer from memory, never block.
    func checkRecipient(_ address: String, envelope: SMTPEnvelope) -> SMTPReply?

    /// After DATA's final dot: store the message durably, then return 250 (or 451/554 etc).
    ///
    /// Called at most once per message; if the connection drops before the final dot, or the
    /// message exceeds the size limit, this is never called. `message` holds the bytes as
    /// received (CRLF line ends, dot-unstuffed) with the server's `Received:` header first.
    func receive(_ message: [UInt8], envelope: SMTPEnvelope) async -> SMTPReply

    /// The same as `receive(_:envelope:)`, answering through `completion` (exactly once, from any
    /// thread). Called on the connection's event loop: never block in it.
    func receive(_ message: [UInt8], envelope: SMTPEnvelope, completion: @escaping @Sendable (SMTPReply) -> Void)
}

extension SMTPServerDelegate {
    public func receive(_ message: [UInt8], envelope: SMTPEnvelope, completion: @escaping @Sendable (SMTPReply) -> Void) {
        Task { completion(await receive(message, envelope: envelope)) }
    }
}
