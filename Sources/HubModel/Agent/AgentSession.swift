import Foundation

/// A logged-in agent's bearer token, as stored: only the token's SHA-256 digest is kept, so the
/// database alone cannot be used to act as anyone.
public struct AgentSession: Sendable, Hashable, Codable {
    /// Hex SHA-256 of the token.
    public var tokenDigest: String
    public var agentID: Agent.ID
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    /// Where the login came from (client address, user agent), for the audit trail.
    public var origin: String?

    public init(tokenDigest: String, agentID: Agent.ID, createdAt: Date, expiresAt: Date, revokedAt: Date? = nil, origin: String? = nil) {
        self.tokenDigest = tokenDigest
        self.agentID = agentID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.origin = origin
    }

    /// Usable at `date`: not revoked, not expired.
    public func isValid(at date: Date) -> Bool { revokedAt == nil && date < expiresAt }
}
