import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func claimAttachmentFetches(now: Date, limit: Int, leaseUntil: Date) async throws -> [AttachmentFetch] {
        try await write { db, events in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE attachment_fetch SET state = 'fetching', attempts = attempts + 1, leaseUntil = :leaseUntil
                    WHERE (messageID, position) IN (
                        SELECT messageID, position FROM attachment_fetch
                        WHERE (state = 'pending' AND nextAttemptAt <= :now) OR (state = 'fetching' AND leaseUntil <= :now)
                        ORDER BY nextAttemptAt LIMIT :limit)
                    RETURNING messageID, position, channelAccountID, attempts
                    """,
                arguments: ["now": now.millisecondsSince1970, "leaseUntil": leaseUntil.millisecondsSince1970, "limit": limit])
            return try rows.compactMap { row -> AttachmentFetch? in
                let messageID = Message.ID(row["messageID"] as String)
                let position: Int = row["position"]
                guard let message = try SQLiteWrites.message(messageID, db, json: events.json), message.attachments.indices.contains(position)
                else {
                    try db.execute(
                        sql: "DELETE FROM attachment_fetch WHERE messageID = ? AND position = ?", arguments: [messageID.rawValue, position])
                    return nil
                }
                return AttachmentFetch(
                    messageID: messageID, position: position, channelAccountID: row["channelAccountID"],
                    attachment: message.attachments[position], attempts: row["attempts"])
            }
        }
    }

    public func recordAttachmentFetch(_ fetch: AttachmentFetch, outcome: AttachmentFetchOutcome, at date: Date) async throws {
        try await write { db, events in
            let key: StatementArguments = [fetch.messageID.rawValue, fetch.position]
            switch outcome {
            case .retry(let error, let retryAt):
                try db.execute(
                    sql: "UPDATE attachment_fetch SET state = 'pending', lastError = ?, nextAttemptAt = ?, leaseUntil = NULL WHERE messageID = ? AND position = ?",
                    arguments: [error, retryAt.millisecondsSince1970] + key)
                return
            case .stored, .refused:
                try db.execute(sql: "DELETE FROM attachment_fetch WHERE messageID = ? AND position = ?", arguments: key)
            }
            guard var message = try SQLiteWrites.message(fetch.messageID, db, json: events.json), message.attachments.indices.contains(fetch.position)
            else { return }
            var attachment = message.attachments[fetch.position]
            switch outcome {
            case .stored(let stored):
                attachment = stored
                attachment.status = .stored
            case .refused(let reason):
                attachment.status = .refused
                attachment.problem = reason
            case .retry: break
            }
            message.attachments[fetch.position] = attachment
            try db.execute(
                sql: "UPDATE message SET attachments = ? WHERE id = ?", arguments: [try events.json.text(message.attachments), message.id.rawValue])
            let customerID = try String.fetchOne(
                db, sql: "SELECT customerID FROM conversation WHERE id = ?", arguments: [message.conversationID.rawValue]
            ).map(Customer.ID.init(rawValue:))
            try events.append(
                .messageAttachment, at: date, actor: .channel(fetch.channelAccountID),
                refs: EventRefs(customerID: customerID, conversationID: message.conversationID, messageID: message.id),
                payload: AttachmentPayload(messageID: message.id, position: fetch.position, attachment: attachment))
        }
    }

    public func nextAttachmentFetchDue() async throws -> Date? {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(CASE WHEN state = 'fetching' THEN leaseUntil ELSE nextAttemptAt END) FROM attachment_fetch
                    WHERE state IN ('pending', 'fetching')
                    """
            ).map(Date.init(millisecondsSince1970:))
        }
    }
}
