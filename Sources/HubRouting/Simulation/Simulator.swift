import Foundation
import HubModel

/// Runs a scenario through the real router on a virtual clock: Poisson arrivals, sampled handle
/// times and patience, agents answering offers, shifts. Each random quantity has its own seeded
/// stream, and handle time and patience belong to the customer (drawn at arrival), so two runs
/// that differ only in routing policy see exactly the same customers.
public struct Simulator {
    public enum Failure: Error, CustomStringConvertible {
        case refused(RoutingEvent, RoutingError)
        case workConservation(at: RoutingInstant, pairs: [(taskID: String, agentID: String)])
        /// The router's incremental count of present tasks disagreed with a scan.
        case presentTasks(at: RoutingInstant, mismatches: [String])

        public var description: String {
            switch self {
            case .refused(let event, let error): "the router refused \(event): \(error)"
            case .workConservation(let instant, let pairs):
                "at \(instant) free agents were left beside tasks they could take: "
                    + pairs.prefix(5).map { "\($0.taskID)/\($0.agentID)" }.joined(separator: ", ")
            case .presentTasks(let instant, let mismatches):
                "at \(instant) the router's present tasks disagreed with its tasks: " + mismatches.prefix(5).joined(separator: "; ")
            }
        }
    }

    private enum Event {
        case arrival(stream: Int)
        case abandon(task: String)
        case answer(offer: String, accept: Bool)
        case complete(task: String)
        case shiftStart(agent: String)
        case shiftEnd(agent: String)
    }

    private struct Customer {
        var stream: Int
        var arrivedAt: RoutingInstant
        var handleTime: Duration
        var counted: Bool
        var answered = false
    }

    private let scenario: Scenario
    private var router: RoutingEngine
    private var events = DeadlineHeap<Event>()
    private var arrivalStreams: [SplitMix64]
    private var handleStreams: [SplitMix64]
    private var patienceStreams: [SplitMix64]
    private var behaviour: SplitMix64
    private var customers: [String: Customer] = [:]
    private var agentGroup: [String: Int] = [:]
    private var assignedAt: [String: (agent: String, at: RoutingInstant)] = [:]
    private var statistics: [QueueKey: QueueTally] = [:]
    private var agentTally: [String: AgentTally] = [:]
    private var nextTask = 0
    private var decisions = 0
    private var checks = 0
    private var clock = RoutingInstant.zero
    private let windowStart: RoutingInstant
    private let windowEnd: RoutingInstant

    private struct QueueKey: Hashable, Comparable {
        var queue: String
        var channel: String
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.queue, lhs.channel) < (rhs.queue, rhs.channel) }
    }

    private struct QueueTally {
        var offered = 0
        var answered = 0
        var answeredWithin = 0
        var waited = 0
        var abandoned = 0
        var abandonedWait = 0.0
        var overflowed = 0
        var totalWait = 0.0
        var totalHandle = 0.0
        var threshold: Duration
    }

    private struct AgentTally {
        var handled = 0
        var busySeconds = 0.0
        var loggedSeconds = 0.0
        var loggedInSince: RoutingInstant?
    }

    public static func run(_ scenario: Scenario) throws(Failure) -> SimulationReport {
        var simulator = Simulator(scenario)
        return try simulator.run()
    }

    private init(_ scenario: Scenario) {
        self.scenario = scenario
        var seeds = SplitMix64(seed: scenario.seed)
        arrivalStreams = scenario.arrivals.map { _ in SplitMix64(seed: seeds.next()) }
        handleStreams = scenario.arrivals.map { _ in SplitMix64(seed: seeds.next()) }
        patienceStreams = scenario.arrivals.map { _ in SplitMix64(seed: seeds.next()) }
        behaviour = SplitMix64(seed: seeds.next())
        var configuration = scenario.router
        configuration.seed = seeds.next()
        var profiles: [AgentProfile] = []
        for (index, group) in scenario.agents.enumerated() {
            for number in 1...max(1, group.count) where group.count > 0 {
                var profile = group.profile
                profile.id = "\(group.prefix)-\(number)"
                profiles.append(profile)
                agentGroup[profile.id] = index
            }
        }
        router = RoutingEngine(configuration: configuration, queues: scenario.queues, agents: profiles)
        windowStart = .zero + scenario.warmup
        windowEnd = .zero + scenario.duration
        for agent in profiles {
            let group = scenario.agents[agentGroup[agent.id]!]
            let shifts = group.shifts.isEmpty ? [Scenario.Shift(start: .zero, end: scenario.duration)] : group.shifts
            for shift in shifts {
                events.schedule(.shiftStart(agent: agent.id), at: .zero + shift.start)
                events.schedule(.shiftEnd(agent: agent.id), at: .zero + shift.end)
            }
            agentTally[agent.id] = AgentTally()
        }
        for index in scenario.arrivals.indices where scenario.arrivals[index].perHour > 0 { scheduleArrival(index, after: .zero) }
        for queue in scenario.queues {
            for channel in Set(scenario.arrivals.filter { $0.queue == queue.id }.map(\.channel)) {
                statistics[QueueKey(queue: queue.id, channel: channel.rawValue)] = QueueTally(threshold: queue.serviceLevel[channel.medium].threshold)
            }
        }
    }

    private mutating func run() throws(Failure) -> SimulationReport {
        // Drain what is still waiting after the arrivals stop, within a day.
        let hardStop = windowEnd + .seconds(86_400)
        while true {
            let simulated = events.nextDeadline
            let routed = router.nextDeadline
            guard let next = [simulated, routed].compactMap({ $0 }).min(), next <= hardStop else { break }
            clock = max(clock, next)
            process(router.advance(to: clock))
            if let simulated, simulated <= clock, let entry = events.popDue(at: clock) {
                try handle(entry.payload)
            }
            if scenario.checkWorkConservation {
                checks += 1
                let pairs = router.unmatchedPairs()
                if !pairs.isEmpty { throw .workConservation(at: clock, pairs: pairs) }
                let mismatches = router.presentMismatches()
                if !mismatches.isEmpty { throw .presentTasks(at: clock, mismatches: mismatches) }
            }
            if events.isEmpty && router.taskCount == 0 { break }
        }
        for (id, tally) in agentTally where tally.loggedInSince != nil { closeLogin(id, at: min(clock, windowEnd), tally: tally) }
        return report()
    }

    private mutating func apply(_ event: RoutingEvent) throws(Failure) {
        do {
            process(try router.apply(event))
        } catch {
            throw .refused(event, error)
        }
    }

    private mutating func handle(_ event: Event) throws(Failure) {
        switch event {
        case .arrival(let index):
            let stream = scenario.arrivals[index]
            nextTask += 1
            let id = "\(stream.name)-\(nextTask)"
            let handleTime = Self.sample(stream.handleTime, &handleStreams[index])
            let counted = clock >= windowStart && clock < windowEnd
            customers[id] = Customer(stream: index, arrivedAt: clock, handleTime: handleTime, counted: counted)
            if counted {
                let (k, fresh) = (key(index), tally(index))
                statistics[k, default: fresh].offered += 1
            }
            if let patience = stream.patience { events.schedule(.abandon(task: id), at: clock + Self.sample(patience, &patienceStreams[index])) }
            if clock + .zero < windowEnd { scheduleArrival(index, after: clock) }
            try apply(
                .taskArrived(
                    TaskRequest(
                        id: id, channel: stream.channel, queue: stream.queue, priority: stream.priority, attributes: stream.attributes,
                        requirements: stream.requirements, steps: stream.steps)))
        case .abandon(let id):
            guard let customer = customers[id], !customer.answered, router.contains(task: id) else { return }
            if customer.counted {
                statistics[key(customer.stream)]!.abandoned += 1
                statistics[key(customer.stream)]!.abandonedWait += (clock - customer.arrivedAt).secondsValue
            }
            customers[id] = nil
            try apply(.taskCancelled(taskID: id, reason: .abandoned))
        case .answer(let offer, let accept):
            guard router.offer(offer) != nil else { return }
            try apply(accept ? .offerAccepted(offerID: offer) : .offerRejected(offerID: offer, reason: .declined))
        case .complete(let id):
            guard router.contains(task: id) else { return }
            if let assignment = assignedAt.removeValue(forKey: id) {
                addBusy(assignment.agent, from: assignment.at, to: clock)
                agentTally[assignment.agent]!.handled += 1
            }
            customers[id] = nil
            try apply(.taskCompleted(taskID: id))
        case .shiftStart(let agent):
            agentTally[agent]!.loggedInSince = clock
            try apply(.agentPresence(agentID: agent, .available))
        case .shiftEnd(let agent):
            if let tally = agentTally[agent], tally.loggedInSince != nil { closeLogin(agent, at: clock, tally: tally) }
            try apply(.agentPresence(agentID: agent, .offline))
        }
    }

    private mutating func process(_ batch: [RoutingDecision]) {
        decisions += batch.count
        for decision in batch {
            switch decision {
            case .offered(let offer):
                let group = scenario.agents[agentGroup[offer.agentID]!].behaviour
                let draw = Self.uniform(&behaviour)
                let delay = Self.sample(group.answerDelay, &behaviour)
                if draw < group.declineProbability {
                    events.schedule(.answer(offer: offer.id, accept: false), at: clock + delay)
                } else if draw >= group.declineProbability + group.missProbability {
                    events.schedule(.answer(offer: offer.id, accept: true), at: clock + delay)
                }
            case .assigned(let task, let agent, _):
                guard var customer = customers[task] else { continue }
                customer.answered = true
                customers[task] = customer
                assignedAt[task] = (agent, clock)
                events.schedule(.complete(task: task), at: clock + customer.handleTime)
                guard customer.counted else { continue }
                let wait = (clock - customer.arrivedAt).secondsValue
                let k = key(customer.stream)
                statistics[k]!.answered += 1
                statistics[k]!.totalWait += wait
                statistics[k]!.totalHandle += customer.handleTime.secondsValue
                if wait > 0 { statistics[k]!.waited += 1 }
                if wait <= statistics[k]!.threshold.secondsValue { statistics[k]!.answeredWithin += 1 }
            case .wrapUpStarted(let agent, _, let until):
                addBusy(agent, from: clock, to: until)
            case .taskEnded(let task, let reason):
                if let customer = customers[task] {
                    if case .overflow = reason, customer.counted { statistics[key(customer.stream)]!.overflowed += 1 }
                    customers[task] = nil
                }
            case .queued, .offerEnded, .presenceChanged, .stepAdvanced, .requirementsRelaxed, .overflowed, .wrapUpEnded, .completed:
                break
            }
        }
    }

    private mutating func addBusy(_ agent: String, from start: RoutingInstant, to end: RoutingInstant) {
        let overlap = min(end, windowEnd) - max(start, windowStart)
        if overlap > .zero { agentTally[agent]!.busySeconds += overlap.secondsValue }
    }

    private mutating func closeLogin(_ agent: String, at end: RoutingInstant, tally: AgentTally) {
        guard let since = tally.loggedInSince else { return }
        let overlap = min(end, windowEnd) - max(since, windowStart)
        if overlap > .zero { agentTally[agent]!.loggedSeconds += overlap.secondsValue }
        agentTally[agent]!.loggedInSince = nil
    }

    private mutating func scheduleArrival(_ index: Int, after instant: RoutingInstant) {
        let mean = 3600 / scenario.arrivals[index].perHour
        let gap = -mean * log(1 - Self.uniform(&arrivalStreams[index]))
        events.schedule(.arrival(stream: index), at: instant + .milliseconds(Int64((gap * 1000).rounded())))
    }

    private func key(_ stream: Int) -> QueueKey {
        QueueKey(queue: scenario.arrivals[stream].queue, channel: scenario.arrivals[stream].channel.rawValue)
    }

    private func tally(_ stream: Int) -> QueueTally {
        let queue = scenario.queues.first { $0.id == scenario.arrivals[stream].queue }
        return QueueTally(threshold: queue?.serviceLevel[scenario.arrivals[stream].channel.medium].threshold ?? .seconds(20))
    }

    private func report() -> SimulationReport {
        let measured = (windowEnd - windowStart).secondsValue
        let agentIDs = agentTally.keys.sorted()
        let queues = statistics.keys.sorted().map { key -> SimulationReport.QueueLine in
            let t = statistics[key]!
            let finished = t.answered + t.abandoned
            let medium = ChannelKind(rawValue: key.channel)?.medium ?? .messaging
            // The time of the agents who can take this work (members with capacity for the medium).
            let staffedSeconds = agentIDs.reduce(0.0) { sum, id in
                let profile = scenario.agents[agentGroup[id]!].profile
                guard profile.memberships[key.queue] != nil, profile.capacity[medium] > 0 else { return sum }
                return sum + agentTally[id]!.loggedSeconds
            }
            return SimulationReport.QueueLine(
                queue: key.queue, channel: key.channel, offered: t.offered, answered: t.answered, abandoned: t.abandoned,
                overflowed: t.overflowed, serviceLevelSeconds: t.threshold.secondsValue,
                serviceLevel: finished > 0 ? rounded(Double(t.answeredWithin) / Double(finished)) : nil,
                averageSpeedOfAnswer: t.answered > 0 ? rounded(t.totalWait / Double(t.answered)) : nil,
                probabilityOfWaiting: t.answered > 0 ? rounded(Double(t.waited) / Double(t.answered)) : nil,
                abandonRate: t.offered > 0 ? rounded(Double(t.abandoned) / Double(t.offered)) : nil,
                averageHandleTime: t.answered > 0 ? rounded(t.totalHandle / Double(t.answered)) : nil,
                offeredLoad: measured > 0 ? rounded(t.totalHandle / measured) : nil,
                occupancy: staffedSeconds > 0 ? rounded(t.totalHandle / staffedSeconds) : nil)
        }
        let agents = agentIDs.map { id -> SimulationReport.AgentLine in
            let t = agentTally[id]!
            return SimulationReport.AgentLine(
                agent: id, handled: t.handled, busySeconds: rounded(t.busySeconds), loggedSeconds: rounded(t.loggedSeconds),
                occupancy: t.loggedSeconds > 0 ? rounded(t.busySeconds / t.loggedSeconds) : nil)
        }
        // Summed in id order: floating-point sums depend on the order, and the report must be the
        // same bytes on every run.
        let busy = agentIDs.reduce(0) { $0 + agentTally[$1]!.busySeconds }
        let logged = agentIDs.reduce(0) { $0 + agentTally[$1]!.loggedSeconds }
        return SimulationReport(
            scenario: scenario.name, seed: scenario.seed, durationSeconds: scenario.duration.secondsValue,
            warmupSeconds: scenario.warmup.secondsValue, queues: queues, agents: agents,
            occupancy: logged > 0 ? rounded(busy / logged) : nil, decisions: decisions, workConservationChecks: checks)
    }

    private func rounded(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }

    private static func uniform(_ generator: inout SplitMix64) -> Double { Double(generator.next() >> 11) * 0x1p-53 }

    private static func sample(_ distribution: Distribution, _ generator: inout SplitMix64) -> Duration {
        let seconds: Double
        switch distribution {
        case .fixed(let value): return value
        case .exponential(let mean): seconds = -mean.secondsValue * log(1 - Self.uniform(&generator))
        case .uniform(let low, let high): seconds = low.secondsValue + (high.secondsValue - low.secondsValue) * Self.uniform(&generator)
        case .logNormal(let mean, let deviation):
            let m = mean.secondsValue
            let s = deviation.secondsValue
            let sigma2 = log(1 + s * s / (m * m))
            let mu = log(m) - sigma2 / 2
            let normal = sqrt(-2 * log(1 - Self.uniform(&generator))) * cos(2 * .pi * Self.uniform(&generator))
            seconds = exp(mu + sqrt(sigma2) * normal)
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
