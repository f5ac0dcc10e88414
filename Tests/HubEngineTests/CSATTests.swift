import Foundation
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

/// Satisfaction surveys: sent once with the solved notification, answered by a bare score on any
/// channel (or the page), never a message meant for an agent, once even when the log is read
/// again; a low score reopens the ticket to supervisors with a follow-up deadline.
@Suite("Satisfaction surveys")
struct CSATTests {
    static let start = ReplyWindowTests.start
    static let settings = TicketSettings(csat: CSATSettings(escalationQueue: "supervisors", followUp: .seconds(2 * 3600)))

    static func sms(_ fixture: EngineFixture, _ text: String, id: String) async throws -> IngestReceipt {
        try await fixture.engine.ingest.ingest(
            InboundEvent(channelKind: .sms, channelAccountID: "sms-twilio", sender: InboundSender(address: ReplyWindowTests.phone), providerMessageID: id, text: text))
    }

    static func wechat(_ fixture: EngineFixture, _ text: String, id: String) async throws -> IngestReceipt {
        try await fixture.engine.ingest.ingest(
            InboundEvent(channelKind: .wechat, channelAccountID: "wechat-oa", sender: InboundSender(address: ReplyWindowTests.openID), providerMessageID: id, text: text))
    }

    static func systemTexts(_ fixture: EngineFixture, in conversation: Conversation.ID) async throws -> [String] {
        try await fixture.engine.store.messages(in: conversation, after: nil, limit: 100).filter { $0.author == .system }.map { $0.text ?? "" }
    }

    @Test("the survey goes with the solved notification; a bare 5 by SMS answers it, is thanked, and closes its conversation; a second reading changes nothing")
    func answeredBySMS() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await TicketNotificationTests.scenario(clock: clock, settings: Self.settings)
        let store = fixture.engine.store
        try await TicketNotificationTests.change(fixture, ticket, to: .solved, clock: clock)
        let sent = try await TicketNotificationTests.notifications(fixture, ticket)
        #expect(sent.count == 1)
        #expect(sent.first?.1 == "工单 T-000001「订单未到」已解决。如仍有问题，请在7天内回复。\n请为本次服务评分：回复数字 1（很差）到 5（很好）。")
        let survey = try #require(try await store.survey(ticketID: ticket.id))
        #expect(survey.agentID == "bo" && survey.channelAccountID == "wechat-oa" && survey.score == nil)
        #expect(survey.expiresAt == Self.start.addingTimeInterval(3 * 86_400))

        clock.withLock { $0 = Self.start.addingTimeInterval(600) }
        let answer = try await Self.sms(fixture, "5", id: "s-1")
        // Kept out of the queues until the ticket service has read it.
        #expect(try await store.conversation(answer.conversationID)?.queueID == nil)
        try await fixture.engine.tickets.catchUp()
        let answered = try #require(try await store.survey(ticketID: ticket.id))
        #expect(answered.score == 5 && answered.answerChannelAccountID == "sms-twilio" && answered.answerMessageID == answer.messageID)
        #expect(answered.answeredAt == Self.start.addingTimeInterval(600))
        #expect(try await Self.systemTexts(fixture, in: answer.conversationID) == ["感谢您对工单 T-000001 的评价：5 分（满分 5 分）。"])
        #expect(try await store.conversation(answer.conversationID)?.status == .closed)
        #expect(try await store.ticket(ticket.id)?.status == .solved, "a score is no reason to reopen")

        // Read again from the start (after a crash): no second answer, thanks or survey.
        try await store.setReaderPosition("tickets", to: 0)
        try await TicketNotificationTests.scenarioEngine(fixture: fixture).catchUp()
        #expect(try await Self.systemTexts(fixture, in: answer.conversationID).count == 1)
        #expect(try await TicketNotificationTests.notifications(fixture, ticket).count == 1)
        let answers = try await store.ticketEvents(ticket.id, after: 0, limit: 100).filter { $0.kind == .csatAnswered }
        #expect(answers.count == 1)

        // Solved again after a reopen: no second survey.
        try await TicketNotificationTests.change(fixture, ticket, to: .open, clock: clock)
        try await TicketNotificationTests.change(fixture, ticket, to: .solved, clock: clock)
        let last = try #require(try await TicketNotificationTests.notifications(fixture, ticket).last)
        #expect(last.1 == "工单 T-000001「订单未到」已解决。如仍有问题，请在7天内回复。")
        #expect(try await store.ticketEvents(ticket.id, after: 0, limit: 100).filter { $0.kind == .csatSent }.count == 1)
    }

    @Test("a low score in the ticket's own conversation reopens it to supervisors, high priority, due two hours later, in the answer's transaction")
    func lowScoreEscalates() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await TicketNotificationTests.scenario(clock: clock, settings: Self.settings)
        let store = fixture.engine.store
        try await TicketNotificationTests.change(fixture, ticket, to: .solved, clock: clock)
        clock.withLock { $0 = Self.start.addingTimeInterval(3600) }
        let answer = try await Self.wechat(fixture, "1", id: "w-9")
        #expect(answer.conversationID == ticket.conversationIDs[0])
        try await fixture.engine.tickets.catchUp()
        let reopened = try #require(try await store.ticket(ticket.id))
        #expect(reopened.status == .open)
        #expect(reopened.queueID == "supervisors" && reopened.assigneeID == nil && reopened.priority == .high)
        #expect(reopened.dueAt == Self.start.addingTimeInterval(3 * 3600))
        let events = try await store.ticketEvents(ticket.id, after: 0, limit: 100)
        let answered = try #require(events.last { $0.kind == .csatAnswered })
        let update = try #require(events.last { $0.kind == .ticketUpdated })
        #expect(answered.payload["reopened"] == .bool(true))
        #expect(update.payload["reason"]?.stringValue == "the customer rated it 1 of 5")
        // One commit: the reopening and the answer are neighbours in the log.
        #expect(answered.sequence == update.sequence + 1)
        let texts = try await Self.systemTexts(fixture, in: answer.conversationID)
        #expect(texts.last == "很抱歉工单 T-000001 的处理没能让您满意（1 分）。主管会跟进并与您联系。")
    }

    @Test("a digit is not swallowed: with no survey, with two open, or after expiry it reaches an agent and reopens nothing")
    func notAnAnswer() async throws {
        let clock = Locked(Self.start)
        let settings = TicketSettings(csat: CSATSettings(expireAfter: .seconds(3600)))
        let (fixture, ticket) = try await TicketNotificationTests.scenario(clock: clock, settings: settings)
        let store = fixture.engine.store

        // No survey yet: the customer's "3" by SMS is a message like any other.
        let early = try await Self.sms(fixture, "3", id: "s-1")
        try await fixture.engine.tickets.catchUp()
        #expect(try await store.conversation(early.conversationID)?.queueID == "support")
        #expect(try await Self.systemTexts(fixture, in: early.conversationID).isEmpty)
        _ = try await store.updateConversation(early.conversationID, ConversationChange(status: .closed), at: clock.value, actor: .admin)

        // Two solved tickets with open surveys: a "4" in a new conversation could be either.
        let second = try await store.createTicket(
            TicketDraft(subject: "发票", customerID: ticket.customerID, assigneeID: "bo", conversationIDs: ticket.conversationIDs, status: .open),
            at: clock.value, actor: .agent("bo"))
        try await TicketNotificationTests.change(fixture, ticket, to: .solved, clock: clock)
        try await TicketNotificationTests.change(fixture, second, to: .solved, clock: clock)
        #expect(try await store.openSurveys(of: ticket.customerID, at: clock.value).count == 2)
        clock.withLock { $0 = Self.start.addingTimeInterval(60) }
        let ambiguous = try await Self.sms(fixture, "4", id: "s-2")
        try await fixture.engine.tickets.catchUp()
        #expect(try await store.conversation(ambiguous.conversationID)?.queueID == "support")
        #expect(try await store.openSurveys(of: ticket.customerID, at: clock.value).count == 2)

        // Past the survey's hour, a "5" in the tickets' own conversation answers nothing and
        // reopens neither solved ticket.
        clock.withLock { $0 = Self.start.addingTimeInterval(7200) }
        _ = try await Self.wechat(fixture, "5", id: "w-5")
        try await fixture.engine.tickets.catchUp()
        #expect(try await store.survey(ticketID: ticket.id)?.score == nil)
        #expect(try await store.ticket(ticket.id)?.status == .solved)
        #expect(try await store.ticket(second.id)?.status == .solved)
    }

    @Test("a survey whose notification reached no channel is withdrawn: it takes no answer and is not counted as sent")
    func withdrawn() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await TicketNotificationTests.scenario(clock: clock, settings: Self.settings)
        let store = fixture.engine.store
        try await store.setNotificationChannels([NotificationChannel(channelAccountID: "wechat-oa")], of: ticket.customerID, at: clock.value, actor: .admin)
        // 49 silent hours: WeChat's window is closed, and the customer chose no other channel.
        clock.withLock { $0 = Self.start.addingTimeInterval(49 * 3600) }
        try await TicketNotificationTests.change(fixture, ticket, to: .solved, clock: clock)
        #expect(try await TicketNotificationTests.notifications(fixture, ticket).isEmpty)
        let survey = try #require(try await store.survey(ticketID: ticket.id))
        #expect(survey.withdrawnAt == clock.value)
        #expect(try await store.openSurveys(of: ticket.customerID, at: clock.value).isEmpty)
        #expect(try await store.csatSummary(from: Self.start, to: clock.value.addingTimeInterval(1), by: .agent).isEmpty)
        #expect(try await fixture.engine.tickets.surveyPage(token: survey.token) == .expired(survey, try #require(try await store.ticket(ticket.id))))
        // A "5" by SMS now is a message for an agent.
        let late = try await Self.sms(fixture, "5", id: "s-5")
        try await fixture.engine.tickets.catchUp()
        #expect(try await store.conversation(late.conversationID)?.queueID == "support")
        #expect(try await store.ticketEvents(ticket.id, after: 0, limit: 100).filter { $0.kind == .csatWithdrawn }.count == 1)
    }

    @Test("a digit in a conversation an agent is in answers the agent, not the survey")
    func agentsConversation() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await TicketNotificationTests.scenario(clock: clock, settings: Self.settings)
        let store = fixture.engine.store
        try await TicketNotificationTests.change(fixture, ticket, to: .solved, clock: clock)
        _ = try await store.updateConversation(ticket.conversationIDs[0], ConversationChange(assigneeID: .some("bo")), at: clock.value, actor: .agent("bo"))
        clock.withLock { $0 = Self.start.addingTimeInterval(60) }
        _ = try await Self.wechat(fixture, "2", id: "w-2")
        try await fixture.engine.tickets.catchUp()
        #expect(try await store.survey(ticketID: ticket.id)?.score == nil)
        #expect(try await store.ticket(ticket.id)?.status == .solved)
        #expect(try await store.openSurveys(of: ticket.customerID, at: clock.value).count == 1)
    }

    @Test("the survey page takes one score; an unknown token shows nothing; the store refuses a second answer and repeats the first")
    func pageAndStore() async throws {
        let clock = Locked(Self.start)
        let (fixture, ticket) = try await TicketNotificationTests.scenario(clock: clock, settings: Self.settings)
        let store = fixture.engine.store
        try await TicketNotificationTests.change(fixture, ticket, to: .solved, clock: clock)
        let survey = try #require(try await store.survey(ticketID: ticket.id))
        #expect(survey.token.count == 32)
        #expect(try await fixture.engine.tickets.surveyPage(token: String(repeating: "0", count: 32)) == .unknown)
        #expect(try await fixture.engine.tickets.surveyPage(token: "x") == .unknown)
        guard case .open = try await fixture.engine.tickets.surveyPage(token: survey.token) else {
            Issue.record("the page should be open")
            return
        }
        guard case .answered(let answered, _) = try await fixture.engine.tickets.answerOnPage(token: survey.token, score: 4) else {
            Issue.record("the page should show the answer")
            return
        }
        #expect(answered.score == 4 && answered.answerChannelAccountID == "web" && answered.answerMessageID == nil)
        guard case .answered(let again, _) = try await fixture.engine.tickets.answerOnPage(token: survey.token, score: 1) else {
            Issue.record("the page should show the first answer")
            return
        }
        #expect(again.score == 4)
        #expect(try await store.ticket(ticket.id)?.status == .solved)

        // The store: an answer by a message is repeated for that message and refused for another.
        let other = try await store.createTicket(
            TicketDraft(subject: "退款", customerID: ticket.customerID, conversationIDs: ticket.conversationIDs, status: .open), at: clock.value, actor: .admin)
        let draft = CSATSurveyDraft(ticketID: other.id, token: String(repeating: "a", count: 32), eventSequence: 1, expiresAt: Self.start.addingTimeInterval(60))
        let created = try await store.createSurvey(draft, at: clock.value, actor: .admin)
        #expect(try await store.createSurvey(CSATSurveyDraft(ticketID: other.id, token: "b", eventSequence: 2, expiresAt: Self.start), at: clock.value, actor: .admin) == created)
        let message = try #require(try await store.messages(in: ticket.conversationIDs[0], after: nil, limit: 1).first)
        let first = try await store.answerSurvey(
            CSATAnswer(surveyID: created.id, score: 2, messageID: message.id, channelAccountID: "wechat-oa", escalation: nil), at: clock.value, actor: .admin)
        #expect(!first.repeated && first.reopened == nil)
        let repeated = try await store.answerSurvey(
            CSATAnswer(surveyID: created.id, score: 2, messageID: message.id, channelAccountID: "wechat-oa", escalation: nil), at: clock.value, actor: .admin)
        #expect(repeated.repeated && repeated.survey == first.survey)
        await #expect(throws: StoreError.self) {
            try await store.answerSurvey(
                CSATAnswer(surveyID: created.id, score: 5, messageID: nil, channelAccountID: "web", escalation: nil), at: clock.value, actor: .admin)
        }
        await #expect(throws: StoreError.self) {
            try await store.answerSurvey(CSATAnswer(surveyID: survey.id, score: 6, messageID: nil, channelAccountID: "web", escalation: nil), at: clock.value, actor: .admin)
        }

        // By agent: bo's survey scored 4; the other ticket had no assignee and scored 2.
        let groups = try await store.csatSummary(from: Self.start, to: Self.start.addingTimeInterval(60), by: .agent)
        #expect(groups == [CSATGroup(key: nil, sent: 1, answered: 1, average: 2, scores: [0, 1, 0, 0, 0]), CSATGroup(key: "bo", sent: 1, answered: 1, average: 4, scores: [0, 0, 0, 1, 0])])
        #expect(try await store.csatSummary(from: Self.start, to: Self.start.addingTimeInterval(60), by: .channel).map(\.sent) == [2])
    }
}
