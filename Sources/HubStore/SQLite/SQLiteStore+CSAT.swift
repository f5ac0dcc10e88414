import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    public func createSurvey(_ draft: CSATSurveyDraft, at date: Date, actor: Actor) async throws -> CSATSurvey {
        try await write { db, events in
            if let existing = try Self.survey(where: "ticketID = ?", [draft.ticketID.rawValue], db) { return existing }
            guard let ticket = try Self.ticket(where: "id = ?", [draft.ticketID.rawValue], db) else {
                throw StoreError.notFound("no ticket \(draft.ticketID)")
            }
            let survey = CSATSurvey(
                id: draft.id, ticketID: ticket.id, customerID: ticket.customerID, agentID: ticket.assigneeID, queueID: ticket.queueID,
                channelAccountID: ticket.channelAccountID, token: draft.token, eventSequence: draft.eventSequence, sentAt: date,
                expiresAt: draft.expiresAt)
            try db.execute(
                sql: """
                    INSERT INTO csat_survey (id, ticketID, customerID, agentID, queueID, channelAccountID, token, eventSequence, sentAt, expiresAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    survey.id.rawValue, ticket.id.rawValue, ticket.customerID.rawValue, survey.agentID?.rawValue, survey.queueID,
                    survey.channelAccountID, survey.token, survey.eventSequence, date.millisecondsSince1970, survey.expiresAt.millisecondsSince1970,
                ])
            var sent = survey
            sent.token = ""  // the link's secret stays out of the log
            try events.append(
                .csatSent, at: date, actor: actor,
                refs: EventRefs(customerID: ticket.customerID, ticketID: ticket.id, agentID: ticket.assigneeID), payload: sent)
            return survey
        }
    }

    public func survey(_ id: CSATSurvey.ID) async throws -> CSATSurvey? {
        try await read { db in try Self.survey(where: "id = ?", [id.rawValue], db) }
    }

    public func survey(token: String) async throws -> CSATSurvey? {
        try await read { db in try Self.survey(where: "token = ?", [token], db) }
    }

    public func survey(ticketID: Ticket.ID) async throws -> CSATSurvey? {
        try await read { db in try Self.survey(where: "ticketID = ?", [ticketID.rawValue], db) }
    }

    public func survey(answeredBy messageID: Message.ID) async throws -> CSATSurvey? {
        try await read { db in try Self.survey(where: "answerMessageID = ?", [messageID.rawValue], db) }
    }

    public func openSurveys(of customerID: Customer.ID, at date: Date) async throws -> [CSATSurvey] {
        try await read { db in
            let millis = date.millisecondsSince1970
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM csat_survey WHERE customerID = ? AND score IS NULL AND withdrawnAt IS NULL AND sentAt <= ? AND expiresAt >= ?
                    ORDER BY sentAt DESC, id DESC
                    """,
                arguments: [customerID.rawValue, millis, millis]
            ).map(Self.survey(_:))
        }
    }

    public func answerSurvey(_ answer: CSATAnswer, at date: Date, actor: Actor) async throws -> CSATAnswerResult {
        try await write { db, events in
            guard (1...5).contains(answer.score) else { throw StoreError.invalid("a score is from 1 to 5, not \(answer.score)") }
            guard var survey = try Self.survey(where: "id = ?", [answer.surveyID.rawValue], db) else {
                throw StoreError.notFound("no survey \(answer.surveyID)")
            }
            if survey.score != nil {
                if let message = answer.messageID, survey.answerMessageID == message {
                    return CSATAnswerResult(survey: survey, reopened: nil, repeated: true)
                }
                throw StoreError.conflict("the survey of this ticket is answered already")
            }
            guard survey.withdrawnAt == nil else { throw StoreError.conflict("the survey was withdrawn: its customer was never told") }
            guard date <= survey.expiresAt else { throw StoreError.conflict("the survey expired at \(HubJSON.formatTimestamp(survey.expiresAt))") }
            if let message = answer.messageID,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM csat_survey WHERE answerMessageID = ?", arguments: [message.rawValue]) == true
            {
                throw StoreError.conflict("message \(message) answered another survey")
            }
            survey.score = answer.score
            survey.answeredAt = date
            survey.answerMessageID = answer.messageID
            survey.answerChannelAccountID = answer.channelAccountID
            try db.execute(
                sql: "UPDATE csat_survey SET score = ?, answeredAt = ?, answerMessageID = ?, answerChannelAccountID = ? WHERE id = ?",
                arguments: [answer.score, date.millisecondsSince1970, answer.messageID?.rawValue, answer.channelAccountID, survey.id.rawValue])
            guard let ticket = try Self.ticket(where: "id = ?", [survey.ticketID.rawValue], db) else {
                throw StoreError.notFound("no ticket \(survey.ticketID)")
            }
            var reopened: Ticket?
            // A low score on a ticket that is still solved goes back to the escalation queue; a
            // ticket reopened or closed meanwhile keeps its course (the event tells supervisors).
            if let escalation = answer.escalation, answer.score <= escalation.lowScore, ticket.status == .solved {
                let priority: TicketPriority = ticket.priority == .urgent ? .urgent : .high
                reopened = try Self.changeTicket(
                    ticket.id,
                    TicketChange(
                        status: .open, priority: priority, assigneeID: .some(nil), queueID: .some(escalation.queueID), dueAt: .some(escalation.dueAt),
                        reason: "the customer rated it \(answer.score) of 5", expectedStatus: .solved),
                    at: date, actor: actor, db, &events)
            }
            var logged = survey
            logged.token = ""
            try events.append(
                .csatAnswered, at: date, actor: actor,
                refs: EventRefs(customerID: survey.customerID, ticketID: survey.ticketID, agentID: survey.agentID),
                payload: CSATAnsweredPayload(survey: logged, ticketNumber: ticket.number, reopened: reopened != nil))
            return CSATAnswerResult(survey: survey, reopened: reopened, repeated: false)
        }
    }

    public func withdrawSurvey(_ id: CSATSurvey.ID, at date: Date, actor: Actor) async throws -> Bool {
        try await write { db, events in
            guard var survey = try Self.survey(where: "id = ?", [id.rawValue], db), survey.score == nil, survey.withdrawnAt == nil else { return false }
            survey.withdrawnAt = date
            try db.execute(sql: "UPDATE csat_survey SET withdrawnAt = ? WHERE id = ?", arguments: [date.millisecondsSince1970, id.rawValue])
            survey.token = ""
            try events.append(
                .csatWithdrawn, at: date, actor: actor, refs: EventRefs(customerID: survey.customerID, ticketID: survey.ticketID, agentID: survey.agentID),
                payload: survey)
            return true
        }
    }

    public func csatSummary(from: Date, to: Date, by grouping: CSATGrouping) async throws -> [CSATGroup] {
        let column =
            switch grouping {
            case .agent: "agentID"
            case .queue: "queueID"
            case .channel: "channelAccountID"
            }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(column) AS key, COUNT(*) AS sent, COUNT(score) AS answered, AVG(score) AS average,
                        SUM(score = 1) AS s1, SUM(score = 2) AS s2, SUM(score = 3) AS s3, SUM(score = 4) AS s4, SUM(score = 5) AS s5
                    FROM csat_survey WHERE sentAt >= ? AND sentAt < ? AND withdrawnAt IS NULL GROUP BY \(column) ORDER BY \(column)
                    """,
                arguments: [from.millisecondsSince1970, to.millisecondsSince1970]
            ).map { row in
                CSATGroup(
                    key: row["key"], sent: row["sent"], answered: row["answered"], average: row["average"],
                    scores: ["s1", "s2", "s3", "s4", "s5"].map { (row[$0] as Int?) ?? 0 })
            }
        }
    }

    static func survey(where condition: String, _ arguments: StatementArguments, _ db: Database) throws -> CSATSurvey? {
        try Row.fetchOne(db, sql: "SELECT * FROM csat_survey WHERE \(condition)", arguments: arguments).map(survey(_:))
    }

    static func survey(_ row: Row) -> CSATSurvey {
        CSATSurvey(
            id: CSATSurvey.ID(row["id"] as String), ticketID: Ticket.ID(row["ticketID"] as String), customerID: Customer.ID(row["customerID"] as String),
            agentID: (row["agentID"] as String?).map(Agent.ID.init(rawValue:)), queueID: row["queueID"], channelAccountID: row["channelAccountID"],
            token: row["token"], eventSequence: row["eventSequence"], sentAt: SQLiteRows.requiredDate(row, "sentAt"),
            expiresAt: SQLiteRows.requiredDate(row, "expiresAt"), score: row["score"], answeredAt: SQLiteRows.date(row, "answeredAt"),
            answerMessageID: (row["answerMessageID"] as String?).map(Message.ID.init(rawValue:)), answerChannelAccountID: row["answerChannelAccountID"],
            withdrawnAt: SQLiteRows.date(row, "withdrawnAt"))
    }
}
