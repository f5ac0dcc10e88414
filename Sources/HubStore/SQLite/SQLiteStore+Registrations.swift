import GRDB

extension SQLiteStore {
    public func replacePhoneBindings(_ changes: [String: [PhoneBinding]]) async throws {
        try await write { db, _ in
            for (agentID, bindings) in changes {
                try db.execute(sql: "DELETE FROM phone_binding WHERE agentID = ?", arguments: [agentID])
                for binding in bindings where binding.agentID == agentID {
                    try db.execute(
                        sql: """
                            INSERT OR REPLACE INTO phone_binding
                                (agentID, contact, addressOfRecord, credential, expiresAt, callID, cseq, host, port, userAgent)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            agentID, binding.contact, binding.addressOfRecord, binding.credential, binding.expiresAt, binding.callID,
                            Int64(binding.cseq), binding.host, binding.port, binding.userAgent,
                        ])
                }
            }
        }
    }

    public func phoneBindings(unexpiredAt now: Int64) async throws -> [PhoneBinding] {
        try await write { db, _ in
            try db.execute(sql: "DELETE FROM phone_binding WHERE expiresAt <= ?", arguments: [now])
            return try Row.fetchAll(db, sql: "SELECT * FROM phone_binding ORDER BY agentID, contact").map { row in
                PhoneBinding(
                    agentID: row["agentID"], addressOfRecord: row["addressOfRecord"], credential: row["credential"], contact: row["contact"],
                    expiresAt: row["expiresAt"],
                    callID: row["callID"], cseq: UInt32(clamping: row["cseq"] as Int64), host: row["host"], port: row["port"],
                    userAgent: row["userAgent"])
            }
        }
    }
}
