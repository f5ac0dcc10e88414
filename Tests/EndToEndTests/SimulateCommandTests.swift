import Foundation
import HubModel
import HubTestSupport
import Testing

@Suite("End to end: hub simulate")
struct SimulateCommandTests {
    static var weekday: String { HubProcess.packageRoot.appendingPathComponent("docs/scenarios/weekday.yaml").path }

    @Test("the same scenario and seed print byte-identical reports; another seed another")
    func deterministic() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-simulate")
        defer { scratch.remove() }
        func run(_ arguments: [String]) async throws -> String {
            let process = try HubProcess(arguments: ["simulate", Self.weekday] + arguments, environment: [:], logDirectory: scratch)
            #expect(try await process.waitForExit(timeout: .seconds(60)) == 0, "\(process.log)")
            return process.log
        }
        let first = try await run(["--json"])
        let second = try await run(["--json"])
        let other = try await run(["--json", "--seed", "8"])
        #expect(first == second)
        #expect(first != other)
        let report = try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(first.utf8))
        #expect(report["scenario"]?.stringValue == "weekday morning")
        let table = try await run([])
        #expect(table.contains("| support | voice |"))
        #expect(table.contains("occupancy, all agents"))
    }

    @Test("a broken scenario is reported with file and line")
    func broken() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-simulate-broken")
        defer { scratch.remove() }
        let path = try scratch.write("broken.yaml", "duration: 1h\nqueues:\n  - id: q\nagents: []\narrivals:\n  - queue: q\n    channel: fax\n    perHour: 10\n    handleTime: 1m\n")
        let process = try HubProcess(arguments: ["simulate", path], environment: [:], logDirectory: scratch)
        #expect(try await process.waitForExit() == 1)
        #expect(process.log.contains("broken.yaml:7:14: error: arrivals[0].channel: unknown channel kind 'fax'"), "\(process.log)")
    }
}
