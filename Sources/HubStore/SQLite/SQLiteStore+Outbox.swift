import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    /// Rows the worker may take: due (or with a lapsed lease) and not behind an unfinished earlier
    /// delivery with the same ordering key.
    private static let claimable = """
        ((o.state IN ('pending', 'failed') AND o.nextAttemptAt <= :now) OR (o.state = 'sending' AND o.leaseUntil <= :now))
        AND (o.orderingKey IS NULL OR NOT EXISTS (
            SELECT 1 FROM outbox p WHERE p.orderingKey = o.orderingKey AND p.seq < o.seq AND p.state IN ('pending', 'sending', 'failed')))
        """

    public func delivery(_ id: Delivery.ID) async throws -> Delivery? {
        try await read { db in try SQLiteWrites.delivery(id, db, json: JSONColumns()) }
    }

    public func claimDeliveries(now: Date, limit: Int, owner: String, leaseUntil: Date) async throws -> [Delivery] {
        try await claimDeliveries(now: now, limit: limit, owner: owner, leaseUntil: leaseUntil, excludingAccounts: [])
    }

    public func claimDeliveries(now: Date, limit: Int, owner: String, leaseUntil: Date, excludingAccounts: Set<String>) async throws
        -> [Delivery]
    {
        let excluded = excludingAccounts.sorted()
        let exclusion = excluded.isEmpty ? "" : " AND o.channelAccountID NOT IN (\(excluded.indices.map { ":x\($0)" }.joined(separator: ", ")))"
        var values: [String: (any DatabaseValueConvertible)?] = [
            "now": now.millisecondsSince1970, "owner": owner, "leaseUntil": leaseUntil.millisecondsSince1970, "limit": limit,
        ]
        for (index, account) in excluded.enumerated() { values["x\(index)"] = account }
        let arguments = StatementArguments(values)
        return try await write { db, events in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE outbox SET state = 'sending', attempts = attempts + 1, leaseOwner = :owner, leaseUntil = :leaseUntil,
                        updatedAt = :now
                    WHERE seq IN (SELECT o.seq FROM outbox o WHERE \(Self.claimable)\(exclusion) ORDER BY o.nextAttemptAt, o.seq LIMIT :limit)
                    RETURNING *
                    """,
                arguments: arguments)
            return try rows.sorted { ($0["seq"] as Int64) < ($1["seq"] as Int64) }.map { try SQLiteRows.delivery($0, json: events.json) }
        }
    }

    public func deferDeliveries(_ ids: [Delivery.ID], owner: String, until: Date, at date: Date) async throws {
        guard !ids.isEmpty else { return }
        try await write { db, _ in
            // Back to the state before the claim: pending if it had never been tried, else failed.
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE outbox SET state = CASE WHEN attempts <= 1 THEN 'pending' ELSE 'failed' END, attempts = MAX(attempts - 1, 0),
                        nextAttemptAt = ?, leaseOwner = NULL, leaseUntil = NULL, updatedAt = ?
                    WHERE id = ? AND state = 'sending' AND leaseOwner = ?
                    """)
            for id in ids {
                try statement.execute(arguments: [until.millisecondsSince1970, date.millisecondsSince1970, id.rawValue, owner])
            }
        }
    }

    public func recordDeliveryResult(_ id: Delivery.ID, owner: String, result: DeliveryAttemptResult, at date: Date) async throws
        -> Delivery
    {
        try await write { db, events in
            let json = events.json
            guard var delivery = try SQLiteWrites.delivery(id, db, json: json) else { throw StoreError.notFound("no delivery \(id)") }
            let leaseOwner = try String.fetchOne(db, sql: "SELECT leaseOwner FROM outbox WHERE id = ?", arguments: [id.rawValue])
            // Final states never change again. A failure reported by a worker that lost its lease
            // is stale (another attempt owns the row now); an acceptance is a fact and is kept.
            if delivery.state == .sent || delivery.state == .dead { return delivery }
            if case .sent = result {} else if delivery.state != .sending || leaseOwner != owner { return delivery }

            var message = try delivery.messageID.flatMap { try SQLiteWrites.message($0, db, json: json) }
            let customerID = try delivery.conversationID.flatMap {
                try String.fetchOne(db, sql: "SELECT customerID FROM conversation WHERE id = ?", arguments: [$0.rawValue])
            }.map(Customer.ID.init(rawValue:))
            let refs = EventRefs(
                customerID: customerID, conversationID: delivery.conversationID, messageID: delivery.messageID, deliveryID: delivery.id)
            var payload = DeliveryAttemptPayload(deliveryID: id, attempt: delivery.attempts, outcome: "", error: nil)
            var newStatus: DeliveryStatus?

            switch result {
            case .sent(let providerMessageID):
                delivery.state = .sent
                delivery.providerMessageID = providerMessageID
                delivery.sentAt = date
                delivery.lastError = nil
                payload.outcome = "sent"
                payload.providerMessageID = providerMessageID
                if var current = message {
                    // A provider that answers two messages with one id (an integration's bug) must
                    // not wedge the second delivery: the id stays with the first message only.
                    let taken = try providerMessageID.map { id in
                        try Bool.fetchOne(
                            db,
                            sql: """
                                SELECT EXISTS(SELECT 1 FROM message WHERE channelAccountID = ? AND direction = 'outbound'
                                    AND providerMessageID = ? AND id != ?)
                                """,
                            arguments: [current.channelAccountID, id, current.id.rawValue]) ?? false
                    } ?? false
                    if !taken { current.providerMessageID = providerMessageID ?? current.providerMessageID }
                    current.sentAt = date
                    // Only from queued: a provider's report (failed, delivered) that overtook the
                    // answer to the send request is newer news than "sent".
                    if (current.deliveryStatus ?? .queued) == .queued { newStatus = .sent }
                    message = current
                }
            case .retry(let error, let retryAt):
                delivery.state = .failed
                delivery.lastError = error
                delivery.nextAttemptAt = retryAt
                payload.outcome = "retry"
                payload.error = error
                payload.nextAttemptAt = retryAt
            case .dead(let error):
                delivery.state = .dead
                delivery.lastError = error
                payload.outcome = "dead"
                payload.error = error
                if var current = message, (current.deliveryStatus ?? .queued).canAdvance(to: .failed) {
                    current.deliveryError = error
                    newStatus = .failed
                    message = current
                }
            }
            delivery.updatedAt = date
            try db.execute(
                sql: """
                    UPDATE outbox SET state = ?, lastError = ?, nextAttemptAt = ?, providerMessageID = ?, sentAt = ?, updatedAt = ?,
                        leaseOwner = NULL, leaseUntil = NULL
                    WHERE id = ?
                    """,
                arguments: [
                    delivery.state.rawValue, delivery.lastError, delivery.nextAttemptAt.millisecondsSince1970, delivery.providerMessageID,
                    delivery.sentAt?.millisecondsSince1970, date.millisecondsSince1970, id.rawValue,
                ])
            try events.append(.deliveryAttempted, at: date, actor: .channel(delivery.channelAccountID), refs: refs, payload: payload)
            if delivery.state == .dead {
                try events.append(.deliveryDead, at: date, actor: .channel(delivery.channelAccountID), refs: refs, payload: payload)
            }
            if var message {
                let previous = message.deliveryStatus ?? .queued
                if let newStatus { message.deliveryStatus = newStatus }
                try SQLiteWrites.updateDelivery(of: message, db)
                if let newStatus {
                    try events.append(
                        .messageStatusChanged, at: date, actor: .channel(delivery.channelAccountID), refs: refs,
                        payload: MessageStatusPayload(
                            messageID: message.id, status: newStatus, previous: previous, error: message.deliveryError,
                            providerMessageID: message.providerMessageID))
                }
                if case .sent(let providerID?) = result, message.providerMessageID == providerID {
                    try Self.applyEarlyStatuses(
                        account: delivery.channelAccountID, providerMessageID: providerID, to: &message, customerID: customerID, at: date, db, &events)
                }
            }
            return delivery
        }
    }

    public func recoverInterruptedDeliveries(now: Date) async throws -> [Delivery] {
        try await write { db, events in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE outbox SET state = 'failed', leaseOwner = NULL, leaseUntil = NULL, nextAttemptAt = ?, updatedAt = ?,
                        lastError = 'interrupted: the hub stopped during this attempt'
                    WHERE state = 'sending'
                    RETURNING *
                    """,
                arguments: [now.millisecondsSince1970, now.millisecondsSince1970])
            let deliveries = try rows.sorted { ($0["seq"] as Int64) < ($1["seq"] as Int64) }.map { try SQLiteRows.delivery($0, json: events.json) }
            for delivery in deliveries {
                try events.append(
                    .deliveryRecovered, at: now, actor: .system,
                    refs: EventRefs(conversationID: delivery.conversationID, messageID: delivery.messageID, deliveryID: delivery.id),
                    payload: DeliveryRecoveredPayload(deliveryID: delivery.id, attempts: delivery.attempts))
            }
            return deliveries
        }
    }

    public func nextDeliveryDue() async throws -> Date? {
        try await read { db in
            let due = try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(CASE WHEN o.state = 'sending' THEN o.leaseUntil ELSE o.nextAttemptAt END) FROM outbox o
                    WHERE o.state IN ('pending', 'failed', 'sending')
                    AND (o.orderingKey IS NULL OR NOT EXISTS (
                        SELECT 1 FROM outbox p WHERE p.orderingKey = o.orderingKey AND p.seq < o.seq
                        AND p.state IN ('pending', 'sending', 'failed')))
                    """)
            return due.map(Date.init(millisecondsSince1970:))
        }
    }

    public func deliveryCounts() async throws -> [DeliveryState: Int] {
        try await read { db in
            var counts: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state") {
                if let state = DeliveryState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }
}
