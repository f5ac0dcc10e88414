import Crypto
import Foundation
import HubStore
import Logging
import NIOCore
import SIPCore

/// Agents' SIP phones (RFC 3261 §10.3): a REGISTER is challenged with digest (SHA-256 and MD5,
/// RFC 8760), and once authenticated as the agent whose address of record it names, its
/// contacts become bindings that expire. An agent is reachable for calls while it has a binding
/// or a static contact; the change is reported as it happens (a registration, an expiry, an
/// unregistration). With a store, bindings over UDP are also kept there (written in order, after
/// the answer, by `saveBindings()`) and restored at start (`restoreBindings(now:)`), so that a
/// restart of the hub leaves phones reachable; bindings over TCP end with their connection (the
/// phone registers again when it reconnects).
public actor Registrar {
    /// A phone the registrar accepts registrations for.
    public struct Account: Sendable {
        public var agentID: String
        /// `sip:alice@switchboard.example`: its user part is the digest user name.
        public var addressOfRecord: SIPURI
        /// HA1 per algorithm (the password itself is not kept).
        var ha1: [SIPDigestAlgorithm: String]
        public var staticContact: SIPURI?

        public init(agentID: String, addressOfRecord: SIPURI, password: String?, realm: String, staticContact: SIPURI? = nil) {
            self.agentID = agentID
            self.addressOfRecord = addressOfRecord
            self.staticContact = staticContact
            var ha1: [SIPDigestAlgorithm: String] = [:]
            if let password, let user = addressOfRecord.user {
                for algorithm in SIPDigestAlgorithm.allCases {
                    ha1[algorithm] = SIPDigest.ha1(algorithm, username: user, realm: realm, password: password)
                }
            }
            self.ha1 = ha1
        }

        var username: String? { addressOfRecord.user }
        var canRegister: Bool { !ha1.isEmpty }

        /// A fingerprint of the credentials (a hash of the HA1s, which are themselves hashes of
        /// the password): a binding made with other credentials is not kept.
        var credential: String {
            let joined = ha1.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ";")
            return SHA256.hash(data: Data(joined.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// One registered contact of an agent's phone.
    public struct Binding: Sendable, Hashable {
        public var contact: SIPURI
        public var expiresAt: Int64
        public var callID: String
        public var cseq: UInt32
        /// Where the REGISTER came from: calls go to the contact, over this transport.
        public var source: SIPPeer
        public var userAgent: String?
    }

    public struct Configuration: Sendable {
        public var realm: String
        public var minimumExpires: Int
        public var maximumExpires: Int
        public var defaultExpires: Int
        /// The challenges offered, in this order. MD5 first by default: phones that read only
        /// the first challenge (SIPp among them) know no other; SHA-256 is offered after it and
        /// accepted whenever a phone answers with it (RFC 8760).
        public var algorithms: [SIPDigestAlgorithm]
        /// The longest registration granted over TCP: shorter than the transport's idle timeout
        /// (600 s), so a phone registering again keeps its connection (and the hub's way to it)
        /// alive.
        public var maximumExpiresOverTCP: Int = 540

        public init(
            realm: String, minimumExpires: Int = 60, maximumExpires: Int = 3600, defaultExpires: Int = 3600,
            algorithms: [SIPDigestAlgorithm] = [.md5, .sha256]
        ) {
            self.algorithms = algorithms.isEmpty ? [.md5, .sha256] : algorithms
            self.realm = realm
            self.minimumExpires = minimumExpires
            self.maximumExpires = maximumExpires
            self.defaultExpires = defaultExpires
        }
    }

    public nonisolated let configuration: Configuration
    private var accounts: [String: Account]
    private var byUsername: [String: String]
    private var bindings: [String: [Binding]] = [:]
    private let nonces: SIPNonceIssuer
    /// The highest nonce count used with each live nonce (by user), and when it can be forgotten.
    private var nonceCounts: [String: (count: UInt32, forgetAt: Int64)] = [:]
    private var nonceLifetime: Int64 {
        nonces.lifetime.components.seconds * 1000 + 60_000
    }
    private let logger: Logger
    private let onReachability: @Sendable (String, Bool) async -> Void
    /// Where bindings are kept across restarts, if anywhere.
    private let store: (any RegistrationStore)?
    /// Agents' bindings waiting to be written to the store: the latest of each agent (a flood of
    /// refreshes is one write per agent), taken in one batch by `saveBindings()` when `saveWake`
    /// rings.
    private var pendingSaves: [String: [PhoneBinding]] = [:]
    private let saveWake: AsyncStream<Void>
    private let saveWakeInput: AsyncStream<Void>.Continuation

    public init(
        configuration: Configuration, accounts: [Account], nonces: SIPNonceIssuer = SIPNonceIssuer(), store: (any RegistrationStore)? = nil,
        logger: Logger, onReachability: @escaping @Sendable (_ agentID: String, _ reachable: Bool) async -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        (self.accounts, self.byUsername) = Self.index(accounts)
        self.nonces = nonces
        self.store = store
        self.logger = logger
        self.onReachability = onReachability
        (saveWake, saveWakeInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Bindings kept across restarts

    /// Restores the stored bindings that are still valid: not expired, over UDP, of an agent
    /// whose phone is still configured with the same address of record and credentials. Call
    /// before the first REGISTER is taken; reports the agents who became reachable. Returns how
    /// many bindings were restored.
    @discardableResult
    public func restoreBindings(now: Int64) async -> Int {
        guard let store else { return 0 }
        let stored: [PhoneBinding]
        do {
            stored = try await store.phoneBindings(unexpiredAt: now)
        } catch {
            logger.error("the phones' stored registrations could not be read: phones are reachable once they register", metadata: ["error": "\(error)"])
            return 0
        }
        var restored = 0
        var gained: [String] = []
        for (agentID, list) in Dictionary(grouping: stored, by: \.agentID).sorted(by: { $0.key < $1.key }) {
            guard let account = accounts[agentID], account.canRegister, account.addressOfRecord.description == list[0].addressOfRecord,
                account.credential == list[0].credential
            else {
                logger.info("an agent's stored phone registrations dropped: the phone changed in the rules", metadata: ["agent": "\(agentID)"])
                pendingSaves[agentID] = []
                saveWakeInput.yield()
                continue
            }
            let wasReachable = isReachable(agentID)
            var current = bindings[agentID] ?? []
            for binding in list.prefix(Self.maximumBindings) {
                guard let contact = SIPURI(parsing: binding.contact), let address = try? SocketAddress(ipAddress: binding.host, port: binding.port),
                    !current.contains(where: { $0.contact.matches(contact) })
                else { continue }
                current.append(
                    Binding(
                        contact: contact, expiresAt: binding.expiresAt, callID: binding.callID, cseq: binding.cseq,
                        source: SIPPeer(transport: .udp, address: address), userAgent: binding.userAgent))
                restored += 1
            }
            bindings[agentID] = current.isEmpty ? nil : current
            if isReachable(agentID), !wasReachable { gained.append(agentID) }
        }
        if restored > 0 { logger.info("phones' registrations restored", metadata: ["bindings": "\(restored)"]) }
        for agentID in gained { await onReachability(agentID, true) }
        return restored
    }

    /// Writes the bindings as they change until `finishSaving()`: whatever is waiting, the latest
    /// of each agent, in one transaction. A write that fails is logged (the phone's next REGISTER
    /// writes its bindings again).
    public nonisolated func saveBindings() async {
        guard let store else { return }
        for await _ in saveWake { await save(to: store) }
        // Finished: what came in meanwhile too.
        await save(to: store)
    }

    private func save(to store: any RegistrationStore) async {
        guard !pendingSaves.isEmpty else { return }
        let batch = pendingSaves
        pendingSaves = [:]
        do {
            try await store.replacePhoneBindings(batch)
        } catch {
            logger.error("phones' registrations could not be kept", metadata: ["agents": "\(batch.keys.sorted())", "error": "\(error)"])
        }
    }

    /// Ends `saveBindings()` once what is waiting is written.
    public nonisolated func finishSaving() { saveWakeInput.finish() }

    /// Queues the agent's bindings as they are now for the store (those over UDP: a TCP
    /// binding's connection does not survive a restart).
    private func keep(_ agentID: String) {
        guard store != nil else { return }
        let addressOfRecord = accounts[agentID]?.addressOfRecord.description ?? ""
        let credential = accounts[agentID]?.credential ?? ""
        pendingSaves[agentID] = (bindings[agentID] ?? []).filter { $0.source.transport == .udp }.map { binding in
            PhoneBinding(
                agentID: agentID, addressOfRecord: addressOfRecord, credential: credential, contact: binding.contact.description,
                expiresAt: binding.expiresAt, callID: binding.callID, cseq: binding.cseq, host: binding.source.ipAddress, port: binding.source.port,
                userAgent: binding.userAgent)
        }
        saveWakeInput.yield()
    }

    private static func index(_ accounts: [Account]) -> (accounts: [String: Account], byUsername: [String: String]) {
        let byAgent = Dictionary(accounts.map { ($0.agentID, $0) }, uniquingKeysWith: { first, _ in first })
        var byUsername: [String: String] = [:]
        for account in accounts where account.canRegister {
            if let user = account.username, byUsername[user] == nil { byUsername[user] = account.agentID }
        }
        return (byAgent, byUsername)
    }

    /// The phones as configured anew (the rules reloaded): new ones can register at once;
    /// bindings stay for phones whose address of record is unchanged and that can still
    /// register with the same credentials, and go for the others (removed, moved to another
    /// address, a new password or none); agents whose reachability changed are reported.
    /// Returns them.
    @discardableResult
    public func replaceAccounts(_ newAccounts: [Account]) async -> [String] {
        let before = Set(accounts.keys).union(newAccounts.map(\.agentID))
        let wasReachable = Dictionary(uniqueKeysWithValues: before.map { ($0, isReachable($0)) })
        let oldAccounts = accounts
        (accounts, byUsername) = Self.index(newAccounts)
        for agentID in Array(bindings.keys) {
            if let account = accounts[agentID], account.canRegister, let old = oldAccounts[agentID], old.addressOfRecord == account.addressOfRecord,
                old.credential == account.credential
            {
                continue
            }
            bindings[agentID] = nil
            keep(agentID)
            logger.info("an agent's phone bindings dropped: the phone changed in the rules", metadata: ["agent": "\(agentID)"])
        }
        var changed: [String] = []
        for agentID in before.sorted() where isReachable(agentID) != wasReachable[agentID] {
            changed.append(agentID)
            await onReachability(agentID, isReachable(agentID))
        }
        return changed
    }

    /// Whether the agent's phone can be called now.
    public func isReachable(_ agentID: String) -> Bool {
        guard let account = accounts[agentID] else { return false }
        return account.staticContact != nil || !(bindings[agentID] ?? []).isEmpty
    }

    /// The agent's current bindings, newest first.
    public func bindings(of agentID: String) -> [Binding] {
        (bindings[agentID] ?? []).sorted { $0.expiresAt > $1.expiresAt }
    }

    /// Where a call to the agent goes: the newest registered contact, reached through the
    /// connection or address its REGISTER came from; else the static contact (no peer: the
    /// caller resolves its address). Nil when the phone cannot be reached.
    public func target(of agentID: String) -> (contact: SIPURI, peer: SIPPeer?, addressOfRecord: SIPURI)? {
        guard let account = accounts[agentID] else { return nil }
        if let binding = bindings(of: agentID).first { return (binding.contact, binding.source, account.addressOfRecord) }
        if let contact = account.staticContact { return (contact, nil, account.addressOfRecord) }
        return nil
    }

    /// Answers a REGISTER (`now` in milliseconds since the epoch).
    public func register(_ request: SIPMessage, from peer: SIPPeer, now: Int64) async -> SIPMessage {
        // Authentication first: who is this?
        let credentials = request.headers.lines("Authorization").compactMap(SIPDigestCredentials.init(parsing:))
            .first { $0.realm == configuration.realm }
        guard let credentials else { return challenge(request, stale: false, now: now) }
        let freshness = nonces.check(credentials.nonce, realm: configuration.realm, now: now)
        if freshness == .invalid { return challenge(request, stale: false, now: now) }
        // Only what was offered: qop=auth (never RFC 2069's form without it) and one of the
        // configured algorithms.
        guard credentials.qop?.lowercased() == "auth", configuration.algorithms.contains(credentials.algorithm) else {
            return challenge(request, stale: false, now: now)
        }
        let account = byUsername[credentials.username].flatMap { accounts[$0] }
        // (An unknown user name is hashed against a throwaway HA1, so that the answer takes as
        // long as for a known one.)
        let ha1 = account?.ha1[credentials.algorithm] ?? SIPDigest.ha1(credentials.algorithm, username: "", realm: "", password: "")
        let verified = credentials.verifies(ha1: ha1, method: "REGISTER")
        guard let account, verified else {
            if account != nil {
                logger.notice("SIP registration refused: wrong password", metadata: ["peer": "\(peer)", "user": "\(credentials.username)"])
            }
            return challenge(request, stale: false, now: now)
        }
        let agentID = account.agentID
        // The right password on an expired nonce: `stale=true`, the phone retries without asking.
        if freshness == .stale { return challenge(request, stale: true, now: now) }
        // A replay: each nonce count may be used once, and only upwards (RFC 7616 §3.4), so a
        // captured REGISTER cannot be sent again with another Contact.
        let used = credentials.nonce + " " + credentials.username
        guard let count = credentials.nc.flatMap({ UInt32($0, radix: 16) }), count > (nonceCounts[used]?.count ?? 0) else {
            logger.notice("SIP registration replayed or out of order", metadata: ["peer": "\(peer)", "agent": "\(agentID)"])
            // `stale=true`: a phone that reuses its nonce count takes a new nonce without asking.
            return challenge(request, stale: true, now: now)
        }
        nonceCounts[used] = (count, now + nonceLifetime)
        // RFC 7616 §3.4.6: the digest covers this Request-URI, not another.
        var sameURI = credentials.uri == request.requestURI
        if !sameURI, let given = SIPURI(parsing: credentials.uri), let target = request.requestURI.flatMap({ SIPURI(parsing: $0) }) {
            sameURI = given.matches(target)
        }
        guard sameURI else {
            return request.response(400, reason: "Bad Request (Authorization uri does not match the Request-URI)", toTag: Self.tag)
        }
        // The address of record in To must be the authenticated agent's own.
        guard let to = request.to?.uri, to.user == account.addressOfRecord.user, to.host == account.addressOfRecord.host else {
            logger.notice("SIP registration for another address refused", metadata: ["peer": "\(peer)", "agent": "\(agentID)"])
            return request.response(403, reason: "Forbidden (not your address of record)", toTag: Self.tag)
        }
        return await update(request, agentID: agentID, from: peer, now: now)
    }

    /// Applies the Contact headers of an authenticated REGISTER (§10.3 steps 6-8).
    private func update(_ request: SIPMessage, agentID: String, from peer: SIPPeer, now: Int64) async -> SIPMessage {
        guard let callID = request.callID, let cseq = request.cseq?.number else { return request.response(400, toTag: Self.tag) }
        let headerExpires = request.headers.first("Expires").flatMap { Int($0) }
        let contacts = request.headers.values("Contact")
        let wasReachable = isReachable(agentID)
        var current = bindings[agentID] ?? []
        if contacts == ["*"] {
            // Remove every binding: only with Expires: 0 (§10.2.2).
            guard headerExpires == 0 else { return request.response(400, reason: "Bad Request (Contact * needs Expires: 0)", toTag: Self.tag) }
            current.removeAll()
        } else {
            for value in contacts {
                guard let contact = SIPNameAddress(parsing: value), contact.uri.isSIP else {
                    return request.response(400, reason: "Bad Request (Bad Contact: a sip or sips URI)", toTag: Self.tag)
                }
                var expires = contact.parameters[parameter: "expires"].flatMap { Int($0) } ?? headerExpires ?? configuration.defaultExpires
                if expires < 0 { expires = configuration.defaultExpires }
                if expires > 0, expires < configuration.minimumExpires {
                    return request.response(
                        423, toTag: Self.tag, headers: [("Min-Expires", String(configuration.minimumExpires))])
                }
                expires = min(expires, peer.transport == .tcp ? configuration.maximumExpiresOverTCP : configuration.maximumExpires)
                if let index = current.firstIndex(where: { $0.contact.matches(contact.uri) }) {
                    // The same phone again: an older or repeated request changes nothing (§10.3 step 7).
                    if current[index].callID == callID, current[index].cseq >= cseq {
                        return request.response(500, reason: "Server Internal Error (out of order REGISTER)", toTag: Self.tag)
                    }
                    if expires == 0 {
                        current.remove(at: index)
                        continue
                    }
                    current[index] = Binding(
                        contact: contact.uri, expiresAt: now + Int64(expires) * 1000, callID: callID, cseq: cseq, source: peer,
                        userAgent: request.headers.first("User-Agent"))
                } else if expires > 0 {
                    guard current.count < Self.maximumBindings else {
                        return request.response(403, reason: "Forbidden (at most \(Self.maximumBindings) phones per agent)", toTag: Self.tag)
                    }
                    current.append(
                        Binding(
                            contact: contact.uri, expiresAt: now + Int64(expires) * 1000, callID: callID, cseq: cseq, source: peer,
                            userAgent: request.headers.first("User-Agent")))
                }
            }
        }
        bindings[agentID] = current.isEmpty ? nil : current
        keep(agentID)
        let reachable = isReachable(agentID)
        logger.info(
            "SIP registration", metadata: ["agent": "\(agentID)", "bindings": "\(current.count)", "peer": "\(peer)"])
        if reachable != wasReachable { await onReachability(agentID, reachable) }
        // 200 with every current binding and its remaining time.
        let listed = current.map { binding in
            ("Contact", "<\(binding.contact)>;expires=\(max(0, (binding.expiresAt - now) / 1000))")
        }
        return request.response(200, toTag: Self.tag, headers: listed + [("Date", Self.date(now))])
    }

    /// Drops expired bindings; reports agents who became unreachable. Returns the next expiry.
    /// The state changes all at once, before any report (a report suspends the actor, and a
    /// REGISTER handled meanwhile must not be overwritten by a stale view).
    @discardableResult
    public func sweep(now: Int64) async -> Int64? {
        nonceCounts = nonceCounts.filter { $0.value.forgetAt > now }
        var next: Int64?
        var lost: [String] = []
        for agentID in Array(bindings.keys) {
            guard let list = bindings[agentID] else { continue }
            let alive = list.filter { $0.expiresAt > now }
            if alive.count != list.count {
                bindings[agentID] = alive.isEmpty ? nil : alive
                keep(agentID)
                logger.info("SIP registration expired", metadata: ["agent": "\(agentID)", "bindings": "\(alive.count)"])
                if alive.isEmpty, accounts[agentID]?.staticContact == nil { lost.append(agentID) }
            }
            for binding in alive { next = min(next ?? binding.expiresAt, binding.expiresAt) }
        }
        for agentID in lost where !isReachable(agentID) { await onReachability(agentID, false) }
        return next
    }

    /// 401 with a fresh nonce, one challenge per configured algorithm.
    private func challenge(_ request: SIPMessage, stale: Bool, now: Int64) -> SIPMessage {
        let nonce = nonces.issue(realm: configuration.realm, now: now)
        let challenges = configuration.algorithms.map {
            ("WWW-Authenticate", SIPDigestChallenge(realm: configuration.realm, nonce: nonce, algorithm: $0, stale: stale).headerValue)
        }
        return request.response(401, toTag: Self.tag, headers: challenges)
    }

    /// Phones one agent may have registered at once.
    public static let maximumBindings = 10

    public static let tag = "reg" + String(UInt32.random(in: 0...UInt32.max), radix: 36)

    /// RFC 1123 date, as §20.17 asks.
    static func date(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
