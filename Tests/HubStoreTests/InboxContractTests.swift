import Foundation
import HubModel
import HubStore
import Testing

@Suite("Store contract: logins, sessions, assignment history, audit")
struct InboxContractTests {
    static let alice = Agent(id: "alice", login: "Alice", name: "Alice", role: .supervisor, queues: [QueueMembership(queueID: "support")])
    static let bo = Agent(id: "bo", login: "bo", name: "Bo", queues: [QueueMembership(queueID: "billing")])

    @Test("a password hash is kept per agent; setting one ends the agent's open sessions", arguments: StoreBackend.allCases)
    func passwords(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.syncAgents([Self.alice, Self.bo], at: Fixture.date(0))
            #expect(try await store.agent(login: "ALICE")?.id == "alice")
            #expect(try await store.agent(login: "nobody") == nil)
            #expect(try await store.agent(login: "Alice")?.canRevealContacts == true)
            #expect(try await store.agent(login: "bo")?.canRevealContacts == false)
            #expect(try await store.passwordHash(of: "alice") == nil)
            try await store.setPasswordHash("$2b$04$first", of: "alice", at: Fixture.date(1), actor: .admin)
            let open = AgentSession(tokenDigest: "d1", agentID: "alice", createdAt: Fixture.date(2), expiresAt: Fixture.date(1000), origin: "127.0.0.1")
            try await store.createSession(open, actor: .agent("alice"))
            #expect(try await store.session(tokenDigest: "d1") == open)
            try await store.setPasswordHash("$2b$04$second", of: "alice", at: Fixture.date(3), actor: .agent("alice"))
            #expect(try await store.passwordHash(of: "alice") == "$2b$04$second")
            #expect(try await store.session(tokenDigest: "d1")?.revokedAt == Fixture.date(3))
            await #expect(throws: StoreError.self) { try await store.setPasswordHash("x", of: "ghost", at: Fixture.date(4), actor: .admin) }
            let kinds = try await store.eventKinds()
            #expect(kinds.filter { $0.hasPrefix("agent.password") || $0.hasPrefix("agent.session") }
                == ["agent.password", "agent.session", "agent.password", "agent.session"])
            // No password, no hash, anywhere in the log.
            let payloads = try await store.allEvents().map { "\($0.payload)" }.joined()
            #expect(!payloads.contains("$2b$"))
        }
    }

    @Test("a session ends once; expiry is the session's own", arguments: StoreBackend.allCases)
    func sessions(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.syncAgents([Self.bo], at: Fixture.date(0))
            let session = AgentSession(tokenDigest: "d2", agentID: "bo", createdAt: Fixture.date(1), expiresAt: Fixture.date(10))
            try await store.createSession(session, actor: .agent("bo"))
            #expect(session.isValid(at: Fixture.date(9)))
            #expect(!session.isValid(at: Fixture.date(10)))
            #expect(try await store.endSession(tokenDigest: "d2", at: Fixture.date(5), actor: .agent("bo")))
            #expect(try await store.endSession(tokenDigest: "d2", at: Fixture.date(6), actor: .agent("bo")) == false)
            #expect(try await store.endSession(tokenDigest: "unknown", at: Fixture.date(6), actor: .agent("bo")) == false)
            #expect(try await store.session(tokenDigest: "d2")?.isValid(at: Fixture.date(7)) == false)
        }
    }

    @Test("every agent a conversation was assigned to may read it; events of a conversation name its assignee", arguments: StoreBackend.allCases)
    func assignments(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.syncAgents([Self.alice, Self.bo], at: Fixture.date(0))
            let first = try await store.ingestOne(Fixture.inbound(providerID: "m1", at: 1))
            #expect(try await store.wasAssigned(first.conversationID, to: "bo") == false)
            #expect(try await store.hasServed(first.customerID, agent: "bo", queues: []) == false)
            _ = try await store.updateConversation(first.conversationID, ConversationChange(assigneeID: .some("bo")), at: Fixture.date(2), actor: .system)
            _ = try await store.ingestOne(Fixture.inbound(providerID: "m2", text: "still there?", at: 3))
            let moved = try await store.updateConversation(
                first.conversationID, ConversationChange(assigneeID: .some("alice")), at: Fixture.date(4), actor: .system)
            #expect(moved.assigneeID == "alice")
            #expect(try await store.wasAssigned(first.conversationID, to: "bo"))
            #expect(try await store.wasAssigned(first.conversationID, to: "alice"))
            #expect(try await store.hasServed(first.customerID, agent: "bo", queues: []))
            #expect(try await store.activeConversations(of: "alice", limit: 10).map(\.id) == [first.conversationID])
            #expect(try await store.activeConversations(of: "bo", limit: 10).isEmpty)

            let events = try await store.allEvents()
            let received = events.filter { $0.kind == .messageReceived }
            #expect(received.map(\.refs.agentID) == [nil, "bo"])
            let handover = try #require(events.last { $0.kind == .conversationUpdated })
            #expect(handover.refs.agentID == "alice")
            #expect(handover.payload["previousAssigneeId"]?.stringValue == "bo")

            // Another customer, never served by bo, but waiting in a queue bo serves.
            let other = try await store.ingestOne(Fixture.inbound(from: "user-2", providerID: "m3", at: 5))
            _ = try await store.updateConversation(other.conversationID, ConversationChange(queueID: .some("billing")), at: Fixture.date(6), actor: .system)
            #expect(try await store.hasServed(other.customerID, agent: "bo", queues: []) == false)
            #expect(try await store.hasServed(other.customerID, agent: "bo", queues: ["billing"]))
            #expect(try await store.hasServed(other.customerID, agent: "bo", queues: ["support"]) == false)
        }
    }

    @Test("a customer's recent events come newest-limited, oldest first; events without a record are appended", arguments: StoreBackend.allCases)
    func recentAndRecorded(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            var receipts: [IngestReceipt] = []
            for index in 0..<5 { receipts.append(try await store.ingestOne(Fixture.inbound(providerID: "r\(index)", text: "n\(index)", at: Double(index)))) }
            let customer = receipts[0].customerID
            let all = try await store.events(customerID: customer, after: 0, limit: 100)
            let recent = try await store.recentEvents(customerID: customer, before: nil, limit: 3)
            #expect(recent == Array(all.suffix(3)))
            let earlier = try await store.recentEvents(customerID: customer, before: recent[0].sequence, limit: 2)
            #expect(earlier == Array(all.dropLast(3).suffix(2)))
            let sequence = try await store.recordEvent(
                .auditProfileViewed, refs: EventRefs(customerID: customer, agentID: "bo"), payload: .object(["via": .string("test")]),
                at: Fixture.date(9), actor: .agent("bo"))
            let audit = try #require(try await store.events(after: sequence - 1, limit: 1).first)
            #expect(audit.kind == .auditProfileViewed)
            #expect(audit.actor == .agent("bo"))
            #expect(audit.payload["via"]?.stringValue == "test")
        }
    }
}
