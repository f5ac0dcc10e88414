import Crypto
import Foundation
import HubModel
import HubStore
import HummingbirdBcrypt
import Logging

/// Agents' logins: passwords kept as bcrypt hashes, bearer tokens kept as SHA-256 digests with an
/// expiry, logout, and a limit on failed attempts per login and per client address.
public actor AuthService {
    public struct Configuration: Sendable {
        /// How long a token lives.
        public var sessionLifetime: Duration
        /// bcrypt work factor (each step doubles the time; 12 is about a quarter second here).
        public var bcryptCost: UInt8
        /// Failed logins allowed per login, and per client address, within `failureWindow`.
        public var failuresPerLogin: Int
        public var failuresPerAddress: Int
        public var failureWindow: Duration
        public var minimumPasswordLength: Int
        /// How long a checked token is trusted without reading its session again.
        public var cacheLifetime: Duration

        public init(
            sessionLifetime: Duration = .seconds(12 * 3600), bcryptCost: UInt8 = 12, failuresPerLogin: Int = 5, failuresPerAddress: Int = 20,
            failureWindow: Duration = .seconds(15 * 60), minimumPasswordLength: Int = 10, cacheLifetime: Duration = .seconds(30)
        ) {
            self.sessionLifetime = sessionLifetime
            self.bcryptCost = bcryptCost
            self.failuresPerLogin = failuresPerLogin
            self.failuresPerAddress = failuresPerAddress
            self.failureWindow = failureWindow
            self.minimumPasswordLength = minimumPasswordLength
            self.cacheLifetime = cacheLifetime
        }
    }

    /// A successful login.
    public struct Login: Sendable {
        /// Shown once; only its digest is stored.
        public var token: String
        public var session: AgentSession
        public var agent: Agent
    }

    /// An authenticated token.
    public struct Authenticated: Sendable {
        public var agent: Agent
        public var session: AgentSession

        public var viewer: Viewer { .agent(agent, session: session) }
    }

    private let store: any HubStore
    private let configuration: Configuration
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var failures: [String: [Date]] = [:]
    private var checked: [String: (authenticated: Authenticated, at: Date)] = [:]
    /// Compared against when the login is unknown, so that a wrong login takes as long as a wrong
    /// password (no telling which logins exist by timing).
    private var decoyHash: String?

    public init(store: any HubStore, configuration: Configuration = Configuration(), now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.now = now
        self.logger = logger
    }

    /// Checks a login and password; on success a new session and its token.
    /// - Throws: `InboxError` `unauthorized` (wrong login or password, inactive agent, no password
    ///   set: one answer for all) or `rateLimited`.
    public func login(_ login: String, password: String, address: String?, origin: String?) async throws -> Login {
        let date = now()
        let keys = ["login:" + login.lowercased()] + (address.map { ["address:" + $0] } ?? [])
        if let wait = retryAfter(keys, at: date) {
            logger.warning("login refused: too many failures", metadata: ["login": "\(login)", "address": "\(address ?? "-")"])
            throw InboxError(.rateLimited, "too many failed logins; try again later", retryAfter: wait)
        }
        let agent = try await store.agent(login: login)
        var hash: String?
        if let agent { hash = try await store.passwordHash(of: agent.id) }
        let candidate: String
        if let hash { candidate = hash } else { candidate = await decoy() }
        let matches = await Self.offload { Bcrypt.verify(password, hash: candidate) }
        guard let agent, agent.active, hash != nil, matches else {
            for key in keys { failures[key, default: []].append(date) }
            logger.notice("login failed", metadata: ["login": "\(login)", "address": "\(address ?? "-")"])
            throw InboxError(.unauthorized, "wrong login or password")
        }
        failures[keys[0]] = nil
        let token = Self.makeToken()
        let session = AgentSession(
            tokenDigest: Self.digest(token), agentID: agent.id, createdAt: date, expiresAt: date + configuration.sessionLifetime.timeInterval,
            origin: origin)
        try await store.createSession(session, actor: .agent(agent.id))
        logger.info("login", metadata: ["agent": "\(agent.id)", "address": "\(address ?? "-")"])
        return Login(token: token, session: session, agent: agent)
    }

    /// The agent behind a token, or nil when the token is unknown, expired, revoked, or its agent
    /// is no longer active.
    public func authenticate(_ token: String) async throws -> Authenticated? {
        let date = now()
        let digest = Self.digest(token)
        if let entry = checked[digest], date.timeIntervalSince(entry.at) < configuration.cacheLifetime.timeInterval {
            return entry.authenticated.session.isValid(at: date) ? entry.authenticated : nil
        }
        guard let session = try await store.session(tokenDigest: digest), session.isValid(at: date),
            let agent = try await store.agent(session.agentID), agent.active
        else {
            checked[digest] = nil
            return nil
        }
        let authenticated = Authenticated(agent: agent, session: session)
        if checked.count > 50_000 { checked.removeAll() }
        checked[digest] = (authenticated, date)
        return authenticated
    }

    /// Ends the session of a token; false when it was not open.
    public func logout(_ token: String) async throws -> Bool {
        try await logout(digest: Self.digest(token))
    }

    public func logout(digest: String) async throws -> Bool {
        checked[digest] = nil
        guard let session = try await store.session(tokenDigest: digest) else { return false }
        return try await store.endSession(tokenDigest: digest, at: now(), actor: .agent(session.agentID))
    }

    /// Sets an agent's password (ending their sessions).
    /// - Throws: `invalid` for a password that is too short, `notFound` for an unknown agent.
    public func setPassword(_ password: String, for agentID: Agent.ID, actor: Actor) async throws {
        guard password.count >= configuration.minimumPasswordLength else {
            throw InboxError.invalid("a password needs at least \(configuration.minimumPasswordLength) characters")
        }
        guard try await store.agent(agentID) != nil else { throw InboxError.notFound("no agent \(agentID)") }
        let cost = configuration.bcryptCost
        let hash = await Self.offload { Bcrypt.hash(password, cost: cost) }
        try await store.setPasswordHash(hash, of: agentID, at: now(), actor: actor)
        checked = checked.filter { $0.value.authenticated.agent.id != agentID }
        logger.notice("password set", metadata: ["agent": "\(agentID)", "by": "\(actor)"])
    }

    /// When the caller may try again, if one of `keys` has used up its failures.
    private func retryAfter(_ keys: [String], at date: Date) -> Duration? {
        let window = configuration.failureWindow.timeInterval
        var wait: TimeInterval = 0
        for key in keys {
            let recent = (failures[key] ?? []).filter { date.timeIntervalSince($0) < window }
            failures[key] = recent.isEmpty ? nil : recent
            let limit = key.hasPrefix("login:") ? configuration.failuresPerLogin : configuration.failuresPerAddress
            if recent.count >= limit, let oldest = recent.first { wait = max(wait, window - date.timeIntervalSince(oldest)) }
        }
        if failures.count > 100_000 { failures.removeAll() }
        return wait > 0 ? .milliseconds(Int64(wait * 1000) + 1) : nil
    }

    private func decoy() async -> String {
        if let decoyHash { return decoyHash }
        let cost = configuration.bcryptCost
        let hash = await Self.offload { Bcrypt.hash(UUID().uuidString, cost: cost) }
        decoyHash = hash
        return hash
    }

    /// bcrypt is slow on purpose: it runs off the cooperative pool, which it would otherwise block.
    private static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }

    /// `sbt_` and 32 random bytes, base64url.
    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "sbt_" + text
    }

    /// Hex SHA-256: what the store keeps of a token.
    public static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

extension Duration {
    /// The duration in seconds, as Foundation counts time.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
