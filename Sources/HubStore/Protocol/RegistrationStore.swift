/// One registered contact of an agent's SIP phone, as kept across restarts (RFC 3261 §10.3: a
/// registrar's bindings outlive the process, as Kamailio's `usrloc` keeps them in its database),
/// so that a restart of the hub does not leave every phone unreachable until it registers again.
public struct PhoneBinding: Sendable, Hashable {
    public var agentID: String
    /// The address of record the phone registered for, and a fingerprint of the credentials it
    /// registered with: a binding is restored only while the agent's phone is still configured
    /// with both (a password changed after a compromise drops it).
    public var addressOfRecord: String
    public var credential: String
    public var contact: String
    /// Milliseconds since the epoch.
    public var expiresAt: Int64
    public var callID: String
    public var cseq: UInt32
    /// Where the REGISTER came from (UDP): calls go there.
    public var host: String
    public var port: Int
    public var userAgent: String?

    public init(
        agentID: String, addressOfRecord: String, credential: String, contact: String, expiresAt: Int64, callID: String, cseq: UInt32, host: String,
        port: Int, userAgent: String?
    ) {
        self.agentID = agentID
        self.addressOfRecord = addressOfRecord
        self.credential = credential
        self.contact = contact
        self.expiresAt = expiresAt
        self.callID = callID
        self.cseq = cseq
        self.host = host
        self.port = port
        self.userAgent = userAgent
    }
}

/// The registrar's bindings.
public protocol RegistrationStore: Sendable {
    /// Replaces each agent's bindings with those given (none deletes them), in one transaction.
    func replacePhoneBindings(_ bindings: [String: [PhoneBinding]]) async throws
    /// The bindings that have not expired at `now` (milliseconds since the epoch), by agent and
    /// contact; the expired ones are deleted.
    func phoneBindings(unexpiredAt now: Int64) async throws -> [PhoneBinding]
}
