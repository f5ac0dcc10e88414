import Foundation
import HubConfig
import HubEngine
import HubModel
import HubRouting
import HubStore
import HubTestSupport
import Synchronization
import Testing

/// A clock the test sets: every service of the engine reads it.
final class ScriptClock: Sendable {
    let start: Date
    private let current: Mutex<Date>

    init(start: Date) {
        self.start = start
        current = Mutex(start)
    }

    var now: Date { current.withLock { $0 } }

    /// Sets the clock `seconds` after the start.
    func at(_ seconds: Double) { current.withLock { $0 = start.addingTimeInterval(seconds) } }
}

@Suite("Metrics: the managers' figures, counted from the event log")
struct MetricsTests {
    static let here = ConfigLocation(file: "routing-rules/test.yaml", line: 1, column: 1)
    static let start = HubJSON.parseTimestamp("2026-12-01T09:00:00Z")!

    /// Queues support and vip (service level thresholds as the router's defaults: 60 s for
    /// messaging); alice and bo in both, one chat at a time; alice wraps up 15 s after a chat.
    static func rules() -> RoutingRules {
        func queue(_ id: String) -> QueueConfig {
            var policy = QueuePolicy(id: id, strategy: PerMedium(.longestIdle), wrapUp: PerMedium(.zero))
            policy.offerTimeout = PerMedium(.seconds(120))
            return QueueConfig(id: id, name: id, channels: ChannelKind.allCases, policy: policy, location: here)
        }
        func agent(_ id: String, wrapUp: Duration) -> AgentConfig {
            let queues = ["support", "vip"]
            let model = Agent(id: Agent.ID(id), login: id, name: id, queues: queues.map { QueueMembership(queueID: $0) })
            let profile = AgentProfile(
                id: id, memberships: Dictionary(uniqueKeysWithValues: queues.map { ($0, RoutingMembership()) }),
                capacity: PerMedium(voice: 1, messaging: 1, email: 1), wrapUp: PerMedium(wrapUp))
            return AgentConfig(agent: model, profile: profile, location: here)
        }
        return RoutingRules(queues: [queue("support"), queue("vip")], agents: [agent("alice", wrapUp: .seconds(15)), agent("bo", wrapUp: .zero)])
    }

    /// The scripted morning (times in seconds after 09:00), through the real ingest, router,
    /// outbox worker, fake provider, store and ticket and survey commands:
    ///
    /// -   0  alice available; C1 arrives, is offered to alice
    /// -  10  alice accepts C1 (waited 10 s: within the 60 s threshold)
    /// -  20  C2 arrives, waits (alice busy, bo offline)
    /// -  25  C3 arrives; 28 its customer leaves (waited 3 s: a short abandon)
    /// -  30  alice replies on C1 (first response 30 s); the provider takes it (EXT-1)
    /// -  35  C4 arrives; 95 its customer leaves (waited 60 s)
    /// -  40  the provider reports EXT-1 delivered
    /// -  50  alice opens ticket T1 on C1
    /// - 100  T1 solved (50 s), survey sent; alice closes C1 (handled 90 s), wraps up until 115
    /// - 115  C2 is offered to alice; 125 she declines
    /// - 130  bo available, offered C2; 140 accepts (C2 waited 120 s: over the threshold)
    /// - 150  T1's survey answered 5
    /// - 160  bo replies on C2 (first response 140 s); the provider refuses it (400)
    /// - 170  bo opens ticket T2 on C2
    /// - 200  bo transfers C2 to vip (held 60 s); offered to alice; 205 she accepts
    /// - 300  T2 solved (130 s); alice closes C2 (held 95 s), wraps up until 315
    /// - 350  T2 reopened: not resolved at first contact after all
    /// - 360  bo offline; 400 alice away; 460 alice offline
    struct Morning {
        let fixture: EngineFixture
        let clock: ScriptClock
        let provider: FakeProvider
        var conversations: [String: Conversation.ID] = [:]
        var tickets: [String: Ticket.ID] = [:]

        var engine: Engine { fixture.engine }
        var store: any HubStore { fixture.engine.store }

        mutating func arrive(_ name: String, user: String) async throws {
            let receipt = try await fixture.conversation(user: user)
            conversations[name] = receipt.conversationID
            try await engine.routing.settle()
        }

        func offer(_ name: String) async throws -> Offer {
            try #require(await engine.routing.lastOffer(of: conversations[name]!))
        }

        func close(_ name: String, by actor: Actor) async throws {
            _ = try await store.updateConversation(conversations[name]!, ConversationChange(status: .closed), at: clock.now, actor: actor)
            try await engine.routing.settle()
        }

        func reply(_ name: String, agent: String) async throws {
            let receipt = try await engine.outbound.send(
                OutboundService.Request(conversationID: conversations[name]!, author: .agent(Agent.ID(agent)), content: OutboundContent(text: "on it")),
                actor: .agent(Agent.ID(agent)))
            let store = store
            try await fixture.withWorker {
                let done = try await eventually { [.sent, .failed].contains(try await store.message(receipt.message.id)?.deliveryStatus) }
                #expect(done)
            }
        }

        mutating func openTicket(_ name: String, on conversation: String, agent: String) async throws {
            let customer = try #require(try await store.conversation(conversations[conversation]!)?.customerID)
            let ticket = try await store.createTicket(
                TicketDraft(
                    subject: name, customerID: customer, queueID: "support", assigneeID: Agent.ID(agent), conversationIDs: [conversations[conversation]!],
                    status: .open), at: clock.now, actor: .agent(Agent.ID(agent)))
            tickets[name] = ticket.id
        }

        func setTicket(_ name: String, _ status: TicketStatus, by agent: String) async throws {
            _ = try await store.updateTicket(tickets[name]!, TicketChange(status: status), at: clock.now, actor: .agent(Agent.ID(agent)))
        }

        func presence(_ agent: String, _ presence: Presence) async throws {
            _ = try await engine.routing.setPresence(agent: agent, presence, actor: .agent(Agent.ID(agent)))
            try await engine.routing.settle()
        }

        func settle() async throws { try await engine.routing.settle() }
    }

    static func runMorning(
        _ body: @Sendable (inout Morning, _ half: Int) async throws -> Void = { _, _ in }
    ) async throws {
        let clock = ScriptClock(start: start)
        // The first reply is taken (EXT-1), the second refused.
        let provider = FakeProvider { _, index in index == 0 ? .ok(#"{"id":"EXT-1"}"#) : .init(status: 400, body: "unknown recipient") }
        try await provider.serve { base in
            let fixture = try await EngineFixture(
                accounts: [EngineFixture.account(outboundURL: base + "/hook")], routing: rules(), now: { clock.now })
            defer { fixture.directory.remove() }
            var day = Morning(fixture: fixture, clock: clock, provider: provider)
            try await script(&day, body)
        }
    }

    static func script(_ day: inout Morning, _ body: @Sendable (inout Morning, _ half: Int) async throws -> Void) async throws {
        let clock = day.clock
        let store = day.store
        try await day.settle()
        try await day.presence("alice", .available)
        try await day.arrive("C1", user: "user-1")
        #expect(try await day.offer("C1").agentID == "alice")
        clock.at(10)
        try await day.engine.routing.accept(offer: try await day.offer("C1").id)
        clock.at(20)
        try await day.arrive("C2", user: "user-2")
        clock.at(25)
        try await day.arrive("C3", user: "user-3")
        clock.at(28)
        try await day.close("C3", by: .channel("api-a"))
        clock.at(30)
        try await day.reply("C1", agent: "alice")
        clock.at(35)
        try await day.arrive("C4", user: "user-4")
        clock.at(40)
        #expect(
            try await store.applyDeliveryStatus(
                DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "EXT-1", status: .delivered), at: clock.now))
        clock.at(50)
        try await day.openTicket("T1", on: "C1", agent: "alice")
        try await body(&day, 1)
        clock.at(95)
        try await day.close("C4", by: .channel("api-a"))
        clock.at(100)
        try await day.setTicket("T1", .solved, by: "alice")
        let survey = try await store.createSurvey(
            CSATSurveyDraft(ticketID: day.tickets["T1"]!, token: "t1-token", eventSequence: 1, expiresAt: clock.now.addingTimeInterval(86_400)),
            at: clock.now, actor: .system)
        try await day.close("C1", by: .agent("alice"))
        clock.at(115)
        try await day.settle()
        #expect(try await day.offer("C2").agentID == "alice")
        clock.at(125)
        try await day.engine.routing.reject(offer: try await day.offer("C2").id, reason: .declined)
        clock.at(130)
        try await day.presence("bo", .available)
        #expect(try await day.offer("C2").agentID == "bo")
        clock.at(140)
        try await day.engine.routing.accept(offer: try await day.offer("C2").id)
        clock.at(150)
        _ = try await store.answerSurvey(
            CSATAnswer(surveyID: survey.id, score: 5, messageID: nil, channelAccountID: "web", escalation: nil), at: clock.now, actor: .system)
        clock.at(160)
        try await day.reply("C2", agent: "bo")
        clock.at(170)
        try await day.openTicket("T2", on: "C2", agent: "bo")
        clock.at(200)
        try await day.engine.routing.transfer(conversation: day.conversations["C2"]!, to: .queue("vip"))
        try await day.settle()
        #expect(try await day.offer("C2").agentID == "alice")
        clock.at(205)
        try await day.engine.routing.accept(offer: try await day.offer("C2").id)
        try await body(&day, 2)
        clock.at(300)
        try await day.setTicket("T2", .solved, by: "bo")
        try await day.close("C2", by: .agent("alice"))
        clock.at(315)
        try await day.settle()
        clock.at(350)
        try await day.setTicket("T2", .open, by: "bo")
        clock.at(360)
        try await day.presence("bo", .offline)
        clock.at(400)
        try await day.presence("alice", .away(reason: "lunch"))
        clock.at(460)
        try await day.presence("alice", .offline)
        clock.at(500)
        try await body(&day, 3)
    }

    static func figures(_ report: MetricsReport, _ group: MetricGroup) -> [MetricFigure: Double?] {
        let counters = report.groups.first { $0.group == group }?.counters ?? MetricCounters()
        return Dictionary(uniqueKeysWithValues: MetricFigure.allCases.map { ($0, $0.value(counters)) })
    }

    /// Checks every figure of a group: the listed ones as given, the others zero or without a value.
    static func expect(
        _ report: MetricsReport, _ group: MetricGroup, _ expected: [MetricFigure: Double?], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let actual = figures(report, group)
        for figure in MetricFigure.allCases {
            let want: Double? = expected[figure] ?? (Self.ratios.contains(figure) ? nil : 0)
            #expect(actual[figure]! == want, "\(figure) of \(group)", sourceLocation: sourceLocation)
        }
    }

    /// The figures that have no value where nothing was counted.
    static let ratios: Set<MetricFigure> = [
        .answerRate, .averageSpeedOfAnswerSeconds, .serviceLevel, .averageAbandonSeconds, .averageHandleSeconds, .averageFirstResponseSeconds,
        .deliverySuccessRate, .deliveryFailureRate, .averageResolutionSeconds, .firstContactResolutionRate, .csatAverage, .csatResponseRate, .csatSatisfiedRate,
        .occupancy, .utilization,
    ]

    /// The morning's figures per channel, worked out by hand from the script above.
    static let apiFigures: [MetricFigure: Double?] = [
        // C1..C4 entered support; C1 and C2 reached an agent, C3 and C4 were abandoned (C3 short).
        .offered: 4, .handled: 2, .abandoned: 2, .shortAbandoned: 1,
        .answerRate: 0.5,  // 2 / (2 + 2)
        .averageSpeedOfAnswerSeconds: 65,  // (10 + 120) / 2
        .serviceLevel: 0.3333,  // 1 within 60 s / (2 handled + 2 abandoned - 1 short)
        .averageAbandonSeconds: 31.5,  // (3 + 60) / 2
        // C1 to alice; C2 to bo, then (transferred) to alice.
        .assignments: 3, .transfers: 1,
        .handleSeconds: 245,  // 90 (alice, C1) + 60 (bo, C2) + 95 (alice, C2)
        .wrapUpSeconds: 30,  // alice 15 + 15
        .averageHandleSeconds: 91.667,  // (245 + 30) / 3 pieces of work
        .offers: 4, .offersDeclined: 1,  // C1 alice; C2 alice (declined), bo, alice
        .firstResponses: 2, .averageFirstResponseSeconds: 85,  // (30 + 140) / 2
        .inboundMessages: 4, .outboundMessages: 2, .outboundSent: 1, .outboundDelivered: 1, .outboundFailed: 1,
        .deliverySuccessRate: 0.5,  // 1 taken and delivered / (1 + 1 refused)
        .deliveryFailureRate: 0.5,
        .ticketsCreated: 2, .ticketsResolved: 2,
        .averageResolutionSeconds: 90,  // (50 + 130) / 2
        .firstContactResolved: 1, .firstContactResolutionRate: 0.5,  // T2 reopened
        .ticketsReopened: 1,
        .csatSent: 1, .csatAnswered: 1, .csatAverage: 5, .csatResponseRate: 1, .csatSatisfiedRate: 1,
    ]

    /// Agents' time is not a channel's: it is counted on no channel.
    static let agentTime: [MetricFigure: Double?] = [
        .idleSeconds: 355,  // alice 10 + 90 + 85, bo 10 + 160
        .busySeconds: 275,  // alice 90 + 15 + 95 + 15, bo 60
        .awaySeconds: 60,  // alice at lunch 400-460
        .loggedInSeconds: 690,
        .occupancy: 0.4365,  // 275 / (275 + 355)
        .utilization: 0.3986,  // 275 / 690
    ]

    @Test("a scripted morning through the real services: every figure per channel and per agent as worked out by hand")
    func scriptedMorning() async throws {
        try await Self.runMorning { day, half in
            guard half == 3 else { return }
            let metrics = day.engine.metrics
            let window = (from: Self.start, to: Self.start.addingTimeInterval(600))
            let byChannel = try await metrics.report(from: window.from, to: window.to, grouping: .channel)
            #expect(byChannel.groups.map(\.group) == [MetricGroup(channel: ""), MetricGroup(channel: "api")])
            Self.expect(byChannel, MetricGroup(channel: "api"), Self.apiFigures)
            Self.expect(byChannel, MetricGroup(channel: ""), Self.agentTime)
            #expect(byChannel.now.queues.isEmpty && byChannel.now.agents.isEmpty)
            // A report of a few figures reads only their counts, and gives the same values.
            for figure in MetricFigure.allCases {
                let only = try await metrics.report(from: window.from, to: window.to, grouping: .channel, figures: [figure])
                for channel in ["", "api"] {
                    #expect(
                        Self.figures(only, MetricGroup(channel: channel))[figure]! == Self.figures(byChannel, MetricGroup(channel: channel))[figure]!,
                        "\(figure) on '\(channel)'")
                }
            }

            let byAgent = try await metrics.report(from: window.from, to: window.to, grouping: .agent)
            Self.expect(
                byAgent, MetricGroup(agent: "alice"),
                [
                    .handled: 1, .answerRate: 1, .averageSpeedOfAnswerSeconds: 10, .serviceLevel: 1, .assignments: 2, .handleSeconds: 185,
                    .wrapUpSeconds: 30, .averageHandleSeconds: 107.5, .offers: 3, .offersDeclined: 1, .firstResponses: 1,
                    .averageFirstResponseSeconds: 30, .outboundMessages: 1, .ticketsCreated: 1, .ticketsResolved: 1, .averageResolutionSeconds: 50,
                    .firstContactResolved: 1, .firstContactResolutionRate: 1, .csatSent: 1, .csatAnswered: 1, .csatAverage: 5, .csatResponseRate: 1,
                    .csatSatisfiedRate: 1, .idleSeconds: 185, .busySeconds: 215, .awaySeconds: 60, .loggedInSeconds: 460, .occupancy: 0.5375,
                    .utilization: 0.4674,
                ])
            Self.expect(
                byAgent, MetricGroup(agent: "bo"),
                [
                    .handled: 1, .answerRate: 1, .averageSpeedOfAnswerSeconds: 120, .serviceLevel: 0, .assignments: 1, .transfers: 1,
                    .handleSeconds: 60, .averageHandleSeconds: 60, .offers: 1, .firstResponses: 1, .averageFirstResponseSeconds: 140,
                    .outboundMessages: 1, .ticketsCreated: 1, .ticketsResolved: 1, .averageResolutionSeconds: 130, .firstContactResolved: 0,
                    .firstContactResolutionRate: 0, .ticketsReopened: 1, .idleSeconds: 170, .busySeconds: 60, .loggedInSeconds: 230,
                    .occupancy: 0.2609, .utilization: 0.2609,
                ])
            // What no agent did: the contacts' entries and abandons, inbound messages, delivery.
            Self.expect(
                byAgent, MetricGroup(agent: ""),
                [
                    .offered: 4, .abandoned: 2, .shortAbandoned: 1, .answerRate: 0, .serviceLevel: 0, .averageAbandonSeconds: 31.5,
                    .inboundMessages: 4, .outboundSent: 1, .outboundDelivered: 1, .outboundFailed: 1, .deliverySuccessRate: 0.5,
                    .deliveryFailureRate: 0.5,
                ])

            // By hour: everything in the 09:00 hour; a window of the first minute holds C1's entry only.
            let byHour = try await metrics.report(from: window.from, to: window.to, grouping: [.channel, .hour])
            let hour = MetricKey.minute(of: Self.start)
            Self.expect(byHour, MetricGroup(channel: "api", period: hour), Self.apiFigures)
            let firstMinute = try await metrics.report(from: window.from, to: window.from.addingTimeInterval(60), grouping: .channel)
            #expect(Self.figures(firstMinute, MetricGroup(channel: "api"))[.offered]! == 4, "C1..C4 all entered before 09:01")
            #expect(Self.figures(firstMinute, MetricGroup(channel: "api"))[.handled]! == 1, "C2 reached bo at 09:02:20")
            let later = try await metrics.report(from: window.from.addingTimeInterval(60), to: window.to, grouping: .channel)
            #expect(Self.figures(later, MetricGroup(channel: "api"))[.offered]! == 0)
            #expect(Self.figures(later, MetricGroup(channel: "api"))[.abandoned]! == 1, "C4 left at 09:01:35")
        }
    }

    @Test("counting again from the whole log gives the same figures; a projection stopped half way goes on without counting twice")
    func recountAndRestart() async throws {
        try await Self.runMorning { day, half in
            let store = day.store
            switch half {
            case 1, 2:
                // Stop the projection here: a new one (a restarted hub) reads on from its commit.
                let clock = day.clock
                let service = MetricsService(
                    store: store, rules: MetricsProjector.Rules(Self.rules(), channels: day.engine.channels), now: { clock.now },
                    logger: EngineFixture.quietLogger)
                try await service.catchUp()
            default:
                let window = (from: Self.start, to: Self.start.addingTimeInterval(600))
                let resumed = try await day.engine.metrics.report(from: window.from, to: window.to, grouping: [.channel, .agent])
                try await store.resetMetrics()
                let clock = day.clock
                let recount = MetricsService(
                    store: store, rules: MetricsProjector.Rules(Self.rules(), channels: day.engine.channels), now: { clock.now },
                    logger: EngineFixture.quietLogger)
                let fresh = try await recount.report(from: window.from, to: window.to, grouping: [.channel, .agent])
                #expect(fresh.groups.count == resumed.groups.count)
                for (a, b) in zip(fresh.groups, resumed.groups) {
                    #expect(a.group == b.group)
                    #expect(a.counters == b.counters, "\(a.group)")
                }
                Self.expect(
                    try await recount.report(from: window.from, to: window.to, grouping: .channel), MetricGroup(channel: "api"), Self.apiFigures)
            }
        }
    }
}
