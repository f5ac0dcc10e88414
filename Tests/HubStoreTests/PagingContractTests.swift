import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: keyset paging of lists")
struct PagingContractTests {
    /// Reads a whole list page by page, as a client following `next` would.
    static func everyPage<Item>(
        size: Int, _ fetch: (PageCursor?, Int) async throws -> [Item], cursor: (Item) -> PageCursor
    ) async throws -> [Item] {
        var items: [Item] = []
        var after: PageCursor?
        for _ in 0..<100 {
            let page = try await fetch(after, size)
            items += page
            guard page.count == size, let last = page.last else { return items }
            after = cursor(last)
        }
        Issue.record("the pages never ended")
        return items
    }

    @Test("a customer's conversations and tickets page newest first, each exactly once, ties broken by id", arguments: StoreBackend.allCases)
    func customerLists(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            // Seven conversations on seven threads; four start in the same millisecond.
            var receipts: [IngestReceipt] = []
            for index in 0..<7 {
                receipts.append(try await store.ingestOne(Fixture.inbound(providerID: "m\(index)", thread: "t\(index)", at: index < 4 ? 1 : Double(index))))
            }
            let customer = receipts[0].customerID
            #expect(Set(receipts.map(\.customerID)) == [customer])
            let all = try await store.conversations(of: customer, limit: 100)
            #expect(all.count == 7)
            #expect(all == all.sorted { ($0.createdAt, $0.id.rawValue) > ($1.createdAt, $1.id.rawValue) })
            for size in [1, 2, 3, 7] {
                let paged = try await Self.everyPage(size: size, { try await store.conversations(of: customer, after: $0, limit: $1) }, cursor: PageCursors.conversation)
                #expect(paged.map(\.id) == all.map(\.id), "pages of \(size)")
            }

            for index in 0..<5 {
                _ = try await store.createTicket(TicketDraft(subject: "ticket \(index)", customerID: customer), at: Fixture.date(Double(10 + index)), actor: .admin)
            }
            let tickets = try await Self.everyPage(size: 2, { try await store.tickets(of: customer, after: $0, limit: $1) }, cursor: PageCursors.ticket)
            #expect(tickets.map(\.number.rawValue) == [5, 4, 3, 2, 1])
        }
    }

    @Test("an agent's conversations in hand page by last activity; the customer list shows an agent only their own", arguments: StoreBackend.allCases)
    func agentLists(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let bo = Agent(id: "bo", login: "bo", name: "Bo", queues: [QueueMembership(queueID: "billing")])
            _ = try await store.syncAgents([bo], at: Fixture.date(0))
            var mine: [Conversation.ID] = []
            var customers: [Customer.ID] = []
            for index in 0..<6 {
                let receipt = try await store.ingestOne(Fixture.inbound(from: "user-\(index)", providerID: "m\(index)", at: Double(index % 3)))
                customers.append(receipt.customerID)
                if index != 5 {
                    _ = try await store.updateConversation(
                        receipt.conversationID, ConversationChange(assigneeID: .some("bo")), at: Fixture.date(10), actor: .system)
                    mine.append(receipt.conversationID)
                }
            }
            let all = try await store.activeConversations(of: "bo", limit: 100)
            #expect(Set(all.map(\.id)) == Set(mine))
            let paged = try await Self.everyPage(size: 2, { try await store.activeConversations(of: "bo", after: $0, limit: $1) }, cursor: PageCursors.activeConversation)
            #expect(paged.map(\.id) == all.map(\.id))

            // Every customer for a supervisor; an agent's own (five) for Bo, and the sixth once it
            // waits in a queue he serves.
            let everyone = try await store.customers(after: nil, servedBy: nil, queues: [], limit: 100)
            #expect(Set(everyone.map(\.id)) == Set(customers))
            #expect(everyone.map(\.id.rawValue) == everyone.map(\.id.rawValue).sorted())
            var his: [Customer] = []
            var after: Customer.ID?
            while true {
                let page = try await store.customers(after: after, servedBy: "bo", queues: ["billing"], limit: 2)
                his += page
                guard page.count == 2 else { break }
                after = page.last?.id
            }
            #expect(Set(his.map(\.id)) == Set(customers.prefix(5)))
            #expect(his.count == 5)
            let sixth = try #require(try await store.conversations(of: customers[5], limit: 1).first)
            _ = try await store.updateConversation(sixth.id, ConversationChange(queueID: .some("billing")), at: Fixture.date(11), actor: .system)
            #expect(try await store.customers(after: nil, servedBy: "bo", queues: ["billing"], limit: 100).count == 6)
            #expect(try await store.customers(after: nil, servedBy: "bo", queues: [], limit: 100).count == 5)
            // The list and the check that guards opening a customer apply one rule.
            for queues in [[], ["billing"], ["support"]] {
                let listed = Set(try await store.customers(after: nil, servedBy: "bo", queues: queues, limit: 100).map(\.id))
                for customer in customers {
                    #expect(try await store.hasServed(customer, agent: "bo", queues: queues) == listed.contains(customer), "\(customer) \(queues)")
                }
            }
        }
    }
}
