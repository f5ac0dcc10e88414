import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: outbox")
struct OutboxContractTests {
    static let recipient = HandleAddress(kind: .api, scope: "api-a", address: "user-1")

    /// A conversation to reply in.
    static func conversation(_ store: any HubStore, from: String = "user-1", providerID: String = "m1") async throws -> Conversation.ID {
        try await store.ingestOne(Fixture.inbound(from: from, providerID: providerID)).conversationID
    }

    @Test("an outbound message is a queued message, a pending delivery and one event; its key makes it idempotent", arguments: StoreBackend.allCases)
    func enqueue(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversationID = try await Self.conversation(store)
            let sequence = try await store.lastEventSequence()
            let receipt = try await store.enqueueOutbound(Fixture.outbound(conversation: conversationID, recipient: Self.recipient, key: "reply-1"))
            #expect(!receipt.duplicate)
            #expect(receipt.message.direction == .outbound)
            #expect(receipt.message.deliveryStatus == .queued)
            let delivery = try #require(receipt.delivery)
            #expect(delivery.state == .pending)
            #expect(delivery.attempts == 0)
            #expect(delivery.idempotencyKey == "reply-1")
            #expect(delivery.recipient == Self.recipient)
            #expect(try await store.delivery(delivery.id) == delivery)
            #expect(try await store.eventKinds(after: sequence) == ["message.queued"])
            let conversation = try #require(try await store.conversation(conversationID))
            #expect(conversation.firstResponseAt == Fixture.date(1))

            let again = try await store.enqueueOutbound(Fixture.outbound(conversation: conversationID, recipient: Self.recipient, key: "reply-1", text: "typed twice", at: 2))
            #expect(again.duplicate)
            #expect(again.message.id == receipt.message.id)
            #expect(again.delivery?.id == delivery.id)
            #expect(try await store.eventKinds(after: sequence) == ["message.queued"])
            #expect(try await store.deliveryCounts() == [.pending: 1])
        }
    }

    @Test("a private note is stored without a delivery", arguments: StoreBackend.allCases)
    func note(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversationID = try await Self.conversation(store)
            var command = Fixture.outbound(conversation: conversationID, recipient: Self.recipient, key: "note-1", text: "customer sounds upset")
            command.visibility = .note
            command.delivery = nil
            let receipt = try await store.enqueueOutbound(command)
            #expect(receipt.delivery == nil)
            #expect(receipt.message.visibility == .note)
            #expect(receipt.message.deliveryStatus == nil)
            #expect(try await store.deliveryCounts().isEmpty)
            #expect(try await store.eventKinds().last == "message.noted")
            #expect(try await store.conversation(conversationID)?.firstResponseAt == nil)
            #expect(try await store.enqueueOutbound(command).duplicate)
        }
    }

    @Test("claims take due deliveries once, each claim is an attempt, and a lapsed lease frees the row", arguments: StoreBackend.allCases)
    func claims(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await Self.conversation(store, from: "user-1", providerID: "m1")
            let second = try await Self.conversation(store, from: "user-2", providerID: "m2")
            let a = try #require(try await store.enqueueOutbound(Fixture.outbound(conversation: first, recipient: Self.recipient, key: "a")).delivery)
            let b = try #require(try await store.enqueueOutbound(Fixture.outbound(conversation: second, recipient: Self.recipient, key: "b")).delivery)
            // Not due before it was created.
            #expect(try await store.claimDeliveries(now: Fixture.date(0.5), limit: 10, owner: "w1", leaseUntil: Fixture.date(60)).isEmpty)
            #expect(try await store.nextDeliveryDue() == Fixture.date(1))

            let claimed = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w1", leaseUntil: Fixture.date(60))
            #expect(claimed.map(\.id) == [a.id, b.id])
            #expect(claimed.allSatisfy { $0.state == .sending && $0.attempts == 1 })
            #expect(try await store.claimDeliveries(now: Fixture.date(3), limit: 10, owner: "w2", leaseUntil: Fixture.date(60)).isEmpty)
            #expect(try await store.nextDeliveryDue() == Fixture.date(60))

            // w1 died; after the lease w2 takes both over, as second attempts.
            let taken = try await store.claimDeliveries(now: Fixture.date(61), limit: 10, owner: "w2", leaseUntil: Fixture.date(120))
            #expect(taken.map(\.attempts) == [2, 2])
            // w1's late failure report is stale and ignored; w2's report counts.
            let stale = try await store.recordDeliveryResult(a.id, owner: "w1", result: .retry(error: "timeout", retryAt: Fixture.date(70)), at: Fixture.date(62))
            #expect(stale.state == .sending)
            let done = try await store.recordDeliveryResult(a.id, owner: "w2", result: .sent(providerMessageID: "P-a"), at: Fixture.date(63))
            #expect(done.state == .sent)
            // An acceptance reported by a worker that lost its lease is still a fact.
            let late = try await store.recordDeliveryResult(b.id, owner: "w1", result: .sent(providerMessageID: "P-b"), at: Fixture.date(64))
            #expect(late.state == .sent)
            #expect(try await store.deliveryCounts() == [.sent: 2])
            #expect(try await store.nextDeliveryDue() == nil)
        }
    }

    @Test("deliveries in one conversation go out one at a time, in order", arguments: StoreBackend.allCases)
    func ordering(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversationID = try await Self.conversation(store)
            let one = try #require(try await store.enqueueOutbound(Fixture.outbound(conversation: conversationID, recipient: Self.recipient, key: "1", at: 1)).delivery)
            let two = try #require(try await store.enqueueOutbound(Fixture.outbound(conversation: conversationID, recipient: Self.recipient, key: "2", at: 1)).delivery)
            let unordered = try #require(
                try await store.enqueueOutbound(Fixture.outbound(conversation: conversationID, recipient: Self.recipient, key: "3", at: 1, ordered: false)).delivery)
            var claimed = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            #expect(claimed.map(\.id) == [one.id, unordered.id])
            // The first fails and waits for its retry: the second still waits behind it.
            _ = try await store.recordDeliveryResult(one.id, owner: "w", result: .retry(error: "503", retryAt: Fixture.date(10)), at: Fixture.date(3))
            #expect(try await store.claimDeliveries(now: Fixture.date(4), limit: 10, owner: "w", leaseUntil: Fixture.date(60)).isEmpty)
            #expect(try await store.nextDeliveryDue() == Fixture.date(10))
            claimed = try await store.claimDeliveries(now: Fixture.date(10), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            #expect(claimed.map(\.id) == [one.id])
            _ = try await store.recordDeliveryResult(one.id, owner: "w", result: .sent(providerMessageID: nil), at: Fixture.date(11))
            claimed = try await store.claimDeliveries(now: Fixture.date(12), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            #expect(claimed.map(\.id) == [two.id])
        }
    }

    @Test("results: sent, retry and dead update delivery, message and events together", arguments: StoreBackend.allCases)
    func results(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await Self.conversation(store, from: "user-1", providerID: "m1")
            let second = try await Self.conversation(store, from: "user-2", providerID: "m2")
            let ok = try await store.enqueueOutbound(Fixture.outbound(conversation: first, recipient: Self.recipient, key: "ok"))
            let bad = try await store.enqueueOutbound(Fixture.outbound(conversation: second, recipient: Self.recipient, key: "bad"))
            _ = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            let sequence = try await store.lastEventSequence()

            let sent = try await store.recordDeliveryResult(ok.delivery!.id, owner: "w", result: .sent(providerMessageID: "P-1"), at: Fixture.date(3))
            #expect(sent.state == .sent)
            #expect(sent.providerMessageID == "P-1")
            #expect(sent.sentAt == Fixture.date(3))
            let okMessage = try #require(try await store.message(ok.message.id))
            #expect(okMessage.deliveryStatus == .sent)
            #expect(okMessage.providerMessageID == "P-1")
            #expect(try await store.eventKinds(after: sequence) == ["delivery.attempted", "message.status"])

            let retry = try await store.recordDeliveryResult(bad.delivery!.id, owner: "w", result: .retry(error: "HTTP 503", retryAt: Fixture.date(9)), at: Fixture.date(4))
            #expect(retry.state == .failed)
            #expect(retry.lastError == "HTTP 503")
            #expect(retry.nextAttemptAt == Fixture.date(9))
            #expect(try await store.message(bad.message.id)?.deliveryStatus == .queued)
            let attempt = try #require(try await store.allEvents().last)
            #expect(attempt.kind == .deliveryAttempted)
            #expect(attempt.payload["outcome"]?.stringValue == "retry")
            #expect(attempt.payload["attempt"]?.intValue == 1)
            #expect(attempt.refs.deliveryID == bad.delivery!.id)

            _ = try await store.claimDeliveries(now: Fixture.date(9), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            let dead = try await store.recordDeliveryResult(bad.delivery!.id, owner: "w", result: .dead(error: "HTTP 400 bad recipient"), at: Fixture.date(10))
            #expect(dead.state == .dead)
            #expect(dead.attempts == 2)
            let badMessage = try #require(try await store.message(bad.message.id))
            #expect(badMessage.deliveryStatus == .failed)
            #expect(badMessage.deliveryError == "HTTP 400 bad recipient")
            #expect(try await store.eventKinds(after: sequence).suffix(3) == ["delivery.attempted", "delivery.dead", "message.status"])
            // Final rows never change again.
            let unchanged = try await store.recordDeliveryResult(bad.delivery!.id, owner: "w", result: .sent(providerMessageID: "x"), at: Fixture.date(11))
            #expect(unchanged.state == .dead)
        }
    }

    @Test("a provider id given to two messages stays with the first; the second is still recorded as sent", arguments: StoreBackend.allCases)
    func duplicateProviderID(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversation = try await Self.conversation(store)
            let first = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: Self.recipient, key: "a", ordered: false))
            let second = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: Self.recipient, key: "b", ordered: false))
            _ = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            _ = try await store.recordDeliveryResult(first.delivery!.id, owner: "w", result: .sent(providerMessageID: "SAME"), at: Fixture.date(3))
            let sent = try await store.recordDeliveryResult(second.delivery!.id, owner: "w", result: .sent(providerMessageID: "SAME"), at: Fixture.date(3))
            #expect(sent.state == .sent)
            #expect(try await store.message(first.message.id)?.providerMessageID == "SAME")
            #expect(try await store.message(second.message.id)?.providerMessageID == nil)
            #expect(try await store.message(second.message.id)?.deliveryStatus == .sent)
        }
    }

    @Test("a deferred claim is due again later with its attempts as before, and only its owner can defer it", arguments: StoreBackend.allCases)
    func deferral(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversation = try await Self.conversation(store)
            let receipt = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: Self.recipient, key: "k"))
            let id = try #require(receipt.delivery?.id)
            #expect(try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60)).map(\.id) == [id])
            try await store.deferDeliveries([id], owner: "someone else", until: Fixture.date(5), at: Fixture.date(2))
            #expect(try await store.delivery(id)?.state == .sending)
            try await store.deferDeliveries([id], owner: "w", until: Fixture.date(5), at: Fixture.date(2))
            let deferred = try #require(try await store.delivery(id))
            #expect(deferred.state == .pending)
            #expect(deferred.attempts == 0)
            #expect(deferred.nextAttemptAt == Fixture.date(5))
            #expect(try await store.claimDeliveries(now: Fixture.date(4), limit: 10, owner: "w", leaseUntil: Fixture.date(60)).isEmpty)
            // A held-back account's deliveries are left out of claims.
            #expect(
                try await store.claimDeliveries(now: Fixture.date(5), limit: 10, owner: "w", leaseUntil: Fixture.date(60), excludingAccounts: ["api-a", "x"])
                    .isEmpty)
            #expect(
                try await store.claimDeliveries(now: Fixture.date(5), limit: 10, owner: "w", leaseUntil: Fixture.date(60), excludingAccounts: ["other"])
                    .map(\.attempts) == [1])
        }
    }

    @Test("deliveries left in flight by a crash become due again, with an event", arguments: StoreBackend.allCases)
    func recovery(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversationID = try await Self.conversation(store)
            let delivery = try #require(try await store.enqueueOutbound(Fixture.outbound(conversation: conversationID, recipient: Self.recipient, key: "k")).delivery)
            _ = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "dead-worker", leaseUntil: Fixture.date(600))
            let recovered = try await store.recoverInterruptedDeliveries(now: Fixture.date(5))
            #expect(recovered.map(\.id) == [delivery.id])
            #expect(recovered[0].state == .failed)
            #expect(recovered[0].attempts == 1)
            #expect(try await store.eventKinds().last == "delivery.recovered")
            let again = try await store.claimDeliveries(now: Fixture.date(5), limit: 10, owner: "new-worker", leaseUntil: Fixture.date(60))
            #expect(again.map(\.id) == [delivery.id])
            #expect(again[0].attempts == 2)
            #expect(again[0].idempotencyKey == "k")
            #expect(try await store.recoverInterruptedDeliveries(now: Fixture.date(6)).count == 1)
        }
    }
}
