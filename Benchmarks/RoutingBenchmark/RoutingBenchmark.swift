import ArgumentParser
import CHubProcess
import Foundation
import HubModel
import HubRouting

/// The router's release-build checks: decision speed (`decisions`, the default) and the Erlang C
/// check of the simulator (`erlang`).
@main
struct RoutingTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub-routing-bench", abstract: "Release-build measurements of the router.",
        subcommands: [RoutingBenchmark.self, ErlangCheck.self], defaultSubcommand: RoutingBenchmark.self)

    /// The engine measured with the memory setting the hub runs it with: malloc on huge pages
    /// (see `chub_restart_with_huge_pages`; `HUB_HUGE_PAGES=0` measures without).
    static func main() {
        chub_restart_with_huge_pages(UnsafePointer(CommandLine.unsafeArgv))
        main(nil)
    }
}

/// Routing decisions per second and decision latency of the indexed router against the same
/// router deciding by full scans, on one core: a contact center of `agents` agents in `queues`
/// queues with `tasks` tasks waiting.
struct RoutingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decisions", abstract: "Measure routing decisions per second and decision latency.")

    @Option(help: "Agents.")
    var agents = 10_000

    @Option(help: "Queues.")
    var queues = 50

    @Option(help: "Tasks kept waiting (comma-separated for a scaling series).")
    var tasks = "1000,10000,100000"

    @Option(help: "Decisions measured per run of the indexed router.")
    var decisions = 200_000

    @Option(help: "Decisions measured per run of the full-scan baseline.")
    var baselineDecisions = 300

    @Option(help: "Seed of the generated contact center.")
    var seed: UInt64 = 42

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    @Flag(inversion: .prefixedNo, help: "Keep the waiting tasks topped up during the measurement (--no-refill: let them drain, for profiling decisions alone).")
    var refill = true

    @Flag(inversion: .prefixedNo, help: "Also measure task-side decisions (a task arrives among free agents).")
    var arrivals = true

    @Flag(inversion: .prefixedNo, help: "Measure agent-side decisions (an agent frees up among waiting tasks); --no-frees with --arrivals profiles the task side alone.")
    var frees = true

    func run() throws {
        let sizes = tasks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        var results: [Result] = []
        for (index, size) in sizes.enumerated() {
            // Each engine is built anew, the same every time (one seed), never copied: a copy shares
            // every nested buffer with its original, and the first change to each would pay for
            // copying it (copy-on-write), which a running hub never does.
            for scenario in [Scenario.agentFrees, .taskArrives] {
                guard scenario == .agentFrees ? frees : arrivals && index == 0 else { continue }
                for fullScan in baselineDecisions > 0 ? [false, true] : [false] {
                    var bench = try Bench(benchmark: self, scenario: scenario, size: size)
                    results.append(try bench.measure(fullScan: fullScan, decisions: fullScan ? baselineDecisions : decisions))
                }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for result in results { print(String(decoding: try encoder.encode(result), as: UTF8.self)) }
        } else {
            print("| engine | decision | agents | queues | tasks waiting | tasks assigned | decisions | decisions/s | p50 | p99 | p99.9 | max |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|")
            for r in results {
                print(
                    "| \(r.engine) | \(r.scenario.rawValue) | \(r.agents) | \(r.queues) | \(r.waiting) | \(r.assigned) | \(r.decisions) | "
                        + "\(Int(r.decisionsPerSecond)) | "
                        + String(format: "%.2f µs | %.2f µs | %.2f µs | %.2f µs |", r.p50, r.p99, r.p999, r.max))
            }
        }
    }

    enum Scenario: String, Codable {
        /// Task surplus: every agent is busy and many tasks wait; an agent finishes and the
        /// router picks the best task it may take among them (agent-side decision).
        case agentFrees = "agent frees up"
        /// Agent surplus: free agents everywhere; a task arrives and the router picks the best
        /// free agent for it (task-side decision).
        case taskArrives = "task arrives"
    }

    struct Result: Codable {
        var engine: String
        var scenario: Scenario
        var agents: Int
        var queues: Int
        var waiting: Int
        var assigned: Int
        var decisions: Int
        var decisionsPerSecond: Double
        var p50: Double
        var p99: Double
        var p999: Double
        var max: Double
    }
}

/// A filled contact center and the load that drives it.
struct Bench {
    let scenario: RoutingBenchmark.Scenario
    /// Tasks kept waiting.
    let size: Int
    /// Whether arrivals keep `size` tasks waiting during the measurement (off for profiling
    /// decisions alone).
    let refill: Bool
    let agents: Int
    let queues: Int
    var router: RoutingEngine
    var random: Generator
    var clock = RoutingInstant.zero
    var taskNumber = 0
    var assigned: [String] = []
    var assignedIndex: [String: Int] = [:]
    let languages = ["zh", "en", "ja", "ko"]
    let channels: [ChannelKind] = [.voice, .wechat, .email]

    /// A contact center: agents in one to three of the queues, tiers 1-3, language skills; calls,
    /// chats and mails with language requirements, so tasks fall in many eligibility groups.
    /// Every agent logs in; for `agentFrees` tasks arrive until `size` wait.
    init(benchmark: RoutingBenchmark, scenario: RoutingBenchmark.Scenario, size: Int) throws {
        self.scenario = scenario
        self.size = size
        refill = benchmark.refill
        agents = benchmark.agents
        queues = benchmark.queues
        random = Generator(seed: benchmark.seed)
        var policies: [QueuePolicy] = []
        for index in 0..<queues {
            var policy = QueuePolicy(
                id: "q\(index)", priority: index % 5 == 0 ? 10 : 0, offerTimeout: PerMedium(.seconds(3600)), wrapUp: PerMedium(.zero))
            policy.steps = [RoutingStep(name: "tier 1", filter: AgentFilter(tierAtMost: 1), duration: .seconds(3600))]
            policies.append(policy)
        }
        var profiles: [AgentProfile] = []
        for index in 0..<agents {
            var memberships: [String: RoutingMembership] = [:]
            for _ in 0..<(1 + random.next(3)) {
                memberships["q\(random.next(queues))"] = RoutingMembership(tier: 1 + random.next(3), position: index)
            }
            var skills: [String: Int] = [:]
            for language in languages where random.next(2) == 0 || language == languages[index % languages.count] {
                skills["lang-\(language)"] = 3 + random.next(8)
            }
            var profile = AgentProfile(id: "a\(index)", skills: skills, memberships: memberships, wrapUp: PerMedium(.zero))
            profile.autoAccept = [.voice, .messaging, .email]
            profiles.append(profile)
        }
        router = RoutingEngine(queues: policies, agents: profiles)
        for index in 0..<agents { _ = try step(.agentPresence(agentID: "a\(index)", .available)) }
        if scenario == .agentFrees {
            while router.waitingCount < size { _ = try step(.taskArrived(request())) }
        }
    }

    mutating func request() -> TaskRequest {
        taskNumber += 1
        let language = languages[random.next(languages.count)]
        return TaskRequest(
            id: "t\(taskNumber)", channel: channels[random.next(channels.count)], queue: "q\(random.next(queues))",
            priority: random.next(10) == 0 ? 5 : 0, attributes: [TaskAttribute.language: .string(language)],
            requirements: [SkillRequirement(skill: "lang-\(language)", minLevel: 3)])
    }

    /// Applies an event 1 ms after the previous; returns the assignments it made and the time
    /// `apply` took, in microseconds. A `measured` event goes through `measuredApply`, so that a
    /// profiler can count exactly the work that is timed
    /// (`valgrind --tool=callgrind --toggle-collect='*measuredApply*'`).
    mutating func step(_ event: RoutingEvent, measured: Bool = false) throws -> (Int, Double) {
        clock = clock + .milliseconds(1)
        _ = router.advance(to: clock)
        let start = ContinuousClock.now
        let decisions = measured ? try Self.measuredApply(event, to: &router) : try router.apply(event)
        let elapsed = ContinuousClock.now - start
        var made = 0
        for decision in decisions {
            if case .assigned(let task, _, _) = decision {
                assignedIndex[task] = assigned.count
                assigned.append(task)
                made += 1
            }
        }
        return (made, Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
    }

    @inline(never)
    static func measuredApply(_ event: RoutingEvent, to router: inout RoutingEngine) throws -> [RoutingDecision] {
        try router.apply(event)
    }

    mutating func removeAssigned(at index: Int) -> String {
        let task = assigned[index]
        let last = assigned.removeLast()
        if index < assigned.count {
            assigned[index] = last
            assignedIndex[last] = index
        }
        assignedIndex[task] = nil
        return task
    }

    /// Runs `count` decisions, after a warm-up of one in twenty that is not recorded.
    mutating func measure(fullScan: Bool, decisions count: Int) throws -> RoutingBenchmark.Result {
        router.configuration.fullScan = fullScan
        var latencies: [Double] = []
        _ = try drive(decisions: count / 20, recording: false, into: &latencies)
        latencies.reserveCapacity(count)
        let made = try drive(decisions: count, recording: true, into: &latencies)
        let total = latencies.reduce(0, +)
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return RoutingBenchmark.Result(
            engine: fullScan ? "full scan" : "indexed", scenario: scenario, agents: agents, queues: queues, waiting: router.waitingCount,
            assigned: assigned.count, decisions: made, decisionsPerSecond: total > 0 ? Double(made) / (total / 1e6) : 0,
            p50: percentile(0.5), p99: percentile(0.99), p999: percentile(0.999), max: latencies.last ?? 0)
    }

    /// Drives the load until `count` decisions are made; with `recording`, the time of each
    /// deciding event goes into `latencies`. Returns the decisions made.
    mutating func drive(decisions count: Int, recording: Bool, into latencies: inout [Double]) throws -> Int {
        var made = 0
        while made < count {
            switch scenario {
            case .agentFrees:
                // An agent finishes; the router gives it the best task it may take.
                let task = removeAssigned(at: random.next(assigned.count))
                let (decided, micros) = try step(.taskCompleted(taskID: task), measured: recording)
                if decided > 0 {
                    if recording { latencies.append(micros) }
                    made += decided
                }
                while refill, router.waitingCount < size { _ = try step(.taskArrived(request())) }
            case .taskArrives:
                // A task arrives; free agents everywhere; then one task finishes so they stay free.
                let (decided, micros) = try step(.taskArrived(request()), measured: recording)
                if decided > 0 {
                    if recording { latencies.append(micros) }
                    made += decided
                }
                if assigned.count > agents / 2 {
                    _ = try step(.taskCompleted(taskID: removeAssigned(at: random.next(assigned.count))))
                }
            }
        }
        return made
    }
}

/// A reproducible contact center: the router's own seeded generator.
struct Generator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
}
