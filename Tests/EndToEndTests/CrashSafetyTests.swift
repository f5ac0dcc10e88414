import Foundation
import GRDB
import HubModel
import HubTestSupport
import MailCore
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

    @Test("SIGKILL while mail arrives over SMTP: every mail that got its 250 is a message after the restart, once; a retry of any is stored once")
    func killDuringMail() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-mail")
        defer { scratch.remove() }
        try E2E.configuration(in: scratch)
        try scratch.write(
            "channels/email-e2e.yaml",
            """
            kind: email
            id: email-e2e
            queue: support
            options:
              address: support@e2e.test
              relay: { host: 127.0.0.1, port: 9, security: none }
            """)
        var environment = E2E.environment(scratch)
        // Threading waits while mail keeps arriving (up to a minute here): most acknowledged mail
        // is still in the spool when the hub is killed, and the restart must thread it.
        environment["HUB_SMTP_PROCESSING_DELAY_MS"] = "60000"
        let databasePath = scratch.url.appendingPathComponent("data/hub.sqlite").path
        let total = 400

        let hub = try HubProcess(arguments: [], environment: environment, logDirectory: scratch)
        defer { hub.kill() }
        _ = try await hub.waitUntilListening()
        let address = try await hub.waitForAddress("smtp listening")
        let port = try #require(address.split(separator: ":").last.flatMap { Int($0) }, "no port in \(address)")
        let relay = SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "mx.e2e.test")
        func mail(_ index: Int) -> [UInt8] {
            Array("From: customer\(index % 20)@example.test\r\nTo: support@e2e.test\r\nSubject: mail \(index)\r\nMessage-ID: <mail-\(index)@example.test>\r\n\r\nmail number \(index)\r\n".utf8)
        }

        // Eight sending MTAs, sessions kept; the hub is killed once 150 mails have their 250.
        let acknowledged = Locked<Set<String>>([])
        let next = Locked(0)
        let killed = Locked(false)
        let client = SMTPClient()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while true {
                        let index = next.withLock { value -> Int in
                            defer { value += 1 }
                            return value
                        }
                        guard index < total, !killed.value else { return }
                        let sender = "customer\(index % 20)@example.test"
                        guard let result = try? await client.send(from: sender, to: ["support@e2e.test"], message: mail(index), via: relay),
                            result.finalReply.code == 250
                        else { continue }
                        let count = acknowledged.withLock { set in
                            set.insert("mail-\(index)@example.test")
                            return set.count
                        }
                        if count == 150 {
                            hub.signal(SIGKILL)
                            killed.withLock { $0 = true }
                        }
                    }
                }
            }
        }
        client.closeIdleSessions()
        #expect(try await hub.waitForExit() == SIGKILL)
        let acked = acknowledged.withLock { $0 }
        #expect(acked.count >= 150 && acked.count < total, "\(acked.count) acknowledged")

        // Straight after the crash: each acknowledged mail is a message or waits in the spool.
        let spooled = try await DatabaseQueue(path: databasePath).read { db in
            try Row.fetchAll(db, sql: "SELECT message FROM mail_spool").compactMap { row -> String? in
                let text = String(decoding: row["message"] as Data, as: UTF8.self)
                guard let start = text.range(of: "Message-ID: <"), let end = text[start.upperBound...].firstIndex(of: ">") else { return nil }
                return String(text[start.upperBound..<end])
            }
        }
        let afterCrash = try Self.storedMessageCounts(databasePath)
        let lost = acked.filter { afterCrash[$0] == nil && !spooled.contains($0) }
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.sorted().prefix(10))")
        #expect(!spooled.isEmpty, "nothing was left in the spool; the restart's threading was not tested")

        // The restart threads the spool; the senders then retry everything (their MTAs would retry
        // what had no 250, and a 250 lost on the way is retried too).
        let restarted = try HubProcess(arguments: [], environment: environment, logDirectory: scratch)
        defer { restarted.kill() }
        let base = try await restarted.waitUntilListening()
        let newAddress = try await restarted.waitForAddress("smtp listening")
        let newRelay = SMTPRelay(
            host: "127.0.0.1", port: try #require(newAddress.split(separator: ":").last.flatMap { Int($0) }), security: .none, heloName: "mx.e2e.test")
        for index in 0..<total {
            let result = try await client.send(from: "customer\(index % 20)@example.test", to: ["support@e2e.test"], message: mail(index), via: newRelay)
            #expect(result.finalReply.code == 250)
        }
        client.closeIdleSessions()
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let spool = try await E2E.admin(.GET, base, "/v1/mail/spool")
            if spool.json?["waiting"] == .int(0) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        restarted.signal(SIGTERM)
        #expect(try await restarted.waitForExit() == 0)

        let final = try Self.storedMessageCounts(databasePath)
        #expect(final.count == total, "\(final.count) of \(total) mails are messages")
        #expect(final.values.allSatisfy { $0 == 1 }, "a mail stored twice")
        let left = try await DatabaseQueue(path: databasePath).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM mail_spool") }
        #expect(left == 0)
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

