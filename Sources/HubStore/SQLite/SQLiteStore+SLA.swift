import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func slaTimers(of ticketID: Ticket.ID) async throws -> [SLATimer] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM sla_timer WHERE ticketID = ? ORDER BY metric"), arguments: [ticketID.rawValue]).map(Self.timer)
        }
    }

    public func replaceSLATimers(_ timers: [SLATimer], of ticketID: Ticket.ID) async throws {
        try await write { db, _ in
            try db.execute(sql: "DELETE FROM sla_timer WHERE ticketID = ?", arguments: [ticketID.rawValue])
            for timer in timers where timer.ticketID == ticketID {
                try db.execute(
                    sql: """
                        INSERT INTO sla_timer (ticketID, metric, policyID, target, elapsed, runningSince, dueAt, warnAt, warnedAt, breachedAt, fulfilledAt,
                            sequence)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        ticketID.rawValue, timer.metric.rawValue, timer.policyID, timer.target, timer.elapsed, timer.runningSince?.millisecondsSince1970,
                        timer.dueAt?.millisecondsSince1970, timer.warnAt?.millisecondsSince1970, timer.warnedAt?.millisecondsSince1970,
                        timer.breachedAt?.millisecondsSince1970, timer.fulfilledAt?.millisecondsSince1970, timer.sequence,
                    ])
            }
        }
    }

    public func dueSLATimers(at date: Date, limit: Int) async throws -> [SLATimer] {
        try await read { db in
            let millis = date.millisecondsSince1970
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM sla_timer WHERE runningSince IS NOT NULL AND warnedAt IS NULL AND warnAt <= ?
                    UNION
                    SELECT * FROM sla_timer WHERE runningSince IS NOT NULL AND breachedAt IS NULL AND dueAt <= ?
                    ORDER BY dueAt LIMIT ?
                    """,
                arguments: [millis, millis, limit]
            ).map(Self.timer)
        }
    }

    public func nextSLATimerDue() async throws -> Date? {
        try await read { db in
            let millis = try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(due) FROM (
                        SELECT MIN(warnAt) AS due FROM sla_timer WHERE runningSince IS NOT NULL AND warnedAt IS NULL
                        UNION ALL
                        SELECT MIN(dueAt) FROM sla_timer WHERE runningSince IS NOT NULL AND breachedAt IS NULL)
                    """)
            return millis.map(Date.init(millisecondsSince1970:))
        }
    }

    public func recordSLAAlert(_ timer: SLATimer, breach: Bool, raisePriority: Int, at date: Date, actor: Actor) async throws -> Bool {
        try await write { db, events in
            guard
                var current = try Row.fetchOne(
                    db, sql: "SELECT * FROM sla_timer WHERE ticketID = ? AND metric = ?", arguments: [timer.ticketID.rawValue, timer.metric.rawValue]
                ).map(Self.timer),
                current.runningSince != nil, current.dueAt == timer.dueAt, current.warnAt == timer.warnAt,
                breach ? current.breachedAt == nil : current.warnedAt == nil
            else { return false }
            guard let ticket = try Self.ticket(where: "id = ?", [timer.ticketID.rawValue], db) else { return false }
            var raised: [Conversation.ID] = []
            if breach {
                current.breachedAt = date
                // A breach comes with its warning, if the warning had no time of its own.
                current.warnedAt = current.warnedAt ?? date
                for conversationID in ticket.conversationIDs where raisePriority > 0 {
                    guard let conversation = try SQLiteWrites.conversation(conversationID, db, json: events.json),
                        conversation.status != .closed, conversation.queueID != nil, conversation.assigneeID == nil
                    else { continue }
                    _ = try Self.change(
                        conversationID, ConversationChange(priority: conversation.priority + raisePriority), at: date, actor: actor, db, &events)
                    raised.append(conversationID)
                }
            } else {
                current.warnedAt = date
            }
            try db.execute(
                sql: "UPDATE sla_timer SET warnedAt = ?, breachedAt = ? WHERE ticketID = ? AND metric = ?",
                arguments: [current.warnedAt?.millisecondsSince1970, current.breachedAt?.millisecondsSince1970, timer.ticketID.rawValue, timer.metric.rawValue])
            try events.append(
                breach ? .slaBreached : .slaWarning, at: date, actor: actor,
                refs: EventRefs(customerID: ticket.customerID, ticketID: ticket.id, agentID: ticket.assigneeID),
                payload: SLAAlertPayload(timer: current, ticketNumber: ticket.number, raised: raised))
            return true
        }
    }

    static func timer(_ row: Row) throws -> SLATimer {
        guard let metric = SLAMetric(rawValue: row["metric"]) else {
            throw StoreError.invalid("corrupt SLA metric \(String(describing: row["metric"]))")
        }
        return SLATimer(
            ticketID: Ticket.ID(row["ticketID"] as String), metric: metric, policyID: row["policyID"], target: row["target"], elapsed: row["elapsed"],
            runningSince: SQLiteRows.date(row, "runningSince"), dueAt: SQLiteRows.date(row, "dueAt"), warnAt: SQLiteRows.date(row, "warnAt"),
            warnedAt: SQLiteRows.date(row, "warnedAt"), breachedAt: SQLiteRows.date(row, "breachedAt"), fulfilledAt: SQLiteRows.date(row, "fulfilledAt"),
            sequence: row["sequence"])
    }
}
