import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The inbound SMTP listener (RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
/// ENHANCEDSTATUSCODES and STARTTLS). A message is acknowledged with the delegate's reply, which
/// the delegate gives only after it stored the message.
public final class SMTPServer: Sendable {
    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var stopping = false
    }

    private let configuration: SMTPServerConfiguration
    private let delegate: any SMTPServerDelegate
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates a server; nothing is bound until `start()` or `run()`.
    public init(
        configuration: SMTPServerConfiguration,
        delegate: any SMTPServerDelegate,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchboard.smtp.server")
    ) {
        self.configuration = configuration
        self.delegate = delegate
        self.group = group
        self.logger = logger
    }

    /// Binds the listener (once) and returns the bound address, useful with port 0.
    @discardableResult
    public func start() async throws -> SocketAddress {
        if let listener = state.withLock({ $0.listener }), let address = listener.localAddress {
            return address
        }
        let configuration = configuration
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                let accepting = self.register(channel)
                channel.closeFuture.whenComplete { _ in self.unregister(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)))
                    try operations.addHandler(
                        SMTPServerHandler(
                            configuration: configuration, delegate: self.delegate,
                            remoteAddress: channel.remoteAddress?.ipAddress, remotePort: channel.remoteAddress?.port, acceptingConnection: accepting,
                            logger: self.logger))
                }
            }
        let listener = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let existing = state.withLock { state -> (any Channel)? in
            if let existing = state.listener { return existing }
            state.listener = listener
            state.stopping = false
            return nil
        }
        if let existing {
            try? await listener.close()
            return existing.localAddress ?? listener.localAddress!
        }
        logger.info("SMTP listening", metadata: ["address": "\(listener.localAddress.map { "\($0)" } ?? "?")"])
        return listener.localAddress!
    }

    /// Starts if needed and serves until the task is cancelled (or `shutdown()` is called),
    /// then stops as `shutdown()` does.
    public func run() async throws {
        try await start()
        guard let listener = state.withLock({ $0.listener }) else { return }
        await withTaskCancellationHandler {
            try? await listener.closeFuture.get()
        } onCancel: {
            listener.close(promise: nil)
        }
        await shutdown()
    }

    /// Closes the listener, ends idle sessions with 421, lets sessions in the middle of a
    /// message finish within `shutdownGracePeriod`, then closes what is left.
    public func shutdown() async {
        let (listener, connections) = state.withLock { state in
            state.stopping = true
            let listener = state.listener
            state.listener = nil
            return (listener, Array(state.connections.values))
        }
        try? await listener?.close()
        guard !connections.isEmpty else { return }
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownEvent())
        }
        let eventLoop = group.next()
        let finished = eventLoop.makePromise(of: Void.self)
        EventLoopFuture.andAllComplete(connections.map(\.closeFuture), on: eventLoop).whenComplete { _ in
            finished.succeed()
        }
        let timer = eventLoop.scheduleTask(in: TimeAmount(configuration.shutdownGracePeriod)) {
            finished.succeed()
        }
        try? await finished.futureResult.get()
        timer.cancel()
        for connection in connections {
            try? await connection.close()
        }
    }

    /// Records a new connection; `false` when the server is full or stopping.
    private func register(_ channel: any Channel) -> Bool {
        state.withLock { state in
            state.connections[ObjectIdentifier(channel)] = channel
            return !state.stopping && state.connections.count <= configuration.maximumConnections
        }
    }

    private func unregister(_ channel: any Channel) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}
