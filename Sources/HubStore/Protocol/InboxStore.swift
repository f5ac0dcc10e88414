import Foundation
import HubModel

/// Agents' passwords and login sessions.
public protocol AuthStore: Sendable {
    /// The agent with this login (case-insensitive), active or not.
    func agent(login: String) async throws -> Agent?
    /// The agent's password hash (bcrypt), when a password was ever set.
    func passwordHash(of agentID: Agent.ID) async throws -> String?
    /// Sets the agent's password hash and ends every session of theirs (a changed password logs
    /// the agent out everywhere), with an `agent.password` event.
    /// - Throws: `notFound` for an unknown agent.
    func setPasswordHash(_ hash: String, of agentID: Agent.ID, at date: Date, actor: Actor) async throws
    /// Records a new session, with an `agent.session` event.
    func createSession(_ session: AgentSession, actor: Actor) async throws
    func session(tokenDigest: String) async throws -> AgentSession?
    /// Ends an open session (logout) with an `agent.session` event; false when it was not open.
    func endSession(tokenDigest: String, at date: Date, actor: Actor) async throws -> Bool
}

/// What the inbox reads and records beyond the other stores: who served whom, a customer's
/// recent history, and events that change no record (audit, dispositions).
public protocol InboxStore: Sendable {
    /// Conversations assigned to the agent now and not closed, most recent activity first, after
    /// `cursor` (see `PageCursors.activeConversation`), at most `limit`.
    func activeConversations(of agentID: Agent.ID, after cursor: PageCursor?, limit: Int) async throws -> [Conversation]
    /// Whether the conversation is, or ever was, assigned to the agent.
    func wasAssigned(_ conversationID: Conversation.ID, to agentID: Agent.ID) async throws -> Bool
    /// Whether some conversation of the customer is or was assigned to the agent, or belongs to
    /// one of `queues`.
    func hasServed(_ customerID: Customer.ID, agent agentID: Agent.ID, queues: [String]) async throws -> Bool
    /// The customer's newest events (with those of customers merged into it) before `before` (all
    /// when nil), at most `limit`, oldest first.
    func recentEvents(customerID: Customer.ID, before: Int64?, limit: Int) async throws -> [HubEvent]
    /// Appends an event that changes no record (an audit entry, a disposition); returns its
    /// sequence number.
    @discardableResult
    func recordEvent(_ kind: EventKind, refs: EventRefs, payload: JSONValue, at date: Date, actor: Actor) async throws -> Int64
}

extension InboxStore {
    /// The agent's newest conversations in hand.
    public func activeConversations(of agentID: Agent.ID, limit: Int) async throws -> [Conversation] {
        try await activeConversations(of: agentID, after: nil, limit: limit)
    }
}
