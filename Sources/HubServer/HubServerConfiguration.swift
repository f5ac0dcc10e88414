import HubConfig
import HubEngine
import HubStore
import SIPCore

/// How the hub process is set up: where it listens, where its data and configuration are.
public struct HubServerConfiguration: Sendable {
    public var httpHost: String
    public var httpPort: Int
    /// The directory holding `hub.sqlite`.
    public var dataDirectory: String
    public var channelsDirectory: String
    public var routingRulesDirectory: String
    public var durability: SQLiteStore.Durability
    /// How often the write-ahead log is checkpointed beside the writer. Short: each checkpoint
    /// then syncs little, and the writer's own writes never wait long behind the disk's writeback
    /// (see docs/benchmarks.md, "Agents' inbox").
    public var checkpointInterval: Duration = .milliseconds(100)
    /// Under concurrent load, the least time between two of the store's transactions (see
    /// `SQLiteStore.Configuration.commitWindow`, docs/benchmarks.md "Group commit window").
    public var commitWindow: Duration = .milliseconds(8)
    public var engine: EngineConfiguration
    public var outbox: OutboxWorker.Configuration
    /// The bearer token of the `/v1` API; the API answers 401 without one.
    public var adminToken: Secret?
    /// The bearer token a Prometheus scraper sends to `GET /metrics` (supervisors and the admin
    /// token are let in too); without one, only they may scrape.
    public var scrapeToken: Secret?
    /// The largest request body accepted.
    public var maximumBodyBytes: Int
    /// Agents' logins: session lifetime, password hashing cost, failed-login limits.
    public var auth: AuthService.Configuration
    /// The SMTP listener for e-mail accounts (started when one is configured).
    public var smtp = SMTP()
    /// The SIP element for agents' phones and voice trunks (started when one is configured).
    public var sip = SIP()

    /// Where the hub speaks SIP.
    public struct SIP: Sendable {
        public var host: String = "127.0.0.1"
        /// UDP and TCP; 0 picks a free port.
        public var port: Int = 5060
        /// The digest realm phones register in; nil: the agents' SIP domain when they share one.
        public var realm: String?
        /// The digest challenges offered, in order (see `Registrar.Configuration.algorithms`).
        public var digestAlgorithms: [SIPDigestAlgorithm] = [.md5, .sha256]
        /// The address the hub writes in its own Via and Contact headers (calls to phones, answers
        /// to trunks); nil: the listening address (127.0.0.1 when it listens on every address).
        public var advertisedHost: String?
        /// Call-IDs whose messages are being handled at once; a message of another Call-ID beyond
        /// it is refused (a request gets `503` with `Retry-After`).
        public var maximumInProgress: Int = 10_000
        /// Messages waiting behind another of their Call-ID, over all calls; beyond it likewise.
        public var maximumWaiting: Int = 4_096
        /// The UDP socket's receive buffer in bytes (0: the system's default); see
        /// `SIPTransportConfiguration.receiveBufferSize`.
        public var receiveBufferSize: Int = 4 << 20
        /// Messages per second one address of a configured peer (a trunk's network, a phone's
        /// static contact) may send over UDP before the rest are dropped (0: no limit); see
        /// `SIPTransportConfiguration.trustedSourceRate`. Other addresses are held to 200.
        public var peerRate: Int = 5_000

        public init() {}
    }

    /// Where and how the hub receives mail.
    public struct SMTP: Sendable {
        public var host: String = "127.0.0.1"
        /// 0 picks a free port.
        public var port: Int = 2525
        /// The name in the greeting and in `Received:` headers.
        public var hostname: String = "localhost"
        /// The largest mail accepted (announced in EHLO as SIZE; larger ones get 552).
        public var maximumMessageSize: Int = 25 << 20
        /// PEM files of the certificate chain and key for STARTTLS; without them STARTTLS is not offered.
        public var certificatePath: String?
        public var privateKeyPath: String?
        /// Refuse mail before STARTTLS (530).
        public var requireTLS: Bool = false
        /// Event loop threads of the listener's sessions (one serves thousands of sessions a
        /// second; TLS handshakes are the costly part).
        public var eventLoopThreads: Int = 1
        /// Mails accepted and not yet threaded beyond which new mail gets `452 4.3.1`.
        public var maximumSpooled: Int = 100_000
        /// While mail keeps arriving, threading it waits for the listener to be idle, but no
        /// mail waits longer than this (unless the hub cannot keep up at all).
        public var maximumProcessingDelay: Duration = .seconds(10)

        public init() {}
    }

    public init(
        httpHost: String = "127.0.0.1", httpPort: Int = 8080, dataDirectory: String = "data", channelsDirectory: String = "channels",
        routingRulesDirectory: String = "routing-rules", durability: SQLiteStore.Durability = .full,
        engine: EngineConfiguration = EngineConfiguration(), outbox: OutboxWorker.Configuration = OutboxWorker.Configuration(),
        adminToken: Secret? = nil, maximumBodyBytes: Int = 1 << 20, auth: AuthService.Configuration = AuthService.Configuration()
    ) {
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.dataDirectory = dataDirectory
        self.channelsDirectory = channelsDirectory
        self.routingRulesDirectory = routingRulesDirectory
        self.durability = durability
        self.engine = engine
        self.outbox = outbox
        self.adminToken = adminToken
        self.maximumBodyBytes = maximumBodyBytes
        self.auth = auth
    }

    /// `data/hub.sqlite`.
    public var databasePath: String {
        (dataDirectory.hasSuffix("/") ? dataDirectory : dataDirectory + "/") + "hub.sqlite"
    }
}
