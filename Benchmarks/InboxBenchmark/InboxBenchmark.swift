import ArgumentParser
import AsyncHTTPClient
import BenchmarkSupport
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The agents' inbox under load, against a release hub process: `agents` agents log in and hold a
/// WebSocket each (memory per connection), every agent is given a conversation, then customers
/// write at `rate` messages per second through the `api` channel's webhook and each message's time
/// from the webhook POST to the agent's socket is measured (open loop: from when the message was
/// due, so a slow hub cannot hide its delay by slowing the load down).
@main
struct InboxBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub-inbox-bench", abstract: "Measure agent connections per hub and message-to-screen latency.")

    @Option(help: "The hub executable (build it with `swift build -c release --product hub`).")
    var hub: String = ".build/release/hub"

    @Option(help: "Agents, each with one WebSocket.")
    var agents: Int = 10_000

    @Option(help: "Customer messages per second during the measurement.")
    var rate: Int = 1_000

    @Option(help: "Seconds of measurement.")
    var seconds: Int = 30

    @Option(help: "full or normal (the hub's --durability).")
    var durability: String = "full"

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Option(help: "Write each measured message's due time and latency to this CSV file (to see when the slow ones happen).")
    var timeline: String?

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hub-inbox-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try writeConfiguration(scratch)
        let server = try HubUnderTest(
            binary: hub, scratch: scratch, durability: durability,
            environment: [
                "BENCH_SIGNING_SECRET": "bench-secret", "BENCH_INBOUND_TOKEN": "bench-token", "HUB_ADMIN_TOKEN": "bench-admin",
                // The benchmark measures connections, not password hashing.
                "HUB_BCRYPT_COST": "4",
            ], logLevel: "info")
        defer { server.stop(signal: SIGKILL) }
        let base = try await server.waitUntilListening()
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        let logger = quiet
        let agents = self.agents
        let rate = self.rate
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)))
        let client = Client(http: http, base: base)

        // Passwords and logins.
        let stage = ContinuousClock.now
        let tokens = Mutex([String](repeating: "", count: agents))
        try await forEach(0..<agents, width: 32) { index in
            let password = "bench-password-\(index)"
            try await client.expect(204, "POST", "/v1/agents/a\(index)/password", #"{"password":"\#(password)"}"#, token: "bench-admin")
            let answer = try await client.expect(200, "POST", "/v1/auth/login", #"{"login":"a\#(index)","password":"\#(password)"}"#)
            let token = try JSONDecoder().decode(LoginAnswer.self, from: Data(answer.readableBytesView)).token
            tokens.withLock { $0[index] = token }
        }
        log("\(agents) agents logged in in \(stage.duration(to: .now))")

        // Connections.
        let observer = Observer()
        let residentBefore = server.statusKilobytes("VmRSS") ?? 0
        let port = base.split(separator: ":").last.map(String.init) ?? "8080"
        let allTokens = tokens.withLock { $0 }
        let connections = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, token) in allTokens.enumerated() {
                    // Waves of 500 handshakes, so that the hub's accept queue is not flooded.
                    if index % 500 == 0, index > 0 {
                        while observer.welcomed < index - 100 { try? await Task.sleep(for: .milliseconds(20)) }
                    }
                    group.addTask {
                        _ = try? await WebSocketClient.connect(
                            url: "ws://127.0.0.1:\(port)/v1/agent/ws?access_token=\(token)",
                            configuration: .init(maxFrameSize: 1 << 20, autoPing: .disabled), logger: logger
                        ) { inbound, outbound, _ in
                            try await outbound.write(.text(#"{"type":"hello","id":"h"}"#))
                            try await outbound.write(.text(#"{"type":"presence.set","id":"p","presence":"available"}"#))
                            for try await message in inbound.messages(maxSize: 1 << 22) {
                                if case .text(let text) = message { observer.observe(text) }
                            }
                        }
                        observer.disconnected()
                    }
                }
            }
        }
        defer { connections.cancel() }
        try await until("every agent connected", seconds: 300) { observer.welcomed >= agents && observer.available >= agents }
        // Let the connections settle before reading memory.
        try await Task.sleep(for: .seconds(2))
        let residentAfter = server.statusKilobytes("VmRSS") ?? 0
        log("\(agents) connections; hub resident \(residentBefore / 1024) MB before, \(residentAfter / 1024) MB after")

        // One conversation per agent.
        try await forEach(0..<agents, width: 32) { index in
            try await client.postMessage(id: "setup-\(index)", from: "u\(index)", text: "hello")
        }
        try await until("every conversation assigned", seconds: 300) { observer.assigned >= agents }
        log("\(agents) conversations assigned")

        // The measurement: open loop at `rate`.
        let total = rate * seconds
        let epoch = ContinuousClock.now
        observer.startMeasurement(at: epoch)
        let cpuBefore = server.cpuSeconds() ?? 0
        let port16 = UInt16(port) ?? 8080
        let acknowledged = try await sendPaced(total: total, rate: rate, agents: agents, epoch: epoch, port: port16)
        try? await until("every message on a screen", seconds: 30) { observer.delivered >= total }
        let wall = epoch.duration(to: .now)
        let cpu = (server.cpuSeconds() ?? 0) - cpuBefore
        let latencies = observer.latencies.sorted()
        if let timeline {
            let rows = observer.timeline.sorted { $0.due < $1.due }.map { String(format: "%.3f,%.3f", $0.due, $0.latency) }
            try (["due_ms,screen_ms"] + rows).joined(separator: "\n").appending("\n").write(toFile: timeline, atomically: true, encoding: .utf8)
        }
        let result = Measurement(
            agents: agents, connected: observer.welcomed, residentBeforeMB: Double(residentBefore) / 1024,
            residentAfterMB: Double(residentAfter) / 1024,
            kilobytesPerConnection: Double(residentAfter - residentBefore) / Double(agents), rate: rate, sent: total,
            failedPosts: total - acknowledged.count, delivered: latencies.count, achievedRate: Double(latencies.count) / wall.seconds,
            p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: percentile(latencies, 0.99),
            p999: percentile(latencies, 0.999), max: latencies.last ?? 0,
            acknowledgedP50: percentile(acknowledged, 0.5), acknowledgedP99: percentile(acknowledged, 0.99), hubCPU: cpu / wall.seconds,
            hubPeakMB: Double(server.peakResidentKilobytes() ?? 0) / 1024, durability: durability)
        connections.cancel()
        try? await http.shutdown()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(result.table)
        }
    }

    // MARK: Helpers

    /// Sends `total` customer messages at `rate` per second from keep-alive connections on their
    /// own threads (light enough that the load generator leaves the cores to the hub); returns
    /// each message's time from when it was due to its 201, sorted, in milliseconds.
    func sendPaced(total: Int, rate: Int, agents: Int, epoch: ContinuousClock.Instant, port: UInt16) async throws -> [Double] {
        let due: @Sendable (Int) -> ContinuousClock.Instant = { number in epoch + .nanoseconds(Int64(number) * 1_000_000_000 / Int64(rate)) }
        return try await KeepAliveSender.load(connections: 64, port: port, range: 0..<total, due: due) { number in
            let dueMicros = Int64(number) * 1_000_000 / Int64(rate)
            return KeepAliveSender.webhook(#"{"messageId":"m\#(number)","from":{"id":"u\#(number % agents)"},"text":"bench \#(number) \#(dueMicros)"}"#)
        }.sorted()
    }

    func log(_ text: String) {
        FileHandle.standardError.write(Data("[\(Date())] \(text)\n".utf8))
    }

    func until(_ what: String, seconds: Int, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw HubUnderTest.Failure("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `body` for each number with at most `width` at once.
    func forEach(_ range: Range<Int>, width: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let next = TicketDispenser(first: range.lowerBound)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<width {
                group.addTask {
                    while true {
                        let index = next.take()
                        guard index < range.upperBound else { return }
                        try await body(index)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    func writeConfiguration(_ scratch: URL) throws {
        let channels = scratch.appendingPathComponent("channels")
        let rules = scratch.appendingPathComponent("routing-rules")
        try FileManager.default.createDirectory(at: channels, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        try """
        kind: api
        id: bench
        queue: bench
        secrets:
          signingSecret: BENCH_SIGNING_SECRET
          inboundToken: BENCH_INBOUND_TOKEN
        """.write(to: channels.appendingPathComponent("bench.yaml"), atomically: true, encoding: .utf8)
        var text = "queues:\n  - id: bench\nagents:\n"
        for index in 0..<agents {
            text += "  - { id: a\(index), name: Agent \(index), queues: [bench], autoAccept: [messaging] }\n"
        }
        try text.write(to: rules.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
    }

    struct LoginAnswer: Decodable {
        var token: String
    }

    /// What one run measured.
    struct Measurement: Encodable {
        var agents: Int
        var connected: Int
        var residentBeforeMB: Double
        var residentAfterMB: Double
        var kilobytesPerConnection: Double
        var rate: Int
        var sent: Int
        var failedPosts: Int
        var delivered: Int
        var achievedRate: Double
        var p50: Double
        var p90: Double
        var p99: Double
        var p999: Double
        var max: Double
        /// From when a message was due to the webhook's 201 (stored on disk).
        var acknowledgedP50: Double
        var acknowledgedP99: Double
        /// Cores the hub used during the measurement.
        var hubCPU: Double
        var hubPeakMB: Double
        var durability: String

        var table: String {
            func ms(_ value: Double) -> String { String(format: "%.1f ms", value) }
            return """
                | connections | hub RSS before → after | per connection | messages/s (target) | sent | on screens | p50 | p90 | p99 | p99.9 | max | stored p50 / p99 | hub CPU | hub peak RSS |
                |---|---|---|---|---|---|---|---|---|---|---|---|---|---|
                | \(connected) | \(Int(residentBeforeMB)) → \(Int(residentAfterMB)) MB | \(String(format: "%.1f kB", kilobytesPerConnection)) | \(Int(achievedRate.rounded())) (\(rate)) | \(sent) | \(delivered) | \(ms(p50)) | \(ms(p90)) | \(ms(p99)) | \(ms(p999)) | \(ms(max)) | \(ms(acknowledgedP50)) / \(ms(acknowledgedP99)) | \(String(format: "%.2f cores", hubCPU)) | \(Int(hubPeakMB)) MB |
                """
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// HTTP to the hub.
struct Client: Sendable {
    let http: HTTPClient
    let base: String

    @discardableResult
    func expect(_ status: Int, _ method: String, _ path: String, _ body: String?, token: String? = nil) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: base + path)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let answer = try await response.body.collect(upTo: 1 << 20)
        guard Int(response.status.code) == status else {
            throw HubUnderTest.Failure("\(method) \(path): \(response.status.code) \(String(buffer: answer))")
        }
        return answer
    }

    func postMessage(id: String, from user: String, text: String) async throws {
        var request = HTTPClientRequest(url: base + "/webhooks/bench")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer bench-token")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"messageId":"\#(id)","from":{"id":"\#(user)"},"text":"\#(text)"}"#))
        let response = try await http.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 1 << 16)
        guard response.status == .created || response.status == .ok else { throw HubUnderTest.Failure("webhook: \(response.status.code)") }
    }
}

/// What the agents' sockets saw.
final class Observer: Sendable {
    private struct State {
        var welcomed = 0
        var available = 0
        var assigned = 0
        /// Milliseconds from when each measured message was due to when it reached a screen.
        var latencies: [Double] = []
        /// When each was due (milliseconds into the measurement) and its latency.
        var timeline: [(due: Double, latency: Double)] = []
        var disconnected = 0
        var measurement: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    var welcomed: Int { state.withLock { $0.welcomed } }
    var available: Int { state.withLock { $0.available } }
    var assigned: Int { state.withLock { $0.assigned } }
    var delivered: Int { state.withLock { $0.latencies.count } }

    func disconnected() { state.withLock { $0.disconnected += 1 } }

    /// Where the measured messages' due times count from.
    func startMeasurement(at instant: ContinuousClock.Instant) { state.withLock { $0.measurement = instant } }

    /// Counts a frame: a welcome, the ack of presence, an assignment, or a measured message (its
    /// text carries when it was due, in microseconds since the measurement began).
    func observe(_ text: String) {
        if text.contains(#""type":"welcome""#) {
            state.withLock { $0.welcomed += 1 }
        } else if text.contains(#""id":"p""#) {
            state.withLock { $0.available += 1 }
        } else if text.contains(#""kind":"routing.assigned""#) {
            state.withLock { $0.assigned += 1 }
        } else if text.contains(#""kind":"message.received""#), let range = text.range(of: #""text":"bench "#) {
            let now = ContinuousClock.now
            let numbers = text[range.upperBound...].prefix { $0 != "\"" }.split(separator: " ")
            guard numbers.count == 2, let due = Double(numbers[1]) else { return }
            state.withLock { state in
                guard let start = state.measurement else { return }
                let latency = (start.duration(to: now).seconds * 1_000_000 - due) / 1000
                state.latencies.append(latency)
                state.timeline.append((due / 1000, latency))
            }
        }
    }

    var latencies: [Double] { state.withLock { $0.latencies } }
    var timeline: [(due: Double, latency: Double)] { state.withLock { $0.timeline } }
}
