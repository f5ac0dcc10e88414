import Foundation
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubRouting
import HubStore
import Logging
import NIOCore
import ServiceLifecycle
import SIPCore
import Synchronization

/// The hub's SIP element as a service of its `ServiceGroup`: the UDP and TCP transport, the
/// registrar for agents' phones (whose reachability the router follows), and the B2BUA that
/// answers trunks' calls, queues them in the router and bridges each to the phone of the agent
/// it is offered to (see `SIPService+Calls.swift`). OPTIONS (keep-alives) gets 200.
actor SIPService: Service {
    let transport: SIPTransport
    let registrar: Registrar
    let routing: RoutingService
    let store: any HubStore
    let ingest: any InboundSink
    /// The agents configured at start (whose reachability the router learns before any phone
    /// registers; agents added later are reported by the registrar).
    let agentIDs: [String]
    let trunks: [VoiceTrunk]
    /// Who is exempt from the per-source flood limit (changes with the rules).
    let trusted: TrustedPeers
    let configuration: HubServerConfiguration.SIP
    let triage: SIPRequestTriage
    let logger: Logger
    let now: @Sendable () -> Date
    var transactions = TransactionTable<ServerEntry>()
    /// (An INVITE's server transaction lives 32 s after its 2xx, RFC 6026: about a thousand calls
    /// a second for half a minute.)
    static let maximumTransactions = 40_000
    /// Agents whose phone's reachability may have changed (see `followReachability`).
    private let reachability: AsyncStream<String>
    private let reachabilityChanges: AsyncStream<String>.Continuation

    // The B2BUA's state (SIPService+Calls.swift).
    /// Calls by the caller's Call-ID.
    var calls: [String: VoiceCall] = [:]
    var callByConversation: [String: String] = [:]
    /// Agent legs' Call-IDs to their call's.
    var callByAgentLeg: [String: String] = [:]
    var clientTransactions = TransactionTable<ClientEntry>()
    /// Offers of calls the router made before the call knew its conversation (the router may
    /// decide while the INVITE's commit is being acknowledged).
    var earlyOffers: [String: Offer] = [:]
    /// Where the hub's own requests say they come from (Via, Contact): set when listening.
    var advertised: (host: String, port: Int) = ("127.0.0.1", 5060) {
        didSet { hostPort = Self.hostPort(advertised) }
    }
    /// `advertised` as a Via's sent-by or a URI's host and port (every request and Contact the
    /// hub writes carries it).
    private(set) var hostPort = SIPService.hostPort(("127.0.0.1", 5060))
    let trunkNonces = SIPNonceIssuer()
    var trunkNonceCounts: [String: (count: UInt32, forgetAt: Int64)] = [:]
    static let maximumCalls = 5_000
    /// Milliseconds a call waits before the caller hears 182 Queued (a call offered sooner hears
    /// 180 only); the timers run every 50 ms, so it goes out 100-150 ms after the call queued.
    static let queuedNoticeDelay: Int64 = 100
    /// Messages waiting behind another of their Call-ID (see `serve`).
    var lanes = Lanes<(SIPMessage, SIPPeer)>()
    /// The router's decisions waiting behind another of their task (see `followDecisions`).
    var decisionLanes = Lanes<RoutingDecision>()
    let recorder: CallRecorder

    init(
        configuration: HubServerConfiguration.SIP, hub: HubConfiguration, routing: RoutingService, store: any HubStore, ingest: any InboundSink,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        let agents = hub.routing.agents
        let realm = configuration.realm ?? Self.defaultRealm(agents)
        let accounts = Self.accounts(of: agents, realm: realm, logger: logger)
        let (changes, continuation) = AsyncStream.makeStream(of: String.self)
        reachability = changes
        reachabilityChanges = continuation
        registrar = Registrar(
            configuration: Registrar.Configuration(realm: realm, algorithms: configuration.digestAlgorithms), accounts: accounts, store: store,
            logger: logger
        ) { agent, _ in
            continuation.yield(agent)
        }
        self.routing = routing
        self.store = store
        self.ingest = ingest
        self.configuration = configuration
        self.now = now
        agentIDs = agents.map(\.agent.id.rawValue)
        let trunks = hub.channels.compactMap { account -> VoiceTrunk? in
            guard account.kind == .voice, account.enabled, let options = account.options as? VoiceTrunkOptions else { return nil }
            let trunk = VoiceTrunk(account: account, options: options)
            guard !options.addresses.isEmpty || trunk.authenticates else {
                // Anyone on the network could call in, create customers and ring phones.
                logger.error(
                    "a voice trunk with neither addresses nor a password takes no calls", metadata: ["account": "\(account.id)"])
                return nil
            }
            return trunk
        }
        self.trunks = trunks
        // The configured peers (trunks' networks, phones' static contacts) are not held to the
        // per-source flood limit: a carrier sends a whole trunk's calls from one address.
        let trusted = TrustedPeers(Self.trustedRanges(trunks: trunks, accounts: accounts))
        self.trusted = trusted
        transport = SIPTransport(
            configuration: SIPTransportConfiguration(
                host: configuration.host, port: configuration.port, isTrusted: { address in trusted.contains(address) },
                trustedSourceRate: configuration.peerRate, receiveBufferSize: configuration.receiveBufferSize),
            logger: logger)
        recorder = CallRecorder(store: store, logger: logger)
        triage = SIPRequestTriage(methods: ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER"], extensions: [])
        self.logger = logger
    }

    var realm: String { registrar.configuration.realm }

    /// The registrar's accounts for the agents' configured phones (a phone whose address is not
    /// usable is logged and left out).
    static func accounts(of agents: [AgentConfig], realm: String, logger: Logger) -> [Registrar.Account] {
        var accounts: [Registrar.Account] = []
        for agent in agents {
            guard let phone = agent.phone else { continue }
            guard let aor = SIPURI(parsing: phone.addressOfRecord), aor.user != nil else {
                logger.error("an agent's SIP address is not usable: the phone cannot register", metadata: ["agent": "\(agent.agent.id.rawValue)"])
                continue
            }
            if let contact = phone.staticContact, SIPURI(parsing: contact) == nil {
                logger.error("an agent's static SIP contact is not a SIP URI: ignored", metadata: ["agent": "\(agent.agent.id.rawValue)"])
            }
            accounts.append(
                Registrar.Account(
                    agentID: agent.agent.id.rawValue, addressOfRecord: aor, password: phone.password?.value, realm: realm,
                    staticContact: phone.staticContact.flatMap { SIPURI(parsing: $0) }))
        }
        return accounts
    }

    /// The configured peers (trunks' networks, phones' static contacts) are not held to the
    /// per-source flood limit: a carrier sends a whole trunk's calls from one address.
    static func trustedRanges(trunks: [VoiceTrunk], accounts: [Registrar.Account]) -> [SIPAddressRange] {
        var trusted = trunks.flatMap(\.options.addresses)
        for account in accounts {
            if let host = account.staticContact?.host, let range = SIPAddressRange(parsing: host) { trusted.append(range) }
        }
        return trusted
    }

    /// The rules were reloaded: agents' phones as configured now. A phone added can register at
    /// once, a removed or moved one loses its bindings, static contacts count from now (for
    /// reachability and the flood limit). The realm stays what the hub started with.
    func reloadPhones(_ agents: [AgentConfig]) async {
        let accounts = Self.accounts(of: agents, realm: realm, logger: logger)
        trusted.replace(Self.trustedRanges(trunks: trunks, accounts: accounts))
        let changed = await registrar.replaceAccounts(accounts)
        logger.info("agents' phones reloaded", metadata: ["phones": "\(accounts.count)", "reachability changed": "\(changed.count)"])
    }

    /// The domain of the agents' addresses of record when they share one; else `switchboard`.
    static func defaultRealm(_ agents: [AgentConfig]) -> String {
        let domains = Set(agents.compactMap { $0.phone.flatMap { SIPURI(parsing: $0.addressOfRecord)?.host } })
        return domains.count == 1 ? domains.first! : "switchboard"
    }

    /// Whether the hub needs a SIP element: an agent has a phone, or a trunk is configured.
    static func isNeeded(_ configuration: HubConfiguration) -> Bool {
        configuration.routing.agents.contains { $0.phone != nil } || configuration.channels.contains { $0.kind == .voice && $0.enabled }
    }

    func run() async throws {
        // Before anything registers, agents with a static contact or a registration kept from
        // before the restart can take calls; the router knows it before the first phone can
        // reach the hub.
        await registrar.restoreBindings(now: Self.milliseconds(now()))
        async let savingBindings: Void = registrar.saveBindings()
        var reachable: Set<String> = []
        for agent in agentIDs where await registrar.isReachable(agent) { reachable.insert(agent) }
        try await routing.gateVoice(reachable: reachable)
        let decisions = await routing.decisions()
        async let recording: Void = recorder.run()
        let (udp, tcp) = try await transport.start()
        let boundHost = udp.ipAddress ?? configuration.host
        let unspecified = boundHost == "0.0.0.0" || boundHost == "::"
        advertised = (configuration.advertisedHost ?? (unspecified ? "127.0.0.1" : boundHost), udp.port ?? configuration.port)
        if unspecified, configuration.advertisedHost == nil {
            logger.warning("SIP listens on every address but no address to advertise is set (HUB_SIP_ADVERTISE): phones are told 127.0.0.1")
        }
        logger.info(
            "sip listening",
            metadata: [
                "udp": "\(udp)", "tcp": "\(tcp)", "realm": "\(realm)", "trunks": "\(trunks.map(\.accountID).joined(separator: ","))",
                "peer_rate": "\(configuration.peerRate)",
            ])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.serve() }
                group.addTask { await self.tick() }
                group.addTask { await self.followReachability() }
                group.addTask { await self.followDecisions(decisions) }
                await group.next()
                group.cancelAll()
            }
        }
        reachabilityChanges.finish()
        registrar.finishSaving()
        await savingBindings
        await hangUpAll()
        recorder.finish()
        await recording
        await transport.shutdown()
    }

    /// Takes the transport's messages in. Messages of one Call-ID are handled one at a time in the
    /// order they came (a CANCEL after its INVITE, an ACK after the answer it acknowledges);
    /// different Call-IDs go on side by side, so that a call waiting for its commit or for the
    /// router holds up no other.
    private func serve() async {
        await withDiscardingTaskGroup { group in
            for await item in transport.inbound {
                switch item {
                case .message(let message, let peer):
                    let lane = message.callID ?? ""
                    if lanes.isRunning(lane) {
                        guard lanes.backlog < configuration.maximumWaiting else {
                            overloaded(message, from: peer, "too many waiting behind their calls")
                            continue
                        }
                    } else {
                        guard lanes.count < configuration.maximumInProgress else {
                            overloaded(message, from: peer, "too many being handled")
                            continue
                        }
                    }
                    // Started on this actor at once: most messages (an ACK, an agent's ringing,
                    // a BYE's answer) are handled without waiting for anything, and so end
                    // before the next is read, with no job to schedule and no hop to the actor.
                    // One that waits (an INVITE being stored) lets the loop go on meanwhile.
                    if lanes.admit((message, peer), key: lane) {
                        group.addImmediateTask { await self.handleLane(lane, first: message, from: peer) }
                    }
                case .malformed(let error, let peer):
                    if case .respond(let response) = triage.decide(error) { send(response, to: peer) }
                }
            }
        }
    }

    /// A message the element has no room for. Over TCP, which never sends anything again, a
    /// request (but an ACK, which has no answer) gets `503` with `Retry-After` (RFC 3261
    /// §21.5.4), so that its sender backs off instead of waiting for an answer that never comes.
    /// Over UDP it is dropped: the sender retransmits, and a `503` could answer a retransmission
    /// of a request still being handled (an INVITE about to be answered, a BYE) and end its
    /// dialog on one side only. A response is dropped either way.
    func overloaded(_ message: SIPMessage, from peer: SIPPeer, _ why: String) {
        logger.warning("SIP message refused: \(why)", metadata: ["peer": "\(peer)", "method": "\(message.method ?? "response")"])
        guard peer.transport == .tcp, let method = message.method, method != "ACK" else { return }
        send(message.response(503, reason: "Service Unavailable (overloaded)", toTag: triage.toTag, headers: [("Retry-After", "5")]), to: peer)
    }

    /// Handles a lane's first message, then those that queued behind it meanwhile.
    private func handleLane(_ lane: String, first message: SIPMessage, from peer: SIPPeer) async {
        var next = (message, peer)
        while true {
            await handle(next.0, from: next.1)
            guard let waiting = lanes.next(lane) else { return }
            next = waiting
        }
    }

    /// Takes the router's decisions in. Those of one task (a call's conversation) are handled one
    /// at a time in the router's order (the offer before its end); different calls' go on side by
    /// side, so that a call whose ringing waits for the registrar or the router holds up no
    /// other (one loop for all made every offer wait for the ringing of the ones before it).
    ///
    /// An offer's end and an assignment are handled here, in the router's order with everything
    /// after them, when no lane of their call is running: they wait for no other actor, and a
    /// phone must hear the CANCEL of an offer that ended before the INVITE of the next offer to
    /// the same agent (a ring-all's losers are offered the next call at once), or it may answer
    /// the new call busy.
    private func followDecisions(_ decisions: AsyncStream<RoutingDecision>) async {
        await withDiscardingTaskGroup { group in
            for await decision in decisions {
                guard let task = Self.task(of: decision) else { continue }
                if !decisionLanes.isRunning(task), Self.isTeardown(decision) {
                    await routed(decision)
                } else if decisionLanes.admit(decision, key: task) {
                    group.addImmediateTask { await self.handleDecisions(of: task, first: decision) }
                }
            }
        }
    }

    /// An offer's end or an assignment: what only stops or forgets a phone's ringing.
    static func isTeardown(_ decision: RoutingDecision) -> Bool {
        switch decision {
        case .offerEnded, .assigned: true
        default: false
        }
    }

    /// The task a decision the B2BUA acts on is about; nil for the others.
    static func task(of decision: RoutingDecision) -> String? {
        switch decision {
        case .offered(let offer): offer.taskID
        case .assigned(let task, _, _): task
        case .offerEnded(_, let task, _, _): task
        case .taskEnded(let task, _): task
        default: nil
        }
    }

    private func handleDecisions(of task: String, first decision: RoutingDecision) async {
        var next = decision
        while true {
            await routed(next)
            guard let waiting = decisionLanes.next(task) else { return }
            next = waiting
        }
    }

    /// Tells the router about phones that became reachable or not, one agent at a time, reading
    /// the registrar's state when it does (so that changes cannot overtake each other), apart from
    /// the answers to phones (which never wait for the router's commit).
    private func followReachability() async {
        for await agent in reachability {
            do {
                try await routing.setVoiceReachable(agent: agent, await registrar.isReachable(agent))
            } catch {
                logger.error("the router could not take an agent's phone state", metadata: ["agent": "\(agent)", "error": "\(error)"])
            }
        }
    }

    /// Timers of the transactions (retransmissions, ends), of the calls (2xx until the ACK)
    /// and of the registrations, every 50 ms, until cancelled.
    private func tick() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                return
            }
            let now = Self.milliseconds(self.now())
            var outgoing: [(SIPMessage, SIPPeer)] = []
            for key in transactions.due(at: now) {
                guard var entry = transactions[key] else { continue }
                let actions = entry.transaction.fire(now: now)
                for case .send(let message) in actions { outgoing.append((message, entry.peer)) }
                transactions[key] = actions.contains(.terminated) ? nil : entry
            }
            for (message, peer) in outgoing { send(message, to: peer) }
            await fireClientTransactions(now: now)
            await fireCallTimers(now: now)
            await registrar.sweep(now: now)
        }
    }

    private func handle(_ message: SIPMessage, from peer: SIPPeer) async {
        guard let method = message.method else {
            await handleResponse(message, from: peer)
            return
        }
        let now = Self.milliseconds(self.now())
        // A retransmission: the same answer again, nothing processed twice.
        if let key = SIPTransactionKey.server(message), var entry = transactions[key] {
            let actions = entry.transaction.receive(message, now: now)
            transactions[key] = entry
            for action in actions {
                switch action {
                case .send(let response): send(response, to: peer)
                case .ack(let ack): await callerAcknowledged(ack)
                default: break
                }
            }
            return
        }
        if method == "ACK" {
            await callerAcknowledged(message)
            return
        }
        let response: SIPMessage
        switch triage.decide(message) {
        case .drop(let reason):
            logger.debug("SIP request dropped", metadata: ["reason": "\(reason)", "peer": "\(peer)"])
            return
        case .respond(let answer):
            response = answer
        case .proceed:
            switch method {
            case "REGISTER": response = await registrar.register(message, from: peer, now: now)
            case "INVITE":
                await incomingInvite(message, from: peer)
                return
            case "CANCEL":
                // §9.2: the CANCEL's own 200 first, then the INVITE's 487.
                let (answer, cancels) = cancelResponse(message)
                await refuse(message, answer, peer: peer)
                if let cancels { await callerCancelled(cancels) }
                return
            case "BYE":
                let (answer, ends) = byeResponse(message)
                await refuse(message, answer, peer: peer)
                if let ends { await byeReceived(ends.callID, party: ends.party, early: ends.early) }
                return
            default:
                response = message.response(
                    200, toTag: triage.toTag,
                    headers: [("Allow", triage.allow), ("Accept", "application/sdp"), ("Server", "Switchboard")])
            }
        }
        // Only what changed something keeps a transaction (an authenticated REGISTER: its
        // retransmission must get the same answer, not a replayed nonce's challenge; a BYE or
        // CANCEL that ended a call). Challenges, OPTIONS and refusals are answered afresh each
        // time: nobody can fill memory with them.
        var transaction = SIPServerTransaction(request: message, reliable: peer.transport == .tcp)
        let actions = transaction.respond(response, now: now)
        let keeps = method == "REGISTER" && response.status != 401
        if keeps, let key = transaction.key, transaction.state != .terminated, transactions.count < Self.maximumTransactions {
            transactions[key] = ServerEntry(transaction: transaction, peer: peer)
        }
        for case .send(let answer) in actions { send(answer, to: peer) }
    }

    func send(_ message: SIPMessage, to peer: SIPPeer) {
        do {
            try transport.send(message, to: peer)
        } catch {
            logger.info("SIP message not sent", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970 * 1000) }
}

/// The address ranges exempt from the SIP transport's per-source flood limit, read on every
/// datagram and replaced when the rules are reloaded.
final class TrustedPeers: Sendable {
    private let ranges: Mutex<[SIPAddressRange]>

    init(_ ranges: [SIPAddressRange]) { self.ranges = Mutex(ranges) }

    /// Whether the address is in one of the ranges (read once, not once per range).
    func contains(_ address: String) -> Bool {
        guard let bytes = SIPAddressRange.bytes(of: address) else { return false }
        return ranges.withLock { ranges in ranges.contains { $0.contains(bytes: bytes) } }
    }

    func replace(_ new: [SIPAddressRange]) { ranges.withLock { $0 = new } }
}
