import ArgumentParser
import BenchmarkSupport
import Foundation
import GRDB
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Durable ingest throughput: messages per second through the `api` channel's webhook into
/// SQLite, and the latency from sending a message to its acknowledgement (which comes only after
/// the commit). The hub runs as its own process, as in production; this program is the load.
@main
struct IngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub-bench", abstract: "Measure durable ingest throughput and latency of a hub process.")

    @Option(help: "The hub executable (build it with `swift build -c release`).")
    var hub: String = ".build/release/hub"

    @Option(help: "Messages measured.")
    var messages: Int = 50_000

    @Option(help: "Messages sent first and not measured.")
    var warmup: Int = 2_000

    @Option(help: "Concurrent senders, each on its own keep-alive connection.")
    var concurrency: Int = 32

    @Option(help: "Distinct customers the messages come from.")
    var customers: Int = 2_000

    @Option(help: "full or normal (the hub's --durability).")
    var durability: String = "full"

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Option(help: "The webhook format: api (JSON with a bearer token), sms (Twilio form, X-Twilio-Signature) or wechat (safe mode: AES-encrypted and signed).")
    var channel: BenchChannel = .api

    @Flag(help: "Skip HTTP: call the engine's ingest in this process (measures the store and group commit alone).")
    var inProcess = false

    @Option(help: "Skip the engine too: one task writes batches of this many messages straight to the store.")
    var storeBatches: Int?

    func run() async throws {
        if let size = storeBatches { return try await runStoreBatches(size: size) }
        if inProcess { return try await runInProcess() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hub-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try writeConfiguration(scratch)
        let server = try HubUnderTest(
            binary: hub, scratch: scratch, durability: durability,
            environment: [
                "BENCH_SIGNING_SECRET": "bench-secret", "BENCH_INBOUND_TOKEN": "bench-token", "BENCH_TWILIO_TOKEN": SignedWebhooks.twilioToken,
                "BENCH_WECHAT_TOKEN": SignedWebhooks.wechatToken, "BENCH_WECHAT_SECRET": "bench-app-secret", "BENCH_WECHAT_AES": SignedWebhooks.wechatKey,
            ])
        defer { server.stop(signal: SIGKILL) }
        let base = try await server.waitUntilListening()

        guard let colon = base.lastIndex(of: ":"), let port = UInt16(base[base.index(after: colon)...]) else {
            throw ValidationError("cannot read the hub's port from \(base)")
        }
        // Signed and encrypted requests are made before the clock starts: on a small machine the
        // client's HMAC and AES would otherwise compete with the hub being measured.
        let prepared = try SignedWebhooks(channel: channel, customers: customers).requests(count: warmup + messages)
        _ = try await send(range: 0..<warmup, port: port, prepared: prepared)
        let start = ContinuousClock.now
        let latencies = try await send(range: warmup..<(warmup + messages), port: port, prepared: prepared)
        let elapsed = ContinuousClock.now - start
        let peakMemory = server.peakResidentKilobytes()
        server.stop(signal: SIGTERM)
        try await server.waitForExit()

        let stored = try await DatabaseQueue(path: scratch.appendingPathComponent("data/hub.sqlite").path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE direction = 'inbound'") ?? 0
        }
        guard stored == warmup + messages else {
            throw ValidationError("the hub stored \(stored) messages, expected \(warmup + messages)")
        }
        try report(latencies: latencies, elapsed: elapsed, stored: stored, peakMemory: peakMemory, label: "http \(channel.rawValue)")
    }

    /// The same load without HTTP: `concurrency` tasks call the engine's ingest directly.
    func runInProcess() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hub-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        guard let level = SQLiteStore.Durability(rawValue: durability) else { throw ValidationError("durability is full or normal") }
        let store = try SQLiteStore(configuration: .init(path: scratch.appendingPathComponent("hub.sqlite").path, durability: level))
        try await store.migrate()
        let account = ChannelAccountConfig(
            id: "bench", kind: .api, name: "bench", queueID: "support", options: APIChannelOptions(),
            location: ConfigLocation(file: "bench", line: 0, column: 0))
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let engine = Engine(store: store, channels: ChannelDirectory(accounts: [account], adapters: []), logger: logger)
        let customers = self.customers
        func load(_ range: Range<Int>) async throws -> [Double] {
            let next = TicketDispenser(first: range.lowerBound)
            return try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var latencies: [Double] = []
                        while true {
                            let index = next.take()
                            guard index < range.upperBound else { return latencies }
                            let event = InboundEvent(
                                channelKind: .api, channelAccountID: "bench", sender: InboundSender(address: "customer-\(index % customers)"),
                                providerMessageID: "bench-\(index)", text: "您好，我想查询订单 \(index) 的物流状态。Where is my order?")
                            let sent = ContinuousClock.now
                            _ = try await engine.ingest.ingest(event)
                            let latency = ContinuousClock.now - sent
                            latencies.append(Double(latency.components.attoseconds) / 1e15 + Double(latency.components.seconds) * 1000)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        // As in the server: checkpoints beside the writer.
        let checkpoints = Task { await store.runCheckpoints(every: .milliseconds(500)) }
        defer { checkpoints.cancel() }
        _ = try await load(0..<warmup)
        let start = ContinuousClock.now
        let latencies = try await load(warmup..<(warmup + messages))
        let elapsed = ContinuousClock.now - start
        let stored = try await DatabaseQueue(path: scratch.appendingPathComponent("hub.sqlite").path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE direction = 'inbound'") ?? 0
        }
        guard stored == warmup + messages else { throw ValidationError("stored \(stored) messages, expected \(warmup + messages)") }
        try report(latencies: latencies, elapsed: elapsed, stored: stored, peakMemory: nil, label: "in-process")
    }

    /// The store alone: batches of `size` from one task, no concurrency machinery. The ceiling the
    /// group commit can approach.
    func runStoreBatches(size: Int) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hub-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        guard let level = SQLiteStore.Durability(rawValue: durability) else { throw ValidationError("durability is full or normal") }
        let store = try SQLiteStore(configuration: .init(path: scratch.appendingPathComponent("hub.sqlite").path, durability: level))
        try await store.migrate()
        func command(_ index: Int) -> IngestCommand {
            let event = InboundEvent(
                channelKind: .api, channelAccountID: "bench", sender: InboundSender(address: "customer-\(index % customers)"),
                providerMessageID: "bench-\(index)", text: "您好，我想查询订单 \(index) 的物流状态。Where is my order?")
            return IngestCommand(
                event: event, sender: HandleAddress(kind: .api, scope: "bench", address: "customer-\(index % customers)"),
                receivedAt: Date().truncatedToMilliseconds, queueID: "support")
        }
        let checkpoints = Task { await store.runCheckpoints(every: .milliseconds(500)) }
        defer { checkpoints.cancel() }
        var latencies: [Double] = []
        var index = 0
        var start = ContinuousClock.now
        while index < warmup + messages {
            if index == warmup { start = ContinuousClock.now }
            let batch = (index..<min(index + size, warmup + messages)).map(command)
            let sent = ContinuousClock.now
            _ = try await store.ingest(batch)
            let elapsed = ContinuousClock.now - sent
            if index >= warmup { latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15) }
            index += batch.count
        }
        try report(latencies: latencies, elapsed: ContinuousClock.now - start, stored: index, peakMemory: nil, label: "store, batches of \(size)")
    }

    func report(latencies: [Double], elapsed: Duration, stored: Int, peakMemory: Int?, label: String) throws {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { BenchmarkSupport.percentile(sorted, p) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let result = BenchmarkResult(
            mode: label, messages: messages, concurrency: concurrency, customers: customers, durability: durability,
            messagesPerSecond: Double(messages) / seconds, p50: percentile(0.50), p90: percentile(0.90), p99: percentile(0.99),
            p999: percentile(0.999), max: sorted.last ?? 0, peakResidentMegabytes: peakMemory.map { Double($0) / 1024 }, storedVerified: stored)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(result.table)
        }
    }

    /// Sends the messages numbered `range` from `concurrency` keep-alive connections, each on its
    /// own thread; returns every latency in milliseconds.
    func send(range: Range<Int>, port: UInt16, prepared: [[UInt8]]) async throws -> [Double] {
        try await KeepAliveSender.load(connections: concurrency, port: port, range: range, accepted: channel.acceptedStatus) { index in
            prepared[index]
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
        queue: support
        secrets:
          signingSecret: BENCH_SIGNING_SECRET
          inboundToken: BENCH_INBOUND_TOKEN
        """.write(to: channels.appendingPathComponent("bench.yaml"), atomically: true, encoding: .utf8)
        try SignedWebhooks.smsConfiguration.write(to: channels.appendingPathComponent("bench-sms.yaml"), atomically: true, encoding: .utf8)
        try SignedWebhooks.wechatConfiguration.write(to: channels.appendingPathComponent("bench-wechat.yaml"), atomically: true, encoding: .utf8)
        try "queues:\n  - id: support\n".write(to: rules.appendingPathComponent("queues.yaml"), atomically: true, encoding: .utf8)
    }
}

/// What one run measured.
struct BenchmarkResult: Encodable {
    var mode: String
    var messages: Int
    var concurrency: Int
    var customers: Int
    var durability: String
    var messagesPerSecond: Double
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    var peakResidentMegabytes: Double?
    var storedVerified: Int

    var table: String {
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        return """
            | mode | durability | senders | messages | stored/s | p50 | p90 | p99 | p99.9 | max | hub peak RSS |
            |---|---|---|---|---|---|---|---|---|---|---|
            | \(mode) | \(durability) | \(concurrency) | \(messages) | \(Int(messagesPerSecond.rounded())) | \(ms(p50)) | \(ms(p90)) | \(ms(p99)) | \(ms(p999)) | \(ms(max)) | \(peakResidentMegabytes.map { String(format: "%.0f MB", $0) } ?? "?") |
            """
    }
}
