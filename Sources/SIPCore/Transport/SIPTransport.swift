import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a message came from or goes to: a UDP address, or one TCP connection.
public struct SIPPeer: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable, Hashable {
        case udp = "UDP"
        case tcp = "TCP"
    }

    public var transport: Transport
    public var address: SocketAddress {
        didSet { ipAddress = Self.ipText(address) }
    }
    /// The TCP connection a message came on (responses go back on it); nil for UDP.
    public var connection: UInt64?
    /// The address's IP in text, made once: the flood guard, the Via stamp, the trunk and
    /// trusted-peer checks and the logs each read it, and `SocketAddress.ipAddress` formats it
    /// afresh (`inet_ntop`) at every read.
    public private(set) var ipAddress: String

    public init(transport: Transport, address: SocketAddress, connection: UInt64? = nil) {
        self.transport = transport
        self.address = address
        self.connection = connection
        ipAddress = Self.ipText(address)
    }

    /// The address's IP in text: an IPv4 address written here from its four bytes (every
    /// datagram received makes a peer, and `SocketAddress.ipAddress` allocates an array for
    /// `inet_ntop` and copies the text out of it), others by `SocketAddress.ipAddress`.
    static func ipText(_ address: SocketAddress) -> String {
        guard case .v4 = address else { return address.ipAddress ?? "?" }
        // `sin_addr` sits at byte 4 of a `sockaddr_in` (after the family and the port, on Linux
        // and BSD alike), in network order: the octets as written.
        let value = address.withSockAddr { pointer, _ in
            UInt32(bigEndian: UnsafeRawPointer(pointer).loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        }
        return String(unsafeUninitializedCapacity: 15) { buffer in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                if shift != 24 {
                    buffer[count] = UInt8(ascii: ".")
                    count += 1
                }
                let octet = Int((value >> UInt32(shift)) & 0xFF)
                if octet >= 100 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(octet / 100)
                    count += 1
                }
                if octet >= 10 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(octet / 10 % 10)
                    count += 1
                }
                buffer[count] = UInt8(ascii: "0") + UInt8(octet % 10)
                count += 1
            }
            return count
        }
    }

    // Equal and hashed by what they are made of (the IP text follows from the address).
    public static func == (lhs: SIPPeer, rhs: SIPPeer) -> Bool {
        lhs.transport == rhs.transport && lhs.address == rhs.address && lhs.connection == rhs.connection
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(transport)
        hasher.combine(address)
        hasher.combine(connection)
    }

    public var port: Int { address.port ?? 0 }
    public var description: String { "\(transport.rawValue) \(ipAddress):\(port)" }
}

/// What the transport hands the element above it, in arrival order.
public enum SIPInbound: Sendable {
    /// A parsed message; for a request, the top Via already carries `received`/`rport` (RFC
    /// 3581) so that responses built from it go back where it came from.
    case message(SIPMessage, from: SIPPeer)
    /// A request that could not be parsed whole, with what could be read of it (for a 400 with
    /// the reason, when its headers allow an answer at all).
    case malformed(SIPParseError, from: SIPPeer)
}

public struct SIPTransportConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest message accepted (UDP datagram or TCP message); larger is dropped or closes the
    /// connection.
    public var maximumMessageSize: Int
    /// Messages waiting for the element; beyond it new ones are dropped (a flood, or an element
    /// that stalls) and counted.
    public var inboundBuffer: Int
    /// Messages one source address may send per second before the rest are dropped (0: no limit).
    public var perSourceRate: Int
    /// Source addresses held to `trustedSourceRate` instead: the element's configured peers (a
    /// carrier's SBC sends every call of a trunk from one address).
    public var isTrusted: @Sendable (String) -> Bool
    /// Messages a trusted source may send per second over UDP (0: no limit). Far above what a
    /// trunk sends (3 per call: about 1,600 calls a second), but finite: a UDP source address can
    /// be forged, and a flood that claims a trunk's address must not have the element to itself.
    /// Over TCP (whose source address cannot be forged, and which never sends a dropped message
    /// again) a trusted source has no limit.
    public var trustedSourceRate: Int
    public var idleTimeout: Duration
    /// TCP connections open at once; more are closed at once.
    public var maximumConnections: Int
    /// The UDP socket's receive buffer (`SO_RCVBUF`), in bytes; 0 keeps the system's default.
    /// The kernel holds datagrams there until the event loop reads them, and drops what does not
    /// fit: the default (about 200 KiB, some 90 datagrams on loopback) is 10 ms of a thousand calls
    /// a second, so any pause of the loop's thread lost messages, and each loss cost its call a
    /// 500 ms retransmission. Linux caps it at `net.core.rmem_max` (the transport logs what it got).
    public var receiveBufferSize: Int

    public init(
        host: String = "127.0.0.1", port: Int = 5060, maximumMessageSize: Int = 64 * 1024, inboundBuffer: Int = 4096,
        perSourceRate: Int = 200, isTrusted: @escaping @Sendable (String) -> Bool = { _ in false }, trustedSourceRate: Int = 5_000,
        idleTimeout: Duration = .seconds(600), maximumConnections: Int = 2048, receiveBufferSize: Int = 4 << 20
    ) {
        self.receiveBufferSize = receiveBufferSize
        self.isTrusted = isTrusted
        self.trustedSourceRate = trustedSourceRate
        self.maximumConnections = maximumConnections
        self.host = host
        self.port = port
        self.maximumMessageSize = maximumMessageSize
        self.inboundBuffer = inboundBuffer
        self.perSourceRate = perSourceRate
        self.idleTimeout = idleTimeout
    }
}

/// SIP over UDP and TCP on one address (RFC 3261 §18): parses what arrives (framing TCP by
/// Content-Length, answering CRLF keep-alive pings), hands it on in order through `inbound`,
/// and sends what the element gives it, to a UDP address or back on a TCP connection.
public final class SIPTransport: Sendable {
    private struct State {
        var udp: (any Channel)?
        /// The UDP socket for sends from the caller's thread (see `send`); nil when not running.
        var udpSocket: UDPSendSocket?
        var tcp: (any Channel)?
        var connections: [UInt64: any Channel] = [:]
        var nextConnection: UInt64 = 1
        var stopping = false
        /// Messages per source address in the current second.
        var window: Int64 = 0
        var counts: [String: Int] = [:]
    }

    public let configuration: SIPTransportConfiguration
    /// What arrives, for one consumer; at most `inboundBuffer` waiting to be taken.
    public let inbound: SIPInboundStream
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex(State())
    /// Messages dropped: over the per-source rate or the inbound buffer.
    public let dropped = Atomic<Int>(0)
    /// UDP messages handed to the channel and not yet written: while any are, later messages
    /// follow them through the channel, so that messages leave in the order given.
    private let queuedOnChannel = Atomic<Int>(0)
    /// UDP messages sent through the channel since the start: those the socket could not take at
    /// once (a full send buffer), and those that followed them while they waited.
    public let sentThroughChannel = Atomic<Int>(0)
    /// The next this many UDP sends take the channel as if the socket were full (tests).
    let forcedThroughChannel = Atomic<Int>(0)

    public init(
        configuration: SIPTransportConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchboard.sip.transport")
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        inbound = SIPInboundStream(limit: configuration.inboundBuffer)
    }

    /// Binds UDP and TCP on the configured address (port 0: one free port for both when
    /// possible) and returns the bound addresses.
    @discardableResult
    public func start() async throws -> (udp: SocketAddress, tcp: SocketAddress) {
        // With port 0 the kernel picks the UDP port, and TCP must take the same number, which
        // another socket may hold over TCP: then another pick, a few times.
        var attempt = 1
        while true {
            do {
                return try await bind()
            } catch let error as IOError where error.errnoCode == EADDRINUSE && configuration.port == 0 && attempt < 8 {
                logger.debug("SIP transport: the TCP side of an ephemeral port was taken; another port", metadata: ["attempt": "\(attempt)"])
                attempt += 1
            }
        }
    }

    private func bind() async throws -> (udp: SocketAddress, tcp: SocketAddress) {
        var bootstrap = DatagramBootstrap(group: group)
        if configuration.receiveBufferSize > 0 {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(clamping: configuration.receiveBufferSize))
        }
        // The socket is made and bound here, not by the bootstrap, so that the transport holds a
        // descriptor of it (a duplicate) to send from the caller's thread; the channel reads it.
        let socket = try UDPSendSocket.bound(host: configuration.host, port: configuration.port)
        // (The channel owns the bound descriptor from here on and closes it.)
        let udpChannel = try await bootstrap
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: configuration.maximumMessageSize + 1))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SIPDatagramHandler(transport: self))
                }
            }
            .withBoundSocket(socket.channelDescriptor).get()
        let tcpPort = udpChannel.localAddress?.port ?? configuration.port
        let tcpChannel: any Channel
        do {
            tcpChannel = try await tcpBootstrap().bind(host: configuration.host, port: tcpPort).get()
        } catch {
            try? await udpChannel.close()
            throw error
        }
        state.withLock { state in
            state.udp = udpChannel
            state.udpSocket = socket
            state.tcp = tcpChannel
        }
        let udp = udpChannel.localAddress!
        let tcp = tcpChannel.localAddress!
        let granted = await receiveBufferSize()
        logger.debug("SIP transport bound", metadata: ["udp": "\(udp)", "tcp": "\(tcp)", "receive buffer": "\(granted ?? 0)"])
        if configuration.receiveBufferSize > 0, let granted, granted < configuration.receiveBufferSize {
            logger.notice(
                "SIP UDP receive buffer is smaller than asked: the system caps it (raise net.core.rmem_max)",
                metadata: ["asked": "\(configuration.receiveBufferSize)", "granted": "\(granted)"])
        }
        return (udp, tcp)
    }

    private func tcpBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                let id = state.withLock { state -> UInt64? in
                    guard state.connections.count < configuration.maximumConnections else { return nil }
                    defer { state.nextConnection += 1 }
                    state.connections[state.nextConnection] = channel
                    return state.nextConnection
                }
                guard let id else {
                    logger.warning("SIP connection refused: too many connections")
                    return channel.close()
                }
                channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.connections.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)))
                    try channel.pipeline.syncOperations.addHandler(SIPStreamHandler(transport: self, connection: id))
                }
            }
    }

    /// Sends a message: over UDP to the peer's address, over TCP on the peer's connection, and
    /// does not wait for it (messages to one peer leave in the order given); a write that fails
    /// later is logged. Throws when there is no channel to write to.
    ///
    /// A UDP message is sent from the calling thread, on the socket the channel reads: handing
    /// each to the event loop cost a wake-up of its thread, a task and the channel's pipeline per
    /// message, more than the send itself (a B2BUA sends about seven per call). A message the
    /// socket cannot take at once (its send buffer full) goes through the channel, which waits
    /// for the socket; later ones follow it there until it is written.
    public func send(_ message: SIPMessage, to peer: SIPPeer) throws {
        let bytes = message.serialized()
        let written: EventLoopFuture<Void>
        switch peer.transport {
        case .udp:
            let (channel, socket) = state.withLock { ($0.udp, $0.udpSocket) }
            guard let channel else { throw SIPTransportError.notRunning }
            if let socket, queuedOnChannel.load(ordering: .acquiring) == 0 {
                let forced = forcedThroughChannel.load(ordering: .relaxed) > 0 && forcedThroughChannel.subtract(1, ordering: .relaxed).newValue >= 0
                switch forced ? .wouldBlock : socket.send(bytes, to: peer.address) {
                case .sent:
                    return
                case .failed(let code):
                    logger.info("SIP message not sent", metadata: ["peer": "\(peer)", "error": "\(IOError(errnoCode: code, reason: "sendto"))"])
                    return
                case .wouldBlock:
                    break
                }
            }
            sentThroughChannel.add(1, ordering: .relaxed)
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            queuedOnChannel.add(1, ordering: .acquiringAndReleasing)
            written = channel.writeAndFlush(AddressedEnvelope(remoteAddress: peer.address, data: buffer))
            written.whenComplete { [self] _ in queuedOnChannel.subtract(1, ordering: .acquiringAndReleasing) }
        case .tcp:
            guard let id = peer.connection, let channel = state.withLock({ $0.connections[id] }) else { throw SIPTransportError.connectionClosed }
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            written = channel.writeAndFlush(buffer)
        }
        written.whenFailure { [logger] error in
            logger.info("SIP message not sent", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// The UDP socket's receive buffer as the system granted it, in bytes (nil before `start`).
    public func receiveBufferSize() async -> Int? {
        guard let udp = state.withLock({ $0.udp }) else { return nil }
        guard let reported = try? await udp.getOption(.socketOption(.so_rcvbuf)).get() else { return nil }
        #if os(Linux)
        // Linux reports twice what a process set (the other half is its bookkeeping); the default
        // as it is.
        return configuration.receiveBufferSize > 0 ? Int(reported) / 2 : Int(reported)
        #else
        return Int(reported)
        #endif
    }

    /// Closes the listeners and connections and ends `inbound`.
    public func shutdown() async {
        let channels = state.withLock { state -> [any Channel] in
            state.stopping = true
            defer {
                state.udp = nil
                state.udpSocket = nil
                state.tcp = nil
                state.connections = [:]
            }
            return [state.udp, state.tcp].compactMap { $0 } + Array(state.connections.values)
        }
        for channel in channels { try? await channel.close() }
        inbound.queue.finish()
    }

    /// Serves until the task is cancelled, then shuts down.
    public func run() async throws {
        if state.withLock({ $0.udp == nil }) { try await start() }
        guard let udp = state.withLock({ $0.udp }) else { return }
        await withTaskCancellationHandler {
            try? await udp.closeFuture.get()
        } onCancel: {
            udp.close(promise: nil)
        }
        await shutdown()
    }

    // MARK: From the handlers

    /// Parses one message's bytes and hands it on (requests get `received`/`rport` stamped).
    func received(_ bytes: [UInt8], from peer: SIPPeer, framing: SIPParser.Framing) {
        guard admit(peer) else { return }
        do {
            var message = try SIPParser().parse(bytes, framing: framing)
            if message.isRequest { Self.stampVia(&message, from: peer) }
            message.parseCommonHeaders()
            deliver(.message(message, from: peer))
        } catch {
            logger.info("malformed SIP message", metadata: ["peer": "\(peer)", "reason": "\(error.reason)"])
            // Only a request is worth an answer (never answer a response, however it starts).
            let first = bytes.drop { $0 == 0x0D || $0 == 0x0A }.prefix(4).map { $0 | 0x20 }
            if first != Array("sip/".utf8) { deliver(.malformed(error, from: peer)) }
        }
    }

    private func deliver(_ item: SIPInbound) {
        if inbound.queue.yield(item) == .dropped {
            dropped.add(1, ordering: .relaxed)
            logger.warning("SIP inbound buffer full, message dropped")
        }
    }

    /// The per-source limit (a flood from one address is dropped, others go on); configured peers
    /// have a higher one.
    private func admit(_ peer: SIPPeer) -> Bool {
        let limit =
            !configuration.isTrusted(peer.ipAddress) ? configuration.perSourceRate : peer.transport == .udp ? configuration.trustedSourceRate : 0
        guard limit > 0 else { return true }
        let second = Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000_000)
        let admitted = state.withLock { state -> Bool in
            if state.window != second {
                state.window = second
                state.counts.removeAll(keepingCapacity: true)
            }
            let count = state.counts[peer.ipAddress, default: 0] + 1
            state.counts[peer.ipAddress] = count
            return count <= limit
        }
        if !admitted {
            if dropped.add(1, ordering: .relaxed).newValue % 100 == 1 {
                logger.warning("SIP flood from one source: messages dropped", metadata: ["peer": "\(peer)"])
            }
        }
        return admitted
    }

    /// RFC 3581 and §18.2.1: the top Via gets `received=` with the source address when that
    /// differs from its sent-by or when it asks for `rport` (a value the client wrote is
    /// replaced), and `rport` gets the source port; responses then go back where the request
    /// came from.
    public static func stampVia(_ message: inout SIPMessage, from peer: SIPPeer) {
        guard let top = message.headers.firstValue("Via"), var via = SIPVia(parsing: top) else { return }
        let source = peer.ipAddress.lowercased()
        let host = via.host.hasPrefix("[") ? String(via.host.dropFirst().dropLast()) : via.host
        let rport = via.parameters.firstIndex { $0.name == "rport" }
        guard host != source || rport != nil else { return }
        via.parameters.removeAll { $0.name == "received" }
        if let index = via.parameters.firstIndex(where: { $0.name == "rport" }) { via.parameters[index].value = String(peer.port) }
        via.parameters.append(SIPParameter("received", source))
        message.headers.removeFirstValue("Via")
        message.headers.prependValue("Via", via.description)
    }

    func pong(_ channel: any Channel) {
        // A peer that does not read its pongs gets none (no unbounded pending writes).
        guard channel.isWritable else { return }
        var buffer = channel.allocator.buffer(capacity: 2)
        buffer.writeBytes([0x0D, 0x0A])
        channel.writeAndFlush(buffer, promise: nil)
    }
}

/// The transport's own descriptor of its UDP socket (a duplicate of the channel's), to send
/// from any thread. Closed when the last send holding it is done, after the transport let go of
/// it: a send in flight at shutdown never writes to a descriptor number the system has handed
/// to another file.
final class UDPSendSocket: Sendable {
    enum Outcome {
        case sent
        /// The socket cannot take it now (send buffer full): the channel can wait for it.
        case wouldBlock
        case failed(CInt)
    }

    /// The bound socket, for the channel (which closes it).
    let channelDescriptor: CInt
    private let descriptor: CInt

    private init(channelDescriptor: CInt, descriptor: CInt) {
        self.channelDescriptor = channelDescriptor
        self.descriptor = descriptor
    }

    deinit { _ = close(descriptor) }

    /// A non-blocking UDP socket bound to `host`:`port` (address reuse on, as the bootstrap set it).
    static func bound(host: String, port: Int) throws -> UDPSendSocket {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        #if canImport(Darwin)
        let kind = SOCK_DGRAM
        #else
        let kind = Int32(SOCK_DGRAM.rawValue)
        #endif
        let fd = socket(address.protocol.rawValue, kind, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: CInt = 1
        let bound: CInt
        if setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size)) != 0 {
            bound = -1
        } else {
            bound = withSocketAddress(address) { pointer, length in bind(fd, pointer, length) } ?? -1
        }
        guard bound == 0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else {
            let code = errno
            _ = close(fd)
            throw IOError(errnoCode: code, reason: "bind")
        }
        let duplicate = dup(fd)
        guard duplicate >= 0 else {
            let code = errno
            _ = close(fd)
            throw IOError(errnoCode: code, reason: "dup")
        }
        return UDPSendSocket(channelDescriptor: fd, descriptor: duplicate)
    }

    func send(_ bytes: [UInt8], to address: SocketAddress) -> Outcome {
        let result = bytes.withUnsafeBytes { buffer in
            Self.withSocketAddress(address) { pointer, length in
                sendto(descriptor, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL), pointer, length)
            }
        }
        guard let result else { return .failed(EAFNOSUPPORT) }
        if result >= 0 { return .sent }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == ENOBUFS || code == EINTR { return .wouldBlock }
        return .failed(code)
    }

    /// `body` with the address as a `sockaddr`; nil for an address that is not IP.
    private static func withSocketAddress<Result>(
        _ address: SocketAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result? {
        switch address {
        case .v4(let v4):
            var raw = v4.address
            return withUnsafePointer(to: &raw) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let v6):
            var raw = v6.address
            return withUnsafePointer(to: &raw) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        case .unixDomainSocket:
            return nil
        }
    }
}

public enum SIPTransportError: Error, Sendable {
    case notRunning
    case connectionClosed
}

/// One UDP datagram is one message.
final class SIPDatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let transport: SIPTransport

    init(transport: SIPTransport) {
        self.transport = transport
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        // Keep-alive CRLFs over UDP are ignored; so is anything over the size limit.
        guard bytes.contains(where: { $0 != 0x0D && $0 != 0x0A }) else { return }
        guard bytes.count <= transport.configuration.maximumMessageSize else { return }
        transport.received(bytes, from: SIPPeer(transport: .udp, address: envelope.remoteAddress), framing: .datagram)
    }
}

/// A TCP connection: bytes framed into messages by `SIPStreamFramer`.
final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let transport: SIPTransport
    let connection: UInt64
    private var framer: SIPStreamFramer

    init(transport: SIPTransport, connection: UInt64) {
        self.transport = transport
        self.connection = connection
        framer = SIPStreamFramer(maximumSize: transport.configuration.maximumMessageSize)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let address = context.remoteAddress else { return }
        let peer = SIPPeer(transport: .tcp, address: address, connection: connection)
        do {
            for item in try framer.append(buffer.readableBytesView) {
                switch item {
                case .keepAlivePing: transport.pong(context.channel)
                case .message(let bytes): transport.received(bytes, from: peer, framing: .stream)
                }
            }
        } catch {
            // The stream cannot be framed any more: close it (RFC 3261 §18.3).
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
