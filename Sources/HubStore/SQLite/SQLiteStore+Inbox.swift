import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    // MARK: Logins and sessions

    public func agent(login: String) async throws -> Agent? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM agent WHERE login = ? COLLATE NOCASE", arguments: [login])
                .map { try SQLiteRows.agent($0, json: JSONColumns()) }
        }
    }

    public func passwordHash(of agentID: Agent.ID) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT passwordHash FROM agent_credential WHERE agentID = ?", arguments: [agentID.rawValue])
        }
    }

    public func setPasswordHash(_ hash: String, of agentID: Agent.ID, at date: Date, actor: Actor) async throws {
        try await write { db, events in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM agent WHERE id = ?", arguments: [agentID.rawValue]) != nil else {
                throw StoreError.notFound("no agent \(agentID)")
            }
            try db.execute(
                sql: """
                    INSERT INTO agent_credential (agentID, passwordHash, updatedAt) VALUES (?, ?, ?)
                    ON CONFLICT(agentID) DO UPDATE SET passwordHash = excluded.passwordHash, updatedAt = excluded.updatedAt
                    """,
                arguments: [agentID.rawValue, hash, date.millisecondsSince1970])
            try events.append(
                .agentPasswordSet, at: date, actor: actor, refs: EventRefs(agentID: agentID),
                payload: JSONValue.object(["agentId": .string(agentID.rawValue)]))
            let open = try String.fetchAll(
                db, sql: "SELECT tokenDigest FROM agent_session WHERE agentID = ? AND revokedAt IS NULL AND expiresAt > ?",
                arguments: [agentID.rawValue, date.millisecondsSince1970])
            for digest in open { try Self.end(digest, agentID: agentID, reason: "password changed", at: date, actor: actor, db, &events) }
        }
    }

    public func createSession(_ session: AgentSession, actor: Actor) async throws {
        try await write { db, events in
            try db.execute(
                sql: "INSERT INTO agent_session (tokenDigest, agentID, createdAt, expiresAt, origin) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    session.tokenDigest, session.agentID.rawValue, session.createdAt.millisecondsSince1970,
                    session.expiresAt.millisecondsSince1970, session.origin,
                ])
            try events.append(
                .agentSession, at: session.createdAt, actor: actor, refs: EventRefs(agentID: session.agentID),
                payload: JSONValue.object([
                    "agentId": .string(session.agentID.rawValue), "state": .string("started"),
                    "session": .string(String(session.tokenDigest.prefix(12))),
                    "expiresAt": .string(HubJSON.formatTimestamp(session.expiresAt)), "origin": session.origin.map(JSONValue.string) ?? .null,
                ]))
        }
    }

    public func session(tokenDigest: String) async throws -> AgentSession? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM agent_session WHERE tokenDigest = ?", arguments: [tokenDigest]).map { row in
                AgentSession(
                    tokenDigest: row["tokenDigest"], agentID: Agent.ID(row["agentID"] as String),
                    createdAt: Date(millisecondsSince1970: row["createdAt"]), expiresAt: Date(millisecondsSince1970: row["expiresAt"]),
                    revokedAt: (row["revokedAt"] as Int64?).map(Date.init(millisecondsSince1970:)), origin: row["origin"])
            }
        }
    }

    public func endSession(tokenDigest: String, at date: Date, actor: Actor) async throws -> Bool {
        try await write { db, events in
            guard
                let agent = try String.fetchOne(
                    db, sql: "SELECT agentID FROM agent_session WHERE tokenDigest = ? AND revokedAt IS NULL", arguments: [tokenDigest])
            else { return false }
            try Self.end(tokenDigest, agentID: Agent.ID(agent), reason: "logout", at: date, actor: actor, db, &events)
            return true
        }
    }

    private static func end(
        _ digest: String, agentID: Agent.ID, reason: String, at date: Date, actor: Actor, _ db: Database, _ events: inout EventWriter
    ) throws {
        try db.execute(sql: "UPDATE agent_session SET revokedAt = ? WHERE tokenDigest = ?", arguments: [date.millisecondsSince1970, digest])
        try events.append(
            .agentSession, at: date, actor: actor, refs: EventRefs(agentID: agentID),
            payload: JSONValue.object([
                "agentId": .string(agentID.rawValue), "state": .string("ended"), "session": .string(String(digest.prefix(12))),
                "reason": .string(reason),
            ]))
    }

    // MARK: The inbox

    public func activeConversations(of agentID: Agent.ID, after cursor: PageCursor?, limit: Int) async throws -> [Conversation] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM conversation WHERE assigneeID = ? AND status != 'closed'
                    AND (-COALESCE(lastMessageAt, updatedAt), id) > (?, ?)
                    ORDER BY COALESCE(lastMessageAt, updatedAt) DESC, id LIMIT ?
                    """,
                arguments: [agentID.rawValue, cursor.map { -$0.key } ?? Int64.min, cursor?.id ?? "", limit]
            ).map { try SQLiteRows.conversation($0, json: json) }
        }
    }

    public func wasAssigned(_ conversationID: Conversation.ID, to agentID: Agent.ID) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM conversation_agent WHERE conversationID = ? AND agentID = ?",
                arguments: [conversationID.rawValue, agentID.rawValue]) != nil
        }
    }

    public func hasServed(_ customerID: Customer.ID, agent agentID: Agent.ID, queues: [String]) async throws -> Bool {
        try await read { db in
            let served = try Bool.fetchOne(
                db,
                sql: """
                    SELECT 1 FROM conversation_agent ca JOIN conversation c ON c.id = ca.conversationID
                    WHERE c.customerID = ? AND ca.agentID = ? LIMIT 1
                    """,
                arguments: [customerID.rawValue, agentID.rawValue]) != nil
            guard !served, !queues.isEmpty else { return served }
            let marks = Array(repeating: "?", count: queues.count).joined(separator: ",")
            return try Bool.fetchOne(
                db, sql: "SELECT 1 FROM conversation WHERE customerID = ? AND queueID IN (\(marks)) LIMIT 1",
                arguments: StatementArguments([customerID.rawValue] + queues)) != nil
        }
    }

    public func recentEvents(customerID: Customer.ID, before: Int64?, limit: Int) async throws -> [HubEvent] {
        try await read { db in try Self.historyEvents(of: customerID, after: nil, before: before, limit: limit, db) }
    }

    @discardableResult
    public func recordEvent(_ kind: EventKind, refs: EventRefs, payload: JSONValue, at date: Date, actor: Actor) async throws -> Int64 {
        try await write { _, events in try events.append(kind, at: date, actor: actor, refs: refs, payload: payload) }
    }
}
