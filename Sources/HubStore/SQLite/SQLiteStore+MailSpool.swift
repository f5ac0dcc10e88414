import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func spoolMails(_ mails: [NewSpooledMail], completion: @escaping @Sendable (Result<[Int64], StoreError>) -> Void) {
        // Straight onto the writer's queue and back by callback: no task, no continuation.
        write(
            { db, _ in
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO mail_spool
                            (receivedAt, heloName, mailFrom, recipients, remoteAddress, remotePort, usedTLS, parameters, message)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                var ids: [Int64] = []
                ids.reserveCapacity(mails.count)
                for mail in mails {
                    let envelope = mail.envelope
                    try insert.execute(arguments: [
                        mail.receivedAt.millisecondsSince1970, envelope.heloName, envelope.mailFrom,
                        envelope.recipients.joined(separator: "\n"), envelope.remoteAddress, envelope.remotePort, envelope.usedTLS,
                        Self.spoolParameters(envelope.parameters), Data(mail.message),
                    ])
                    ids.append(db.lastInsertedRowID)
                }
                return ids
            },
            completion: { result in
                completion(result.mapError { ($0 as? StoreError) ?? StoreError(.unavailable, "the spool could not commit: \($0)") })
            })
    }

    public func spooledMails(dueAt now: Date, limit: Int) async throws -> [SpooledMail] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM mail_spool WHERE nextAttemptAt <= ? ORDER BY id LIMIT ?",
                arguments: [now.millisecondsSince1970, limit]
            ).map { row in
                let recipients = row["recipients"] as String
                return SpooledMail(
                    id: row["id"], receivedAt: SQLiteRows.requiredDate(row, "receivedAt"),
                    envelope: SpooledEnvelope(
                        heloName: row["heloName"], mailFrom: row["mailFrom"],
                        recipients: recipients.isEmpty ? [] : recipients.split(separator: "\n").map(String.init),
                        remoteAddress: row["remoteAddress"], remotePort: row["remotePort"], usedTLS: row["usedTLS"],
                        parameters: Self.spoolParameters(row["parameters"] as String)),
                    message: [UInt8](row["message"] as Data), attempts: row["attempts"], lastError: row["lastError"])
            }
        }
    }

    public func removeSpooledMails(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await write { db, _ in
            let delete = try db.cachedStatement(sql: "DELETE FROM mail_spool WHERE id = ?")
            for id in ids { try delete.execute(arguments: [id]) }
        }
    }

    public func deferSpooledMail(_ id: Int64, until: Date, error: String) async throws {
        try await write { db, _ in
            try db.execute(
                sql: "UPDATE mail_spool SET attempts = attempts + 1, nextAttemptAt = ?, lastError = ? WHERE id = ?",
                arguments: [until.millisecondsSince1970, String(error.prefix(1_000)), id])
        }
    }

    public func mailSpoolSummary() async throws -> MailSpoolSummary {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS waiting, COALESCE(SUM(attempts > 0), 0) AS deferred, MIN(receivedAt) AS oldest,
                        MIN(CASE WHEN attempts > 0 THEN nextAttemptAt END) AS nextAttempt
                    FROM mail_spool
                    """)
            return MailSpoolSummary(
                waiting: row?["waiting"] ?? 0, deferred: row?["deferred"] ?? 0,
                oldestReceivedAt: row.flatMap { SQLiteRows.date($0, "oldest") }, nextAttemptAt: row.flatMap { SQLiteRows.date($0, "nextAttempt") })
        }
    }

    /// `KEY=value` lines (SMTP parameters hold neither line breaks nor `=` in their keys).
    static func spoolParameters(_ parameters: [String: String]) -> String {
        parameters.sorted { $0.key < $1.key }.map { $0.value.isEmpty ? $0.key : "\($0.key)=\($0.value)" }.joined(separator: "\n")
    }

    static func spoolParameters(_ text: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if let equals = line.firstIndex(of: "=") {
                parameters[String(line[..<equals])] = String(line[line.index(after: equals)...])
            } else {
                parameters[String(line)] = ""
            }
        }
        return parameters
    }
}
