import NIOCore
import NIOPosix
import NIOSSL

/// One TCP connection to a relay, with an async request/reply interface over
/// `SMTPClientHandler`.
struct SMTPClientConnection: Sendable {
    let channel: any Channel
    private(set) var isTLS: Bool

    /// Connects, with TLS from the start when `tls` is given.
    static func connect(
        host: String, port: Int, group: any EventLoopGroup, timeout: Duration,
        tls: (context: NIOSSLContext, serverHostname: String?)?
    ) async throws -> SMTPClientConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let tls {
                        try operations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverHostname))
                    }
                    try operations.addHandler(SMTPClientHandler())
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        return SMTPClientConnection(channel: channel, isTLS: tls != nil)
    }

    /// Sends one command line (CRLF added) and waits for its reply; `nil` waits for a reply
    /// without sending (the greeting).
    func command(_ line: String?, timeout: Duration) async throws -> SMTPReply {
        try await pipeline([line], timeout: timeout)[0]
    }

    /// Sends several command lines in one flush and waits for their replies, in order
    /// (RFC 2920 PIPELINING).
    func pipeline(_ lines: [String?], timeout: Duration) async throws -> [SMTPReply] {
        try await send(lines.map { $0.map { channel.allocator.buffer(string: $0 + "\r\n") } }, timeout: timeout)
    }

    /// Sends raw bytes (the dot-stuffed message) and waits for the reply.
    func raw(_ bytes: ByteBuffer, timeout: Duration) async throws -> SMTPReply {
        try await send([bytes], timeout: timeout)[0]
    }

    private func send(_ chunks: [ByteBuffer?], timeout: Duration) async throws -> [SMTPReply] {
        var futures: [EventLoopFuture<SMTPReply>] = []
        for chunk in chunks {
            let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
            channel.write(SMTPClientHandler.Request(bytes: chunk, promise: promise, timeout: TimeAmount(timeout)))
                .whenFailure { promise.fail($0) }
            futures.append(promise.futureResult)
        }
        channel.flush()
        var replies: [SMTPReply] = []
        for future in futures {
            replies.append(try await future.get())
        }
        return replies
    }

    /// Puts TLS in front of the connection after the relay's `220` to STARTTLS (RFC 3207).
    mutating func startTLS(context: NIOSSLContext, serverHostname: String?) async throws {
        let channel = channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self).prepareForTLS()
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: context, serverHostname: serverHostname), position: .first)
        }.get()
        isTLS = true
    }

    /// Whether the connection is open with nothing pending (see `SMTPClientHandler.isQuiet`).
    func isQuiet() async -> Bool {
        let channel = channel
        return (try? await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self)
            return channel.isActive && handler.isQuiet
        }.get()) ?? false
    }

    /// Closes the connection, ignoring errors.
    func close() async {
        try? await channel.close()
    }
}
