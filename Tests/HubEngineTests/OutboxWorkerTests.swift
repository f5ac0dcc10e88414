import Foundation
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Synchronization
import Testing

@Suite("Outbox worker")
struct OutboxWorkerTests {
    static func reply(_ fixture: EngineFixture, in conversation: Conversation.ID, text: String = "reply", key: String? = nil) async throws -> OutboundReceipt {
        try await fixture.engine.outbound.send(
            OutboundService.Request(conversationID: conversation, author: .agent("alice"), content: OutboundContent(text: text), idempotencyKey: key),
            actor: .agent("alice"))
    }

    @Test("a provider that fails twice, then accepts, receives the reply exactly once")
    func failTwiceThenSucceed() async throws {
        let provider = FakeProvider { _, index in index < 2 ? .init(status: 503, body: "busy") : .ok(#"{"id":"EXT-1"}"#) }
        try await provider.serve { base in
            let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: base + "/hook")])
            defer { fixture.directory.remove() }
            let conversation = try await fixture.conversation()
            let receipt = try await Self.reply(fixture, in: conversation.conversationID, text: "您的订单已发货")
            let deliveryID = try #require(receipt.delivery?.id)
            let store = fixture.engine.store
            try await fixture.withWorker {
                let done = try await eventually { try await store.delivery(deliveryID)?.state == .sent }
                #expect(done)
            }
            let delivery = try #require(try await store.delivery(deliveryID))
            #expect(delivery.attempts == 3)
            #expect(delivery.providerMessageID == "EXT-1")
            let message = try #require(try await store.message(receipt.message.id))
            #expect(message.deliveryStatus == .sent)
            #expect(message.providerMessageID == "EXT-1")
            // Three attempts reached the provider, all with one idempotency key, one accepted.
            #expect(provider.requests.count == 3)
            #expect(Set(provider.requests.compactMap { $0.headers["idempotency-key"] }) == [delivery.idempotencyKey])
            #expect(try provider.requests.map { try $0.json()["attempt"]?.intValue } == [1, 2, 3])
            let outcomes = try await store.events(after: 0, limit: 1000).filter { $0.kind == .deliveryAttempted }.compactMap { $0.payload["outcome"]?.stringValue }
            #expect(outcomes == ["retry", "retry", "sent"])
        }
    }

    @Test("a permanent refusal makes the delivery dead at once and the message failed")
    func permanentFailure() async throws {
        let provider = FakeProvider { _, _ in .init(status: 400, body: "unknown recipient") }
        try await provider.serve { base in
            let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: base)])
            defer { fixture.directory.remove() }
            let conversation = try await fixture.conversation()
            let receipt = try await Self.reply(fixture, in: conversation.conversationID)
            let store = fixture.engine.store
            try await fixture.withWorker {
                let done = try await eventually { try await store.delivery(receipt.delivery!.id)?.state == .dead }
                #expect(done)
            }
            #expect(provider.requests.count == 1)
            let message = try #require(try await store.message(receipt.message.id))
            #expect(message.deliveryStatus == .failed)
            #expect(message.deliveryError?.contains("unknown recipient") == true)
            #expect(try await store.events(after: 0, limit: 1000).contains { $0.kind == .deliveryDead })
        }
    }

    @Test("a provider that never recovers gets the configured number of attempts, then the delivery is dead")
    func attemptsExhausted() async throws {
        let provider = FakeProvider { _, _ in .init(status: 502) }
        try await provider.serve { base in
            let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: base)])
            defer { fixture.directory.remove() }
            let conversation = try await fixture.conversation()
            let receipt = try await Self.reply(fixture, in: conversation.conversationID)
            let store = fixture.engine.store
            try await fixture.withWorker {
                let done = try await eventually { try await store.delivery(receipt.delivery!.id)?.state == .dead }
                #expect(done)
            }
            #expect(provider.requests.count == 3)
            #expect(try await store.delivery(receipt.delivery!.id)?.lastError?.contains("gave up after 3 attempts") == true)
        }
    }

    @Test("replies in one conversation arrive in the order they were written, even across a retry")
    func ordering() async throws {
        // The second request fails once: the later replies must wait for its retry.
        let provider = FakeProvider { _, index in index == 1 ? .init(status: 500) : .ok() }
        try await provider.serve { base in
            let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: base)])
            defer { fixture.directory.remove() }
            let conversation = try await fixture.conversation()
            var ids: [Delivery.ID] = []
            for index in 0..<5 { ids.append(try #require(try await Self.reply(fixture, in: conversation.conversationID, text: "part \(index)").delivery?.id)) }
            let store = fixture.engine.store
            try await fixture.withWorker {
                let done = try await eventually { try await store.deliveryCounts() == [.sent: 5] }
                #expect(done)
            }
            let texts = try provider.requests.map { try $0.json()["text"]?.stringValue }
            #expect(texts == ["part 0", "part 1", "part 1", "part 2", "part 3", "part 4"])
        }
    }

    @Test("a delivery left in flight by a crash is sent on restart, with the same idempotency key")
    func crashRecovery() async throws {
        let provider = FakeProvider()
        try await provider.serve { base in
            let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: base)])
            defer { fixture.directory.remove() }
            let conversation = try await fixture.conversation()
            let receipt = try await Self.reply(fixture, in: conversation.conversationID, key: "agent-click-1")
            let store = fixture.engine.store
            // A previous process claimed it, and died before it could record anything.
            let now = Date()
            let claimed = try await store.claimDeliveries(now: now, limit: 10, owner: "crashed-process", leaseUntil: now.addingTimeInterval(3600))
            #expect(claimed.count == 1)
            try await fixture.withWorker {
                let done = try await eventually { try await store.delivery(receipt.delivery!.id)?.state == .sent }
                #expect(done)
            }
            #expect(provider.requests.map { $0.headers["idempotency-key"] } == ["agent-click-1"])
            #expect(try await store.delivery(receipt.delivery!.id)?.attempts == 2)
            #expect(try await store.events(after: 0, limit: 1000).contains { $0.kind == .deliveryRecovered })
        }
    }

    @Test("a reply sent twice with the same key is one message and one delivery")
    func idempotentSend() async throws {
        let provider = FakeProvider()
        try await provider.serve { base in
            let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: base)])
            defer { fixture.directory.remove() }
            let conversation = try await fixture.conversation()
            let first = try await Self.reply(fixture, in: conversation.conversationID, key: "click-7")
            let second = try await Self.reply(fixture, in: conversation.conversationID, key: "click-7")
            #expect(second.duplicate)
            #expect(second.message.id == first.message.id)
            let store = fixture.engine.store
            try await fixture.withWorker {
                let done = try await eventually { try await store.deliveryCounts() == [.sent: 1] }
                #expect(done)
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(provider.requests.count == 1)
        }
    }

    @Test("the outbound service refuses what cannot be sent")
    func refusals() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: "http://127.0.0.1:9")])
        defer { fixture.directory.remove() }
        let conversation = try await fixture.conversation()
        let outbound = fixture.engine.outbound
        func code(_ request: OutboundService.Request) async -> StoreError.Code? {
            do {
                _ = try await outbound.send(request, actor: .admin)
                return nil
            } catch let error as StoreError {
                return error.code
            } catch {
                return nil
            }
        }
        #expect(await code(.init(conversationID: conversation.conversationID, author: .system, content: OutboundContent(text: ""))) == .invalid)
        #expect(await code(.init(conversationID: "cnv_missing", author: .system, content: OutboundContent(text: "x"))) == .notFound)
        #expect(await code(.init(conversationID: conversation.conversationID, author: .system, content: OutboundContent(text: "x"), handleID: "hdl_x")) == .notFound)
        #expect(await code(.init(conversationID: conversation.conversationID, author: .system, content: OutboundContent(text: "x"), channelAccountID: "nope")) == .invalid)
        // A private note needs no channel at all.
        let note = try await outbound.send(
            .init(conversationID: conversation.conversationID, author: .agent("bo"), visibility: .note, content: OutboundContent(text: "VIP, be nice")), actor: .agent("bo"))
        #expect(note.delivery == nil)
    }

    @Test(
        "backoff doubles from the initial wait up to the cap, half of it jittered, never below Retry-After",
        arguments: [
            (1, 0.0, 1_000), (1, 1.0, 2_000), (2, 0.0, 2_000), (3, 0.5, 6_000), (10, 0.0, 30_000), (10, 1.0, 60_000),
        ])
    func backoff(attempt: Int, jitter: Double, milliseconds: Int64) {
        let policy = DeliveryPolicy(initialBackoff: .seconds(2), maxBackoff: .seconds(60))
        #expect(Backoff.delay(attempt: attempt, policy: policy, jitter: jitter) == .milliseconds(milliseconds))
    }

    @Test("Retry-After wins over a shorter backoff")
    func retryAfter() {
        let policy = DeliveryPolicy(initialBackoff: .seconds(2), maxBackoff: .seconds(60))
        #expect(Backoff.delay(attempt: 1, policy: policy, jitter: 0, retryAfter: .seconds(30)) == .seconds(30))
        #expect(Backoff.delay(attempt: 6, policy: policy, jitter: 1, retryAfter: .seconds(30)) == .seconds(60))
        // A garbled or hostile Retry-After is honoured for an hour at most.
        #expect(Backoff.delay(attempt: 1, policy: policy, jitter: 0, retryAfter: .seconds(99_999_999_999_999)) == .seconds(3600))
    }

    @Test("a provider's absurd timestamp is dropped at ingest, and dates saturate instead of trapping")
    func absurdTimestamps() async throws {
        #expect(Date(timeIntervalSince1970: 1e17).millisecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: -1e17).millisecondsSince1970 == .min)
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        defer { fixture.directory.remove() }
        for (index, seconds) in [1e17, 4_102_444_800.0 * 10, -5.0].enumerated() {
            let receipt = try await fixture.engine.ingest.ingest(
                InboundEvent(
                    channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "user-1"), providerMessageID: "late-\(index)",
                    occurredAt: Date(timeIntervalSince1970: seconds), text: "from the far future"))
            #expect(try await fixture.engine.store.message(receipt.messageID)?.sentAt == nil)
        }
        let plausible = Date(timeIntervalSince1970: 1_790_000_000)
        let receipt = try await fixture.engine.ingest.ingest(
            InboundEvent(
                channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "user-1"), providerMessageID: "ok",
                occurredAt: plausible, text: "normal"))
        #expect(try await fixture.engine.store.message(receipt.messageID)?.sentAt == plausible)
    }
}
