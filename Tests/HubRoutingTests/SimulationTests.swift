import Foundation
import HubModel
import Testing

@testable import HubRouting

@Suite("Simulator")
struct SimulationTests {
    static func erlangScenario(strategy: AgentStrategy, hours: Double, seed: UInt64 = 7) -> Scenario {
        var queue = QueuePolicy(id: "calls", strategy: PerMedium(strategy), offerTimeout: PerMedium(.seconds(3600)), wrapUp: PerMedium(.zero))
        queue.serviceLevel = PerMedium(ServiceLevelTarget(threshold: .seconds(20), percent: 80))
        var agent = AgentProfile(id: "", memberships: ["calls": RoutingMembership()], wrapUp: PerMedium(.zero))
        agent.autoAccept = [.voice]
        return Scenario(
            name: "erlang-\(strategy.rawValue)", duration: .seconds(Int64(hours * 3600)), warmup: .seconds(7200), seed: seed,
            queues: [queue], agents: [Scenario.AgentGroup(prefix: "agent", count: 52, profile: agent)],
            arrivals: [Scenario.ArrivalStream(name: "call", queue: "calls", channel: .voice, perHour: 48.0 / 180 * 3600, handleTime: .exponential(mean: .seconds(180)))])
    }

    @Test("speed probe")
    func probe() throws {
        let start = ContinuousClock.now
        for seed in 1...4 {
            let report = try Simulator.run(Self.erlangScenario(strategy: .longestIdle, hours: 24, seed: UInt64(seed)))
            print("PROBE", ContinuousClock.now - start, report.queues.first!.averageSpeedOfAnswer!, report.queues.first!.probabilityOfWaiting!, report.queues.first!.serviceLevel!)
        }
    }
}
