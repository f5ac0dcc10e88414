import Foundation
import HubModel
import Testing

@testable import HubRouting

@Suite("Simulator")
struct SimulationTests {
    /// M/M/52 at 48 Erlangs: one queue, identical agents who answer at once, no wrap-up.
    static func erlangScenario(strategy: AgentStrategy, hours: Double, seed: UInt64 = 7) -> Scenario {
        var queue = QueuePolicy(id: "calls", strategy: PerMedium(strategy), offerTimeout: PerMedium(.seconds(3600)), wrapUp: PerMedium(.zero))
        queue.serviceLevel = PerMedium(ServiceLevelTarget(threshold: .seconds(20), percent: 80))
        var agent = AgentProfile(id: "", memberships: ["calls": RoutingMembership()], wrapUp: PerMedium(.zero))
        agent.autoAccept = [.voice]
        return Scenario(
            name: "erlang-\(strategy.rawValue)", duration: .seconds(Int64(hours * 3600)), warmup: .seconds(3600), seed: seed,
            queues: [queue], agents: [Scenario.AgentGroup(prefix: "agent", count: 52, profile: agent)],
            arrivals: [
                Scenario.ArrivalStream(
                    name: "call", queue: "calls", channel: .voice, perHour: 48.0 / 180 * 3600, handleTime: .exponential(mean: .seconds(180)))
            ])
    }

    /// A small contact center using most of the router: two queues, tiers, an owner step, skills
    /// with one optional, chats and calls, declines and missed offers, shifts, abandonment,
    /// wrap-up, aging and an overflow.
    static func busyScenario(seed: UInt64, hours: Int64 = 4, fullScan: Bool = false, check: Bool = true) -> Scenario {
        var support = QueuePolicy(id: "support", strategy: PerMedium(voice: .longestIdle, messaging: .mostAvailable, email: .fewestHandled))
        support.steps = [RoutingStep(name: "tier 1", filter: AgentFilter(tierAtMost: 1), duration: .seconds(20))]
        support.aging = Aging(every: .seconds(30), max: 5)
        support.overflow = [OverflowRule(name: "to billing", trigger: .waited(.seconds(240)), action: .requeue(queue: "billing", keepAge: true))]
        support.wrapUp = PerMedium(voice: .seconds(10), messaging: .zero, email: .zero)
        var billing = QueuePolicy(id: "billing", priority: 5, strategy: PerMedium(.bestSkill))
        billing.requirements = [SkillRequirement(skill: "billing", minLevel: 3, optional: true, dropOrder: 1)]
        billing.steps = [RoutingStep(name: "experts", duration: .seconds(30))]
        let owner = RoutingStep(
            name: "owner", filter: AgentFilter(agents: [.taskAttribute(TaskAttribute.ownerAgent)]),
            duration: PerMedium(voice: .seconds(10), messaging: .seconds(30), email: .seconds(60)))
        let senior = AgentProfile(
            id: "", skills: ["lang-zh": 9, "lang-en": 7, "billing": 8],
            memberships: ["support": RoutingMembership(tier: 1), "billing": RoutingMembership(tier: 1)])
        let junior = AgentProfile(
            id: "", skills: ["lang-zh": 6, "lang-en": 9],
            memberships: ["support": RoutingMembership(tier: 2), "billing": RoutingMembership(tier: 2, delay: .seconds(15))])
        let behaviour = Scenario.AgentBehaviour(answerDelay: .uniform(.seconds(1), .seconds(6)), declineProbability: 0.1, missProbability: 0.05)
        return Scenario(
            name: "busy", duration: .seconds(hours * 3600), warmup: .seconds(600), seed: seed, router: RouterConfiguration(fullScan: fullScan),
            queues: [support, billing],
            agents: [
                Scenario.AgentGroup(prefix: "senior", count: 3, profile: senior, behaviour: behaviour),
                Scenario.AgentGroup(
                    prefix: "junior", count: 4, profile: junior,
                    shifts: [Scenario.Shift(start: .zero, end: .seconds(7200)), Scenario.Shift(start: .seconds(9000), end: .seconds(hours * 3600))],
                    behaviour: behaviour),
            ],
            arrivals: [
                Scenario.ArrivalStream(
                    name: "call-zh", queue: "support", channel: .voice, perHour: 40, handleTime: .exponential(mean: .seconds(200)),
                    patience: .exponential(mean: .seconds(150)), attributes: [TaskAttribute.language: .string("zh")],
                    requirements: [SkillRequirement(skill: "lang-${task.language}", minLevel: 5)]),
                Scenario.ArrivalStream(
                    name: "chat-en", queue: "support", channel: .wechat, perHour: 50, handleTime: .logNormal(mean: .seconds(400), deviation: .seconds(200)),
                    patience: .exponential(mean: .seconds(600)), priority: 1,
                    attributes: [TaskAttribute.language: .string("en"), TaskAttribute.ownerAgent: .string("senior-2")], steps: [owner]),
                Scenario.ArrivalStream(
                    name: "refund", queue: "billing", channel: .email, perHour: 15, handleTime: .exponential(mean: .seconds(300))),
            ],
            checkWorkConservation: check)
    }

    @Test("M/M/N: the agent-choice strategy changes who works, not how long customers wait")
    func strategyDoesNotChangeWaits() throws {
        let strategies: [AgentStrategy] = [.longestIdle, .roundRobin, .fewestHandled, .leastTalkTime, .random, .linear, .mostAvailable]
        let reports = try strategies.map { try Simulator.run(Self.erlangScenario(strategy: $0, hours: 12)) }
        let first = reports[0].queues[0]
        #expect(first.answered > 10_000)
        for (strategy, report) in zip(strategies, reports).dropFirst() {
            let line = report.queues[0]
            // The same customers (arrivals and handle times drawn per customer), served first
            // come first served by a work-conserving router on identical agents: every wait is
            // the same, whoever answers.
            #expect(line.answered == first.answered, "\(strategy)")
            #expect(line.averageSpeedOfAnswer == first.averageSpeedOfAnswer, "\(strategy)")
            #expect(line.probabilityOfWaiting == first.probabilityOfWaiting, "\(strategy)")
            #expect(line.serviceLevel == first.serviceLevel, "\(strategy)")
        }
        // But who works does change: longest idle spreads the load; linear hunting loads the
        // first positions.
        func spread(_ report: SimulationReport) -> Double {
            let occupancies = report.agents.compactMap(\.occupancy)
            return occupancies.max()! - occupancies.min()!
        }
        #expect(spread(reports[0]) < 0.05)
        #expect(spread(reports[strategies.firstIndex(of: .linear)!]) > 0.2)
    }

    @Test("the same scenario and seed give byte-identical reports; another seed another")
    func determinism() throws {
        let first = try Simulator.run(Self.busyScenario(seed: 11, check: false)).json
        let second = try Simulator.run(Self.busyScenario(seed: 11, check: false)).json
        let other = try Simulator.run(Self.busyScenario(seed: 12, check: false)).json
        #expect(first == second)
        #expect(first != other)
    }

    @Test("work conservation: over a long random run no free agent is ever left beside a task it could take")
    func workConservation() throws {
        let report = try Simulator.run(Self.busyScenario(seed: 3, hours: 24))
        #expect(report.workConservationChecks > 10_000)
        let offered = report.queues.reduce(0) { $0 + $1.offered }
        let answered = report.queues.reduce(0) { $0 + $1.answered }
        let abandoned = report.queues.reduce(0) { $0 + $1.abandoned }
        #expect(offered > 300 && answered > 200 && abandoned > 0, "a busy scenario that exercises waiting and abandonment")
    }

    @Test("the indexed router and the full-scan oracle make the same decisions on a busy random run")
    func indexedEqualsFullScan() throws {
        for seed: UInt64 in [5, 6] {
            let indexed = try Simulator.run(Self.busyScenario(seed: seed, check: false))
            let scanned = try Simulator.run(Self.busyScenario(seed: seed, fullScan: true, check: false))
            #expect(indexed == scanned)
            #expect(indexed.decisions > 1_000)
        }
    }
}

@Suite("Router as a queue")
struct QueueExactnessTests {
    @Test("one queue of identical agents: every customer's wait equals first-come-first-served on N servers, computed independently")
    func firstComeFirstServed() throws {
        let servers = 52
        var queue = QueuePolicy(id: "calls", strategy: PerMedium(.longestIdle), offerTimeout: PerMedium(.seconds(3600)), wrapUp: PerMedium(.zero))
        queue.steps = []
        let agents = (0..<servers).map { index -> AgentProfile in
            var agent = AgentProfile(id: "a\(index)", memberships: ["calls": RoutingMembership()], wrapUp: PerMedium(.zero))
            agent.autoAccept = [.voice]
            return agent
        }
        var engine = RoutingEngine(queues: [queue], agents: agents)
        for agent in agents { _ = try engine.apply(.agentPresence(agentID: agent.id, .available)) }
        var random = SplitMix64(seed: 99)
        func exponential(_ mean: Double) -> Int64 {
            Int64((-mean * log(1 - Double(random.next() >> 11) * 0x1p-53) * 1000).rounded())
        }
        // Arrivals and handle times in milliseconds.
        var arrivals: [Int64] = []
        var handles: [Int64] = []
        var t: Int64 = 0
        for _ in 0..<60_000 {
            t += exponential(3.75)
            arrivals.append(t)
            handles.append(exponential(180))
        }
        // Independent FCFS: each customer starts at max(arrival, earliest free server).
        var free = Array(repeating: Int64(0), count: servers)
        var expected: [Int64] = []
        for (arrival, handle) in zip(arrivals, handles) {
            let index = free.indices.min { free[$0] < free[$1] }!
            let start = max(arrival, free[index])
            expected.append(start - arrival)
            free[index] = start + handle
        }
        // The router, driven event by event: arrivals and completions in time order; a completion
        // at the same instant as an arrival goes first (the server is free at that instant).
        var completions: [(at: Int64, task: String)] = []
        var assignedAt: [String: Int64] = [:]
        var next = 0
        while next < arrivals.count || !completions.isEmpty {
            completions.sort { $0.at < $1.at || ($0.at == $1.at && $0.task < $1.task) }
            let completion = completions.first
            let event: RoutingEvent
            let at: Int64
            if let completion, next >= arrivals.count || completion.at <= arrivals[next] {
                completions.removeFirst()
                event = .taskCompleted(taskID: completion.task)
                at = completion.at
            } else {
                event = .taskArrived(TaskRequest(id: "c\(next)", channel: .voice, queue: "calls"))
                at = arrivals[next]
                next += 1
            }
            for decision in try engine.handle(event, at: RoutingInstant(milliseconds: at)) {
                if case .assigned(let task, _, _) = decision {
                    assignedAt[task] = at
                    let index = Int(task.dropFirst())!
                    completions.append((at + handles[index], task))
                }
            }
        }
        let waits = arrivals.indices.map { assignedAt["c\($0)"]! - arrivals[$0] }
        let mismatches = zip(waits, expected).filter { $0 != $1 }.count
        #expect(mismatches == 0)
        #expect(waits.filter { $0 > 0 }.count > 10_000, "a busy queue")
    }
}
