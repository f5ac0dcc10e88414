import GRDB

/// The SQLite schema, as an ordered list of migrations. Never edit a shipped migration; add one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: conversation model, event log, outbox") { db in
            // Timestamps are integer milliseconds since 1970 (UTC); JSON columns hold text.
            try db.execute(
                sql: """
                    CREATE TABLE customer (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT,
                        tier TEXT NOT NULL,
                        tags TEXT NOT NULL DEFAULT '[]',
                        locale TEXT,
                        ownerAgentID TEXT,
                        mergedInto TEXT REFERENCES customer(id),
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE TABLE handle (
                        id TEXT PRIMARY KEY NOT NULL,
                        customerID TEXT NOT NULL REFERENCES customer(id),
                        kind TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        address TEXT NOT NULL,
                        displayName TEXT,
                        optedOutAt INTEGER,
                        createdAt INTEGER NOT NULL,
                        UNIQUE (kind, scope, address)
                    );
                    CREATE INDEX handle_by_customer ON handle(customerID);
                    CREATE TABLE conversation (
                        id TEXT PRIMARY KEY NOT NULL,
                        customerID TEXT NOT NULL REFERENCES customer(id),
                        handleID TEXT REFERENCES handle(id),
                        channelKind TEXT NOT NULL,
                        channelAccountID TEXT NOT NULL,
                        threadKey TEXT NOT NULL DEFAULT '',
                        status TEXT NOT NULL,
                        queueID TEXT,
                        priority INTEGER NOT NULL DEFAULT 0,
                        assigneeID TEXT,
                        subject TEXT,
                        attributes TEXT NOT NULL DEFAULT '{}',
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL,
                        lastMessageAt INTEGER,
                        lastInboundAt INTEGER,
                        firstResponseAt INTEGER,
                        closedAt INTEGER
                    );
                    CREATE INDEX conversation_open ON conversation(customerID, channelAccountID, threadKey) WHERE status != 'closed';
                    CREATE INDEX conversation_by_customer ON conversation(customerID, createdAt);
                    CREATE INDEX conversation_by_handle ON conversation(handleID);
                    CREATE TABLE message (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        direction TEXT NOT NULL,
                        authorKind TEXT NOT NULL,
                        authorID TEXT,
                        visibility TEXT NOT NULL,
                        text TEXT,
                        attachments TEXT NOT NULL DEFAULT '[]',
                        channelAccountID TEXT NOT NULL,
                        providerMessageID TEXT,
                        deliveryStatus TEXT,
                        deliveryError TEXT,
                        metadata TEXT NOT NULL DEFAULT '{}',
                        createdAt INTEGER NOT NULL,
                        sentAt INTEGER,
                        deliveredAt INTEGER,
                        readAt INTEGER
                    );
                    CREATE UNIQUE INDEX message_by_provider_id ON message(channelAccountID, direction, providerMessageID)
                        WHERE providerMessageID IS NOT NULL;
                    CREATE INDEX message_by_conversation ON message(conversationID, seq);
                    CREATE TABLE call (
                        id TEXT PRIMARY KEY NOT NULL,
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        direction TEXT NOT NULL,
                        fromAddress TEXT NOT NULL,
                        toAddress TEXT NOT NULL,
                        state TEXT NOT NULL,
                        sipCallID TEXT,
                        agentID TEXT,
                        startedAt INTEGER NOT NULL,
                        queuedAt INTEGER,
                        offeredAt INTEGER,
                        answeredAt INTEGER,
                        endedAt INTEGER,
                        hangupCause TEXT,
                        hungUpBy TEXT,
                        recordingReference TEXT
                    );
                    CREATE INDEX call_by_conversation ON call(conversationID);
                    CREATE INDEX call_by_sip_call_id ON call(sipCallID) WHERE sipCallID IS NOT NULL;
                    CREATE TABLE ticket (
                        id TEXT PRIMARY KEY NOT NULL,
                        number INTEGER NOT NULL UNIQUE,
                        subject TEXT NOT NULL,
                        status TEXT NOT NULL,
                        priority TEXT NOT NULL,
                        customerID TEXT NOT NULL REFERENCES customer(id),
                        assigneeID TEXT,
                        queueID TEXT,
                        firstResponseDueAt INTEGER,
                        dueAt INTEGER,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL,
                        solvedAt INTEGER,
                        closedAt INTEGER
                    );
                    CREATE INDEX ticket_by_customer ON ticket(customerID, createdAt);
                    CREATE TABLE ticket_conversation (
                        ticketID TEXT NOT NULL REFERENCES ticket(id),
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        linkedAt INTEGER NOT NULL,
                        PRIMARY KEY (ticketID, conversationID)
                    );
                    CREATE INDEX ticket_conversation_by_conversation ON ticket_conversation(conversationID);
                    CREATE TABLE agent (
                        id TEXT PRIMARY KEY NOT NULL,
                        login TEXT NOT NULL COLLATE NOCASE,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        email TEXT,
                        sipAddress TEXT,
                        skills TEXT NOT NULL,
                        queues TEXT NOT NULL,
                        capacity TEXT NOT NULL,
                        active INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE TABLE customer_merge (
                        id TEXT PRIMARY KEY NOT NULL,
                        survivorID TEXT NOT NULL REFERENCES customer(id),
                        mergedID TEXT NOT NULL REFERENCES customer(id),
                        record TEXT NOT NULL,
                        mergedAt INTEGER NOT NULL,
                        unmergedAt INTEGER
                    );
                    CREATE INDEX customer_merge_by_merged ON customer_merge(mergedID);
                    CREATE INDEX customer_merge_by_survivor ON customer_merge(survivorID);
                    -- Idempotency keys of outbound requests (replies and notes), so a retried request
                    -- stores nothing twice.
                    CREATE TABLE outbound_request (
                        idempotencyKey TEXT PRIMARY KEY NOT NULL,
                        messageID TEXT NOT NULL,
                        createdAt INTEGER NOT NULL
                    );
                    CREATE TABLE counter (
                        name TEXT PRIMARY KEY NOT NULL,
                        value INTEGER NOT NULL
                    );
                    -- The event log: AUTOINCREMENT guarantees sequence numbers are never reused, even
                    -- after the newest rows are deleted; one writer makes commit order = sequence order.
                    CREATE TABLE event (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        occurredAt INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        customerID TEXT,
                        conversationID TEXT,
                        messageID TEXT,
                        ticketID TEXT,
                        callID TEXT,
                        agentID TEXT,
                        deliveryID TEXT,
                        payload TEXT NOT NULL
                    );
                    CREATE INDEX event_by_customer ON event(customerID, seq) WHERE customerID IS NOT NULL;
                    CREATE INDEX event_by_conversation ON event(conversationID, seq) WHERE conversationID IS NOT NULL;
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        idempotencyKey TEXT NOT NULL UNIQUE,
                        channelAccountID TEXT NOT NULL,
                        channelKind TEXT NOT NULL,
                        messageID TEXT,
                        conversationID TEXT,
                        orderingKey TEXT,
                        recipient TEXT NOT NULL,
                        content TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        maxAttempts INTEGER NOT NULL,
                        nextAttemptAt INTEGER NOT NULL,
                        leaseOwner TEXT,
                        leaseUntil INTEGER,
                        lastError TEXT,
                        providerMessageID TEXT,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL,
                        sentAt INTEGER
                    );
                    CREATE INDEX outbox_due ON outbox(nextAttemptAt) WHERE state IN ('pending', 'failed');
                    CREATE INDEX outbox_leased ON outbox(leaseUntil) WHERE state = 'sending';
                    CREATE INDEX outbox_ordering ON outbox(orderingKey, seq) WHERE state IN ('pending', 'sending', 'failed');
                    CREATE INDEX outbox_by_message ON outbox(messageID);
                    """)
        }
        migrator.registerMigration("v2: agents' logins, sessions, assignment history, agents' feeds") { db in
            try db.execute(
                sql: """
                    ALTER TABLE agent ADD COLUMN revealContacts INTEGER NOT NULL DEFAULT 0;
                    UPDATE agent SET revealContacts = 1 WHERE role IN ('supervisor', 'admin');
                    CREATE TABLE agent_credential (
                        agentID TEXT PRIMARY KEY NOT NULL,
                        passwordHash TEXT NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE TABLE agent_session (
                        tokenDigest TEXT PRIMARY KEY NOT NULL,
                        agentID TEXT NOT NULL,
                        createdAt INTEGER NOT NULL,
                        expiresAt INTEGER NOT NULL,
                        revokedAt INTEGER,
                        origin TEXT
                    );
                    CREATE INDEX agent_session_by_agent ON agent_session(agentID);
                    -- Every agent a conversation was ever assigned to: what an agent may read.
                    CREATE TABLE conversation_agent (
                        conversationID TEXT NOT NULL,
                        agentID TEXT NOT NULL,
                        firstAt INTEGER NOT NULL,
                        PRIMARY KEY (conversationID, agentID)
                    ) WITHOUT ROWID;
                    CREATE INDEX conversation_agent_by_agent ON conversation_agent(agentID, firstAt);
                    INSERT OR IGNORE INTO conversation_agent (conversationID, agentID, firstAt)
                        SELECT id, assigneeID, updatedAt FROM conversation WHERE assigneeID IS NOT NULL;
                    CREATE INDEX conversation_by_assignee ON conversation(assigneeID) WHERE assigneeID IS NOT NULL AND status != 'closed';
                    CREATE INDEX event_by_agent ON event(agentID, seq) WHERE agentID IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v3: fetching customers' attachments into the hub's store") { db in
            try db.execute(
                sql: """
                    -- One row per attachment of an inbound message still to fetch from its provider,
                    -- written with the message: a crash between the two loses nothing.
                    CREATE TABLE attachment_fetch (
                        messageID TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        channelAccountID TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        nextAttemptAt INTEGER NOT NULL,
                        leaseUntil INTEGER,
                        lastError TEXT,
                        PRIMARY KEY (messageID, position)
                    ) WITHOUT ROWID;
                    CREATE INDEX attachment_fetch_due ON attachment_fetch(nextAttemptAt) WHERE state IN ('pending', 'fetching');
                    """)
        }
        migrator.registerMigration("v4: providers' reports that overtake the answer to the send request") { db in
            try db.execute(
                sql: """
                    CREATE TABLE early_status (
                        channelAccountID TEXT NOT NULL,
                        providerMessageID TEXT NOT NULL,
                        status TEXT NOT NULL,
                        error TEXT,
                        occurredAt INTEGER,
                        receivedAt INTEGER NOT NULL
                    );
                    CREATE INDEX early_status_by_id ON early_status(channelAccountID, providerMessageID);
                    CREATE INDEX early_status_by_age ON early_status(receivedAt);
                    """)
        }
        migrator.registerMigration("v5: a customer's conversations found without reading them all") { db in
            // A customer with thousands of conversations (one per e-mail thread) made ingest read
            // every one of them to find the open conversation of a thread (the planner preferred
            // the index that orders by creation), and the routing service sort them all to find
            // the ten newest. Each index now answers its query in order, in a few rows.
            try db.execute(
                sql: """
                    DROP INDEX conversation_open;
                    CREATE INDEX conversation_open ON conversation(customerID, channelAccountID, threadKey, createdAt) WHERE status != 'closed';
                    DROP INDEX conversation_by_customer;
                    CREATE INDEX conversation_by_customer ON conversation(customerID, createdAt, id);
                    """)
        }
        migrator.registerMigration("v6: content received whole, stored with its message") { db in
            // An e-mail's original and its attachments (up to the inline limit) are committed in
            // the transaction of the message that refers to them: one fsync for a batch of mails
            // instead of two files synced per mail. Larger content stays in the blob files.
            try db.execute(
                sql: """
                    CREATE TABLE content (
                        reference TEXT PRIMARY KEY NOT NULL,
                        bytes BLOB NOT NULL,
                        createdAt INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v7: calls that have not ended, found without a scan") { db in
            // At start the hub ends the records of calls that were live when it stopped (their
            // dialogs lived in its memory): a few rows, out of every call ever.
            try db.execute(sql: "CREATE INDEX call_unfinished ON call(startedAt) WHERE state != 'ended';")
        }
        migrator.registerMigration("v8: tickets' comments, merges, birth channel and history") { db in
            // A ticket's history is the events that name it; the ticket service reads the log
            // from a position it saves (in `counter`), so that it answers each event once.
            try db.execute(
                sql: """
                    ALTER TABLE ticket ADD COLUMN mergedIntoID TEXT;
                    ALTER TABLE ticket ADD COLUMN channelAccountID TEXT;
                    CREATE TABLE ticket_comment (
                        id TEXT PRIMARY KEY NOT NULL,
                        ticketID TEXT NOT NULL REFERENCES ticket(id),
                        authorKind TEXT NOT NULL,
                        authorID TEXT,
                        visibility TEXT NOT NULL,
                        body TEXT NOT NULL,
                        createdAt INTEGER NOT NULL
                    );
                    CREATE INDEX ticket_comment_by_ticket ON ticket_comment(ticketID, createdAt);
                    CREATE INDEX ticket_by_status ON ticket(status, number);
                    CREATE INDEX ticket_solved ON ticket(solvedAt) WHERE status = 'solved';
                    CREATE INDEX event_by_ticket ON event(ticketID, seq) WHERE ticketID IS NOT NULL;
                    CREATE TABLE notification_channel (
                        customerID TEXT NOT NULL REFERENCES customer(id),
                        position INTEGER NOT NULL,
                        channelAccountID TEXT NOT NULL,
                        subscribed INTEGER NOT NULL,
                        PRIMARY KEY (customerID, position)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v9: satisfaction surveys") { db in
            // One survey per ticket; a message answers at most one (a log read twice records
            // nothing twice). Open surveys are found per customer without a scan.
            try db.execute(
                sql: """
                    CREATE TABLE csat_survey (
                        id TEXT PRIMARY KEY NOT NULL,
                        ticketID TEXT NOT NULL UNIQUE REFERENCES ticket(id),
                        customerID TEXT NOT NULL,
                        agentID TEXT,
                        queueID TEXT,
                        channelAccountID TEXT,
                        token TEXT NOT NULL UNIQUE,
                        eventSequence INTEGER NOT NULL,
                        sentAt INTEGER NOT NULL,
                        expiresAt INTEGER NOT NULL,
                        score INTEGER,
                        answeredAt INTEGER,
                        answerMessageID TEXT UNIQUE,
                        answerChannelAccountID TEXT
                    );
                    CREATE INDEX csat_open ON csat_survey(customerID, sentAt) WHERE score IS NULL;
                    CREATE INDEX csat_by_sent ON csat_survey(sentAt);
                    """)
        }
        migrator.registerMigration("v10: tickets' SLA clocks") { db in
            // Derived from the log by the SLA service; the clocks due for an alert are found
            // without a scan.
            try db.execute(
                sql: """
                    CREATE TABLE sla_timer (
                        ticketID TEXT NOT NULL REFERENCES ticket(id),
                        metric TEXT NOT NULL,
                        policyID TEXT,
                        target REAL NOT NULL,
                        elapsed REAL NOT NULL,
                        runningSince INTEGER,
                        dueAt INTEGER,
                        warnAt INTEGER,
                        warnedAt INTEGER,
                        breachedAt INTEGER,
                        fulfilledAt INTEGER,
                        sequence INTEGER NOT NULL,
                        PRIMARY KEY (ticketID, metric)
                    ) WITHOUT ROWID;
                    CREATE INDEX sla_warn_due ON sla_timer(warnAt) WHERE runningSince IS NOT NULL AND warnedAt IS NULL;
                    CREATE INDEX sla_breach_due ON sla_timer(dueAt) WHERE runningSince IS NOT NULL AND breachedAt IS NULL;
                    """)
        }
        migrator.registerMigration("v11: surveys withdrawn when nobody could be told") { db in
            try db.execute(sql: "ALTER TABLE csat_survey ADD COLUMN withdrawnAt INTEGER;")
        }
        migrator.registerMigration("v12: metrics counted per minute, hour and day, and the projection's state") { db in
            // One row per period, channel kind, queue and agent ("" for none); a column per
            // MetricField as of this version (a later field comes with a migration that adds its
            // column). Minutes, hours and days hold the same counts at three grains, each also
            // rolled up without the agent (`_cq`: the reports per channel and queue read a few
            // dozen rows a day, not thousands) and by agent alone (`_a`).
            let names = [
                "offered", "handled", "handledInThreshold", "abandoned", "shortAbandoned", "withdrawn", "overflowed", "requeued",
                "waitMs", "abandonWaitMs", "assignments", "transfers", "handleCount", "handleMs", "wrapMs", "offers",
                "offersDeclined", "offersMissed", "firstResponses", "firstResponseMs", "inboundMessages", "outboundMessages",
                "outboundSent", "outboundDelivered", "outboundFailed", "outboundBounced", "inboundRejected", "ticketsCreated",
                "ticketsResolved", "resolutionMs", "firstContactResolved", "ticketsReopened", "csatSent", "csatAnswered",
                "csatScoreSum", "csatSatisfied", "slaWarnings", "slaBreaches", "idleMs", "busyMs", "awayMs"
            ]
            let columns = names.map { "\($0) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ",\n")
            for grain in ["minute", "hour", "day"] {
                for (table, keys) in [
                    ("metric_\(grain)", ["channel", "queue", "agent"]), ("metric_cq_\(grain)", ["channel", "queue"]), ("metric_a_\(grain)", ["agent"]),
                ] {
                    try db.execute(
                        sql: """
                            CREATE TABLE \(table) (
                                bucket INTEGER NOT NULL,
                                \(keys.map { "\($0) TEXT NOT NULL," }.joined(separator: "\n"))
                                \(columns),
                                PRIMARY KEY (bucket, \(keys.joined(separator: ", ")))
                            ) WITHOUT ROWID;
                            """)
                }
            }
            try db.execute(sql: "CREATE TABLE metric_state (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;")
        }
        migrator.registerMigration("v13: agents' phone registrations kept across restarts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE phone_binding (
                        agentID TEXT NOT NULL,
                        contact TEXT NOT NULL,
                        addressOfRecord TEXT NOT NULL,
                        credential TEXT NOT NULL,
                        expiresAt INTEGER NOT NULL,
                        callID TEXT NOT NULL,
                        cseq INTEGER NOT NULL,
                        host TEXT NOT NULL,
                        port INTEGER NOT NULL,
                        userAgent TEXT,
                        PRIMARY KEY (agentID, contact)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v14: the inbound mail spool") { db in
            // The small columns come first, the message last: finding the due rows reads no
            // overflow page of a message. No index: rows are read in id order, and deferred
            // ones (a failing store) are the rare ones skipped.
            try db.execute(
                sql: """
                    CREATE TABLE mail_spool (
                        id INTEGER PRIMARY KEY,
                        receivedAt INTEGER NOT NULL,
                        nextAttemptAt INTEGER NOT NULL DEFAULT 0,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        lastError TEXT,
                        heloName TEXT NOT NULL,
                        mailFrom TEXT NOT NULL,
                        recipients TEXT NOT NULL,
                        remoteAddress TEXT,
                        remotePort INTEGER,
                        usedTLS INTEGER NOT NULL,
                        parameters TEXT NOT NULL,
                        message BLOB NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v15: the event log's unread indexes dropped") { db in
            // Nothing reads the log by conversation or by agent: an agent's feed filters the
            // in-memory tail, a conversation's history is its messages and calls, and the log is
            // read by sequence, customer or ticket. Yet every event of a call went into both, and
            // they were a quarter of the pages each commit wrote (docs/benchmarks.md).
            try db.execute(sql: "DROP INDEX IF EXISTS event_by_conversation; DROP INDEX IF EXISTS event_by_agent")
        }
        migrator.registerMigration("v16: the event log numbered without AUTOINCREMENT") { db in
            // AUTOINCREMENT made every insert into the log also update its row in sqlite_sequence:
            // a second b-tree write per event, about a fifth of an event's insert, and a call
            // writes thirteen events (docs/benchmarks.md). It only matters when the newest rows
            // are deleted, and nothing in the hub deletes events. A plain INTEGER PRIMARY KEY
            // takes the largest sequence number plus one, so numbers still only grow and are
            // never reused. (Whatever comes to delete events must keep the newest row.)
            try db.execute(
                sql: """
                    CREATE TABLE event_new (
                        seq INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        occurredAt INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        customerID TEXT,
                        conversationID TEXT,
                        messageID TEXT,
                        ticketID TEXT,
                        callID TEXT,
                        agentID TEXT,
                        deliveryID TEXT,
                        payload TEXT NOT NULL
                    );
                    INSERT INTO event_new (seq, kind, occurredAt, actor, customerID, conversationID, messageID, ticketID, callID, agentID, deliveryID, payload)
                        SELECT seq, kind, occurredAt, actor, customerID, conversationID, messageID, ticketID, callID, agentID, deliveryID, payload FROM event;
                    DROP TABLE event;
                    ALTER TABLE event_new RENAME TO event;
                    CREATE INDEX event_by_customer ON event(customerID, seq) WHERE customerID IS NOT NULL;
                    CREATE INDEX event_by_ticket ON event(ticketID, seq) WHERE ticketID IS NOT NULL;
                    DELETE FROM sqlite_sequence WHERE name = 'event';
                    """)
        }
        return migrator
    }
}
