import Foundation
import HubModel

/// Who is asking: a logged-in agent (with their role, queues and rights) or the holder of the
/// admin token (an integration). Every read and command of the inbox is checked against it.
public struct Viewer: Sendable, Hashable {
    public var agentID: Agent.ID?
    public var role: AgentRole
    /// The queues the agent serves: they may read those queues' conversations and customers.
    public var queues: [String]
    /// May reveal masked phone numbers and e-mail addresses, one at a time (audited).
    public var canRevealContacts: Bool
    /// Contacts are shown masked (agents, supervisors and admins in the inbox); the admin token,
    /// used by integrations that must address customers, sees them in clear (and is audited).
    public var masksContacts: Bool
    /// The session the request came with (agents only), to end it at logout.
    public var sessionDigest: String?
    /// When that session expires.
    public var sessionExpiresAt: Date?

    public init(
        agentID: Agent.ID?, role: AgentRole, queues: [String], canRevealContacts: Bool, masksContacts: Bool, sessionDigest: String? = nil,
        sessionExpiresAt: Date? = nil
    ) {
        self.agentID = agentID
        self.role = role
        self.queues = queues
        self.canRevealContacts = canRevealContacts
        self.masksContacts = masksContacts
        self.sessionDigest = sessionDigest
        self.sessionExpiresAt = sessionExpiresAt
    }

    /// A logged-in agent.
    public static func agent(_ agent: Agent, session: AgentSession? = nil) -> Viewer {
        Viewer(
            agentID: agent.id, role: agent.role, queues: agent.queues.map(\.queueID), canRevealContacts: agent.canRevealContacts,
            masksContacts: true, sessionDigest: session?.tokenDigest, sessionExpiresAt: session?.expiresAt)
    }

    /// The holder of `HUB_ADMIN_TOKEN`.
    public static let integration = Viewer(agentID: nil, role: .admin, queues: [], canRevealContacts: true, masksContacts: false)

    /// Supervisors and admins read every conversation and customer.
    public var seesAll: Bool { role >= .supervisor }

    /// Who the event log names for this viewer's actions.
    public var actor: Actor { agentID.map(Actor.agent) ?? .admin }
}
