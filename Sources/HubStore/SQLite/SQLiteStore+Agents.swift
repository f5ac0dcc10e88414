import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func syncAgents(_ agents: [Agent], at date: Date) async throws -> Int {
        try await write { db, events in
            let json = events.json
            var stored: [String: Agent] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM agent") {
                let agent = try SQLiteRows.agent(row, json: json)
                stored[agent.id.rawValue] = agent
            }
            var changed = 0
            var configured = Set<String>()
            for agent in agents { configured.insert(agent.id.rawValue) }
            for (id, var agent) in stored where !configured.contains(id) && agent.active {
                agent.active = false
                try Self.save(agent, db, json: json, at: date)
                try events.append(.agentConfigured, at: date, actor: .system, refs: EventRefs(agentID: agent.id), payload: agent)
                changed += 1
            }
            for var agent in agents {
                agent.active = true
                guard stored[agent.id.rawValue] != agent else { continue }
                try Self.save(agent, db, json: json, at: date)
                try events.append(.agentConfigured, at: date, actor: .system, refs: EventRefs(agentID: agent.id), payload: agent)
                changed += 1
            }
            return changed
        }
    }

    private static func save(_ agent: Agent, _ db: Database, json: JSONColumns, at date: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO agent (id, login, name, role, email, sipAddress, skills, queues, capacity, active, revealContacts, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET login = excluded.login, name = excluded.name, role = excluded.role,
                    email = excluded.email, sipAddress = excluded.sipAddress, skills = excluded.skills, queues = excluded.queues,
                    capacity = excluded.capacity, active = excluded.active, revealContacts = excluded.revealContacts,
                    updatedAt = excluded.updatedAt
                """,
            arguments: [
                agent.id.rawValue, agent.login, agent.name, agent.role.rawValue, agent.email, agent.sipAddress, try json.text(agent.skills),
                try json.text(agent.queues), try json.text(agent.capacity), agent.active, agent.canRevealContacts, date.millisecondsSince1970,
            ])
    }

    public func agent(_ id: Agent.ID) async throws -> Agent? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM agent WHERE id = ?", arguments: [id.rawValue]).map { try SQLiteRows.agent($0, json: JSONColumns()) }
        }
    }

    public func agents() async throws -> [Agent] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(db, sql: "SELECT * FROM agent ORDER BY id").map { try SQLiteRows.agent($0, json: json) }
        }
    }
}
