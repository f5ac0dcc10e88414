import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: ingest")
struct IngestContractTests {
    @Test("a first message creates customer, handle, conversation and message, with their events in one order", arguments: StoreBackend.allCases)
    func firstMessage(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let receipt = try await store.ingestOne(Fixture.inbound(from: "user-1", providerID: "m1", text: "你好", name: "Li Lei"))
            #expect(!receipt.duplicate)
            #expect(receipt.customerCreated)
            #expect(receipt.conversationCreated)

            let customer = try #require(try await store.customer(receipt.customerID))
            #expect(customer.name == "Li Lei")
            #expect(customer.tier == .standard)
            let handles = try await store.handles(of: receipt.customerID)
            #expect(handles.map(\.key) == [HandleAddress(kind: .api, scope: "api-a", address: "user-1")])

            let conversation = try #require(try await store.conversation(receipt.conversationID))
            #expect(conversation.status == .open)
            #expect(conversation.queueID == "support")
            #expect(conversation.handleID == handles[0].id)
            #expect(conversation.lastInboundAt == Fixture.date(0))

            let messages = try await store.messages(in: receipt.conversationID, after: nil, limit: 10)
            #expect(messages.count == 1)
            #expect(messages[0].text == "你好")
            #expect(messages[0].direction == .inbound)
            #expect(messages[0].author == .customer)
            #expect(messages[0].providerMessageID == "m1")
            #expect(messages[0].deliveryStatus == nil)

            let events = try await store.allEvents()
            #expect(events.map(\.kind) == [.customerCreated, .conversationCreated, .messageReceived])
            #expect(events.map(\.sequence) == events.map(\.sequence).sorted())
            #expect(Set(events.map(\.sequence)).count == 3)
            #expect(events[2].refs.messageID == receipt.messageID)
            #expect(events[2].refs.customerID == receipt.customerID)
            #expect(events[2].actor == .channel("api-a"))
            #expect(events[2].payload["text"]?.stringValue == "你好")
        }
    }

    @Test("the next message from the same handle joins the open conversation", arguments: StoreBackend.allCases)
    func reuseConversation(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let sequence = try await store.lastEventSequence()
            let second = try await store.ingestOne(Fixture.inbound(providerID: "m2", text: "still there?", at: 30))
            #expect(second.customerID == first.customerID)
            #expect(second.conversationID == first.conversationID)
            #expect(!second.customerCreated && !second.conversationCreated && !second.duplicate)
            #expect(try await store.eventKinds(after: sequence) == ["message.received"])
            let conversation = try #require(try await store.conversation(first.conversationID))
            #expect(conversation.lastInboundAt == Fixture.date(30))
            #expect(try await store.messages(in: first.conversationID, after: nil, limit: 10).map(\.providerMessageID) == ["m1", "m2"])
        }
    }

    @Test("a retried provider message id stores nothing and reports the original", arguments: StoreBackend.allCases)
    func duplicate(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let sequence = try await store.lastEventSequence()
            let again = try await store.ingestOne(Fixture.inbound(providerID: "m1", text: "different body, same id", at: 5))
            #expect(again.duplicate)
            #expect(again.messageID == first.messageID)
            #expect(again.conversationID == first.conversationID)
            #expect(again.customerID == first.customerID)
            #expect(try await store.lastEventSequence() == sequence)
            #expect(try await store.messages(in: first.conversationID, after: nil, limit: 10).count == 1)
        }
    }

    @Test("duplicates inside one batch are recognized too", arguments: StoreBackend.allCases)
    func duplicateInBatch(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let results = try await store.ingest([
                Fixture.inbound(providerID: "m1"), Fixture.inbound(providerID: "m1"), Fixture.inbound(from: "user-2", providerID: "m1"),
                Fixture.inbound(from: "user-2", providerID: "m1"),
            ])
            let receipts = try results.map { try $0.get() }
            #expect(!receipts[0].duplicate)
            #expect(receipts[1].duplicate)
            #expect(receipts[1].messageID == receipts[0].messageID)
            // Another sender reusing the id is another message, and its own retry is its duplicate.
            #expect(!receipts[2].duplicate)
            #expect(receipts[2].customerID != receipts[0].customerID)
            #expect(receipts[3].duplicate)
            #expect(receipts[3].messageID == receipts[2].messageID)
            #expect(try await store.eventKinds().filter { $0 == "message.received" }.count == 2)
        }
    }

    @Test("an id reused by another sender never drops their message; it is kept under an id scoped to them", arguments: StoreBackend.allCases)
    func reusedProviderID(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Fixture.inbound(from: "user-1", providerID: "<same@mailer.test>", text: "first"))
            let other = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "<same@mailer.test>", text: "second", at: 2))
            let otherAgain = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "<same@mailer.test>", text: "second", at: 3))
            let firstAgain = try await store.ingestOne(Fixture.inbound(from: "user-1", providerID: "<same@mailer.test>", text: "first", at: 4))
            #expect(!first.duplicate && !other.duplicate)
            #expect(otherAgain.duplicate && otherAgain.messageID == other.messageID)
            #expect(firstAgain.duplicate && firstAgain.messageID == first.messageID)
            let kept = try #require(try await store.message(other.messageID))
            #expect(kept.text == "second")
            let scoped = try #require(kept.providerMessageID)
            #expect(scoped.hasPrefix("<same@mailer.test> sender:"))
            // The sender's address is not in the id (agents see ids; not all may see contacts).
            #expect(!scoped.contains("user-2"))
            #expect(try await store.message(first.messageID)?.providerMessageID == "<same@mailer.test>")
        }
    }

    @Test("the same provider id on another account is another message", arguments: StoreBackend.allCases)
    func providerIDsArePerAccount(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await store.ingestOne(Fixture.inbound(account: "api-a", providerID: "m1"))
            let b = try await store.ingestOne(Fixture.inbound(account: "api-b", providerID: "m1"))
            #expect(!b.duplicate)
            #expect(a.messageID != b.messageID)
            // Provider user ids are scoped by account: these are two customers.
            #expect(a.customerID != b.customerID)
        }
    }

    @Test("a phone number is one customer on every phone channel", arguments: StoreBackend.allCases)
    func phoneAcrossChannels(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let sms = try await store.ingestOne(Fixture.inbound(account: "sms-1", kind: .sms, from: "+8613800138000", providerID: "SM1"))
            let voice = try await store.ingestOne(Fixture.inbound(account: "trunk-1", kind: .voice, from: "+8613800138000", providerID: "call-1"))
            #expect(voice.customerID == sms.customerID)
            #expect(!voice.customerCreated)
            #expect(voice.conversationID != sms.conversationID)
            #expect(try await store.handles(of: sms.customerID).count == 1)
        }
    }

    @Test("a closed conversation is not reused; a pending one reopens", arguments: StoreBackend.allCases)
    func conversationLifecycle(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            _ = try await store.updateConversation(first.conversationID, ConversationChange(status: .closed), at: Fixture.date(10), actor: .agent("alice"))
            let second = try await store.ingestOne(Fixture.inbound(providerID: "m2", at: 20))
            #expect(second.conversationCreated)
            #expect(second.conversationID != first.conversationID)
            #expect(second.customerID == first.customerID)

            _ = try await store.updateConversation(second.conversationID, ConversationChange(status: .pending), at: Fixture.date(30), actor: .agent("alice"))
            let sequence = try await store.lastEventSequence()
            let third = try await store.ingestOne(Fixture.inbound(providerID: "m3", at: 40))
            #expect(third.conversationID == second.conversationID)
            #expect(try await store.conversation(second.conversationID)?.status == .open)
            #expect(try await store.eventKinds(after: sequence) == ["conversation.updated", "message.received"])
        }
    }

    @Test("separate thread keys are separate conversations", arguments: StoreBackend.allCases)
    func threads(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await store.ingestOne(Fixture.inbound(providerID: "m1", thread: "<root-a@mail>"))
            let b = try await store.ingestOne(Fixture.inbound(providerID: "m2", thread: "<root-b@mail>"))
            let a2 = try await store.ingestOne(Fixture.inbound(providerID: "m3", thread: "<root-a@mail>"))
            #expect(a.conversationID != b.conversationID)
            #expect(a2.conversationID == a.conversationID)
        }
    }

    @Test("one failing command in a batch is rolled back alone", arguments: StoreBackend.allCases)
    func isolatedFailure(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let existing = try await store.ingestOne(Fixture.inbound(from: "user-1", providerID: "m1"))
            // A command that must create a conversation under an id that is taken fails on the key.
            var clash = Fixture.inbound(from: "user-2", providerID: "m2")
            clash.newConversationID = existing.conversationID
            let sequence = try await store.lastEventSequence()
            let results = try await store.ingest([Fixture.inbound(from: "user-3", providerID: "m3"), clash, Fixture.inbound(from: "user-4", providerID: "m4")])
            #expect((try? results[0].get()) != nil)
            #expect((try? results[1].get()) == nil)
            #expect((try? results[2].get()) != nil)
            // Nothing of the failed command remains: no customer for user-2, no events of it.
            #expect(try await store.handle(HandleAddress(kind: .api, scope: "api-a", address: "user-2")) == nil)
            let kinds = try await store.eventKinds(after: sequence)
            #expect(kinds.filter { $0 == "message.received" }.count == 2)
            #expect(kinds.filter { $0 == "customer.created" }.count == 2)
        }
    }

    @Test("conversation attributes from the channel are kept and updated", arguments: StoreBackend.allCases)
    func attributes(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Fixture.inbound(providerID: "m1", attributes: ["language": "zh-CN", "ivrInput": "2"]))
            #expect(try await store.conversation(first.conversationID)?.attributes == ["language": "zh-CN", "ivrInput": "2"])
            _ = try await store.ingestOne(Fixture.inbound(providerID: "m2", attributes: ["sentiment": "angry"]))
            #expect(try await store.conversation(first.conversationID)?.attributes == ["language": "zh-CN", "ivrInput": "2", "sentiment": "angry"])
        }
    }

    @Test("provider status reports move an outbound message forward only", arguments: StoreBackend.allCases)
    func deliveryStatus(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let receipt = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let recipient = HandleAddress(kind: .api, scope: "api-a", address: "user-1")
            let sent = try await store.enqueueOutbound(Fixture.outbound(conversation: receipt.conversationID, recipient: recipient, key: "k1"))
            let delivery = try #require(sent.delivery)
            _ = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            _ = try await store.recordDeliveryResult(delivery.id, owner: "w", result: .sent(providerMessageID: "P-1"), at: Fixture.date(3))

            #expect(try await store.applyDeliveryStatus(DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "P-1", status: .delivered), at: Fixture.date(4)))
            #expect(try await store.applyDeliveryStatus(DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "P-1", status: .sent), at: Fixture.date(5)))
            var message = try #require(try await store.message(sent.message.id))
            #expect(message.deliveryStatus == .delivered)
            #expect(message.deliveredAt == Fixture.date(4))
            #expect(try await store.applyDeliveryStatus(DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "P-1", status: .read), at: Fixture.date(6)))
            message = try #require(try await store.message(sent.message.id))
            #expect(message.deliveryStatus == .read)
            #expect(try await !store.applyDeliveryStatus(DeliveryStatusUpdate(channelAccountID: "api-a", providerMessageID: "nope", status: .read), at: Fixture.date(7)))
            #expect(try await !store.applyDeliveryStatus(DeliveryStatusUpdate(channelAccountID: "api-b", providerMessageID: "P-1", status: .read), at: Fixture.date(7)))
            let statuses = try await store.allEvents().filter { $0.kind == .messageStatusChanged }.compactMap { $0.payload["status"]?.stringValue }
            #expect(statuses == ["sent", "delivered", "read"])
        }
    }
}
