import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: attachments to fetch")
struct AttachmentContractTests {
    static func withAttachments(_ store: any HubStore, id: String = "m1") async throws -> IngestReceipt {
        var command = Fixture.inbound(providerID: id)
        command.event.attachments = [
            Attachment(reference: "https://cdn.example/a.png", contentType: "image/png"),
            Attachment(reference: "blob:sha256:" + String(repeating: "a", count: 64), contentType: "image/png"),
            Attachment(reference: "wechat-media:m-1", contentType: "audio/amr"),
        ]
        return try await store.ingestOne(command)
    }

    @Test("an inbound message's external attachments are pending, each with a fetch row written with it", arguments: StoreBackend.allCases)
    func rows(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let receipt = try await Self.withAttachments(store)
            let message = try #require(try await store.message(receipt.messageID))
            #expect(message.attachments.map(\.status) == [.pending, nil, .pending])
            // A retry of the message adds nothing.
            _ = try await Self.withAttachments(store)
            let claimed = try await store.claimAttachmentFetches(now: Fixture.date(0), limit: 10, leaseUntil: Fixture.date(60))
            #expect(claimed.map(\.position) == [0, 2])
            #expect(claimed.map(\.attempts) == [1, 1])
            #expect(claimed.first?.attachment.reference == "https://cdn.example/a.png")
            #expect(claimed.first?.channelAccountID == "api-a")
            // Claimed rows are leased: not claimed again until the lease runs out.
            #expect(try await store.claimAttachmentFetches(now: Fixture.date(1), limit: 10, leaseUntil: Fixture.date(60)).isEmpty)
            #expect(try await store.claimAttachmentFetches(now: Fixture.date(60), limit: 10, leaseUntil: Fixture.date(120)).map(\.attempts) == [2, 2])
        }
    }

    @Test("stored, refused and retried outcomes update the message, with an event for the final ones", arguments: StoreBackend.allCases)
    func outcomes(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let receipt = try await Self.withAttachments(store)
            let claimed = try await store.claimAttachmentFetches(now: Fixture.date(0), limit: 10, leaseUntil: Fixture.date(60))
            let sequence = try await store.lastEventSequence()
            var stored = claimed[0].attachment
            stored.reference = "blob:sha256:" + String(repeating: "b", count: 64)
            stored.source = "https://cdn.example/a.png"
            stored.byteCount = 42
            try await store.recordAttachmentFetch(claimed[0], outcome: .stored(stored), at: Fixture.date(1))
            try await store.recordAttachmentFetch(claimed[1], outcome: .retry(error: "503", retryAt: Fixture.date(30)), at: Fixture.date(1))
            var message = try #require(try await store.message(receipt.messageID))
            #expect(message.attachments[0].status == .stored)
            #expect(message.attachments[0].reference == stored.reference)
            #expect(message.attachments[0].source == "https://cdn.example/a.png")
            #expect(message.attachments[2].status == .pending)
            #expect(try await store.eventKinds(after: sequence) == ["message.attachment"])
            let event = try #require(try await store.allEvents().last)
            #expect(event.refs.messageID == receipt.messageID)
            #expect(event.refs.customerID == receipt.customerID)
            #expect(event.payload["position"]?.intValue == 0)
            #expect(event.payload["attachment"]?["byteCount"]?.intValue == 42)

            #expect(try await store.nextAttachmentFetchDue() == Fixture.date(30))
            #expect(try await store.claimAttachmentFetches(now: Fixture.date(29), limit: 10, leaseUntil: Fixture.date(90)).isEmpty)
            let again = try await store.claimAttachmentFetches(now: Fixture.date(30), limit: 10, leaseUntil: Fixture.date(90))
            #expect(again.map(\.position) == [2])
            try await store.recordAttachmentFetch(again[0], outcome: .refused(reason: "larger than 10 bytes"), at: Fixture.date(31))
            message = try #require(try await store.message(receipt.messageID))
            #expect(message.attachments[2].status == .refused)
            #expect(message.attachments[2].problem == "larger than 10 bytes")
            #expect(message.attachments[2].reference == "wechat-media:m-1")
            #expect(try await store.nextAttachmentFetchDue() == nil)
        }
    }
}
