import Foundation
import HubConfig
import HubModel
import HubStore
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps tickets in step with what customers do, from the event log: a customer who writes on a
/// pending ticket's conversation (or on a solved one within the reopen window) reopens it; solved
/// tickets close when their window ends; a customer who asks "T-000123" or "status" on any channel
/// gets the status of their own tickets there, without an agent.
///
/// The service reads the log from a position it saves after each page, and everything it does for
/// an event is idempotent (a reply carries the event's sequence number as its idempotency key, a
/// status change is made only from the status it changes): after a crash it reads the last page
/// again and changes or sends nothing twice.
public actor TicketService: LogFollower {
    /// The reader's name for its saved position in the log.
    static let readerName = "tickets"
    static let actor = Actor(kind: .system, id: "tickets")
    static let pageSize = 200
    /// How often solved tickets are checked for closing when nothing else happens.
    static let closingInterval: Duration = .seconds(60)

    let store: any HubStore
    let channels: ChannelDirectory
    let outbound: OutboundService
    let now: @Sendable () -> Date
    let logger: Logger
    /// Shared with ingest, which keeps a status question out of the queues (see `IngestService`).
    let settingsCell: TicketSettingsCell
    var reader = LogReader(name: TicketService.readerName, pageSize: TicketService.pageSize)
    private var lastClosing: Date?
    /// Failed tries per event sequence (see `handle`).
    private var failures: [Int64: Int] = [:]
    private let wake = WakeSignal()

    init(
        store: any HubStore, channels: ChannelDirectory, outbound: OutboundService, settings: TicketSettingsCell,
        now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.store = store
        self.channels = channels
        self.outbound = outbound
        self.settingsCell = settings
        self.now = now
        self.logger = logger
    }

    public var settings: TicketSettings { settingsCell.value }

    /// New settings from a rules reload.
    public func reload(_ settings: TicketSettings) {
        settingsCell.value = settings
        wake.signal()
    }

    // MARK: Running

    /// Follows the event log until cancelled.
    public func run() async throws {
        await wake.follow(store) {
            await self.step()
            return Self.closingInterval
        } stop: {
            await self.savePosition()
        }
    }

    /// Reads the log to its end and closes tickets whose time has come. Failures are logged; the
    /// next step starts where this one stopped.
    func step() async {
        do {
            try await read(saving: .periodically)
        } catch is CancellationError {
            return  // stopping: the position saved reads this again at the next start
        } catch {
            logger.error("ticket service could not read the log", metadata: ["error": "\(error)"])
        }
        let date = now()
        guard lastClosing.map({ date.timeIntervalSince($0) >= 30 }) ?? true else { return }
        do {
            try await closeSolvedTickets()
            lastClosing = date
        } catch is CancellationError {
            return
        } catch {
            logger.error("ticket service could not close solved tickets", metadata: ["error": "\(error)"])
        }
    }

    /// Handles every event up to the log's end. At the very first start the service begins at the
    /// end (history is not answered again).
    public func catchUp() async throws {
        try await read(saving: .everyPage)
    }

    private func read(saving: LogReader.Saving) async throws {
        var reader = self.reader
        defer { self.reader = reader }
        try await reader.catchUp(store, saving: saving) { event in try await handle(event) }
    }

    /// One event. A refusal by the store (`conflict`, `invalid`, `notFound`) or a payload that
    /// does not decode will not change on a second try: logged, and the event is done. Anything
    /// else (an unreachable or full database) stops the page, to be read again; an event that
    /// fails that way `maximumAttempts` times is skipped with an error, so that it never holds up
    /// the rest for good.
    private func handle(_ event: HubEvent) async throws {
        guard event.actor != Self.actor else { return }
        do {
            switch event.kind {
            case .messageReceived: try await customerWrote(event)
            case .ticketUpdated, .ticketCommented: try await announce(event)
            default: return
            }
            failures[event.sequence] = nil
        } catch let error as StoreError where error.code != .unavailable {
            logger.warning("ticket service skipped an event", metadata: ["sequence": "\(event.sequence)", "kind": "\(event.kind)", "error": "\(error)"])
        } catch is DecodingError {
            logger.warning("ticket service skipped an event it cannot read", metadata: ["sequence": "\(event.sequence)", "kind": "\(event.kind)"])
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let attempts = (failures[event.sequence] ?? 0) + 1
            failures[event.sequence] = attempts
            guard attempts >= Self.maximumAttempts else { throw error }
            failures[event.sequence] = nil
            logger.error(
                "ticket service gave up on an event", metadata: ["sequence": "\(event.sequence)", "kind": "\(event.kind)", "attempts": "\(attempts)", "error": "\(error)"])
        }
    }

    /// Tries of one event that failed for a reason that may pass (see `handle`).
    static let maximumAttempts = 5

    // MARK: A customer wrote

    private func customerWrote(_ event: HubEvent) async throws {
        guard let conversationID = event.refs.conversationID, let message = event.messageSummary, message.direction == .inbound else { return }
        guard let context = try await store.customerMessageContext(conversationID, pendingLimit: 2) else { return }
        let conversation = context.conversation
        let date = event.occurredAt
        let settings = self.settings
        // A call's text is the hub's description of it, not words of the customer's: a call
        // answers no survey and asks about no ticket, but it is an answer a waiting ticket counts.
        let text = conversation.channelKind == .voice ? "" : message.text ?? ""
        // A score that answers a survey is not a reply that reopens the ticket.
        if let csat = settings.csat, let score = CSATScore.parse(text), let messageID = event.refs.messageID,
            try await answerSurvey(score: score, message: messageID, text: text, in: conversation, event: event, csat: csat)
        {
            return
        }
        let query = settings.statusReplies ? TicketQuery.parse(text) : nil
        let whole = query != nil && TicketQuery.isWholeQuestion(text)
        // A question about the status is not the answer a pending ticket waits for ("T-000123 is
        // still broken" is).
        if !whole {
            // Links that cross customers (left by an unmerge) are not this customer's tickets.
            var linked = context.linkedTickets
            if linked.isEmpty, let waiting = Self.ticketWaiting(in: context.pendingTickets, at: date) {
                // The customer answers on another channel (asked by e-mail, answers on WeChat):
                // with one ticket waiting on them, this conversation is that answer.
                linked = [try await store.linkConversation(conversationID, toTicket: waiting.id, at: now(), actor: Self.actor)]
            }
            // A bare score that answers no open survey (a late one, say) is no reason to reopen
            // a solved ticket.
            let score = settings.csat != nil && CSATScore.parse(text) != nil
            for ticket in linked where !(score && ticket.status == .solved) {
                try await reopenIfAnswered(ticket, at: date, settings: settings)
            }
        }
        let accountQueue = channels.account(conversation.channelAccountID)?.queueID
        let selfServed = isSelfServed(conversation)
        if let query {
            try await answer(query, whole: whole, text: text, in: conversation, event: event)
            if selfServed {
                // Closed only if the customer said nothing more meanwhile (checked in the commit).
                if let messageID = event.refs.messageID {
                    _ = try await store.closeUnattended(conversation.id, ifLatestInboundIs: messageID, at: now(), actor: Self.actor)
                }
            }
        } else if selfServed, let accountQueue {
            // The customer went on to say something else: an agent should see it.
            _ = try await store.updateConversation(conversation.id, ConversationChange(queueID: .some(accountQueue)), at: now(), actor: Self.actor)
        }
    }

    /// Whether ingest kept the conversation out of the queues because it began with a question or
    /// a survey score (and nobody took it since).
    private func isSelfServed(_ conversation: Conversation) -> Bool {
        conversation.queueID == nil && conversation.assigneeID == nil && conversation.status != .closed
            && channels.account(conversation.channelAccountID)?.queueID != nil
    }

    // MARK: Satisfaction surveys

    /// Takes a score as the answer to a survey, if it is one: a survey of a ticket this
    /// conversation belongs to, or, in a conversation that only began with the score, the
    /// customer's one open survey (with several open, which one is meant is for an agent to
    /// ask). The survey must have gone out before the message. Returns whether it was an answer.
    private func answerSurvey(
        score: Int, message messageID: Message.ID, text: String, in conversation: Conversation, event: HubEvent, csat: CSATSettings
    ) async throws -> Bool {
        let date = event.occurredAt
        // Answered by this very message already: the log is read again after a crash.
        var survey = try await store.survey(answeredBy: messageID)
        // A conversation an agent is in is theirs: "2" may answer their question.
        if survey == nil, conversation.assigneeID == nil {
            var candidates: [CSATSurvey] = []
            for ticket in try await store.tickets(linkedTo: conversation.id) where ticket.customerID == conversation.customerID {
                if let candidate = try await store.survey(ticketID: ticket.id), candidate.isOpen(at: date) { candidates.append(candidate) }
            }
            // With two tickets' surveys open here, which one the score is for is unclear.
            if candidates.count == 1 { survey = candidates[0] }
        }
        if survey == nil, isSelfServed(conversation) {
            let open = try await store.openSurveys(of: conversation.customerID, at: date)
            if open.count == 1 { survey = open[0] }
        }
        guard let survey else { return false }
        let result: CSATAnswerResult
        do {
            result = try await store.answerSurvey(
                CSATAnswer(surveyID: survey.id, score: score, messageID: messageID, channelAccountID: conversation.channelAccountID, escalation: escalation(csat, from: date)),
                at: date, actor: Self.actor)
        } catch let error as StoreError where error.code == .conflict {
            // Answered by another message or on the page meanwhile, or just expired: a message.
            logger.info("survey answer not taken", metadata: ["survey": "\(survey.id)", "error": "\(error)"])
            return false
        }
        guard let ticket = try await store.ticket(survey.ticketID) else { return true }
        let locale = CustomerLocale.guess(from: text == String(score) ? ticket.subject : text)
        let low = score <= csat.lowScore && csat.escalationQueue != nil
        let name = low ? "sorry" : "thanks"
        let reply = TicketTexts.render(
            settings.template(name, locale, channel: conversation.channelKind) ?? TicketTexts.template(name, locale), ticket: ticket, comment: nil,
            reopenWindow: settings.reopenWindow, locale: locale, extra: ["score": String(score)])
        do {
            _ = try await outbound.send(
                OutboundService.Request(
                    conversationID: conversation.id, author: .system, content: Self.automatic(reply, .reply), idempotencyKey: "csat-thanks:\(event.sequence)"),
                actor: Self.actor)
        } catch let error as StoreError where error.code == .conflict {
            logger.warning("survey thanks not sent", metadata: ["conversation": "\(conversation.id)", "error": "\(error)"])
        }
        if isSelfServed(conversation) {
            _ = try await store.closeUnattended(conversation.id, ifLatestInboundIs: messageID, at: now(), actor: Self.actor)
        }
        if result.reopened != nil {
            logger.notice("a low score reopened a ticket", metadata: ["ticket": "\(ticket.number)", "score": "\(score)"])
        }
        return true
    }

    /// What a low score does now: reopen to the escalation queue, due after the follow-up time.
    private func escalation(_ csat: CSATSettings, from date: Date) -> CSATEscalation? {
        csat.escalationQueue.map { CSATEscalation(lowScore: csat.lowScore, queueID: $0, dueAt: date.addingTimeInterval(csat.followUp.seconds)) }
    }

    /// What the survey page shows for `token`.
    public enum SurveyPage: Sendable, Equatable {
        case unknown
        case open(CSATSurvey, Ticket)
        case answered(CSATSurvey, Ticket)
        case expired(CSATSurvey, Ticket)
    }

    /// The survey behind a page's token.
    public func surveyPage(token: String) async throws -> SurveyPage {
        guard token.count == 32, token.allSatisfy(\.isHexDigit), let survey = try await store.survey(token: token),
            let ticket = try await store.ticket(survey.ticketID)
        else { return .unknown }
        if survey.score != nil { return .answered(survey, ticket) }
        if survey.withdrawnAt != nil { return .expired(survey, ticket) }
        return survey.isOpen(at: now()) ? .open(survey, ticket) : .expired(survey, ticket)
    }

    /// A score given on the survey page: recorded like one in a message (a low one reopens the
    /// ticket), once.
    public func answerOnPage(token: String, score: Int) async throws -> SurveyPage {
        let page = try await surveyPage(token: token)
        guard case .open(let survey, _) = page else { return page }
        do {
            _ = try await store.answerSurvey(
                CSATAnswer(surveyID: survey.id, score: score, messageID: nil, channelAccountID: "web", escalation: settings.csat.flatMap { escalation($0, from: now()) }),
                at: now(),
                actor: Self.actor)
        } catch let error as StoreError where error.code == .conflict {
            logger.info("survey answer on the page not taken", metadata: ["survey": "\(survey.id)", "error": "\(error)"])
        }
        return try await surveyPage(token: token)
    }

    /// The survey that goes with the notification that `ticket` is solved, if this change (`event`)
    /// is the one that sends it: a ticket is surveyed once, and a solution after a reopen asks
    /// nothing again.
    private func surveyInvitation(for ticket: Ticket, event: HubEvent) async throws -> SurveyInvitation? {
        guard let csat = settings.csat, ticket.status == .solved else { return nil }
        let survey = try await store.createSurvey(
            CSATSurveyDraft(ticketID: ticket.id, token: Self.token(), eventSequence: event.sequence, expiresAt: now().addingTimeInterval(csat.expireAfter.seconds)),
            at: now(), actor: Self.actor)
        guard survey.eventSequence == event.sequence, survey.score == nil, survey.withdrawnAt == nil else { return nil }
        return SurveyInvitation(id: survey.id, scale: csat.scale, link: csat.link.map { $0.replacingOccurrences(of: "{token}", with: survey.token) })
    }

    struct SurveyInvitation {
        var id: CSATSurvey.ID
        var scale: CSATSettings.Scale
        var link: String?

        /// The question, appended to the solved notification.
        func text(ticket: Ticket, settings: TicketSettings, locale: CustomerLocale, channel: ChannelKind) -> String {
            let scale =
                switch (scale, locale) {
                case (.numbers, .en): "with a number from 1 (poor) to 5 (excellent)"
                case (.numbers, .zhCN): "数字 1（很差）到 5（很好）"
                case (.emoji, _): zip(CSATScore.emoji, 1...5).map { "\($0)\($1)" }.joined(separator: " ")
                }
            let template = settings.template("survey", locale, channel: channel) ?? TicketTexts.surveyTemplate(locale, withLink: link != nil)
            return TicketTexts.render(
                template, ticket: ticket, comment: nil, reopenWindow: settings.reopenWindow, locale: locale, extra: ["scale": scale, "link": link ?? ""])
        }
    }

    enum Automatic: String {
        case reply = "auto-replied"
        case notification = "auto-generated"
    }

    /// A text the hub writes by itself: e-mail marks it `Auto-Submitted` (RFC 3834), so that the
    /// customer's mail system does not answer it automatically.
    static func automatic(_ text: String, _ kind: Automatic) -> OutboundContent {
        OutboundContent(text: text, options: ["autoSubmitted": .string(kind.rawValue)])
    }

    /// A survey link's secret: 128 random bits, hex.
    static func token() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// The customer's one pending ticket, changed before `date` (none when several wait: which
    /// one the message answers is for an agent to say).
    private static func ticketWaiting(in pending: [Ticket], at date: Date) -> Ticket? {
        guard pending.count == 1, pending[0].updatedAt < date else { return nil }
        return pending[0]
    }

    /// A pending ticket was waiting on this customer: it is open again. A solved one reopens when
    /// the customer writes within the reopen window.
    private func reopenIfAnswered(_ ticket: Ticket, at date: Date, settings: TicketSettings) async throws {
        // A message older than the ticket's last change was there when the agent made it (the
        // log is read after the fact).
        guard ticket.updatedAt < date else { return }
        let reason: String
        switch ticket.status {
        case .pending:
            reason = "the customer replied"
        case .solved:
            guard let solvedAt = ticket.solvedAt, date.timeIntervalSince(solvedAt) <= settings.reopenWindow.seconds else { return }
            reason = "the customer replied within \(Self.words(settings.reopenWindow)) of the solution"
        case .new, .open, .onHold, .closed:
            return
        }
        do {
            _ = try await store.updateTicket(
                ticket.id, TicketChange(status: .open, reason: reason, expectedStatus: ticket.status), at: now(), actor: Self.actor)
        } catch let error as StoreError where error.code == .conflict {
            // An agent changed it meanwhile: theirs stands.
            logger.info("ticket not reopened", metadata: ["ticket": "\(ticket.number)", "error": "\(error)"])
        }
    }

    /// Answers a status question on the conversation's channel. Only the customer's own tickets
    /// are ever named; a number that is not theirs gets the same answer as one that does not exist.
    /// A number inside a message that says more (`whole` false: "my T-800 vacuum stopped") is
    /// answered only when it is one of the customer's tickets: otherwise it was no question.
    private func answer(_ query: TicketQuery, whole: Bool, text: String, in conversation: Conversation, event: HubEvent) async throws {
        let locale = CustomerLocale.guess(from: text)
        let reply: String
        switch query {
        case .number(let number):
            var ticket = try await store.ticket(number: number)
            if let merged = ticket?.mergedIntoID, ticket?.customerID == conversation.customerID {
                ticket = try await store.ticket(merged)
            }
            let theirs = ticket?.customerID == conversation.customerID ? ticket : nil
            guard whole || theirs != nil else { return }
            reply = TicketTexts.answer(quoted: number, ticket: theirs, locale: locale)
        case .mine:
            let shown = 5
            let tickets = try await store.tickets(
                matching: TicketFilter(customerID: conversation.customerID, statuses: [.new, .open, .pending, .onHold, .solved]), after: nil,
                limit: shown + 1)
            reply = TicketTexts.answer(mine: Array(tickets.prefix(shown)), more: tickets.count > shown, locale: locale)
        }
        do {
            _ = try await outbound.send(
                OutboundService.Request(
                    conversationID: conversation.id, author: .system, content: Self.automatic(reply, .reply),
                    idempotencyKey: "ticket-status:\(event.sequence)"),
                actor: Self.actor)
        } catch let error as StoreError where error.code == .conflict {
            // The channel cannot take it now (an opt-out came in meanwhile): nothing else to try.
            logger.warning(
                "ticket status not sent", metadata: ["conversation": "\(conversation.id)", "sequence": "\(event.sequence)", "error": "\(error)"])
        }
    }

    // MARK: Telling the customer

    /// Tells the customer about a status change an agent (or a rule) made, or an agent's public
    /// comment: on the channel the ticket was born on (or, when that one cannot take it now, the
    /// next in the customer's order), and on every other channel they chose to hear on. Each
    /// goes through the outbox under a key made of the change's sequence number and the place
    /// in that list, so that reading the log again sends nothing twice; when no channel can take
    /// it, that is recorded and supervisors see it.
    private func announce(_ event: HubEvent) async throws {
        guard let ticketID = event.refs.ticketID else { return }
        let ticket: Ticket
        let template: String
        var comment: String?
        if event.kind == .ticketUpdated {
            let update = try event.payload.decode(as: TicketUpdatedPayload.self)
            guard update.changes.contains("status"), update.ticket.mergedIntoID == nil, settings.announce.contains(update.ticket.status) else { return }
            ticket = update.ticket
            template = ticket.status.rawValue
        } else {
            let commented = try event.payload.decode(as: TicketCommentedPayload.self)
            guard commented.comment.visibility == .public, let current = try await store.ticket(ticketID) else { return }
            ticket = current
            template = "comment"
            comment = commented.comment.body
        }
        guard let customer = try await store.customer(ticket.customerID) else { return }
        let settings = self.settings
        let locale = customer.locale.flatMap(CustomerLocale.init(tag:)) ?? CustomerLocale.guess(from: ticket.subject)
        let survey = event.kind == .ticketUpdated ? try await surveyInvitation(for: ticket, event: event) : nil
        /// The text for one kind of channel (templates may differ per kind).
        func text(for kind: ChannelKind) -> String {
            let text = TicketTexts.render(
                settings.template(template, locale, channel: kind) ?? TicketTexts.template(template, locale), ticket: ticket, comment: comment,
                reopenWindow: settings.reopenWindow, locale: locale)
            return survey.map { text + "\n" + $0.text(ticket: ticket, settings: settings, locale: locale, channel: kind) } ?? text
        }
        let preferred = try await store.notificationChannels(of: customer.id).filter { channels.account($0.channelAccountID)?.isActive == true }
        let order = preferred.map(\.channelAccountID)
        let handles = try await store.handles(of: customer.id)
        let conversations = try await linkedConversations(of: ticket).filter { $0.customerID == ticket.customerID }
        // The birth channel, falling back along the customer's order; then each other channel
        // they chose.
        var places: [(name: String, accounts: [String])] = []
        if let born = ticket.channelAccountID ?? conversations.first?.channelAccountID {
            places.append(("origin", [born] + order.filter { $0 != born }))
        }
        for channel in preferred where channel.subscribed && channel.channelAccountID != places.first?.accounts.first {
            places.append(("channel:" + channel.channelAccountID, [channel.channelAccountID]))
        }
        var used: Set<String> = []
        var reasons: [String: String] = [:]
        var told = false
        for place in places {
            for accountID in place.accounts where !used.contains(accountID) {
                guard let account = channels.account(accountID), account.kind.medium != .voice else {
                    reasons[accountID] = "the channel does not carry text"
                    continue
                }
                let reachable = handles.filter { $0.kind == account.kind.handleKind && (($0.scope.isEmpty) || $0.scope == account.identityScope) }
                guard let handle = reachable.first(where: { $0.optedOutAt == nil }) ?? reachable.first else {
                    reasons[accountID] = "the customer has no \(account.kind.handleKind.rawValue) handle"
                    continue
                }
                guard let conversation = conversations.first(where: { $0.channelAccountID == accountID }) ?? conversations.first else {
                    reasons[accountID] = "the ticket has no conversation"
                    continue
                }
                var content = Self.automatic(text(for: account.kind), .notification)
                if account.kind == .email, conversation.channelAccountID != accountID {
                    content.subject = "[\(ticket.number)] \(ticket.subject)"
                }
                do {
                    let receipt = try await outbound.send(
                        OutboundService.Request(
                            conversationID: conversation.id, author: .system, content: content, idempotencyKey: "ticket-notify:\(event.sequence):\(place.name)",
                            handleID: handle.id, channelAccountID: accountID,
                            notBefore: settings.quietHours.map { $0.release(now(), through: account.kind) }),
                        actor: Self.actor)
                    // The account it went through (a receipt stored by an earlier reading of
                    // this event may name another than the one tried first now).
                    used.insert(receipt.message.channelAccountID)
                    told = true
                    break
                } catch let error as StoreError where error.code != .unavailable {
                    reasons[accountID] = error.message
                }
            }
        }
        if !told {
            // The customer never saw the survey: it takes no answer and counts as not sent.
            if let survey { _ = try await store.withdrawSurvey(survey.id, at: now(), actor: Self.actor) }
            if try await store.recordUnnotified(ticket, key: "ticket-notify:\(event.sequence)", reasons: reasons, at: now(), actor: Self.actor) {
                logger.warning("a ticket change reached its customer on no channel", metadata: ["ticket": "\(ticket.number)", "reasons": "\(reasons)"])
            }
        }
    }

    /// The ticket's conversations, the newest first.
    private func linkedConversations(of ticket: Ticket) async throws -> [Conversation] {
        var found: [Conversation] = []
        for id in ticket.conversationIDs.reversed() {
            if let conversation = try await store.conversation(id) { found.append(conversation) }
        }
        if found.isEmpty, let latest = try await store.conversations(of: ticket.customerID, limit: 1).first { found.append(latest) }
        return found
    }

    // MARK: Closing

    /// Closes tickets solved longer ago than `closeAfter`.
    public func closeSolvedTickets() async throws {
        let settings = self.settings
        let before = now().addingTimeInterval(-settings.closeAfter.seconds)
        while true {
            let due = try await store.solvedTickets(solvedAtOrBefore: before, limit: 100)
            for ticket in due {
                do {
                    _ = try await store.updateTicket(
                        ticket.id,
                        TicketChange(status: .closed, reason: "solved more than \(Self.words(settings.closeAfter)) ago", expectedStatus: .solved),
                        at: now(), actor: Self.actor)
                } catch let error as StoreError where error.code == .conflict {
                    logger.info("ticket not closed", metadata: ["ticket": "\(ticket.id)", "error": "\(error)"])
                }
            }
            if due.count < 100 { return }
        }
    }

    static func words(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds % 86_400 == 0 { return seconds == 86_400 ? "1 day" : "\(seconds / 86_400) days" }
        if seconds % 3600 == 0 { return seconds == 3600 ? "1 hour" : "\(seconds / 3600) hours" }
        if seconds % 60 == 0 { return "\(seconds / 60) minutes" }
        return "\(seconds) seconds"
    }
}

/// The ticket settings, read by ingest on every message and changed by a rules reload.
public final class TicketSettingsCell: Sendable {
    private let state: Mutex<TicketSettings>

    public init(_ settings: TicketSettings) { state = Mutex(settings) }

    public var value: TicketSettings {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Runs the ticket service in the hub's service group.
public struct TicketServiceRunner: Service {
    let tickets: TicketService

    public init(_ tickets: TicketService) { self.tickets = tickets }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await tickets.run()
        }
    }
}
