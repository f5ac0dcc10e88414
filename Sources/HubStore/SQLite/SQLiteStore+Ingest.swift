import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func ingest(_ commands: [IngestCommand]) async throws -> [Result<IngestReceipt, StoreError>] {
        guard !commands.isEmpty else { return [] }
        // The fast path writes the batch as one plain transaction: in normal operation no command
        // fails (duplicates are answered, not inserted). If one does fail, that transaction rolls
        // back whole, and the batch is written again with a savepoint per command, so the failing
        // command fails alone and the others commit.
        do {
            return try await write { db, events in
                try commands.map { command in .success(try self.noteCreated(Self.ingestCommand(command, db, &events))) }
            }
        } catch let error as StoreError where error.code == .unavailable {
            throw error
        } catch let error as DatabaseError where Self.isDatabaseUnusable(error) {
            throw StoreError(.unavailable, "the database failed: \(error)")
        } catch {
            return try await ingestIsolated(commands)
        }
    }

    /// Writes each command in its own savepoint within one transaction.
    private func ingestIsolated(_ commands: [IngestCommand]) async throws -> [Result<IngestReceipt, StoreError>] {
        try await write { db, events in
            var results: [Result<IngestReceipt, StoreError>] = []
            results.reserveCapacity(commands.count)
            for command in commands {
                try db.cachedStatement(sql: "SAVEPOINT ingest_command").execute()
                let mark = events.mark
                do {
                    let receipt = try Self.ingestCommand(command, db, &events)
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT ingest_command").execute()
                    _ = self.noteCreated(receipt)
                    results.append(.success(receipt))
                } catch {
                    try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT ingest_command").execute()
                    events.rollBack(to: mark)
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT ingest_command").execute()
                    switch error {
                    case let error as StoreError: results.append(.failure(error))
                    case let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT:
                        results.append(.failure(.conflict(error.message ?? "constraint violated")))
                    case let error as DatabaseError where Self.isDatabaseUnusable(error): throw error
                    default: results.append(.failure(StoreError(.invalid, "\(error)")))
                    }
                }
            }
            return results
        }
    }

    /// A customer this ingest created has no ticket yet.
    private func noteCreated(_ receipt: IngestReceipt) -> IngestReceipt {
        if receipt.customerCreated { ticketless.created(receipt.customerID) }
        return receipt
    }

    /// The message, and the call it announces (if any) in its conversation.
    private static func ingestCommand(_ command: IngestCommand, _ db: Database, _ events: inout EventWriter) throws -> IngestReceipt {
        var assignee: Agent.ID?? = nil
        let receipt = try ingestOne(command, db, &events, assignee: &assignee)
        if var call = command.call, !receipt.duplicate {
            call.conversationID = receipt.conversationID
            try insertCall(call, customerID: receipt.customerID, assignee: assignee, actor: .channel(command.event.channelAccountID), db, &events)
        }
        return receipt
    }

    /// The receipt of the inbound message stored on the account under `providerID`, if any.
    static func storedInbound(_ providerID: String, accountID: String, _ db: Database) throws -> IngestReceipt? {
        // The plain look-up first: on the usual path (no such message) it is all there is.
        guard
            try db.cachedStatement(sql: "SELECT id FROM message WHERE channelAccountID = ? AND direction = 'inbound' AND providerMessageID = ?")
                .fetchOne(
                    binding: { row in
                        row.bind(accountID)
                        row.bind(providerID)
                    }, { _ in true }) != nil,
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT m.id, m.conversationID, c.customerID FROM message m JOIN conversation c ON c.id = m.conversationID
                        WHERE m.channelAccountID = ? AND m.direction = 'inbound' AND m.providerMessageID = ?
                        """),
                arguments: [accountID, providerID])
        else { return nil }
        return IngestReceipt(
            customerID: Customer.ID(row[2] as String), conversationID: Conversation.ID(row[1] as String),
            messageID: Message.ID(row[0] as String), duplicate: true, customerCreated: false, conversationCreated: false)
    }

    /// The id a message is kept under when another customer's message already has its provider
    /// id: the id, a space (which no Message-ID contains, so outbound threading never quotes
    /// it) and a stable hash of the sender (not the address itself: ids are shown to agents who
    /// may not see contacts).
    static func senderScopedID(_ providerID: String, _ sender: HandleAddress) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(sender.kind.rawValue)\u{0}\(sender.scope)\u{0}\(sender.address)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return providerID + " sender:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Errors that are about the database, not the command: the whole batch fails and nothing is stored.
    static func isDatabaseUnusable(_ error: DatabaseError) -> Bool {
        [.SQLITE_IOERR, .SQLITE_FULL, .SQLITE_CORRUPT, .SQLITE_CANTOPEN, .SQLITE_NOTADB, .SQLITE_READONLY, .SQLITE_BUSY, .SQLITE_NOMEM]
            .contains(error.resultCode)
    }

    /// `assignee`: the conversation's assignee once the message is in it, when this knows it
    /// without another read (nil when it does not).
    static func ingestOne(_ command: IngestCommand, _ db: Database, _ events: inout EventWriter, assignee: inout Agent.ID??) throws
        -> IngestReceipt
    {
        var event = command.event
        let json = events.json
        let at = command.receivedAt
        let actor = Actor.channel(event.channelAccountID)

        // A provider id already stored on the account is a retry, if it comes from the same
        // customer. From anyone else it is another message that reuses the id (a mailer that
        // writes the same Message-ID on every mail, an integrator's ids that restart, a forged
        // id): it is kept under an id of its own, scoped to its sender, never dropped.
        if let existing = try storedInbound(event.providerMessageID, accountID: event.channelAccountID, db) {
            let senderCustomer = try String.fetchOne(
                db.cachedStatement(sql: "SELECT customerID FROM handle WHERE kind = ? AND scope = ? AND address = ?"),
                arguments: [command.sender.kind.rawValue, command.sender.scope, command.sender.address])
            if senderCustomer == existing.customerID.rawValue { return existing }
            event.providerMessageID = senderScopedID(event.providerMessageID, command.sender)
            if let retry = try storedInbound(event.providerMessageID, accountID: event.channelAccountID, db) {
                // Its own retry; anything else under that id (a hash collision, an id written to
                // look like a scoped one) is someone else's, and this message gets its own id.
                if senderCustomer == retry.customerID.rawValue { return retry }
                event.providerMessageID += " message:" + command.messageID.rawValue
            }
        }

        // What the message refers to by reference, kept in its transaction (the same content
        // from another message is already there: content-addressed).
        for content in event.contents {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO content (reference, bytes, createdAt) VALUES (?, ?, ?)")
                .execute(arguments: [content.reference, Data(content.bytes), at.millisecondsSince1970])
        }

        // Identity: the customer who owns the sender's handle, or a new one. (Columns are read by
        // position on this path: it runs once per inbound message, inside the writer.)
        var customerCreated = false
        let customerID: Customer.ID
        let handleID: Handle.ID
        if let known = try db.cachedStatement(sql: "SELECT id, customerID FROM handle WHERE kind = ? AND scope = ? AND address = ?")
            .fetchOne(
                binding: { row in
                    row.bind(command.sender.kind.rawValue)
                    row.bind(command.sender.scope)
                    row.bind(command.sender.address)
                },
                { (Handle.ID(try $0.requiredText(at: 0, "handle id")), Customer.ID(try $0.requiredText(at: 1, "handle customerID"))) })
        {
            (handleID, customerID) = known
        } else {
            let customer = Customer(id: command.newCustomerID ?? .generate(at: at), name: event.sender.displayName, createdAt: at)
            let handle = Handle(
                id: command.newHandleID ?? .generate(at: at), customerID: customer.id, address: command.sender,
                displayName: event.sender.displayName, createdAt: at)
            try SQLiteWrites.insert(customer, db, json: json)
            try SQLiteWrites.insert(handle, db)
            try events.append(
                .customerCreated, at: at, actor: actor, refs: EventRefs(customerID: customer.id),
                payload: CustomerCreatedPayload(customer: customer, handles: [handle]))
            customerCreated = true
            customerID = customer.id
            handleID = handle.id
        }

        // The conversation the message says it continues (an e-mail reply), if it is the
        // sender's own; else the open conversation on this account and thread, or a new one.
        var threadKey = event.threadKey ?? ""
        var continuation: ThreadContinuation?
        if let hints = event.thread, !hints.isEmpty {
            continuation = try Self.continuation(of: hints, customerID: customerID, accountID: event.channelAccountID, db)
            if let continuation { threadKey = continuation.threadKey }
        }
        var conversationCreated = false
        let conversationID: Conversation.ID
        typealias Open = (id: String, status: String, handleID: String?, assigneeID: String?)
        func open(_ row: SQLColumns) throws -> Open {
            (try row.requiredText(at: 0, "conversation id"), try row.requiredText(at: 1, "conversation status"), row.text(at: 2), row.text(at: 3))
        }
        let openRow: Open?
        if let continuation, continuation.isOpen, let continued = continuation.conversationID {
            openRow = try db.cachedStatement(sql: "SELECT id, status, handleID, assigneeID FROM conversation WHERE id = ?")
                .fetchOne(binding: { $0.bind(continued.rawValue) }, open)
        } else {
            openRow = try db.cachedStatement(
                sql: """
                    SELECT id, status, handleID, assigneeID FROM conversation
                    WHERE customerID = ? AND channelAccountID = ? AND threadKey = ? AND status != 'closed'
                    ORDER BY createdAt DESC LIMIT 1
                    """
            ).fetchOne(
                binding: { row in
                    row.bind(customerID.rawValue)
                    row.bind(event.channelAccountID)
                    row.bind(threadKey)
                }, open)
        }
        if let row = openRow {
            conversationID = Conversation.ID(row.id)
            let status = row.status
            let currentHandle = row.handleID
            let reopens = status == ConversationStatus.pending.rawValue || status == ConversationStatus.snoozed.rawValue
            if reopens || currentHandle != handleID.rawValue || !event.attributes.isEmpty {
                try Self.updateConversation(
                    conversationID, reopening: reopens, handleID: handleID, attributes: event.attributes, at: at, actor: actor, db, &events)
            } else {
                // The common case: only the clocks move.
                try db.cachedStatement(sql: "UPDATE conversation SET lastMessageAt = ?, lastInboundAt = ?, updatedAt = ? WHERE id = ?")
                    .run([.integer(at.millisecondsSince1970), .integer(at.millisecondsSince1970), .integer(at.millisecondsSince1970), .text(conversationID.rawValue)])
                assignee = .some(row.assigneeID.map(Agent.ID.init(rawValue:)))
            }
        } else {
            let conversation = Conversation(
                id: command.newConversationID ?? .generate(at: at), customerID: customerID, handleID: handleID, channelKind: event.channelKind,
                channelAccountID: event.channelAccountID, threadKey: threadKey, queueID: command.queueID,
                priority: command.priority, subject: event.subject, attributes: event.attributes, createdAt: at,
                lastMessageAt: at, lastInboundAt: at)
            try SQLiteWrites.insert(conversation, db, json: json)
            try events.append(
                .conversationCreated, at: at, actor: actor,
                refs: EventRefs(customerID: customerID, conversationID: conversation.id, agentID: conversation.assigneeID), assigneeKnown: true,
                payload: conversation)
            assignee = .some(conversation.assigneeID)
            conversationCreated = true
            conversationID = conversation.id
            // A closed thread's tickets (or the ticket the customer quoted) follow the new conversation.
            for ticketID in continuation?.ticketIDs ?? [] {
                // A closed ticket is history: the customer's new mail is a new case.
                guard var ticket = try Self.ticket(where: "id = ?", [ticketID.rawValue], db), ticket.status != .closed else { continue }
                try Self.link(conversationID, to: &ticket, at: at, actor: actor, db, &events)
            }
        }

        // Providers' links expire: every attachment not already in the hub's store is fetched
        // later, from a row written with the message.
        var attachments = event.attachments
        for index in attachments.indices where !attachments[index].isStored { attachments[index].status = .pending }
        let message = Message(
            id: command.messageID, conversationID: conversationID, direction: .inbound, author: .customer, text: event.text,
            attachments: attachments, channelAccountID: event.channelAccountID, providerMessageID: event.providerMessageID,
            metadata: event.metadata, createdAt: at, sentAt: event.occurredAt)
        try SQLiteWrites.insert(message, db, json: json)
        for (position, attachment) in attachments.enumerated() where attachment.status == .pending {
            try db.cachedStatement(
                sql: """
                    INSERT INTO attachment_fetch (messageID, position, channelAccountID, state, nextAttemptAt) VALUES (?, ?, ?, 'pending', ?)
                    """
            ).execute(arguments: [message.id.rawValue, position, event.channelAccountID, at.millisecondsSince1970])
        }
        try events.append(
            .messageReceived, at: at, actor: actor,
            refs: EventRefs(customerID: customerID, conversationID: conversationID, messageID: message.id, agentID: assignee ?? nil),
            assigneeKnown: assignee != nil, payload: message)
        if let consent = event.consent {
            try Self.recordConsent(
                consent, handleID: handleID, kind: command.sender.kind, customerID: customerID, accountID: event.channelAccountID,
                message: message, at: at, db, &events)
        }
        return IngestReceipt(
            customerID: customerID, conversationID: conversationID, messageID: message.id, duplicate: false,
            customerCreated: customerCreated, conversationCreated: conversationCreated)
    }

    /// Where a message's thread hints lead: the conversation it continues, or (when that one is
    /// closed, or a quoted ticket has no conversation on the account) the thread and tickets a new
    /// conversation takes over.
    struct ThreadContinuation {
        /// The conversation found; nil when only a ticket was.
        var conversationID: Conversation.ID?
        var threadKey: String
        var isOpen: Bool
        var ticketIDs: [Ticket.ID]
    }

    /// Follows the hints in order of strength: a referenced message, the conversation named by
    /// the reply address, a quoted ticket number. Only the sender's own customer's conversations
    /// and tickets count.
    static func continuation(of hints: ThreadHints, customerID: Customer.ID, accountID: String, _ db: Database) throws -> ThreadContinuation? {
        func found(_ row: Row?) throws -> ThreadContinuation? {
            guard let row else { return nil }
            let id = Conversation.ID(row["id"] as String)
            let open = (row["status"] as String) != ConversationStatus.closed.rawValue
            // Only the customer's own tickets follow (a link to someone else's ticket, left by an
            // unmerge, must not carry this mail into it).
            let tickets = open ? [] : try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT tc.ticketID FROM ticket_conversation tc JOIN ticket t ON t.id = tc.ticketID
                        WHERE tc.conversationID = ? AND t.customerID = ?
                        """),
                arguments: [id.rawValue, customerID.rawValue]
            ).map(Ticket.ID.init(rawValue:))
            return ThreadContinuation(conversationID: id, threadKey: row["threadKey"], isOpen: open, ticketIDs: tickets)
        }
        let references = Array(hints.references.prefix(100))
        if !references.isEmpty {
            let marks = Array(repeating: "?", count: references.count).joined(separator: ", ")
            var arguments: StatementArguments = [accountID]
            arguments += StatementArguments(references)
            arguments += [customerID.rawValue]
            if let hit = try found(
                Row.fetchOne(
                    db,
                    sql: """
                        SELECT c.id, c.threadKey, c.status FROM message m JOIN conversation c ON c.id = m.conversationID
                        WHERE m.channelAccountID = ? AND m.direction IN ('inbound', 'outbound') AND m.providerMessageID IN (\(marks))
                          AND c.customerID = ?
                        ORDER BY m.seq DESC LIMIT 1
                        """, arguments: arguments))
            {
                return hit
            }
        }
        if let conversationID = hints.conversationID,
            let hit = try found(
                Row.fetchOne(
                    db.cachedStatement(sql: "SELECT id, threadKey, status FROM conversation WHERE id = ? AND customerID = ? AND channelAccountID = ?"),
                    arguments: [conversationID.rawValue, customerID.rawValue, accountID]))
        {
            return hit
        }
        if let number = hints.ticketNumber,
            let ticketID = try String.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM ticket WHERE number = ? AND customerID = ?"), arguments: [number.rawValue, customerID.rawValue])
        {
            if let hit = try found(
                Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT c.id, c.threadKey, c.status FROM ticket_conversation t JOIN conversation c ON c.id = t.conversationID
                            WHERE t.ticketID = ? AND c.channelAccountID = ? AND c.customerID = ? AND c.status != 'closed'
                            ORDER BY c.createdAt DESC LIMIT 1
                            """),
                    arguments: [ticketID, accountID, customerID.rawValue]))
            {
                return hit
            }
            // The ticket lives on other channels (it was opened on a call): a new conversation
            // here joins it, in a thread of its own.
            return ThreadContinuation(
                conversationID: nil, threadKey: "ticket:\(number.rawValue)", isOpen: false, ticketIDs: [Ticket.ID(ticketID)])
        }
        return nil
    }

    /// An opt-out or opt-in (a keyword in `message`, or a provider event without one): the
    /// handle's `optedOutAt` changes in the same transaction, and an event records it. Repeating
    /// the current state changes nothing.
    static func recordConsent(
        _ consent: ConsentChange, handleID: Handle.ID, kind: HandleKind, customerID: Customer.ID, accountID: String, message: Message?,
        at: Date, _ db: Database, _ events: inout EventWriter
    ) throws {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT optedOutAt FROM handle WHERE id = ?"), arguments: [handleID.rawValue])
        else { return }
        let optedOutAt: Int64? = row[0]
        guard (optedOutAt != nil) != consent.optedOut else { return }
        try db.cachedStatement(sql: "UPDATE handle SET optedOutAt = ? WHERE id = ?")
            .execute(arguments: [consent.optedOut ? at.millisecondsSince1970 : nil, handleID.rawValue])
        try events.append(
            .handleConsent, at: at, actor: .channel(accountID),
            refs: EventRefs(customerID: customerID, conversationID: message?.conversationID, messageID: message?.id),
            payload: ConsentPayload(
                handleID: handleID, kind: kind, optedOut: consent.optedOut, keyword: consent.keyword, channelAccountID: accountID,
                messageID: message?.id))
    }

    public func applyRead(handle: HandleAddress, channelAccountID: String, upTo: Date, at date: Date) async throws -> Int {
        try await write { db, events in
            guard
                let customer = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT customerID FROM handle WHERE kind = ? AND scope = ? AND address = ?"),
                    arguments: [handle.kind.rawValue, handle.scope, handle.address])
            else { return 0 }
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT m.* FROM message m WHERE m.conversationID IN (SELECT id FROM conversation WHERE customerID = ?)
                          AND m.channelAccountID = ? AND m.direction = 'outbound' AND m.deliveryStatus IN ('sent', 'delivered') AND m.createdAt <= ?
                        ORDER BY m.createdAt DESC LIMIT 200
                        """),
                arguments: [customer, channelAccountID, upTo.millisecondsSince1970])
            for row in rows.reversed() {
                var message = try SQLiteRows.message(row, json: events.json)
                try Self.apply(
                    DeliveryStatusUpdate(
                        channelAccountID: channelAccountID, providerMessageID: message.providerMessageID ?? "", status: .read, occurredAt: upTo),
                    to: &message, customerID: Customer.ID(customer), at: date, db, &events)
            }
            return rows.count
        }
    }

    public func applyConsent(_ consent: ConsentChange, handle: HandleAddress, channelAccountID: String, at date: Date) async throws -> Bool {
        try await write { db, events in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT id, customerID FROM handle WHERE kind = ? AND scope = ? AND address = ?"),
                    arguments: [handle.kind.rawValue, handle.scope, handle.address])
            else { return false }
            try Self.recordConsent(
                consent, handleID: Handle.ID(row[0] as String), kind: handle.kind, customerID: Customer.ID(row[1] as String),
                accountID: channelAccountID, message: nil, at: date, db, &events)
            return true
        }
    }

    /// A customer's message changes its conversation: it reopens one waiting on the customer, moves
    /// it to the handle the customer now writes from, and records new attributes.
    static func updateConversation(
        _ id: Conversation.ID, reopening: Bool, handleID: Handle.ID, attributes: [String: String], at: Date, actor: Actor,
        _ db: Database, _ events: inout EventWriter
    ) throws {
        guard var conversation = try SQLiteWrites.conversation(id, db, json: events.json) else { return }
        var changes: [String] = []
        if reopening {
            conversation.status = .open
            changes.append("status")
        }
        if conversation.handleID != handleID {
            conversation.handleID = handleID
            changes.append("handleID")
        }
        for (name, value) in attributes where conversation.attributes[name] != value {
            conversation.attributes[name] = value
            changes.append("attributes.\(name)")
        }
        conversation.lastMessageAt = at
        conversation.lastInboundAt = at
        conversation.updatedAt = at
        try SQLiteWrites.update(conversation, db, json: events.json)
        if !changes.isEmpty {
            try events.append(
                .conversationUpdated, at: at, actor: actor,
                refs: EventRefs(customerID: conversation.customerID, conversationID: conversation.id),
                payload: ConversationUpdatedPayload(conversation: conversation, changes: changes))
        }
    }

    public func applyDeliveryStatus(_ update: DeliveryStatusUpdate, at date: Date) async throws -> Bool {
        try await write { db, events in
            // By the delivery the provider names (its callback URL carries it), else by the
            // provider's message id.
            let row: Row?
            if let deliveryID = update.deliveryID {
                row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT m.*, c.customerID AS customerID FROM outbox o JOIN message m ON m.id = o.messageID
                            JOIN conversation c ON c.id = m.conversationID
                            WHERE o.id = ? AND o.channelAccountID = ?
                            """),
                    arguments: [deliveryID.rawValue, update.channelAccountID])
            } else {
                row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT m.*, c.customerID AS customerID FROM message m JOIN conversation c ON c.id = m.conversationID
                            WHERE m.channelAccountID = ? AND m.direction = 'outbound' AND m.providerMessageID = ?
                            """),
                    arguments: [update.channelAccountID, update.providerMessageID])
            }
            guard let row else {
                // A report can overtake the provider's answer to the send request (Meta, Telegram):
                // it is kept a while, and applied when the send is recorded with that id.
                if update.deliveryID == nil { try Self.keepEarlyStatus(update, at: date, db) }
                return false
            }
            var message = try SQLiteRows.message(row, json: events.json)
            try Self.apply(update, to: &message, customerID: Customer.ID(row["customerID"] as String), at: date, db, &events)
            return true
        }
    }

    /// Moves a message's delivery status forward (never back), with a `message.status` event.
    static func apply(
        _ update: DeliveryStatusUpdate, to message: inout Message, customerID: Customer.ID?, at date: Date, _ db: Database, _ events: inout EventWriter
    ) throws {
        let current = message.deliveryStatus ?? .queued
        guard current.canAdvance(to: update.status) else { return }
        let when = update.occurredAt ?? date
        message.deliveryStatus = update.status
        switch update.status {
        case .queued: break
        case .sent: message.sentAt = message.sentAt ?? when
        case .delivered: message.deliveredAt = when
        case .read:
            message.readAt = when
            message.deliveredAt = message.deliveredAt ?? when
        case .failed: message.deliveryError = update.error ?? "the provider reported the message failed"
        }
        try SQLiteWrites.updateDelivery(of: message, db)
        if let report = update.report {
            message.metadata["deliveryReport"] = .string(report)
            try db.cachedStatement(sql: "UPDATE message SET metadata = ? WHERE id = ?")
                .execute(arguments: [try events.json.text(message.metadata), message.id.rawValue])
        }
        try events.append(
            .messageStatusChanged, at: date, actor: .channel(update.channelAccountID),
            refs: EventRefs(customerID: customerID, conversationID: message.conversationID, messageID: message.id),
            payload: MessageStatusPayload(
                messageID: message.id, status: update.status, previous: current, error: message.deliveryError,
                providerMessageID: update.providerMessageID, report: update.report))
    }

    /// Keeps a report for a provider id not (yet) known, for a day.
    static func keepEarlyStatus(_ update: DeliveryStatusUpdate, at date: Date, _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM early_status WHERE receivedAt < ?").execute(arguments: [date.millisecondsSince1970 - 86_400_000])
        try db.cachedStatement(
            sql: """
                INSERT INTO early_status (channelAccountID, providerMessageID, status, error, occurredAt, receivedAt) VALUES (?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            update.channelAccountID, update.providerMessageID, update.status.rawValue, update.error, update.occurredAt?.millisecondsSince1970,
            date.millisecondsSince1970,
        ])
    }

    /// The reports kept for `providerMessageID`, applied to its message now that it is known.
    static func applyEarlyStatuses(
        account: String, providerMessageID: String, to message: inout Message, customerID: Customer.ID?, at date: Date, _ db: Database,
        _ events: inout EventWriter
    ) throws {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM early_status WHERE channelAccountID = ? AND providerMessageID = ? ORDER BY receivedAt"),
            arguments: [account, providerMessageID])
        guard !rows.isEmpty else { return }
        for row in rows {
            guard let status = DeliveryStatus(rawValue: row["status"]) else { continue }
            let update = DeliveryStatusUpdate(
                channelAccountID: account, providerMessageID: providerMessageID, status: status, error: row["error"],
                occurredAt: (row["occurredAt"] as Int64?).map(Date.init(millisecondsSince1970:)))
            try apply(update, to: &message, customerID: customerID, at: date, db, &events)
        }
        try db.cachedStatement(sql: "DELETE FROM early_status WHERE channelAccountID = ? AND providerMessageID = ?")
            .execute(arguments: [account, providerMessageID])
    }
}
