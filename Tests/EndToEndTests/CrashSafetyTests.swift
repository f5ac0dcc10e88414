import Foundation
import GRDB
import HubModel
import HubTestSupport
import NIOHTTP1
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("End to end: crash safety", .serialized)
struct CrashSafetyTests {
    /// Provider message ids of the stored inbound messages, with how often each is stored.
    static func storedMessageCounts(_ databasePath: String) throws -> [String: Int] {
        // Opening read-write recovers the write-ahead log the killed process left, as a restart would.
        let queue = try DatabaseQueue(path: databasePath)
        return try queue.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT providerMessageID, COUNT(*) AS n FROM message WHERE direction = 'inbound' GROUP BY providerMessageID") {
                counts[row["providerMessageID"]] = row["n"]
            }
            return counts
        }
    }

    @Test("SIGKILL in the middle of 1,000 inbound messages loses no acknowledged message and duplicates none")
    func killDuringBurst() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-burst")
        defer { scratch.remove() }
        try E2E.configuration(in: scratch)
        let environment = E2E.environment(scratch)
        let databasePath = scratch.url.appendingPathComponent("data/hub.sqlite").path
        let total = 1000

        let hub = try HubProcess(arguments: [], environment: environment, logDirectory: scratch)
        defer { hub.kill() }
        let base = try await hub.waitUntilListening()

        // Sixteen senders, like a provider's webhook workers; the hub is killed once 300 are acknowledged.
        let acknowledged = Locked<Set<String>>([])
        let next = Locked(0)
        let killed = Locked(false)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while true {
                        let index = next.withLock { value -> Int in
                            defer { value += 1 }
                            return value
                        }
                        guard index < total, !killed.value else { return }
                        let id = "burst-\(index)"
                        guard let reply = try? await E2E.postMessage(base, id: id, from: "user-\(index % 50)", text: "message \(index)"),
                            reply.status == 201 || reply.status == 200
                        else { continue }
                        let count = acknowledged.withLock { set in
                            set.insert(id)
                            return set.count
                        }
                        if count == 300 {
                            hub.signal(SIGKILL)
                            killed.withLock { $0 = true }
                        }
                    }
                }
            }
        }
        let status = try await hub.waitForExit()
        #expect(status == SIGKILL)
        let acked = acknowledged.withLock { $0 }
        #expect(acked.count >= 300)
        #expect(acked.count < total, "the burst finished before the kill; nothing was tested")

        // Straight after the crash: every acknowledged message is on disk, each once.
        let afterCrash = try Self.storedMessageCounts(databasePath)
        let lost = acked.filter { afterCrash[$0] == nil }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.sorted().prefix(10))")
        #expect(afterCrash.values.allSatisfy { $0 == 1 })

        // The provider retries everything it has no acknowledgement for (and, to be sure, the rest too).
        let restarted = try HubProcess(arguments: [], environment: environment, logDirectory: scratch)
        defer { restarted.kill() }
        let newBase = try await restarted.waitUntilListening()
        var duplicates = 0
        for index in 0..<total {
            let reply = try await E2E.postMessage(newBase, id: "burst-\(index)", from: "user-\(index % 50)", text: "message \(index)")
            #expect(reply.status == 200 || reply.status == 201)
            if reply.json?["duplicate"] == .bool(true) { duplicates += 1 }
            if acked.contains("burst-\(index)") { #expect(reply.json?["duplicate"] == .bool(true)) }
        }
        #expect(duplicates == afterCrash.count)
        restarted.signal(SIGTERM)
        #expect(try await restarted.waitForExit() == 0)

        let final = try Self.storedMessageCounts(databasePath)
        #expect(final.count == total)
        #expect(final.values.allSatisfy { $0 == 1 })
    }

    @Test("outbound through a provider that fails twice per message, with a SIGKILL midway: each reply accepted once, nothing already acknowledged resent")
    func outboundAcrossCrash() async throws {
        // Each reply's first two attempts fail with 503; the third is accepted.
        let attemptsByKey = Locked<[String: Int]>([:])
        let provider = FakeProvider { request, _ in
            let key = request.headers["idempotency-key"] ?? "?"
            let attempt = attemptsByKey.withLock { counts -> Int in
                counts[key, default: 0] += 1
                return counts[key]!
            }
            return attempt <= 2 ? .init(status: 503, body: "try later") : .ok(#"{"id":"EXT-\#(key)"}"#)
        }
        try await provider.serve { providerURL in
            let scratch = try TemporaryDirectory("hub-e2e-outbound")
            defer { scratch.remove() }
            try E2E.configuration(in: scratch, outboundURL: providerURL + "/replies")
            let environment = E2E.environment(scratch)
            let databasePath = scratch.url.appendingPathComponent("data/hub.sqlite").path

            let hub = try HubProcess(arguments: [], environment: environment, logDirectory: scratch)
            defer { hub.kill() }
            let base = try await hub.waitUntilListening()
            var deliveries: [String] = []
            for index in 0..<30 {
                let inbound = try await E2E.postMessage(base, id: "in-\(index)", from: "user-\(index)", text: "question \(index)")
                let conversation = try #require(inbound.json?["conversationId"]?.stringValue)
                let reply = try await E2E.admin(
                    .POST, base, "/v1/conversations/\(conversation)/messages", json: #"{"text":"answer \#(index)"}"#,
                    headers: [("Idempotency-Key", "reply-\(index)")])
                #expect(reply.status == 202)
                deliveries.append(try #require(reply.json?["delivery"]?["id"]?.stringValue))
            }
            // Kill the hub once some replies have been accepted, others not yet.
            let deadline = ContinuousClock.now + .seconds(30)
            while attemptsByKey.withLock({ $0.values.filter { $0 >= 3 }.count }) < 8, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            hub.signal(SIGKILL)
            _ = try await hub.waitForExit()
            let requestsBeforeRestart = provider.requests.count

            // What the hub had recorded as sent when it died must never be sent again.
            let recordedSent = try await DatabaseQueue(path: databasePath).read { db in
                try String.fetchAll(db, sql: "SELECT idempotencyKey FROM outbox WHERE state = 'sent'")
            }
            #expect(!recordedSent.isEmpty)

            let restarted = try HubProcess(arguments: [], environment: environment, logDirectory: scratch)
            defer { restarted.kill() }
            let newBase = try await restarted.waitUntilListening()
            let finished = try await eventually(timeout: .seconds(60), interval: .milliseconds(100)) {
                var states: [String] = []
                for id in deliveries { states.append(try await E2E.admin(.GET, newBase, "/v1/deliveries/\(id)").json?["state"]?.stringValue ?? "?") }
                return states.allSatisfy { $0 == "sent" }
            }
            #expect(finished, "\(restarted.log)")
            restarted.signal(SIGTERM)
            #expect(try await restarted.waitForExit() == 0)

            let afterRestart = provider.requests.dropFirst(requestsBeforeRestart).compactMap { $0.headers["idempotency-key"] }
            #expect(Set(afterRestart).isDisjoint(with: recordedSent), "resent after being recorded as sent")
            // Every reply was accepted; only one that was in flight at the kill may have been
            // accepted twice, and then under its one idempotency key for the provider to drop.
            let counts = attemptsByKey.withLock { $0 }
            #expect(counts.count == 30)
            #expect(counts.values.allSatisfy { $0 >= 3 })
            let acceptedTwice = counts.filter { $0.value > 3 }.map(\.key)
            #expect(acceptedTwice.count <= 8)
            #expect(Set(acceptedTwice).isDisjoint(with: recordedSent))
        }
    }

}

