import ArgumentParser
import Foundation
import HubModel
import HubRouting
import Synchronization

/// M/M/N through the real router on a virtual clock, against Erlang C: a single-skill queue of
/// identical agents who answer at once, Poisson arrivals, exponential handle times. Seeds run in
/// parallel; their answered calls are pooled. Exits 1 when a figure is off by more than the
/// tolerance.
struct ErlangCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erlang", abstract: "Check the simulator against Erlang C (probability of waiting, ASA, service level).")

    @Option(help: "Agents (servers).")
    var agents = 52

    @Option(help: "Offered load in Erlangs.")
    var erlangs = 48.0

    @Option(help: "Mean handle time in seconds.")
    var handleTime = 180.0

    @Option(help: "Service-level threshold in seconds.")
    var threshold = 20.0

    @Option(help: "Simulated hours per seed (after a 2 h warm-up).")
    var hours = 1200.0

    /// At 92 % occupancy the queue length wanders slowly, so waits are strongly correlated: 48
    /// seeds of 1,200 h (55 million calls) put the average speed of answer within about 1 % of
    /// its expectation (one standard deviation), far inside the tolerance.
    @Option(help: "Seeds, run in parallel.")
    var seeds = 48

    @Option(help: "The first seed.")
    var firstSeed: UInt64 = 1

    @Option(help: "Largest relative error accepted, in percent.")
    var tolerance = 3.0

    @Option(help: "The agent-choice strategy.")
    var strategy = "longestIdle"

    @Flag(help: "Print JSON.")
    var json = false

    struct Outcome: Codable {
        var metric: String
        var analytic: Double
        var simulated: Double
        var relativeErrorPercent: Double
        var pass: Bool
    }

    struct Summary: Codable {
        var agents: Int
        var erlangs: Double
        var handleTimeSeconds: Double
        var seeds: Int
        var answered: Int
        var strategy: String
        var outcomes: [Outcome]
        var pass: Bool
    }

    func run() throws {
        guard let strategy = AgentStrategy(rawValue: strategy) else { throw ValidationError("unknown strategy \(self.strategy)") }
        let reports = Mutex<[SimulationReport]>([])
        let failures = Mutex<[String]>([])
        let scenarios = (0..<UInt64(seeds)).map { scenario(seed: firstSeed + $0, strategy: strategy) }
        DispatchQueue.concurrentPerform(iterations: scenarios.count) { index in
            do {
                let report = try Simulator.run(scenarios[index])
                reports.withLock { $0.append(report) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        if let failure = failures.withLock({ $0.first }) { throw ValidationError(failure) }
        let lines = reports.withLock { $0 }.map { $0.queues[0] }
        let answered = lines.reduce(0) { $0 + $1.answered }
        func pooled(_ value: KeyPath<SimulationReport.QueueLine, Double?>) -> Double {
            lines.reduce(0.0) { $0 + ($1[keyPath: value] ?? 0) * Double($1.answered) } / Double(answered)
        }
        let c = ErlangC.probabilityOfWaiting(servers: agents, load: erlangs)
        let asa = ErlangC.averageWait(servers: agents, load: erlangs, handleTime: handleTime, probability: c)
        let sl = ErlangC.serviceLevel(servers: agents, load: erlangs, handleTime: handleTime, within: threshold, probability: c)
        let outcomes = [
            ("probability of waiting", c, pooled(\.probabilityOfWaiting)), ("average speed of answer (s)", asa, pooled(\.averageSpeedOfAnswer)),
            ("service level", sl, pooled(\.serviceLevel)),
        ].map { name, analytic, simulated in
            let error = abs(simulated - analytic) / analytic * 100
            return Outcome(metric: name, analytic: analytic, simulated: simulated, relativeErrorPercent: error, pass: error <= tolerance)
        }
        let summary = Summary(
            agents: agents, erlangs: erlangs, handleTimeSeconds: handleTime, seeds: seeds, answered: answered, strategy: strategy.rawValue,
            outcomes: outcomes, pass: outcomes.allSatisfy(\.pass))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print("M/M/\(agents) at \(erlangs) Erlangs, handle time \(handleTime) s, \(seeds) seeds, \(answered) calls answered, \(strategy.rawValue)")
            print("| metric | Erlang C | simulated | error | within \(tolerance) % |")
            print("|---|---|---|---|---|")
            for outcome in outcomes {
                print(
                    "| \(outcome.metric) | \(String(format: "%.4f", outcome.analytic)) | \(String(format: "%.4f", outcome.simulated)) | "
                        + "\(String(format: "%.2f %%", outcome.relativeErrorPercent)) | \(outcome.pass ? "yes" : "NO") |")
            }
        }
        if !summary.pass { throw ExitCode(1) }
    }

    func scenario(seed: UInt64, strategy: AgentStrategy) -> Scenario {
        var queue = QueuePolicy(id: "calls", strategy: PerMedium(strategy), offerTimeout: PerMedium(.seconds(3600)), wrapUp: PerMedium(.zero))
        queue.serviceLevel = PerMedium(ServiceLevelTarget(threshold: .milliseconds(Int64(threshold * 1000)), percent: 80))
        var agent = AgentProfile(id: "", memberships: ["calls": RoutingMembership()], wrapUp: PerMedium(.zero))
        agent.autoAccept = [.voice]
        return Scenario(
            name: "erlang-\(seed)", duration: .seconds(Int64(hours * 3600)), warmup: .seconds(7200), seed: seed, queues: [queue],
            agents: [Scenario.AgentGroup(prefix: "agent", count: agents, profile: agent)],
            arrivals: [
                Scenario.ArrivalStream(
                    name: "call", queue: "calls", channel: .voice, perHour: erlangs / handleTime * 3600,
                    handleTime: .exponential(mean: .milliseconds(Int64(handleTime * 1000))))
            ])
    }
}
