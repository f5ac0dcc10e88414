import Foundation
import HubModel
import HubTestSupport
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("End to end: the hub process", .serialized)
struct ProcessLifecycleTests {
    @Test("`hub` starts on the sample configuration, answers /healthz, and stops cleanly on SIGTERM")
    func startWithSampleConfig() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-sample")
        defer { scratch.remove() }
        // As `swift run hub` does: no arguments, run from the package root, sample config in
        // channels/ and routing-rules/. Only the data directory and the listeners' ports are moved
        // aside (the sample's fixed SIP and SMTP ports may be taken by hubs of tests alongside).
        let hub = try HubProcess(
            arguments: [],
            environment: [
                "HUB_HTTP": "127.0.0.1:0", "HUB_SIP": "127.0.0.1:0", "HUB_SMTP": "127.0.0.1:0",
                "HUB_DATA": scratch.url.appendingPathComponent("data").path,
            ],
            logDirectory: scratch)
        defer { hub.kill() }
        let base = try await hub.waitUntilListening()
        let health = try await E2E.request(.GET, base + "/healthz")
        #expect(health.status == 200)
        #expect(health.json?["status"]?.stringValue == "ok")
        #expect(try await E2E.request(.GET, base + "/readyz").status == 200)
        #expect(FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("data/hub.sqlite").path))
        hub.signal(SIGTERM)
        let status = try await hub.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "\(hub.log)")
        #expect(hub.log.contains("msg=\"hub stopped\""))
    }

    @Test("the hub restarts itself in place with malloc on huge pages where the kernel offers them; HUB_HUGE_PAGES=0 keeps it off")
    func hugePagesRestart() async throws {
        let mode = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        let offered = mode.contains("[madvise]") || mode.contains("[always]")
        for optOut in [false, true] {
            let scratch = try TemporaryDirectory("hub-e2e-hugepages")
            defer { scratch.remove() }
            // Its own configuration on free ports: the sample's fixed SIP and SMTP ports may be
            // taken by tests running alongside.
            try E2E.configuration(in: scratch)
            var environment = E2E.environment(scratch)
            environment["GLIBC_TUNABLES"] = ""
            if optOut { environment["HUB_HUGE_PAGES"] = "0" }
            let hub = try HubProcess(arguments: [], environment: environment, logDirectory: scratch)
            defer { hub.kill() }
            let base = try await hub.waitUntilListening()
            #expect(try await E2E.request(.GET, base + "/healthz").status == 200)
            // The same process (an exec keeps the pid), now with the tunable in its environment.
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(hub.process.processIdentifier)/environ"))) ?? Data()
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let tunable = variables.contains { $0.hasPrefix("GLIBC_TUNABLES=") && $0.contains("glibc.malloc.hugetlb=1") }
            #expect(tunable == (offered && !optOut), "mode \(mode), opt-out \(optOut): \(variables.filter { $0.hasPrefix("GLIBC") })")
            hub.signal(SIGTERM)
            #expect(try await hub.waitForExit(timeout: .seconds(15)) == 0, "\(hub.log)")
        }
    }

    @Test("an invalid configuration is reported with file and line, and the hub refuses to start")
    func invalidConfiguration() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-invalid")
        defer { scratch.remove() }
        try E2E.configuration(in: scratch)
        try scratch.write("channels/broken.yaml", "kind: api\nid: broken\nqueue: nowhere\nsecrets:\n  signingSecret: E2E_SIGNING_SECRET\n")
        let channels = scratch.url.appendingPathComponent("channels").path
        let rules = scratch.url.appendingPathComponent("routing-rules").path

        let check = try HubProcess(arguments: ["check-config", "--channels", channels, "--routing-rules", rules], environment: [:], logDirectory: scratch)
        #expect(try await check.waitForExit() == 1)
        #expect(check.log.contains("\(channels)/broken.yaml:3:8: error: queue: unknown queue 'nowhere'"), "\(check.log)")

        let serve = try HubProcess(arguments: ["serve"], environment: E2E.environment(scratch), logDirectory: scratch)
        #expect(try await serve.waitForExit() == 2)
        #expect(serve.log.contains("broken.yaml:3:8"), "\(serve.log)")
        #expect(serve.log.contains("not starting"))

        let strict = try HubProcess(
            arguments: ["check-config", "--strict", "--channels", HubProcess.packageRoot.appendingPathComponent("channels").path],
            environment: [:], logDirectory: scratch)
        #expect(try await strict.waitForExit() == 1)
        #expect(strict.log.contains("warning: secrets.signingSecret"))
    }

    @Test("a second hub on the same data directory is refused while the first runs")
    func exclusiveDataDirectory() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-lock")
        defer { scratch.remove() }
        try E2E.configuration(in: scratch)
        let first = try HubProcess(arguments: [], environment: E2E.environment(scratch), logDirectory: scratch)
        defer { first.kill() }
        _ = try await first.waitUntilListening()
        let second = try HubProcess(arguments: [], environment: E2E.environment(scratch), logDirectory: scratch)
        #expect(try await second.waitForExit() == 1)
        #expect(second.log.contains("in use by another hub process"), "\(second.log)")
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
    }
}
