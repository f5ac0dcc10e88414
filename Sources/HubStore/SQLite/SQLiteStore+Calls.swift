import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func createCall(_ call: CallRecord, actor: Actor) async throws {
        if let missing = try await saveCalls([CallRecordChange(call, isNew: true, actor: actor)]).first { throw missing }
    }

    public func updateCall(_ call: CallRecord, actor: Actor) async throws {
        if let missing = try await saveCalls([CallRecordChange(call, isNew: false, actor: actor)]).first { throw missing }
    }

    public func saveCalls(_ changes: [CallRecordChange]) async throws -> [StoreError] {
        guard !changes.isEmpty else { return [] }
        return try await write { db, events in
            var missing: [StoreError] = []
            for change in changes {
                try db.cachedStatement(sql: "SAVEPOINT call_change").execute()
                let mark = events.mark
                do {
                    if change.isNew { try Self.insertCall(change.record, actor: change.actor, db, &events) } else {
                        try Self.saveCall(change.record, actor: change.actor, db, &events)
                    }
                    if change.closesConversation {
                        _ = try Self.change(
                            change.record.conversationID, ConversationChange(status: .closed), at: change.record.endedAt ?? Date(),
                            actor: change.actor, db, &events)
                    }
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT call_change").execute()
                } catch let error as StoreError where error.code == .notFound {
                    try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT call_change").execute()
                    events.rollBack(to: mark)
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT call_change").execute()
                    missing.append(error)
                }
            }
            return missing
        }
    }

    /// `customerID`: the conversation's customer when the caller knows it (the conversation is
    /// then not read again); else the conversation must exist.
    static func insertCall(_ call: CallRecord, customerID: Customer.ID? = nil, actor: Actor, _ db: Database, _ events: inout EventWriter) throws {
        let customer: Customer.ID
        if let customerID {
            customer = customerID
        } else {
            guard let conversation = try SQLiteWrites.conversation(call.conversationID, db, json: events.json) else {
                throw StoreError.notFound("no conversation \(call.conversationID)")
            }
            customer = conversation.customerID
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO call (id, conversationID, direction, fromAddress, toAddress, state, sipCallID, agentID, startedAt,
                    queuedAt, offeredAt, answeredAt, endedAt, hangupCause, hungUpBy, recordingReference)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: Self.callArguments(call, idFirst: true))
        try events.append(
            .callCreated, at: call.startedAt, actor: actor,
            refs: EventRefs(customerID: customer, conversationID: call.conversationID, callID: call.id, agentID: call.agentID),
            payload: call)
    }

    private static func saveCall(_ call: CallRecord, actor: Actor, _ db: Database, _ events: inout EventWriter) throws {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM call WHERE id = ?"), arguments: [call.id.rawValue]) else {
            throw StoreError.notFound("no call \(call.id)")
        }
        guard try SQLiteRows.call(row) != call else { return }
        try db.cachedStatement(
            sql: """
                UPDATE call SET conversationID = ?, direction = ?, fromAddress = ?, toAddress = ?, state = ?, sipCallID = ?,
                    agentID = ?, startedAt = ?, queuedAt = ?, offeredAt = ?, answeredAt = ?, endedAt = ?, hangupCause = ?,
                    hungUpBy = ?, recordingReference = ?
                WHERE id = ?
                """
        ).execute(arguments: Self.callArguments(call, idFirst: false))
        let customerID = try String.fetchOne(
            db.cachedStatement(sql: "SELECT customerID FROM conversation WHERE id = ?"), arguments: [call.conversationID.rawValue])
        try events.append(
            .callUpdated, at: call.endedAt ?? call.answeredAt ?? call.offeredAt ?? call.queuedAt ?? call.startedAt, actor: actor,
            refs: EventRefs(
                customerID: customerID.map(Customer.ID.init(rawValue:)), conversationID: call.conversationID, callID: call.id,
                agentID: call.agentID),
            payload: call)
    }

    public func call(_ id: CallRecord.ID) async throws -> CallRecord? {
        try await read { db in try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM call WHERE id = ?"), arguments: [id.rawValue]).map(SQLiteRows.call) }
    }

    public func calls(in conversationID: Conversation.ID) async throws -> [CallRecord] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM call WHERE conversationID = ? ORDER BY startedAt, id"), arguments: [conversationID.rawValue])
                .map(SQLiteRows.call)
        }
    }

    public func unfinishedCalls(limit: Int) async throws -> [CallRecord] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM call WHERE state != 'ended' ORDER BY startedAt, id LIMIT ?"), arguments: [limit]
            ).map(SQLiteRows.call)
        }
    }

    private static func callArguments(_ call: CallRecord, idFirst: Bool) -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            call.conversationID.rawValue, call.direction.rawValue, call.from, call.to, call.state.rawValue, call.sipCallID,
            call.agentID?.rawValue, call.startedAt.millisecondsSince1970, call.queuedAt?.millisecondsSince1970,
            call.offeredAt?.millisecondsSince1970, call.answeredAt?.millisecondsSince1970, call.endedAt?.millisecondsSince1970,
            call.hangupCause, call.hungUpBy?.rawValue, call.recordingReference,
        ]
        return StatementArguments(idFirst ? [call.id.rawValue] + values : values + [call.id.rawValue])
    }
}
