import NIOSSL

/// How the inbound SMTP listener binds and what it accepts.
public struct SMTPServerConfiguration: Sendable {
    /// The address to bind. Default `"127.0.0.1"`.
    public var host: String
    /// The port to bind; `0` picks an ephemeral port (see `SMTPServer.start()`). Default 2525.
    public var port: Int
    /// The name in the greeting, the EHLO reply and the `Received:` header.
    public var hostname: String
    /// The largest message in octets, announced as `SIZE`; larger mail gets `552 5.3.4`. 25 MiB.
    public var maximumMessageSize: Int
    /// Recipients per message; more get `452 4.5.3` (RFC 5321 §4.5.3.1.8 asks for at least 100).
    public var maximumRecipients: Int
    /// The longest command line in octets including CRLF; longer lines get `500 5.5.2`.
    public var maximumLineLength: Int
    /// A client silent this long (outside a delegate call) gets `421 4.4.2` and is disconnected.
    public var idleTimeout: Duration
    /// Connections beyond this get `421 4.3.2` at the greeting.
    public var maximumConnections: Int
    /// Unknown, malformed or out-of-sequence commands tolerated per session before `421`.
    public var maximumBadCommands: Int
    /// How long `run()` lets connections in the middle of a message finish after cancellation.
    public var shutdownGracePeriod: Duration
    /// When set, STARTTLS is offered with this context.
    public var tls: NIOSSLContext?
    /// Refuse MAIL and the like with `530 5.7.0` until STARTTLS (needs `tls`).
    public var requireTLS: Bool

    /// Creates a configuration; every parameter has the default documented on its property.
    public init(
        host: String = "127.0.0.1",
        port: Int = 2525,
        hostname: String = "localhost",
        maximumMessageSize: Int = 25 * 1024 * 1024,
        maximumRecipients: Int = 100,
        maximumLineLength: Int = 2048,
        idleTimeout: Duration = .seconds(300),
        maximumConnections: Int = 1000,
        maximumBadCommands: Int = 10,
        shutdownGracePeriod: Duration = .seconds(10),
        tls: NIOSSLContext? = nil,
        requireTLS: Bool = false
    ) {
        self.host = host
        self.port = port
        self.hostname = hostname
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.maximumLineLength = maximumLineLength
        self.idleTimeout = idleTimeout
        self.maximumConnections = maximumConnections
        self.maximumBadCommands = maximumBadCommands
        self.shutdownGracePeriod = shutdownGracePeriod
        self.tls = tls
        self.requireTLS = requireTLS
    }
}
