import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: ticket lifecycle, comments, merges, history")
struct TicketContractTests {
    @Test("statuses follow the lifecycle: new only at birth, closed only after solved and for good", arguments: StoreBackend.allCases)
    func lifecycle(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let ticket = try await store.createTicket(
                TicketDraft(subject: "Router broken", customerID: chat.customerID, conversationIDs: [chat.conversationID]), at: Fixture.date(1),
                actor: .agent("alice"))
            #expect(ticket.channelAccountID == "api-a")
            let refusedClose = await #expect(throws: StoreError.self) {
                try await store.updateTicket(ticket.id, TicketChange(status: .closed), at: Fixture.date(2), actor: .agent("alice"))
            }
            #expect(refusedClose?.code == .conflict)
            #expect(refusedClose?.message.contains("only a solved ticket can be closed") == true)
            for status in [TicketStatus.open, .pending, .onHold, .open, .solved] {
                #expect(try await store.updateTicket(ticket.id, TicketChange(status: status), at: Fixture.date(3), actor: .agent("alice")).status == status)
            }
            await #expect(throws: StoreError.self) {
                try await store.updateTicket(ticket.id, TicketChange(status: .new), at: Fixture.date(4), actor: .agent("alice"))
            }
            let closed = try await store.updateTicket(
                ticket.id, TicketChange(status: .closed, reason: "solved long ago"), at: Fixture.date(5), actor: .system)
            #expect(closed.closedAt == Fixture.date(5))
            #expect(closed.solvedAt == Fixture.date(3))
            let reopen = await #expect(throws: StoreError.self) {
                try await store.updateTicket(ticket.id, TicketChange(status: .open), at: Fixture.date(6), actor: .agent("alice"))
            }
            #expect(reopen?.message.contains("closed tickets do not change") == true)
            let later = try await store.ingestOne(Fixture.inbound(providerID: "m9", thread: "later"))
            await #expect(throws: StoreError.self) {
                try await store.linkConversation(later.conversationID, toTicket: ticket.id, at: Fixture.date(6), actor: .agent("alice"))
            }
            // Nothing else of it changes either.
            await #expect(throws: StoreError.self) {
                try await store.updateTicket(ticket.id, TicketChange(priority: .urgent), at: Fixture.date(6), actor: .agent("alice"))
            }
            await #expect(throws: StoreError.self) {
                try await store.addTicketComment(
                    TicketCommentDraft(ticketID: ticket.id, author: .agent("alice"), visibility: .internal, body: "late"), at: Fixture.date(6),
                    actor: .agent("alice"))
            }
            // The status change names where it came from and why.
            let history = try await store.ticketEvents(ticket.id, after: 0, limit: 100)
            let last = try #require(history.last)
            #expect(last.kind == .ticketUpdated)
            #expect(last.payload["previousStatus"]?.stringValue == "solved")
            #expect(last.payload["reason"]?.stringValue == "solved long ago")
            #expect(history.map(\.kind.rawValue) == ["ticket.created"] + Array(repeating: "ticket.updated", count: 6))
            await #expect(throws: StoreError.self) {
                try await store.createTicket(TicketDraft(subject: "x", customerID: chat.customerID, status: .solved), at: Fixture.date(7), actor: .admin)
            }
        }
    }

    @Test("a change decided from an earlier read is refused when the status moved meanwhile", arguments: StoreBackend.allCases)
    func expectedStatus(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let ticket = try await store.createTicket(TicketDraft(subject: "x", customerID: chat.customerID, status: .pending), at: Fixture.date(1), actor: .admin)
            _ = try await store.updateTicket(ticket.id, TicketChange(status: .solved), at: Fixture.date(2), actor: .agent("alice"))
            let stale = await #expect(throws: StoreError.self) {
                try await store.updateTicket(ticket.id, TicketChange(status: .open, expectedStatus: .pending), at: Fixture.date(3), actor: .system)
            }
            #expect(stale?.code == .conflict)
            #expect(try await store.ticket(ticket.id)?.status == .solved)
            #expect(
                try await store.updateTicket(ticket.id, TicketChange(status: .open, expectedStatus: .solved), at: Fixture.date(4), actor: .system).status
                    == .open)
        }
    }

    @Test("an unattended conversation closes only if no customer message came after the one answered", arguments: StoreBackend.allCases)
    func closeUnattended(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            var command = Fixture.inbound(providerID: "m1", text: "status", at: 1)
            command.queueID = nil
            let asked = try await store.ingestOne(command)
            // The follow-up in the same millisecond: the order of commits decides.
            var more = Fixture.inbound(providerID: "m2", text: "and more", at: 1)
            more.queueID = nil
            let followUp = try await store.ingestOne(more)
            #expect(try await !store.closeUnattended(asked.conversationID, ifLatestInboundIs: asked.messageID, at: Fixture.date(3), actor: .system))
            #expect(try await store.conversation(asked.conversationID)?.status != .closed)
            #expect(try await store.closeUnattended(asked.conversationID, ifLatestInboundIs: followUp.messageID, at: Fixture.date(3), actor: .system))
            #expect(try await store.conversation(asked.conversationID)?.status == .closed)
            // One in a queue or an agent's hands is never closed this way.
            let queued = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "m3", at: 4))
            #expect(try await !store.closeUnattended(queued.conversationID, ifLatestInboundIs: queued.messageID, at: Fixture.date(9), actor: .system))
        }
    }

    @Test("comments are internal or public, with an event each; the opening note is the first", arguments: StoreBackend.allCases)
    func comments(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let ticket = try await store.createTicket(
                TicketDraft(subject: "Invoice", customerID: chat.customerID, note: "  customer called twice  ", status: .open), at: Fixture.date(1),
                actor: .agent("alice"))
            #expect(ticket.status == .open)
            let reply = try await store.addTicketComment(
                TicketCommentDraft(ticketID: ticket.id, author: .agent("bob"), visibility: .public, body: "We are on it"), at: Fixture.date(2),
                actor: .agent("bob"))
            let all = try await store.ticketComments(of: ticket.id, includeInternal: true)
            #expect(all.map(\.body) == ["customer called twice", "We are on it"])
            #expect(all.map(\.visibility) == [.internal, .public])
            #expect(all[0].author == .agent("alice"))
            #expect(try await store.ticketComments(of: ticket.id, includeInternal: false) == [reply])
            let events = try await store.ticketEvents(ticket.id, after: 0, limit: 10)
            #expect(events.map(\.kind) == [.ticketCreated, .ticketCommented, .ticketCommented])
            #expect(events[2].payload["comment"]?["body"]?.stringValue == "We are on it")
            #expect(events[2].refs.agentID == "bob")
            await #expect(throws: StoreError.self) {
                try await store.addTicketComment(
                    TicketCommentDraft(ticketID: ticket.id, author: .agent("bob"), visibility: .internal, body: "  "), at: Fixture.date(3), actor: .agent("bob"))
            }
        }
    }

    @Test("a merge moves the conversations, closes the source for good and is in both histories", arguments: StoreBackend.allCases)
    func merge(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let mail = try await store.ingestOne(Fixture.inbound(providerID: "m2", thread: "other-thread"))
            let stranger = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "m3"))
            let target = try await store.createTicket(
                TicketDraft(subject: "Refund", customerID: chat.customerID, conversationIDs: [chat.conversationID]), at: Fixture.date(1), actor: .admin)
            let source = try await store.createTicket(
                TicketDraft(subject: "Refund again", customerID: chat.customerID, conversationIDs: [mail.conversationID]), at: Fixture.date(2),
                actor: .admin)
            let theirs = try await store.createTicket(TicketDraft(subject: "Theirs", customerID: stranger.customerID), at: Fixture.date(3), actor: .admin)
            let twoCustomers = await #expect(throws: StoreError.self) {
                try await store.mergeTicket(theirs.id, into: target.id, at: Fixture.date(4), actor: .admin)
            }
            #expect(twoCustomers?.code == .conflict)
            await #expect(throws: StoreError.self) { try await store.mergeTicket(target.id, into: target.id, at: Fixture.date(4), actor: .admin) }

            let merge = try await store.mergeTicket(source.id, into: target.id, at: Fixture.date(5), actor: .agent("alice"))
            #expect(merge.source.status == .closed)
            #expect(merge.source.mergedIntoID == target.id)
            #expect(merge.target.conversationIDs == [chat.conversationID, mail.conversationID])
            #expect(try await store.ticket(source.id) == merge.source)
            #expect(try await store.ticket(target.id)?.conversationIDs == merge.target.conversationIDs)
            #expect(try await store.tickets(linkedTo: mail.conversationID).map(\.id) == [target.id])
            await #expect(throws: StoreError.self) { try await store.mergeTicket(source.id, into: target.id, at: Fixture.date(6), actor: .admin) }
            let sourceHistory = try await store.ticketEvents(source.id, after: 0, limit: 10).map(\.kind)
            #expect(sourceHistory == [.ticketCreated, .ticketUpdated, .ticketMerged])
            let targetHistory = try await store.ticketEvents(target.id, after: 0, limit: 10).map(\.kind)
            #expect(targetHistory == [.ticketCreated, .ticketLinked, .ticketMerged])
        }
    }

    @Test("lists filter by customer, status, assignee and queue, newest first, in pages", arguments: StoreBackend.allCases)
    func lists(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let other = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "m2"))
            var made: [Ticket] = []
            for (index, (customer, queue, assignee)) in [
                (chat.customerID, "support", "alice"), (chat.customerID, "billing", nil), (other.customerID, "support", "bob"),
                (chat.customerID, "support", "bob"),
            ].enumerated() {
                made.append(
                    try await store.createTicket(
                        TicketDraft(subject: "t\(index)", customerID: customer, queueID: queue, assigneeID: assignee.map(Agent.ID.init(rawValue:))),
                        at: Fixture.date(Double(index)), actor: .admin))
            }
            _ = try await store.updateTicket(made[3].id, TicketChange(status: .solved), at: Fixture.date(9), actor: .admin)
            func numbers(_ filter: TicketFilter, after cursor: PageCursor? = nil, limit: Int = 10) async throws -> [Int] {
                try await store.tickets(matching: filter, after: cursor, limit: limit).map(\.number.rawValue)
            }
            #expect(try await numbers(TicketFilter()) == [4, 3, 2, 1])
            #expect(try await numbers(TicketFilter(customerID: chat.customerID)) == [4, 2, 1])
            #expect(try await numbers(TicketFilter(customerID: chat.customerID, statuses: [.new, .open])) == [2, 1])
            #expect(try await numbers(TicketFilter(assigneeID: "bob")) == [4, 3])
            #expect(try await numbers(TicketFilter(queueIDs: ["billing"])) == [2])
            #expect(try await numbers(TicketFilter(queueIDs: [])) == [])
            let page = try await store.tickets(matching: TicketFilter(), after: nil, limit: 2)
            #expect(try await numbers(TicketFilter(), after: PageCursors.ticket(try #require(page.last)), limit: 2) == [2, 1])
            #expect(try await store.solvedTickets(solvedAtOrBefore: Fixture.date(9), limit: 10).map(\.id) == [made[3].id])
            #expect(try await store.solvedTickets(solvedAtOrBefore: Fixture.date(8), limit: 10).isEmpty)
        }
    }

    @Test("a customer's message context: the conversation, its customer's tickets linked to it, their pending tickets", arguments: StoreBackend.allCases)
    func customerMessageContext(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let chat = try await store.ingestOne(Fixture.inbound(providerID: "m1"))
            let other = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "m2"))
            let linked = try await store.createTicket(
                TicketDraft(subject: "Linked", customerID: chat.customerID, conversationIDs: [chat.conversationID]), at: Fixture.date(1), actor: .admin)
            var pending: [Ticket] = []
            for index in 0..<2 {
                let ticket = try await store.createTicket(
                    TicketDraft(subject: "Waiting \(index)", customerID: chat.customerID), at: Fixture.date(2), actor: .admin)
                pending.append(try await store.updateTicket(ticket.id, TicketChange(status: .pending), at: Fixture.date(3), actor: .admin))
            }
            let theirs = try await store.createTicket(TicketDraft(subject: "Theirs", customerID: other.customerID), at: Fixture.date(4), actor: .admin)
            _ = try await store.updateTicket(theirs.id, TicketChange(status: .pending), at: Fixture.date(5), actor: .admin)

            let context = try #require(try await store.customerMessageContext(chat.conversationID, pendingLimit: 5))
            #expect(context.conversation == (try await store.conversation(chat.conversationID)))
            #expect(context.linkedTickets == [try await store.ticket(linked.id)])
            #expect(context.pendingTickets.map(\.id) == [pending[1].id, pending[0].id])
            #expect(try await store.customerMessageContext(chat.conversationID, pendingLimit: 1)?.pendingTickets.map(\.id) == [pending[1].id])
            let theirContext = try #require(try await store.customerMessageContext(other.conversationID, pendingLimit: 5))
            #expect(theirContext.linkedTickets.isEmpty && theirContext.pendingTickets.map(\.id) == [theirs.id])
            #expect(try await store.customerMessageContext("conv_missing", pendingLimit: 5) == nil)
        }
    }

    @Test(
        "a new customer's tickets: none, then the ones created for them; merges and unmerges move them along",
        arguments: StoreBackend.allCases)
    func newCustomersTickets(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await store.ingestOne(Fixture.inbound(from: "user-a", providerID: "a1"))
            let b = try await store.ingestOne(Fixture.inbound(from: "user-b", providerID: "b1"))
            #expect(a.customerCreated && b.customerCreated)
            #expect(try await store.tickets(linkedTo: a.conversationID, of: a.customerID).isEmpty)
            #expect(try await store.customerMessageContext(a.conversationID, pendingLimit: 5)?.pendingTickets.isEmpty == true)
            // A ticket for b: seen at once, by both reads.
            let ticket = try await store.createTicket(
                TicketDraft(subject: "Waiting", customerID: b.customerID, conversationIDs: [b.conversationID]), at: Fixture.date(1), actor: .admin)
            _ = try await store.updateTicket(ticket.id, TicketChange(status: .pending), at: Fixture.date(2), actor: .admin)
            #expect(try await store.tickets(linkedTo: b.conversationID, of: b.customerID).map(\.id) == [ticket.id])
            #expect(try await store.tickets(linkedTo: b.conversationID, of: a.customerID).isEmpty)
            let context = try #require(try await store.customerMessageContext(b.conversationID, pendingLimit: 5))
            #expect(context.linkedTickets.map(\.id) == [ticket.id] && context.pendingTickets.map(\.id) == [ticket.id])
            // b merged into a: the ticket is a's now, and a's reads say so.
            _ = try await store.mergeCustomers(survivorID: a.customerID, mergedID: b.customerID, mergeID: .generate(), at: Fixture.date(3), actor: .admin)
            #expect(try await store.tickets(linkedTo: b.conversationID, of: a.customerID).map(\.id) == [ticket.id])
            #expect(try await store.customerMessageContext(a.conversationID, pendingLimit: 5)?.pendingTickets.map(\.id) == [ticket.id])
            // A customer created after the merge has none; unmerged, b has its ticket back.
            let c = try await store.ingestOne(Fixture.inbound(from: "user-c", providerID: "c1"))
            #expect(try await store.customerMessageContext(c.conversationID, pendingLimit: 5)?.pendingTickets.isEmpty == true)
            _ = try await store.unmergeCustomer(b.customerID, at: Fixture.date(4), actor: .admin)
            #expect(try await store.tickets(linkedTo: b.conversationID, of: b.customerID).map(\.id) == [ticket.id])
            #expect(try await store.customerMessageContext(b.conversationID, pendingLimit: 5)?.pendingTickets.map(\.id) == [ticket.id])
            #expect(try await store.customerMessageContext(a.conversationID, pendingLimit: 5)?.pendingTickets.isEmpty == true)
        }
    }

    @Test("a reader's position in the log is saved and read back", arguments: StoreBackend.allCases)
    func readerPosition(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            #expect(try await store.readerPosition("tickets") == nil)
            try await store.setReaderPosition("tickets", to: 42)
            try await store.setReaderPosition("other", to: 7)
            try await store.setReaderPosition("tickets", to: 43)
            #expect(try await store.readerPosition("tickets") == 43)
            #expect(try await store.readerPosition("other") == 7)
        }
    }
}
