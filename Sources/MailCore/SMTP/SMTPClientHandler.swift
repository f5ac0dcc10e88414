import NIOCore

/// The client side's NIO shell: writes commands, matches each reply to the oldest waiting
/// request (so pipelined commands work) and fails requests on timeout or disconnection.
final class SMTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    /// Bytes to send (none for the greeting) and the promise for the reply they get.
    struct Request: Sendable {
        var bytes: ByteBuffer?
        var promise: EventLoopPromise<SMTPReply>
        var timeout: TimeAmount
    }

    /// Why a request got no reply.
    enum Failure: Error, Hashable {
        case timeout
        case connectionClosed
    }

    private struct Waiting {
        var promise: EventLoopPromise<SMTPReply>
        var timer: Scheduled<Void>?
    }

    private var parser = SMTPReplyParser()
    private var waiting: [Waiting] = []
    private var unclaimed: [SMTPReply] = []
    private var failure: (any Error)?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        if !unclaimed.isEmpty {
            request.promise.succeed(unclaimed.removeFirst())
        } else {
            let timer = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) { [weak self] in
                guard let self else { return }
                self.fail(Failure.timeout, context: context)
            }
            waiting.append(Waiting(promise: request.promise, timer: timer))
        }
        if let bytes = request.bytes {
            context.write(wrapOutboundOut(bytes), promise: promise)
        } else {
            promise?.succeed()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.parse(&buffer) {
                if waiting.isEmpty {
                    unclaimed.append(reply)
                } else {
                    let first = waiting.removeFirst()
                    first.timer?.cancel()
                    first.promise.succeed(reply)
                }
            }
        } catch {
            fail(error, context: context)
        }
    }

    /// Before TLS starts: nothing may have arrived after the `220` to STARTTLS. Replies the relay
    /// (or someone in the path) sent ahead in plaintext would otherwise be taken as answers to
    /// commands sent inside TLS.
    func prepareForTLS() throws {
        guard unclaimed.isEmpty, !parser.hasPartialReply else { throw InjectedPlaintext() }
    }

    /// Whether the session is between transactions with nothing pending: no request waiting, no
    /// reply (or part of one) the relay sent unasked, no failure. Only such a session is reused:
    /// a stray reply would be taken as the answer to the next command.
    var isQuiet: Bool { waiting.isEmpty && unclaimed.isEmpty && !parser.hasPartialReply && failure == nil }

    /// Bytes arrived in plaintext after the reply to STARTTLS.
    struct InjectedPlaintext: Error, Hashable {}

    func channelInactive(context: ChannelHandlerContext) {
        failAll(Failure.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        if failure == nil { failure = error }
        let pending = waiting
        waiting = []
        for request in pending {
            request.timer?.cancel()
            request.promise.fail(error)
        }
    }
}
