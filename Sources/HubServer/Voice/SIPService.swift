import Foundation
import HubConfig
import HubEngine
import HubModel
import Logging
import NIOCore
import ServiceLifecycle
import SIPCore

/// The hub's SIP element as a service of its `ServiceGroup`: the UDP and TCP transport, server
/// transactions for what it answers (retransmissions get the same answer), and the registrar
/// for agents' phones, whose reachability the router follows. OPTIONS (trunks' and phones'
/// keep-alives) gets 200. Calls (INVITE) come with the B2BUA; until then they get 501 like any
/// method the hub does not implement.
actor SIPService: Service {
    let transport: SIPTransport
    let registrar: Registrar
    let routing: RoutingService
    let agentIDs: [String]
    let triage: SIPRequestTriage
    let logger: Logger
    private var transactions: [SIPTransactionKey: (transaction: SIPServerTransaction, peer: SIPPeer)] = [:]
    static let maximumTransactions = 10_000
    /// Agents whose phone's reachability may have changed (see `followReachability`).
    private let reachability: AsyncStream<String>
    private let reachabilityChanges: AsyncStream<String>.Continuation

    init(configuration: HubServerConfiguration.SIP, agents: [AgentConfig], routing: RoutingService, logger: Logger) {
        let realm = configuration.realm ?? Self.defaultRealm(agents)
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
        transport = SIPTransport(
            configuration: SIPTransportConfiguration(host: configuration.host, port: configuration.port), logger: logger)
        let (changes, continuation) = AsyncStream.makeStream(of: String.self)
        reachability = changes
        reachabilityChanges = continuation
        registrar = Registrar(
            configuration: Registrar.Configuration(realm: realm, algorithms: configuration.digestAlgorithms), accounts: accounts, logger: logger
        ) { agent, _ in
            continuation.yield(agent)
        }
        self.routing = routing
        agentIDs = agents.map(\.agent.id.rawValue)
        triage = SIPRequestTriage(methods: ["OPTIONS", "REGISTER", "ACK"], extensions: [])
        self.logger = logger
    }

    /// The domain of the agents' addresses of record when they share one; else `switchboard`.
    static func defaultRealm(_ agents: [AgentConfig]) -> String {
        let domains = Set(agents.compactMap { $0.phone.flatMap { SIPURI(parsing: $0.addressOfRecord)?.host } })
        return domains.count == 1 ? domains.first! : "switchboard"
    }

    /// Whether the hub needs a SIP element: an agent has a phone.
    static func isNeeded(_ configuration: HubConfiguration) -> Bool {
        configuration.routing.agents.contains { $0.phone != nil }
    }

    func run() async throws {
        // Before anything registers, only agents with a static contact can take calls; the router
        // knows it before the first phone can reach the hub.
        var reachable: Set<String> = []
        for agent in agentIDs where await registrar.isReachable(agent) { reachable.insert(agent) }
        try await routing.gateVoice(reachable: reachable)
        let (udp, tcp) = try await transport.start()
        logger.info("sip listening", metadata: ["udp": "\(udp)", "tcp": "\(tcp)", "realm": "\(registrar.configuration.realm)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.serve() }
                group.addTask { await self.tick() }
                group.addTask { await self.followReachability() }
                await group.next()
                group.cancelAll()
            }
        }
        reachabilityChanges.finish()
        await transport.shutdown()
    }

    private func serve() async {
        for await item in transport.inbound {
            switch item {
            case .message(let message, let peer): await handle(message, from: peer)
            case .malformed(let error, let peer):
                if case .respond(let response) = triage.decide(error) { await send(response, to: peer) }
            }
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

    /// Timers of the transactions (retransmitted final responses, ends) and of the
    /// registrations, every 100 ms, until cancelled.
    private func tick() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                return
            }
            let now = Self.now()
            var outgoing: [(SIPMessage, SIPPeer)] = []
            for (key, entry) in transactions where (entry.transaction.nextDeadline ?? .max) <= now {
                var transaction = entry.transaction
                let actions = transaction.fire(now: now)
                for case .send(let message) in actions { outgoing.append((message, entry.peer)) }
                transactions[key] = actions.contains(.terminated) ? nil : (transaction, entry.peer)
            }
            for (message, peer) in outgoing { await send(message, to: peer) }
            await registrar.sweep(now: now)
        }
    }

    private func handle(_ message: SIPMessage, from peer: SIPPeer) async {
        guard let method = message.method else { return }  // no client transactions yet: stray responses are dropped
        let now = Self.now()
        // A retransmission: the same answer again, nothing processed twice.
        if let key = SIPTransactionKey.server(message), var entry = transactions[key] {
            let actions = entry.transaction.receive(message, now: now)
            transactions[key] = entry
            for case .send(let response) in actions { await send(response, to: peer) }
            return
        }
        if method == "ACK" { return }
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
            default:
                response = message.response(
                    200, toTag: triage.toTag,
                    headers: [("Allow", triage.allow), ("Accept", "application/sdp"), ("Server", "Switchboard")])
            }
        }
        // Only what changed something keeps a transaction (an authenticated REGISTER: its
        // retransmission must get the same answer, not a replayed nonce's challenge). Challenges,
        // OPTIONS and refusals are answered afresh each time: nobody can fill memory with them.
        var transaction = SIPServerTransaction(request: message, reliable: peer.transport == .tcp)
        let actions = transaction.respond(response, now: now)
        if method == "REGISTER", response.status != 401, let key = transaction.key, transaction.state != .terminated,
            transactions.count < Self.maximumTransactions
        {
            transactions[key] = (transaction, peer)
        }
        for case .send(let answer) in actions { await send(answer, to: peer) }
    }

    private func send(_ message: SIPMessage, to peer: SIPPeer) async {
        do {
            try await transport.send(message, to: peer)
        } catch {
            logger.info("SIP message not sent", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
