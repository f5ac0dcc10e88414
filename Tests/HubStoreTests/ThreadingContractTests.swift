import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: threads named by references, reply tokens and ticket numbers")
struct ThreadingContractTests {
    /// An e-mail from `from`, keyed by its own id unless it names a thread.
    static func mail(
        from: String = "li@example.test", id: String, text: String = "hello", hints: ThreadHints? = nil, thread: String? = nil,
        at seconds: Double = 0
    ) -> IngestCommand {
        var command = Fixture.inbound(account: "mail", kind: .email, from: from, providerID: id, text: text, thread: thread ?? id, at: seconds)
        command.event.thread = hints
        return command
    }

    @Test("a reply naming an earlier message by id joins its conversation; a new mail starts another", arguments: StoreBackend.allCases)
    func references(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Self.mail(id: "c1@example.test"))
            let other = try await store.ingestOne(Self.mail(id: "c2@example.test", at: 1))
            #expect(other.conversationID != first.conversationID, "a new mail is a new conversation")
            let reply = try await store.ingestOne(
                Self.mail(id: "c3@example.test", hints: ThreadHints(references: ["unknown@else", "c1@example.test"]), at: 2))
            #expect(reply.conversationID == first.conversationID)
            #expect(!reply.conversationCreated)
        }
    }

    @Test("an answer to the hub's own reply (its outbound id) joins the conversation", arguments: StoreBackend.allCases)
    func outboundReference(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Self.mail(id: "c1@example.test"))
            let handle = try #require(try await store.handles(of: first.customerID).first)
            var command = Fixture.outbound(conversation: first.conversationID, recipient: handle.key, account: "mail", key: "r1")
            command.delivery?.channelKind = .email
            let sent = try await store.enqueueOutbound(command)
            let delivery = try #require(sent.delivery)
            _ = try await store.claimDeliveries(now: Fixture.date(2), limit: 10, owner: "w", leaseUntil: Fixture.date(60))
            _ = try await store.recordDeliveryResult(delivery.id, owner: "w", result: .sent(providerMessageID: "msg_x@hub.test"), at: Fixture.date(3))
            #expect(
                try await store.threadReferences(in: first.conversationID, channelAccountID: "mail", limit: 10) == [
                    ThreadReference(providerMessageID: "c1@example.test", direction: .inbound),
                    ThreadReference(providerMessageID: "msg_x@hub.test", direction: .outbound),
                ])
            let answer = try await store.ingestOne(Self.mail(id: "c9@example.test", hints: ThreadHints(references: ["msg_x@hub.test"]), at: 4))
            #expect(answer.conversationID == first.conversationID)
        }
    }

    @Test("a reply-address token and a quoted ticket number lead to the customer's own thread", arguments: StoreBackend.allCases)
    func tokenAndTicket(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Self.mail(id: "c1@example.test"))
            let byToken = try await store.ingestOne(Self.mail(id: "c2@example.test", hints: ThreadHints(conversationID: first.conversationID), at: 1))
            #expect(byToken.conversationID == first.conversationID)

            let ticket = try await store.createTicket(
                TicketDraft(subject: "Refund", customerID: first.customerID, conversationIDs: [first.conversationID]), at: Fixture.date(2), actor: .admin)
            let byNumber = try await store.ingestOne(Self.mail(id: "c3@example.test", hints: ThreadHints(ticketNumber: ticket.number), at: 3))
            #expect(byNumber.conversationID == first.conversationID)
        }
    }

    @Test("a quoted ticket born on another channel gets a new conversation linked to it", arguments: StoreBackend.allCases)
    func ticketFromAnotherChannel(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let call = try await store.ingestOne(Fixture.inbound(account: "mail-voice", kind: .email, from: "li@example.test", providerID: "v1"))
            let ticket = try await store.createTicket(
                TicketDraft(subject: "Broken router", customerID: call.customerID, conversationIDs: [call.conversationID]), at: Fixture.date(1),
                actor: .admin)
            let mail = try await store.ingestOne(Self.mail(id: "c1@example.test", hints: ThreadHints(ticketNumber: ticket.number), at: 2))
            #expect(mail.conversationCreated)
            #expect(mail.customerID == call.customerID)
            let linked = try #require(try await store.ticket(ticket.id))
            #expect(linked.conversationIDs == [call.conversationID, mail.conversationID])
            let again = try await store.ingestOne(Self.mail(id: "c2@example.test", hints: ThreadHints(ticketNumber: ticket.number), at: 3))
            #expect(again.conversationID == mail.conversationID)
        }
    }

    @Test("hints pointing at another customer's conversation or ticket are ignored", arguments: StoreBackend.allCases)
    func othersThreadsIgnored(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let victim = try await store.ingestOne(Self.mail(from: "victim@example.test", id: "v1@example.test"))
            let ticket = try await store.createTicket(
                TicketDraft(subject: "Private", customerID: victim.customerID, conversationIDs: [victim.conversationID]), at: Fixture.date(1),
                actor: .admin)
            let attacker = try await store.ingestOne(
                Self.mail(
                    from: "attacker@example.test", id: "a1@example.test",
                    hints: ThreadHints(references: ["v1@example.test"], conversationID: victim.conversationID, ticketNumber: ticket.number), at: 2))
            #expect(attacker.conversationID != victim.conversationID)
            #expect(attacker.customerID != victim.customerID)
            #expect(try await store.messages(in: victim.conversationID, after: nil, limit: 10).map(\.providerMessageID) == ["v1@example.test"])
            #expect(try #require(try await store.ticket(ticket.id)).conversationIDs == [victim.conversationID])
        }
    }

    @Test("a ticket of the sender's that is linked to someone else's conversation does not lead there", arguments: StoreBackend.allCases)
    func ticketLinkedAcrossCustomers(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let other = try await store.ingestOne(Self.mail(from: "other@example.test", id: "o1@example.test"))
            let mine = try await store.ingestOne(Self.mail(from: "me@example.test", id: "m1@example.test", at: 1))
            let ticket = try await store.createTicket(TicketDraft(subject: "Mine", customerID: mine.customerID), at: Fixture.date(2), actor: .admin)
            // A link left across customers (as an unmerge can leave one).
            _ = try await store.linkConversation(other.conversationID, toTicket: ticket.id, at: Fixture.date(3), actor: .admin)
            let quoted = try await store.ingestOne(
                Self.mail(from: "me@example.test", id: "m2@example.test", hints: ThreadHints(ticketNumber: ticket.number), at: 4))
            #expect(quoted.conversationID != other.conversationID)
            #expect(try await store.messages(in: other.conversationID, after: nil, limit: 10).map(\.providerMessageID) == ["o1@example.test"])
        }
    }

    @Test("an answer to a closed thread opens a new conversation that keeps the thread's tickets", arguments: StoreBackend.allCases)
    func closedThread(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.ingestOne(Self.mail(id: "c1@example.test"))
            let ticket = try await store.createTicket(
                TicketDraft(subject: "Refund", customerID: first.customerID, conversationIDs: [first.conversationID]), at: Fixture.date(1), actor: .admin)
            _ = try await store.updateConversation(first.conversationID, ConversationChange(status: .closed), at: Fixture.date(2), actor: .admin)
            let later = try await store.ingestOne(Self.mail(id: "c2@example.test", hints: ThreadHints(references: ["c1@example.test"]), at: 3))
            #expect(later.conversationCreated)
            let conversation = try #require(try await store.conversation(later.conversationID))
            #expect(conversation.threadKey == "c1@example.test", "the new conversation continues the thread")
            #expect(try #require(try await store.ticket(ticket.id)).conversationIDs == [first.conversationID, later.conversationID])
        }
    }
}
