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
            var batch = CallBatch()
            for change in changes {
                // A change whose call or conversation is missing is refused before it writes
                // anything (no savepoint to roll back: three statements fewer per change).
                do {
                    let conversationID = change.record.conversationID
                    if change.closesConversation, !change.isNew, try Self.customer(of: conversationID, batch: &batch, db) == nil {
                        throw StoreError.notFound("no conversation \(conversationID)")
                    }
                    let saved: CallBatch.Saved?
                    if change.isNew {
                        try Self.insertCall(change.record, actor: change.actor, db, &events)
                        saved = CallBatch.Saved(stored: change.record, latest: change.record)
                    } else {
                        saved = try Self.saveCall(change.record, actor: change.actor, batch: &batch, db, &events)
                    }
                    if change.closesConversation {
                        _ = try Self.change(
                            conversationID, ConversationChange(status: .closed), at: change.record.endedAt ?? Date(), actor: change.actor, db, &events)
                    }
                    if let saved { batch.calls[change.record.id] = saved }
                } catch let error as StoreError where error.code == .notFound {
                    missing.append(error)
                }
            }
            for saved in batch.calls.values where saved.latest != saved.stored {
                try Self.updateCall(saved.latest, from: saved.stored, db)
            }
            return missing
        }
    }

    /// What one `saveCalls` knows of the calls it changes: a call's row is read once and written
    /// once with its last state, however many of its changes (offered, answered, ended: a short
    /// call's all fall in one batch) there are; each change is still an event of its own.
    private struct CallBatch {
        struct Saved {
            /// The row as it is in the database.
            var stored: CallRecord
            /// The call after this batch's changes so far.
            var latest: CallRecord
        }

        var calls: [CallRecord.ID: Saved] = [:]
        var customers: [Conversation.ID: Customer.ID?] = [:]
    }

    /// `customerID`: the conversation's customer when the caller knows it (the conversation is
    /// then not read again); else the conversation must exist. `assignee`: the conversation's
    /// assignee when the caller knows it (nil when it does not).
    static func insertCall(
        _ call: CallRecord, customerID: Customer.ID? = nil, assignee: Agent.ID?? = nil, actor: Actor, _ db: Database, _ events: inout EventWriter
    ) throws {
        let customer: Customer.ID
        var assignee = assignee
        if let customerID {
            customer = customerID
        } else {
            guard let conversation = try SQLiteWrites.conversation(call.conversationID, db, json: events.json) else {
                throw StoreError.notFound("no conversation \(call.conversationID)")
            }
            customer = conversation.customerID
            assignee = .some(conversation.assigneeID)
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO call (id, conversationID, direction, fromAddress, toAddress, state, sipCallID, agentID, startedAt,
                    queuedAt, offeredAt, answeredAt, endedAt, hangupCause, hungUpBy, recordingReference)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).run(Self.callArguments(call))
        try events.append(
            .callCreated, at: call.startedAt, actor: actor,
            refs: EventRefs(customerID: customer, conversationID: call.conversationID, callID: call.id, agentID: call.agentID ?? assignee ?? nil),
            assigneeKnown: call.agentID != nil || assignee != nil, payload: call)
    }

    /// The change's event; the row itself is written at the end of the batch (`updateCall`).
    /// Returns the call's state for the batch, nil when the change changed nothing.
    private static func saveCall(_ call: CallRecord, actor: Actor, batch: inout CallBatch, _ db: Database, _ events: inout EventWriter) throws
        -> CallBatch.Saved?
    {
        var saved: CallBatch.Saved
        if let known = batch.calls[call.id] {
            saved = known
        } else {
            guard
                let stored = try db.cachedStatement(sql: "SELECT * FROM call WHERE id = ?")
                    .fetchOne(binding: { $0.bind(call.id.rawValue) }, SQLiteRows.call)
            else {
                throw StoreError.notFound("no call \(call.id)")
            }
            saved = CallBatch.Saved(stored: stored, latest: stored)
        }
        guard saved.latest != call else { return nil }
        saved.latest = call
        let customerID = try customer(of: call.conversationID, batch: &batch, db)
        try events.append(
            .callUpdated, at: call.endedAt ?? call.answeredAt ?? call.offeredAt ?? call.queuedAt ?? call.startedAt, actor: actor,
            refs: EventRefs(customerID: customerID, conversationID: call.conversationID, callID: call.id, agentID: call.agentID),
            payload: call)
        return saved
    }

    /// The conversation's customer, read once per batch; nil when there is no such conversation.
    private static func customer(of conversationID: Conversation.ID, batch: inout CallBatch, _ db: Database) throws -> Customer.ID? {
        if let known = batch.customers[conversationID] { return known }
        let customerID = try db.cachedStatement(sql: "SELECT customerID FROM conversation WHERE id = ?")
            .fetchOne(binding: { $0.bind(conversationID.rawValue) }) { Customer.ID(try $0.requiredText(at: 0, "conversation customerID")) }
        batch.customers[conversationID] = customerID
        return customerID
    }

    /// Writes the columns of `call` that differ from `stored`: SQLite rewrites the entries of every
    /// index whose columns an UPDATE sets, changed or not (a call's conversation and SIP Call-ID,
    /// both indexed, never change).
    private static func updateCall(_ call: CallRecord, from stored: CallRecord, _ db: Database) throws {
        let all = Self.callArguments(call)
        let before = Self.callArguments(stored)
        var columns: [String] = []
        var values: [SQLValue] = []
        for index in 1..<SQLiteRows.callColumns.count where all[index] != before[index] {
            columns.append(SQLiteRows.callColumns[index])
            values.append(all[index])
        }
        guard !columns.isEmpty else { return }
        values.append(.text(call.id.rawValue))
        // One cached statement per set of columns: a call's changes come in a few shapes.
        try db.cachedStatement(sql: "UPDATE call SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?")
            .run(values)
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

    /// The call's values in the table's column order (`SQLiteRows.callColumns`), its id first.
    private static func callArguments(_ call: CallRecord) -> [SQLValue] {
        [
            SQLValue(call.id.rawValue), SQLValue(call.conversationID.rawValue), SQLValue(call.direction.rawValue), SQLValue(call.from),
            SQLValue(call.to), SQLValue(call.state.rawValue), SQLValue(call.sipCallID), SQLValue(call.agentID?.rawValue),
            SQLValue(call.startedAt.millisecondsSince1970), SQLValue(call.queuedAt?.millisecondsSince1970),
            SQLValue(call.offeredAt?.millisecondsSince1970), SQLValue(call.answeredAt?.millisecondsSince1970),
            SQLValue(call.endedAt?.millisecondsSince1970), SQLValue(call.hangupCause), SQLValue(call.hungUpBy?.rawValue),
            SQLValue(call.recordingReference),
        ]
    }
}
