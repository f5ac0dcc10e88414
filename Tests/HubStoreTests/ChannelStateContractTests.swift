import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: consent and provider status reports")
struct ChannelStateContractTests {
    static func sms(_ text: String, id: String, at seconds: Double, consent: ConsentChange?) -> IngestCommand {
        var command = Fixture.inbound(account: "sms-a", kind: .sms, from: "+8613800138000", providerID: id, text: text, at: seconds)
        command.event.consent = consent
        return command
    }

    @Test("STOP marks the handle opted out with the message, START clears it, a repeat changes nothing", arguments: StoreBackend.allCases)
    func consent(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Self.sms("hello", id: "SM1", at: 0, consent: nil))
            let start = try await store.lastEventSequence()
            let stop = try await store.ingestOne(Self.sms("STOP", id: "SM2", at: 10, consent: ConsentChange(optedOut: true, keyword: "STOP")))
            #expect(stop.conversationID == first.conversationID)
            let handle = try #require(try await store.handles(of: first.customerID).first)
            #expect(handle.optedOutAt == Fixture.date(10))
            #expect(try await store.eventKinds(after: start) == ["message.received", "handle.consent"])
            let event = try #require(try await store.allEvents().last)
            #expect(event.refs.customerID == first.customerID)
            #expect(event.refs.messageID == stop.messageID)
            #expect(event.payload["optedOut"] == .bool(true))
            #expect(event.payload["keyword"]?.stringValue == "STOP")
            #expect(event.payload["handleId"]?.stringValue == handle.id.rawValue)

            // Already out: the message is stored, the handle and the log do not change.
            let again = try await store.lastEventSequence()
            _ = try await store.ingestOne(Self.sms("退订", id: "SM3", at: 20, consent: ConsentChange(optedOut: true, keyword: "退订")))
            #expect(try await store.eventKinds(after: again) == ["message.received"])
            #expect(try await store.handles(of: first.customerID).first?.optedOutAt == Fixture.date(10))

            // A retried STOP is a duplicate: nothing at all.
            let retried = try await store.ingestOne(Self.sms("STOP", id: "SM2", at: 30, consent: ConsentChange(optedOut: true, keyword: "STOP")))
            #expect(retried.duplicate)

            let back = try await store.lastEventSequence()
            _ = try await store.ingestOne(Self.sms("START", id: "SM4", at: 40, consent: ConsentChange(optedOut: false, keyword: "START")))
            #expect(try await store.handles(of: first.customerID).first?.optedOutAt == nil)
            #expect(try await store.eventKinds(after: back) == ["message.received", "handle.consent"])
            #expect(try await store.allEvents().last?.payload["optedOut"] == .bool(false))
        }
    }

    @Test("a status report naming the delivery arrives before the send is recorded; the later 'sent' does not undo it", arguments: StoreBackend.allCases)
    func statusByDelivery(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversation = try await store.ingestOne(Fixture.inbound(providerID: "m1")).conversationID
            let recipient = HandleAddress(kind: .api, scope: "api-a", address: "user-1")
            let receipt = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: recipient, key: "k1"))
            let delivery = try #require(receipt.delivery)
            _ = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60))

            // The provider's callback races the answer to the send request.
            let found = try await store.applyDeliveryStatus(
                DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "SM-9", deliveryID: delivery.id, status: .delivered),
                at: Fixture.date(3))
            #expect(found)
            #expect(try await store.message(receipt.message.id)?.deliveryStatus == .delivered)

            _ = try await store.recordDeliveryResult(delivery.id, owner: "w", result: .sent(providerMessageID: "SM-9"), at: Fixture.date(4))
            let message = try #require(try await store.message(receipt.message.id))
            #expect(message.deliveryStatus == .delivered)
            #expect(message.providerMessageID == "SM-9")

            // Another account's report does not touch it; an unknown delivery is not found.
            #expect(
                try await !store.applyDeliveryStatus(
                    DeliveryStatusUpdate(channelAccountID: "api-b", providerMessageID: "SM-9", deliveryID: delivery.id, status: .failed),
                    at: Fixture.date(5)))
            #expect(
                try await !store.applyDeliveryStatus(
                    DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "SM-0", deliveryID: "dlv_unknown", status: .failed),
                    at: Fixture.date(5)))
            #expect(try await store.message(receipt.message.id)?.deliveryStatus == .delivered)

            // A failure reported before the send is recorded stays a failure.
            let second = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: recipient, key: "k2", ordered: false))
            _ = try await store.claimDeliveries(now: Fixture.date(6), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            _ = try await store.applyDeliveryStatus(
                DeliveryStatusUpdate(
                    channelAccountID: "api-a", providerMessageID: "SM-10", deliveryID: second.delivery!.id, status: .failed, error: "undelivered (error 30003)"),
                at: Fixture.date(7))
            _ = try await store.recordDeliveryResult(second.delivery!.id, owner: "w", result: .sent(providerMessageID: "SM-10"), at: Fixture.date(8))
            let failed = try #require(try await store.message(second.message.id))
            #expect(failed.deliveryStatus == .failed)
            #expect(failed.deliveryError == "undelivered (error 30003)")
        }
    }

    @Test("a report that overtakes the send (Meta, Telegram: no delivery id) is applied when the send is recorded", arguments: StoreBackend.allCases)
    func earlyReport(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversation = try await store.ingestOne(Fixture.inbound(providerID: "m1")).conversationID
            let recipient = HandleAddress(kind: .api, scope: "api-a", address: "user-1")
            let receipt = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: recipient, key: "k1"))
            _ = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            // The delivery report comes first: nobody knows m_out yet.
            let found = try await store.applyDeliveryStatus(
                DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "m_out", status: .delivered, occurredAt: Fixture.date(3)),
                at: Fixture.date(3))
            #expect(!found)
            _ = try await store.recordDeliveryResult(receipt.delivery!.id, owner: "w", result: .sent(providerMessageID: "m_out"), at: Fixture.date(4))
            let message = try #require(try await store.message(receipt.message.id))
            #expect(message.deliveryStatus == .delivered)
            #expect(message.deliveredAt == Fixture.date(3))
            let kinds = try await store.eventKinds()
            #expect(kinds.suffix(3) == ["delivery.attempted", "message.status", "message.status"])
        }
    }

    @Test("a read watermark marks read the messages sent to that customer through the account up to it", arguments: StoreBackend.allCases)
    func readWatermark(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let conversation = try await store.ingestOne(Fixture.inbound(providerID: "m1")).conversationID
            let recipient = HandleAddress(kind: .api, scope: "api-a", address: "user-1")
            let early = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: recipient, key: "a", at: 1, ordered: false))
            let late = try await store.enqueueOutbound(Fixture.outbound(conversation: conversation, recipient: recipient, key: "b", at: 5, ordered: false))
            _ = try await store.claimDeliveries(now: Fixture.date(6), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            _ = try await store.recordDeliveryResult(early.delivery!.id, owner: "w", result: .sent(providerMessageID: "o1"), at: Fixture.date(6))
            _ = try await store.recordDeliveryResult(late.delivery!.id, owner: "w", result: .sent(providerMessageID: "o2"), at: Fixture.date(6))
            #expect(try await store.applyRead(handle: recipient, channelAccountID: "api-a", upTo: Fixture.date(3), at: Fixture.date(7)) == 1)
            #expect(try await store.message(early.message.id)?.deliveryStatus == .read)
            #expect(try await store.message(late.message.id)?.deliveryStatus == .sent)
            #expect(try await store.applyRead(handle: recipient, channelAccountID: "api-b", upTo: Fixture.date(9), at: Fixture.date(9)) == 0)
            #expect(try await store.applyRead(handle: HandleAddress(kind: .api, scope: "api-a", address: "nobody"), channelAccountID: "api-a", upTo: Fixture.date(9), at: Fixture.date(9)) == 0)
        }
    }
}
