import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: identity")
struct IdentityContractTests {
    static func phone(_ number: String) -> HandleAddress { HandleAddress(kind: .phone, address: number) }
    static func email(_ address: String) -> HandleAddress { HandleAddress(kind: .email, address: address) }

    @Test("linking a handle: new, already the customer's, or someone else's", arguments: StoreBackend.allCases)
    func link(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let li = try await store.ingestOne(Fixture.inbound(account: "sms-1", kind: .sms, from: "+8613800138000", providerID: "SM1"))
            let wang = try await store.ingestOne(Fixture.inbound(account: "sms-1", kind: .sms, from: "+8613900139000", providerID: "SM2"))
            let handle = Handle(id: .generate(), customerID: li.customerID, address: Self.email("li.lei@example.com"), createdAt: Fixture.date(5))
            let linked = try await store.linkHandle(handle, actor: .admin)
            #expect(linked == handle)
            #expect(try await store.handles(of: li.customerID).count == 2)
            let sequence = try await store.lastEventSequence()
            #expect(try await store.eventKinds(after: sequence - 1) == ["handle.linked"])

            // Linking it again is a no-op returning the stored handle.
            let again = Handle(id: .generate(), customerID: li.customerID, address: Self.email("li.lei@example.com"), createdAt: Fixture.date(6))
            #expect(try await store.linkHandle(again, actor: .admin).id == handle.id)
            #expect(try await store.lastEventSequence() == sequence)

            // Someone else's handle is a conflict, and changes nothing.
            let stolen = Handle(id: .generate(), customerID: wang.customerID, address: Self.email("li.lei@example.com"), createdAt: Fixture.date(7))
            await #expect(throws: StoreError.self) { try await store.linkHandle(stolen, actor: .admin) }
            #expect(try await store.lastEventSequence() == sequence)
            do {
                _ = try await store.linkHandle(stolen, actor: .admin)
            } catch let error as StoreError {
                #expect(error.code == .conflict)
            }

            // After linking, mail from that address is the same customer.
            let mail = try await store.ingestOne(Fixture.inbound(account: "mail-1", kind: .email, from: "li.lei@example.com", providerID: "<a@b>"))
            #expect(mail.customerID == li.customerID)
            #expect(!mail.customerCreated)
        }
    }

    @Test("routing facts: customers and their newest conversations' assignees, many in one read", arguments: StoreBackend.allCases)
    func routingFacts(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let li = try await store.ingestOne(Fixture.inbound(from: "li", providerID: "m1", thread: "t1"))
            let again = try await store.ingestOne(Fixture.inbound(from: "li", providerID: "m2", thread: "t2", at: 1))
            let wang = try await store.ingestOne(Fixture.inbound(from: "wang", providerID: "m3", at: 2))
            #expect(again.customerID == li.customerID && again.conversationID != li.conversationID)
            _ = try await store.updateConversation(li.conversationID, ConversationChange(assigneeID: .some("alice")), at: Fixture.date(3), actor: .admin)

            let unknown = Customer.ID("nobody")
            let facts = try await store.routingFacts(of: [li.customerID, wang.customerID, unknown, li.customerID], recent: 10)
            #expect(Set(facts.keys) == [li.customerID, wang.customerID], "an unknown customer is left out")
            let lis = try #require(facts[li.customerID])
            #expect(lis.customer == (try await store.customer(li.customerID)))
            #expect(lis.recent.map(\.conversationID) == [again.conversationID, li.conversationID], "newest first")
            #expect(lis.recent.map(\.assigneeID) == [nil, "alice"])
            #expect(lis.lastAgent(excluding: again.conversationID) == "alice")
            #expect(lis.lastAgent(excluding: li.conversationID) == nil, "the conversation itself does not count")
            #expect(facts[wang.customerID]?.recent.map(\.conversationID) == [wang.conversationID])
            #expect(try await store.routingFacts(of: [li.customerID], recent: 1)[li.customerID]?.recent.count == 1)
            #expect(try await store.routingFacts(of: [], recent: 10).isEmpty)
        }
    }

    @Test("merging two customers and unmerging restores both", arguments: StoreBackend.allCases)
    func mergeAndUnmerge(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            // Li calls from a phone; the same person writes from an e-mail address.
            let phone = try await store.ingestOne(Fixture.inbound(account: "sms-1", kind: .sms, from: "+8613800138000", providerID: "SM1", name: "Li Lei"))
            let mail = try await store.ingestOne(Fixture.inbound(account: "mail-1", kind: .email, from: "li@example.com", providerID: "<1@x>"))
            var mailCustomer = try #require(try await store.customer(mail.customerID))
            mailCustomer.tags = ["newsletter"]
            mailCustomer.locale = "zh-CN"
            mailCustomer.updatedAt = Fixture.date(1)
            _ = try await store.updateCustomer(mailCustomer, actor: .admin)
            let ticket = try await store.createTicket(
                TicketDraft(subject: "Invoice question", customerID: mail.customerID, conversationIDs: [mail.conversationID]),
                at: Fixture.date(2), actor: .admin)

            let merge = try await store.mergeCustomers(
                survivorID: phone.customerID, mergedID: mail.customerID, mergeID: .generate(), at: Fixture.date(10), actor: .admin)
            #expect(merge.handleIDs.count == 1)
            #expect(merge.conversationIDs == [mail.conversationID])
            #expect(merge.ticketIDs == [ticket.id])

            let survivor = try #require(try await store.customer(phone.customerID))
            #expect(survivor.name == "Li Lei")
            #expect(survivor.locale == "zh-CN")
            #expect(survivor.tags == ["newsletter"])
            #expect(Set(try await store.handles(of: phone.customerID).map(\.address)) == ["+8613800138000", "li@example.com"])
            #expect(try await store.handles(of: mail.customerID).isEmpty)
            #expect(try await store.customer(mail.customerID)?.mergedInto == phone.customerID)
            #expect(try await store.conversation(mail.conversationID)?.customerID == phone.customerID)
            #expect(try await store.ticket(ticket.id)?.customerID == phone.customerID)
            // One history: the merged customer's past events (which name its old id) are the survivor's too.
            let history = try await store.events(customerID: phone.customerID, after: 0, limit: 1_000)
            #expect(history.contains { $0.kind == .messageReceived && $0.refs.messageID == mail.messageID })
            #expect(history.contains { $0.kind == .messageReceived && $0.refs.messageID == phone.messageID })
            #expect(history.map(\.sequence) == history.map(\.sequence).sorted())
            let recent = try await store.recentEvents(customerID: phone.customerID, before: nil, limit: 1_000)
            #expect(recent.map(\.sequence) == history.map(\.sequence))
            // Identity now resolves to the survivor on every handle.
            let more = try await store.ingestOne(Fixture.inbound(account: "mail-1", kind: .email, from: "li@example.com", providerID: "<2@x>", at: 20))
            #expect(more.customerID == phone.customerID)
            #expect(more.conversationID == mail.conversationID)
            // A new thread on the merged handle, after the merge, belongs to that handle too.
            let newThread = try await store.ingestOne(
                Fixture.inbound(account: "mail-1", kind: .email, from: "li@example.com", providerID: "<3@x>", thread: "other", at: 21))
            #expect(newThread.conversationCreated)
            // An agent renames the survivor after the merge: that edit must survive the unmerge.
            var renamed = survivor
            renamed.name = "Li Lei (VIP)"
            renamed.updatedAt = Fixture.date(25)
            _ = try await store.updateCustomer(renamed, actor: .admin)

            let undone = try await store.unmergeCustomer(mail.customerID, at: Fixture.date(30), actor: .admin)
            #expect(undone.id == merge.id)
            #expect(undone.unmergedAt == Fixture.date(30))
            let restoredSurvivor = try #require(try await store.customer(phone.customerID))
            let restoredMerged = try #require(try await store.customer(mail.customerID))
            #expect(restoredMerged.mergedInto == nil)
            #expect(restoredMerged.tags == ["newsletter"])
            #expect(restoredMerged.locale == "zh-CN")
            #expect(restoredSurvivor.name == "Li Lei (VIP)")
            #expect(restoredSurvivor.locale == nil)
            #expect(restoredSurvivor.tags == [])
            #expect(try await store.handles(of: phone.customerID).map(\.address) == ["+8613800138000"])
            #expect(try await store.handles(of: mail.customerID).map(\.address) == ["li@example.com"])
            #expect(try await store.conversation(mail.conversationID)?.customerID == mail.customerID)
            #expect(try await store.conversation(newThread.conversationID)?.customerID == mail.customerID)
            #expect(try await store.conversation(phone.conversationID)?.customerID == phone.customerID)
            #expect(try await store.ticket(ticket.id)?.customerID == mail.customerID)
            #expect(!(try await store.events(customerID: phone.customerID, after: 0, limit: 1_000)).contains { $0.refs.messageID == mail.messageID })
            // And identity resolves to the restored customer again.
            let after = try await store.ingestOne(Fixture.inbound(account: "mail-1", kind: .email, from: "li@example.com", providerID: "<4@x>", at: 40))
            #expect(after.customerID == mail.customerID)

            let kinds = try await store.eventKinds()
            #expect(kinds.filter { $0 == "customer.merged" }.count == 1)
            #expect(kinds.filter { $0 == "customer.unmerged" }.count == 1)
            let merges = try await store.merges(involving: mail.customerID)
            #expect(merges.count == 1)
            #expect(merges[0].unmergedAt != nil)
        }
    }

    @Test("an unmerge after the survivor was merged on still restores the first customer", arguments: StoreBackend.allCases)
    func nestedMerges(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await store.ingestOne(Fixture.inbound(account: "sms-1", kind: .sms, from: "+8613800000001", providerID: "1"))
            let b = try await store.ingestOne(Fixture.inbound(account: "sms-1", kind: .sms, from: "+8613800000002", providerID: "2"))
            let d = try await store.ingestOne(Fixture.inbound(account: "sms-1", kind: .sms, from: "+8613800000004", providerID: "4"))
            _ = try await store.mergeCustomers(survivorID: a.customerID, mergedID: b.customerID, mergeID: .generate(), at: Fixture.date(1), actor: .admin)
            _ = try await store.mergeCustomers(survivorID: d.customerID, mergedID: a.customerID, mergeID: .generate(), at: Fixture.date(2), actor: .admin)
            #expect(try await store.handles(of: d.customerID).count == 3)
            _ = try await store.unmergeCustomer(b.customerID, at: Fixture.date(3), actor: .admin)
            #expect(try await store.handles(of: b.customerID).map(\.address) == ["+8613800000002"])
            #expect(try await store.conversation(b.conversationID)?.customerID == b.customerID)
            #expect(Set(try await store.handles(of: d.customerID).map(\.address)) == ["+8613800000001", "+8613800000004"])
            #expect(try await store.customer(a.customerID)?.mergedInto == d.customerID)
        }
    }

    @Test("merge and unmerge refuse what makes no sense, and change nothing", arguments: StoreBackend.allCases)
    func mergeErrors(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await store.ingestOne(Fixture.inbound(from: "a", providerID: "1"))
            let b = try await store.ingestOne(Fixture.inbound(from: "b", providerID: "2"))
            func code(_ body: () async throws -> Void) async -> StoreError.Code? {
                do {
                    try await body()
                    return nil
                } catch let error as StoreError {
                    return error.code
                } catch {
                    return nil
                }
            }
            let sequence = try await store.lastEventSequence()
            #expect(await code { _ = try await store.mergeCustomers(survivorID: a.customerID, mergedID: a.customerID, mergeID: .generate(), at: Fixture.date(1), actor: .admin) } == .invalid)
            #expect(await code { _ = try await store.mergeCustomers(survivorID: a.customerID, mergedID: "cus_nope", mergeID: .generate(), at: Fixture.date(1), actor: .admin) } == .notFound)
            #expect(await code { _ = try await store.unmergeCustomer(b.customerID, at: Fixture.date(1), actor: .admin) } == .conflict)
            #expect(await code { _ = try await store.unmergeCustomer("cus_nope", at: Fixture.date(1), actor: .admin) } == .notFound)
            #expect(try await store.lastEventSequence() == sequence)
            _ = try await store.mergeCustomers(survivorID: a.customerID, mergedID: b.customerID, mergeID: .generate(), at: Fixture.date(2), actor: .admin)
            #expect(await code { _ = try await store.mergeCustomers(survivorID: a.customerID, mergedID: b.customerID, mergeID: .generate(), at: Fixture.date(3), actor: .admin) } == .conflict)
            #expect(await code { _ = try await store.mergeCustomers(survivorID: b.customerID, mergedID: a.customerID, mergeID: .generate(), at: Fixture.date(3), actor: .admin) } == .conflict)
            let handle = Handle(id: .generate(), customerID: b.customerID, address: Self.phone("+12015550123"), createdAt: Fixture.date(4))
            #expect(await code { _ = try await store.linkHandle(handle, actor: .admin) } == .conflict)
        }
    }

    @Test("a customer created with handles, and a handle that is taken", arguments: StoreBackend.allCases)
    func createCustomer(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let customer = Customer(id: .generate(), name: "Zhang Wei", tier: .vip, tags: ["gold"], locale: "zh-CN", ownerAgentID: "alice", createdAt: Fixture.date(0))
            let handle = Handle(id: .generate(), customerID: customer.id, address: Self.phone("+8613700137000"), createdAt: Fixture.date(0))
            try await store.createCustomer(customer, handles: [handle], actor: .admin)
            #expect(try await store.customer(customer.id) == customer)
            #expect(try await store.handle(Self.phone("+8613700137000"))?.customerID == customer.id)
            let other = Customer(id: .generate(), createdAt: Fixture.date(1))
            let taken = Handle(id: .generate(), customerID: other.id, address: Self.phone("+8613700137000"), createdAt: Fixture.date(1))
            await #expect(throws: StoreError.self) { try await store.createCustomer(other, handles: [taken], actor: .admin) }
            #expect(try await store.customer(other.id) == nil)
            // A call from the VIP's number joins the VIP.
            let call = try await store.ingestOne(Fixture.inbound(account: "trunk", kind: .voice, from: "+8613700137000", providerID: "c1"))
            #expect(call.customerID == customer.id)
        }
    }
}
