import Logging
import NIOCore
import NIOSSL

/// The thin NIO shell around `SMTPServerStateMachine` for one connection: feeds it bytes and
/// events, performs its actions, and hands messages to the delegate, whose answer comes back on
/// the event loop.
///
/// While the delegate is working, `read` is held back, so a fast client cannot queue unbounded
/// input; what it already sent stays queued in order inside the state machine.
final class SMTPServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent through the pipeline when the server stops.
    struct ShutdownEvent: Sendable {}

    private var stateMachine: SMTPServerStateMachine
    private let configuration: SMTPServerConfiguration
    private let delegate: any SMTPServerDelegate
    private let acceptingConnection: Bool
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var readPending = false

    init(
        configuration: SMTPServerConfiguration,
        delegate: any SMTPServerDelegate,
        remoteAddress: String?,
        remotePort: Int? = nil,
        acceptingConnection: Bool = true,
        logger: Logger
    ) {
        self.configuration = configuration
        self.delegate = delegate
        self.acceptingConnection = acceptingConnection
        self.logger = logger
        self.stateMachine = SMTPServerStateMachine(configuration: configuration, remoteAddress: remoteAddress, remotePort: remotePort)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { perform(stateMachine.connected(acceptingConnections: acceptingConnection)) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(stateMachine.connected(acceptingConnections: acceptingConnection))
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stateMachine.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(stateMachine.received(unwrapInboundIn(data)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            perform(stateMachine.idleTimeoutFired())
        case is ShutdownEvent:
            perform(stateMachine.shutdownRequested())
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("SMTP connection error", metadata: ["error": "\(error)"])
        stateMachine.connectionClosed()
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if stateMachine.isAwaitingDelegate {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: - Performing actions

    private func perform(_ actions: [SMTPServerStateMachine.Action]) {
        guard let context, !actions.isEmpty else { return }
        var lastWrite: EventLoopFuture<Void>?
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .send(let reply):
                var buffer = context.channel.allocator.buffer(capacity: 64)
                reply.write(to: &buffer)
                lastWrite = context.write(wrapOutboundOut(buffer))
            case .checkRecipient(let address, let envelope):
                // Answered here, on the event loop (no hop to a task and back for every RCPT).
                queue.append(contentsOf: stateMachine.recipientChecked(delegate.checkRecipient(address, envelope: envelope)))
            case .deliver(let message, let envelope):
                context.flush()
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let eventLoop = context.eventLoop
                // Always through `execute`, even when answered at once: this `perform` is not
                // re-entered while it still has actions queued.
                delegate.receive(message, envelope: envelope) { reply in
                    eventLoop.execute { handler.value.perform(handler.value.stateMachine.messageStored(reply)) }
                }
            case .startTLS:
                context.flush()
                guard let tls = configuration.tls else { continue }
                do {
                    try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
                } catch {
                    context.close(promise: nil)
                }
            case .close:
                context.flush()
                if let lastWrite {
                    lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
                return
            }
        }
        context.flush()
        resumeReadingIfPossible()
    }

    private func resumeReadingIfPossible() {
        guard readPending, !stateMachine.isAwaitingDelegate, let context else { return }
        readPending = false
        context.read()
    }
}
