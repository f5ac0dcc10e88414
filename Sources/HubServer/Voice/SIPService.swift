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
    private var transactions: [SIPTransactionKey: SIPServerTransaction] = [:]

    init(configuration: HubServerConfiguration.SIP, agents: [AgentConfig], routing: RoutingService, logger: Logger) {
        let realm = configuration.realm ?? Self.defaultRealm(agents)
        var accounts: [Registrar.Account] = []
        for agent in agents {
            guard let phone = agent.phone, let aor = SIPURI(parsing: phone.addressOfRecord) else { continue }
            accounts.append(
                Registrar.Account(
                    agentID: agent.agent.id.rawValue, addressOfRecord: aor, password: phone.password?.value, realm: realm,
                    staticContact: phone.staticContact.flatMap { SIPURI(parsing: $0) }))
        }
        transport = SIPTransport(
            configuration: SIPTransportConfiguration(host: configuration.host, port: configuration.port), logger: logger)
        registrar = Registrar(
            configuration: Registrar.Configuration(realm: realm, algorithms: configuration.digestAlgorithms), accounts: accounts, logger: logger
        ) { agent, reachable in
            try? await routing.setVoiceReachable(agent: agent, reachable)
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
        let (udp, tcp) = try await transport.start()
        logger.info("sip listening", metadata: ["udp": "\(udp)", "tcp": "\(tcp)", "realm": "\(registrar.configuration.realm)"])
        // Until a phone registers, only agents with a static contact can take calls.
        for agent in agentIDs { try? await routing.setVoiceReachable(agent: agent, await registrar.isReachable(agent)) }
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.serve() }
                group.addTask { try await self.tick() }
                try await group.next()
                group.cancelAll()
            }
        }
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

    /// Timers of the transactions and registrations, every 100 ms.
    private func tick() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: .milliseconds(100))
            let now = Self.now()
            for (key, var transaction) in transactions where (transaction.nextDeadline ?? .max) <= now {
                let actions = transaction.fire(now: now)
                transactions[key] = actions.contains(.terminated) ? nil : transaction
            }
            await registrar.sweep(now: now)
        }
    }

    private func handle(_ message: SIPMessage, from peer: SIPPeer) async {
        guard let method = message.method else { return }  // no client transactions yet: stray responses are dropped
        let now = Self.now()
        // A retransmission: the same answer again, nothing processed twice.
        if let key = SIPTransactionKey.server(message), var transaction = transactions[key] {
            for case .send(let response) in transaction.receive(message, now: now) { await send(response, to: peer) }
            transactions[key] = transaction
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
                    200, toTag: Registrar.tag,
                    headers: [("Allow", triage.allow), ("Accept", "application/sdp"), ("Server", "Switchboard")])
            }
        }
        var transaction = SIPServerTransaction(request: message, reliable: peer.transport == .tcp)
        for case .send(let answer) in transaction.respond(response, now: now) { await send(answer, to: peer) }
        if let key = transaction.key, transaction.state != .terminated { transactions[key] = transaction }
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
