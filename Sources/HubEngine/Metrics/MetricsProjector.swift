import Foundation
import HubConfig
import HubModel
import HubRouting
import HubStore

/// Turns the event log into counts per minute, channel, queue and agent (docs/metrics.md defines
/// every figure). A pure function of the events it is given and the state it starts from: no
/// clock, no I/O, so the same log always gives the same counts, and a page read again after a
/// crash is applied to the state as it was committed with the counts.
///
/// It keeps, per conversation, what its figures need (channel, queue, waiting or assigned since
/// when); per agent, the presence and the contacts in hand, to count time per state; per ticket,
/// its birth channel and solve. Everything it counts is by the time of the event that settles it
/// (a wait when it ends, a handle time when the work ends).
public struct MetricsProjector: Sendable {
    public struct Rules: Sendable {
        /// Service level thresholds per queue; queues not listed use the router's defaults.
        public var thresholds: [String: PerMedium<Duration>]
        /// Contacts that leave before this are short abandons (not counted against the service level).
        public var shortAbandon: Duration
        /// How long a closed conversation's facts are kept for late delivery reports.
        public var keepClosed: Duration
        /// The channel kind of each channel account (for tickets and messages).
        public var accountKinds: [String: ChannelKind]
        /// How long the figures are kept per minute (see `MetricsSettings.keepMinutes`).
        public var keepMinutes: Duration

        public init(
            thresholds: [String: PerMedium<Duration>] = [:], shortAbandon: Duration = .seconds(5), keepClosed: Duration = .seconds(7 * 86_400),
            accountKinds: [String: ChannelKind] = [:], keepMinutes: Duration = .seconds(35 * 86_400)
        ) {
            self.thresholds = thresholds
            self.shortAbandon = shortAbandon
            self.keepClosed = keepClosed
            self.accountKinds = accountKinds
            self.keepMinutes = keepMinutes
        }

        func threshold(queue: String, medium: ChannelMedium) -> Duration {
            thresholds[queue]?[medium] ?? QueuePolicy.defaultServiceLevel[medium].threshold
        }
    }

    /// A conversation, as its figures need it.
    struct Contact: Codable, Sendable, Hashable {
        enum Phase: String, Codable, Sendable { case none, waiting, assigned }
        var channel: ChannelKind
        var queue: String?
        var phase: Phase = .none
        var agent: String?
        /// This visit's entry into the queues (kept across moves between queues): its wait.
        var enteredAt: Date?
        /// The entry into the queue it waits in now (a transfer's new wait), for the waits of now.
        var queuedAt: Date?
        /// Who hung up the conversation's call, when the call record says (a voice abandon is the
        /// caller's hang-up, not the hub's).
        var hungUpBy: String?
        var assignedAt: Date?
        /// Whether this visit reached an agent (counted as handled once).
        var handled = false
        /// Whether this visit's first agent reply was counted.
        var responded = false
        var firstInboundAt: Date?
        /// The conversation was closed by the customer's side while waiting (an abandon).
        var leftByCustomer = false
        /// An agent given the conversation by hand while it waited.
        var assignedByHand: String?
        /// An overflow rule fired: the next queue entry is its requeue.
        var overflowing = false
        var closedAt: Date?

        var medium: ChannelMedium { channel.medium }
    }

    /// An agent's presence and the contacts in hand (assigned or in wrap-up), since when.
    struct AgentClock: Codable, Sendable, Hashable {
        var presence = "offline"
        var since: Date
        var assigned: Set<String> = []
        /// Conversation id → wrap-up start.
        var wrapping: [String: Date] = [:]

        var state: AgentState? {
            switch presence {
            case "offline": nil
            case _ where !assigned.isEmpty || !wrapping.isEmpty: .busy
            case "available": .idle
            default: .away
            }
        }
    }

    enum AgentState { case idle, busy, away }

    /// A ticket, as its figures need it.
    struct TicketFacts: Codable, Sendable, Hashable {
        var channel: String
        var queue: String?
        var agent: String?
        var createdAt: Date
        var conversations: Set<String>
        /// Where the first solve was counted (for a first-contact resolution a reopen takes back).
        var solvedMinute: Int64?
        var solvedQueue: String?
        var solvedAgent: String?
        var firstContact = false
    }

    public let rules: Rules
    private(set) var contacts: [String: Contact] = [:]
    private(set) var agents: [String: AgentClock] = [:]
    private(set) var tickets: [String: TicketFacts] = [:]
    private(set) var deltas: [MetricKey: MetricCounters] = [:]
    /// The state changed since the last commit (its keys spelled only then, once each).
    private var dirty: Set<StateKey> = []
    private var lastPrune: Date?
    /// The conversations waiting now (an index into `contacts`, which holds closed ones too).
    private var waitingIDs: Set<String> = []

    public init(rules: Rules) { self.rules = rules }

    /// A piece of the projection's state, as committed under `text` (`c:`, `a:` or `t:` and the id).
    private enum StateKey: Hashable {
        case contact(String)
        case agent(String)
        case ticket(String)

        var text: String {
            switch self {
            case .contact(let id): "c:" + id
            case .agent(let id): "a:" + id
            case .ticket(let id): "t:" + id
            }
        }
    }

    // MARK: State

    /// The projection from its committed state.
    public init(rules: Rules, state: [String: String]) throws {
        self.rules = rules
        let decoder = JSONDecoder()
        for (key, value) in state {
            let data = Data(value.utf8)
            let id = String(key.dropFirst(2))
            switch key.prefix(2) {
            case "c:":
                let contact = try decoder.decode(Contact.self, from: data)
                contacts[id] = contact
                if contact.phase == .waiting { waitingIDs.insert(id) }
            case "a:": agents[id] = try decoder.decode(AgentClock.self, from: data)
            case "t:": tickets[id] = try decoder.decode(TicketFacts.self, from: data)
            default: continue
            }
        }
    }

    /// What changed since the last commit, bringing the projection from log position `from` to
    /// `to`; starts the next page.
    public mutating func commit(from: Int64, to position: Int64) -> MetricsCommit {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var state: [String: String?] = [:]
        for key in dirty {
            let text: String?
            // A call changes its contact and its agent's clock: those two are written directly,
            // as `JSONEncoder` would (see `Contact.writeJSON`); tickets, rarer, by the encoder.
            switch key {
            case .contact(let id): text = contacts[id].map { JSONWriter.text(of: $0) }
            case .agent(let id): text = agents[id].map { JSONWriter.text(of: $0) }
            case .ticket(let id): text = tickets[id].flatMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) }
            }
            state[key.text] = .some(text)
        }
        let commit = MetricsCommit(from: from, position: position, deltas: deltas, state: state)
        deltas = [:]
        dirty = []
        return commit
    }

    public var hasChanges: Bool { !deltas.isEmpty || !dirty.isEmpty }

    /// Adds counts that are not from the log (inbound requests refused before they were stored).
    public mutating func count(_ field: MetricField, _ value: Int64 = 1, key: MetricKey) {
        deltas[key, default: MetricCounters()][field] += value
    }

    private mutating func count(_ field: MetricField, _ value: Int64 = 1, at date: Date, channel: String = "", queue: String? = nil, agent: String? = nil) {
        count(field, value, key: MetricKey(minute: MetricKey.minute(of: date), channel: channel, queue: queue ?? "", agent: agent ?? ""))
    }

    private mutating func milliseconds(_ field: MetricField, from start: Date, to end: Date, channel: String, queue: String?, agent: String?) {
        count(field, Self.milliseconds(from: start, to: end), at: end, channel: channel, queue: queue, agent: agent)
    }

    static func milliseconds(from start: Date, to end: Date) -> Int64 {
        max(0, Int64(((end.timeIntervalSince1970 - start.timeIntervalSince1970) * 1000).rounded()))
    }

    private mutating func setContact(_ id: String, _ contact: Contact?) {
        contacts[id] = contact
        if contact?.phase == .waiting { waitingIDs.insert(id) } else { waitingIDs.remove(id) }
        dirty.insert(.contact(id))
    }

    private mutating func setTicket(_ id: String, _ ticket: TicketFacts?) {
        tickets[id] = ticket
        dirty.insert(.ticket(id))
    }

    // MARK: Events

    /// Counts one event.
    public mutating func apply(_ event: HubEvent) {
        let date = event.occurredAt
        // Read (parsed from the log's text) only by the kinds that need it: most of a call's
        // events are counted from their kind and references alone.
        lazy var payload = event.payload
        let conversationID = event.refs.conversationID?.rawValue
        switch event.kind {
        case .conversationCreated, .conversationUpdated:
            let created = event.kind == .conversationCreated
            // The value itself when the event carries it (fresh from the writer), else parsed.
            if created, let conversation = event.carried(Conversation.self) {
                conversationChanged(conversation, changes: [], at: date, by: event.actor, created: true)
                return
            }
            if !created, let update = event.carried(ConversationUpdatedPayload.self) {
                conversationChanged(update.conversation, changes: update.changes, at: date, by: event.actor, created: false)
                return
            }
            let json = created ? payload : payload["conversation"]
            guard let json, let conversation = try? Conversation(json: json) else { return }
            let changes = payload["changes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            conversationChanged(conversation, changes: changes, at: date, by: event.actor, created: created)
        case .routingQueued:
            guard let id = conversationID, let queue = payload["queue"]?.stringValue else { return }
            queued(id, queue: queue, at: date)
        case .routingAssigned:
            guard let id = conversationID, let agent = event.refs.agentID?.rawValue else { return }
            assigned(id, agent: agent, at: date)
        case .routingCompleted:
            guard let id = conversationID, var contact = contacts[id], contact.phase == .assigned, let agent = contact.agent,
                let assignedAt = contact.assignedAt
            else { return }
            endWork(id, &contact, agent: agent, from: assignedAt, at: date)
            contact.phase = .none
            setContact(id, contact)
        case .routingEnded:
            guard let id = conversationID, let reason = payload["reason"] else { return }
            ended(id, reason: reason, at: date)
        case .routingOverflow:
            guard let id = conversationID, var contact = contacts[id], payload["action"]?["requeue"] != nil else { return }
            contact.overflowing = true
            setContact(id, contact)
        case .offerCreated, .offerEnded:
            guard let id = conversationID, let contact = contacts[id], let agent = event.refs.agentID?.rawValue else { return }
            let field: MetricField?
            if event.kind == .offerCreated {
                field = .offers
            } else {
                switch payload["reason"]?.stringValue {
                case "declined": field = .offersDeclined
                case "expired": field = .offersMissed
                default: field = nil
                }
            }
            if let field { count(field, at: date, channel: contact.channel.rawValue, queue: contact.queue, agent: agent) }
        case .agentWrapUp:
            guard let id = conversationID, let agent = event.refs.agentID?.rawValue else { return }
            wrapUp(id, agent: agent, started: payload["state"]?.stringValue == "started", at: date)
        case .agentPresence:
            guard let agent = event.refs.agentID?.rawValue, let state = payload["presence"]?["state"]?.stringValue else { return }
            let restart = payload["by"]?.stringValue == "restart"
            updateAgent(agent, at: date) { clock in
                clock.presence = state
                // The restarted router dropped the wrap-ups in progress.
                if restart { clock.wrapping = [:] }
            }
        case .callCreated, .callUpdated:
            // Who hung up is in the record once the call has ended: an earlier change is not read.
            // (The record itself when the event carries it, fresh from the writer.)
            guard let id = conversationID, var contact = contacts[id] else { return }
            let party: String?
            if let record = event.carried(CallRecord.self) {
                party = record.hungUpBy?.rawValue
            } else {
                party = event.payloadMayContain("hungUpBy") ? payload["hungUpBy"]?.stringValue : nil
            }
            guard let party, contact.hungUpBy != party else { return }
            contact.hungUpBy = party
            setContact(id, contact)
        case .messageReceived:
            guard let id = conversationID, var contact = contacts[id] else { return }
            count(.inboundMessages, at: date, channel: contact.channel.rawValue, queue: contact.queue)
            if contact.firstInboundAt == nil {
                contact.firstInboundAt = date
                setContact(id, contact)
            }
        case .messageQueued:
            guard let id = conversationID, let contact = contacts[id] else { return }
            let author = payload["author"]
            let agent = author?["kind"]?.stringValue == "agent" ? author?["id"]?.stringValue : nil
            count(.outboundMessages, at: date, channel: contact.channel.rawValue, queue: contact.queue, agent: agent)
            if let agent { replied(id, agent: agent, at: date) }
        case .messageStatusChanged:
            guard let id = conversationID, let contact = contacts[id], let status = payload["status"]?.stringValue,
                let previous = payload["previous"]?.stringValue
            else { return }
            delivery(contact, status: status, previous: previous, at: date)
        case .ticketCreated:
            guard let ticket = try? payload.decode(as: Ticket.self) else { return }
            ticketCreated(ticket, at: date)
        case .ticketLinked:
            guard let id = event.refs.ticketID?.rawValue, let conversation = conversationID, var ticket = tickets[id] else { return }
            ticket.conversations.insert(conversation)
            setTicket(id, ticket)
        case .ticketUpdated:
            guard let update = try? payload.decode(as: TicketUpdatedPayload.self) else { return }
            ticketUpdated(update, at: date)
        case .csatSent, .csatWithdrawn:
            guard let survey = try? payload.decode(as: CSATSurvey.self) else { return }
            // A withdrawn survey was never seen: it is taken back from the minute it was sent.
            let channel = tickets[survey.ticketID.rawValue]?.channel ?? ""
            count(
                .csatSent, event.kind == .csatSent ? 1 : -1, at: survey.sentAt, channel: channel, queue: survey.queueID,
                agent: survey.agentID?.rawValue)
        case .csatAnswered:
            guard let answered = try? payload.decode(as: CSATAnsweredPayload.self), let score = answered.survey.score else { return }
            let survey = answered.survey
            let channel = tickets[survey.ticketID.rawValue]?.channel ?? ""
            let agent = survey.agentID?.rawValue
            count(.csatAnswered, at: date, channel: channel, queue: survey.queueID, agent: agent)
            count(.csatScoreSum, Int64(score), at: date, channel: channel, queue: survey.queueID, agent: agent)
            if score >= 4 { count(.csatSatisfied, at: date, channel: channel, queue: survey.queueID, agent: agent) }
        case .slaWarning, .slaBreached:
            guard let id = event.refs.ticketID?.rawValue, let ticket = tickets[id] else { return }
            count(event.kind == .slaWarning ? .slaWarnings : .slaBreaches, at: date, channel: ticket.channel, queue: ticket.queue, agent: ticket.agent)
        default:
            return
        }
    }

    // MARK: Contacts

    private mutating func conversationChanged(
        _ conversation: Conversation, changes: [String], at date: Date, by actor: Actor, created: Bool
    ) {
        let id = conversation.id.rawValue
        var contact = contacts[id] ?? Contact(channel: conversation.channelKind)
        if conversation.status.isOpen {
            contact.closedAt = nil
        } else if contact.closedAt == nil {
            contact.closedAt = date
        }
        // The router ends a task when its conversation closes, is snoozed or pending (RoutingService).
        let leaves = conversation.status == .closed || conversation.status == .snoozed || conversation.status == .pending
        switch contact.phase {
        case .waiting:
            if leaves {
                // A caller's hang-up or CANCEL, a chat the customer closed: the customer's side (for
                // a call, as its record says: the hub ending calls at shutdown is not an abandon).
                contact.leftByCustomer =
                    actor.kind == .channel && (contact.channel != .voice || contact.hungUpBy == nil || contact.hungUpBy == "customer")
            } else if changes.contains("assigneeID"), actor != RoutingService.actor, let agent = conversation.assigneeID?.rawValue {
                // Given to an agent by hand: the router withdraws the task, then assigns it.
                contact.assignedByHand = agent
            }
        case .assigned, .none:
            // An agent's work ends with the router's `routing.completed`.
            if contact.phase == .none, let queue = conversation.queueID { contact.queue = queue }
        }
        if !created, contacts[id] == contact { return }
        setContact(id, contact)
    }

    private mutating func queued(_ id: String, queue: String, at date: Date) {
        guard var contact = contacts[id] else { return }
        switch contact.phase {
        case .waiting:
            // The same queue again: the router rebuilt after a restart (the wait goes on).
            guard contact.queue != queue else { return }
            if contact.overflowing { count(.requeued, at: date, channel: contact.channel.rawValue, queue: contact.queue) }
        case .assigned:
            // Passed on by its agent (to a queue or another agent).
            if let agent = contact.agent, let assignedAt = contact.assignedAt {
                count(.transfers, at: date, channel: contact.channel.rawValue, queue: contact.queue, agent: agent)
                endWork(id, &contact, agent: agent, from: assignedAt, at: date)
            }
        case .none:
            // A new visit: the conversation is new, or came back (reopened) after its last one.
            count(.offered, at: date, channel: contact.channel.rawValue, queue: queue)
            contact.enteredAt = date
            contact.handled = false
            contact.responded = false
            contact.firstInboundAt = nil
        }
        contact.phase = .waiting
        contact.queue = queue
        contact.queuedAt = date
        contact.agent = nil
        contact.assignedAt = nil
        contact.overflowing = false
        contact.leftByCustomer = false
        contact.assignedByHand = nil
        setContact(id, contact)
    }

    private mutating func assigned(_ id: String, agent: String, at date: Date) {
        // (Given from one agent to another by hand, the first agent's work ends with its own
        // `routing.completed` before this.)
        guard var contact = contacts[id], contact.phase != .assigned else { return }
        let channel = contact.channel.rawValue
        if !contact.handled, let entered = contact.enteredAt {
            let wait = Self.milliseconds(from: entered, to: date)
            count(.handled, at: date, channel: channel, queue: contact.queue, agent: agent)
            count(.waitMs, wait, at: date, channel: channel, queue: contact.queue, agent: agent)
            let threshold = rules.threshold(queue: contact.queue ?? "", medium: contact.medium)
            if Duration.milliseconds(wait) <= threshold {
                count(.handledInThreshold, at: date, channel: channel, queue: contact.queue, agent: agent)
            }
            contact.handled = true
        }
        count(.assignments, at: date, channel: channel, queue: contact.queue, agent: agent)
        contact.phase = .assigned
        contact.agent = agent
        contact.assignedAt = date
        contact.assignedByHand = nil
        setContact(id, contact)
        updateAgent(agent, at: date) { $0.assigned.insert(id) }
    }

    private mutating func ended(_ id: String, reason: JSONValue, at date: Date) {
        guard var contact = contacts[id] else { return }
        let channel = contact.channel.rawValue
        if contact.phase == .none, reason["refused"] != nil, let queue = contact.queue {
            // Refused at the door (a full queue): offered and overflowed at once.
            count(.offered, at: date, channel: channel, queue: queue)
            count(.overflowed, at: date, channel: channel, queue: queue)
            return
        }
        guard contact.phase == .waiting else { return }
        if contact.assignedByHand != nil, reason["cancelled"]?.stringValue == "withdrawn" {
            // Withdrawn from the queue to be given to an agent by hand: the assignment follows (and
            // counts the contact handled, with its wait).
            contact.phase = .none
            contact.assignedByHand = nil
            setContact(id, contact)
            return
        }
        let waited = contact.enteredAt.map { Self.milliseconds(from: $0, to: date) } ?? 0
        if contact.handled {
            // Passed on by an agent and left before the next one: the contact was handled; its end
            // is not an outcome of its own.
        } else if let cancelled = reason["cancelled"]?.stringValue {
            if cancelled == "abandoned" || contact.leftByCustomer {
                count(.abandoned, at: date, channel: channel, queue: contact.queue)
                count(.abandonWaitMs, waited, at: date, channel: channel, queue: contact.queue)
                if Duration.milliseconds(waited) < rules.shortAbandon {
                    count(.shortAbandoned, at: date, channel: channel, queue: contact.queue)
                }
            } else {
                count(.withdrawn, at: date, channel: channel, queue: contact.queue)
            }
        } else {
            // An overflow rule's callback, ticket or cancel, a full queue, or its time to live.
            count(.overflowed, at: date, channel: channel, queue: contact.queue)
        }
        contact.phase = .none
        contact.overflowing = false
        setContact(id, contact)
    }

    /// An agent's part of a contact ends (completed, passed on): its handle time.
    private mutating func endWork(_ id: String, _ contact: inout Contact, agent: String, from start: Date, at date: Date) {
        count(.handleCount, at: date, channel: contact.channel.rawValue, queue: contact.queue, agent: agent)
        milliseconds(.handleMs, from: start, to: date, channel: contact.channel.rawValue, queue: contact.queue, agent: agent)
        contact.agent = nil
        contact.assignedAt = nil
        updateAgent(agent, at: date) { $0.assigned.remove(id) }
    }

    private mutating func wrapUp(_ id: String, agent: String, started: Bool, at date: Date) {
        if started {
            updateAgent(agent, at: date) { $0.wrapping[id] = date }
        } else if let start = agents[agent]?.wrapping[id] {
            let contact = contacts[id]
            milliseconds(.wrapMs, from: start, to: date, channel: contact?.channel.rawValue ?? "", queue: contact?.queue, agent: agent)
            updateAgent(agent, at: date) { $0.wrapping[id] = nil }
        }
    }

    private mutating func replied(_ id: String, agent: String, at date: Date) {
        guard var contact = contacts[id], !contact.responded, contact.medium != .voice,
            let start = contact.enteredAt ?? contact.firstInboundAt
        else { return }
        contact.responded = true
        setContact(id, contact)
        count(.firstResponses, at: date, channel: contact.channel.rawValue, queue: contact.queue, agent: agent)
        milliseconds(.firstResponseMs, from: start, to: date, channel: contact.channel.rawValue, queue: contact.queue, agent: agent)
    }

    private mutating func delivery(_ contact: Contact, status: String, previous: String, at date: Date) {
        let channel = contact.channel.rawValue
        let accepted: Set<String> = ["sent", "delivered", "read"]
        if accepted.contains(status), !accepted.contains(previous) { count(.outboundSent, at: date, channel: channel, queue: contact.queue) }
        if status == "delivered" || status == "read", previous != "delivered", previous != "read" {
            count(.outboundDelivered, at: date, channel: channel, queue: contact.queue)
        }
        if status == "failed", previous != "failed" {
            count(.outboundFailed, at: date, channel: channel, queue: contact.queue)
            // Failed after the provider took it: a bounce or a failed delivery report.
            if accepted.contains(previous) { count(.outboundBounced, at: date, channel: channel, queue: contact.queue) }
        }
    }

    // MARK: Agents

    /// Counts the agent's time in its state up to `date`, then changes it.
    private mutating func updateAgent(_ agent: String, at date: Date, _ change: (inout AgentClock) -> Void) {
        var clock = agents[agent] ?? AgentClock(since: date)
        if let state = clock.state, date > clock.since {
            for (minute, milliseconds) in Self.split(from: clock.since, to: date) {
                count(Self.field(state), milliseconds, key: MetricKey(minute: minute, agent: agent))
            }
        }
        clock.since = max(clock.since, date)
        change(&clock)
        agents[agent] = clock
        dirty.insert(.agent(agent))
    }

    static func field(_ state: AgentState) -> MetricField {
        switch state {
        case .idle: .idleMs
        case .busy: .busyMs
        case .away: .awayMs
        }
    }

    /// The milliseconds of `start..<end` in each minute it touches.
    static func split(from start: Date, to end: Date) -> [(minute: Int64, milliseconds: Int64)] {
        let from = Int64((start.timeIntervalSince1970 * 1000).rounded())
        let to = Int64((end.timeIntervalSince1970 * 1000).rounded())
        guard from < to else { return [] }
        var parts: [(Int64, Int64)] = []
        var cursor = from
        while cursor < to {
            let minute = cursor / 60_000
            let next = min(to, (minute + 1) * 60_000)
            parts.append((minute, next - cursor))
            cursor = next
        }
        return parts
    }

    /// The time agents are in their states from their last change to `date` (not yet counted:
    /// it is counted when the state changes), per minute.
    public func openAgentTime(until date: Date, fromMinute: Int64 = .min, toMinute: Int64 = .max) -> [MetricKey: MetricCounters] {
        var open: [MetricKey: MetricCounters] = [:]
        let windowStart = fromMinute == .min ? Date.distantPast : Date(timeIntervalSince1970: Double(fromMinute) * 60)
        let windowEnd = toMinute == .max ? date : min(date, Date(timeIntervalSince1970: Double(toMinute) * 60))
        for (agent, clock) in agents {
            let start = max(clock.since, windowStart)
            guard let state = clock.state, windowEnd > start else { continue }
            for (minute, milliseconds) in Self.split(from: start, to: windowEnd) {
                open[MetricKey(minute: minute, agent: agent), default: MetricCounters()][Self.field(state)] += milliseconds
            }
        }
        return open
    }

    // MARK: Tickets

    private func channel(ofTicket ticket: Ticket) -> String {
        if let first = ticket.conversationIDs.first, let contact = contacts[first.rawValue] { return contact.channel.rawValue }
        if let account = ticket.channelAccountID, let kind = rules.accountKinds[account] { return kind.rawValue }
        return ""
    }

    private mutating func ticketCreated(_ ticket: Ticket, at date: Date) {
        let id = ticket.id.rawValue
        guard tickets[id] == nil else { return }
        let facts = TicketFacts(
            channel: channel(ofTicket: ticket), queue: ticket.queueID, agent: ticket.assigneeID?.rawValue, createdAt: ticket.createdAt,
            conversations: Set(ticket.conversationIDs.map(\.rawValue)))
        setTicket(id, facts)
        count(.ticketsCreated, at: date, channel: facts.channel, queue: facts.queue, agent: facts.agent)
    }

    private mutating func ticketUpdated(_ update: TicketUpdatedPayload, at date: Date) {
        let ticket = update.ticket
        let id = ticket.id.rawValue
        guard var facts = tickets[id] else { return }
        facts.queue = ticket.queueID
        facts.agent = ticket.assigneeID?.rawValue
        facts.conversations.formUnion(ticket.conversationIDs.map(\.rawValue))
        if ticket.status == .solved, update.previousStatus != .solved, update.previousStatus != nil, facts.solvedMinute == nil {
            // The first solve: resolution time from creation, and whether it took one contact.
            let minute = MetricKey.minute(of: date)
            count(.ticketsResolved, at: date, channel: facts.channel, queue: facts.queue, agent: facts.agent)
            milliseconds(.resolutionMs, from: facts.createdAt, to: date, channel: facts.channel, queue: facts.queue, agent: facts.agent)
            facts.solvedMinute = minute
            facts.solvedQueue = facts.queue
            facts.solvedAgent = facts.agent
            facts.firstContact = facts.conversations.count <= 1
            if facts.firstContact { count(.firstContactResolved, at: date, channel: facts.channel, queue: facts.queue, agent: facts.agent) }
        } else if update.previousStatus == .solved, ticket.status != .solved, ticket.status != .closed {
            count(.ticketsReopened, at: date, channel: facts.channel, queue: facts.queue, agent: facts.agent)
            if facts.firstContact, let minute = facts.solvedMinute {
                // Not resolved at first contact after all: taken back where it was counted.
                count(
                    .firstContactResolved, -1,
                    key: MetricKey(minute: minute, channel: facts.channel, queue: facts.solvedQueue ?? "", agent: facts.solvedAgent ?? ""))
                facts.firstContact = false
            }
        }
        setTicket(id, facts)
    }

    // MARK: Housekeeping

    /// Forgets closed conversations past `keepClosed` (as of `date`, the newest event's time), at
    /// most once an hour of event time (it reads every conversation kept).
    public mutating func prune(at date: Date) {
        if let lastPrune, date.timeIntervalSince(lastPrune) < 3600 { return }
        lastPrune = date
        let limit = date.addingTimeInterval(-Double(rules.keepClosed.components.seconds))
        for (id, contact) in contacts where contact.phase == .none {
            if let closed = contact.closedAt, closed < limit { setContact(id, nil) }
        }
    }

    // MARK: Now

    /// A conversation waiting in a queue now.
    public struct Waiting: Sendable, Hashable {
        public var conversationID: String
        public var channel: ChannelKind
        public var queue: String
        public var since: Date
    }

    /// Conversations waiting for an agent now.
    public var waiting: [Waiting] {
        waitingIDs.compactMap { id in
            guard let contact = contacts[id], contact.phase == .waiting, let queue = contact.queue,
                let since = contact.queuedAt ?? contact.enteredAt
            else { return nil }
            return Waiting(conversationID: id, channel: contact.channel, queue: queue, since: since)
        }
    }

    /// An agent now: presence and the media of the contacts in hand.
    public struct AgentNow: Sendable, Hashable {
        public var agentID: String
        public var presence: String
        public var since: Date
        public var busy: Set<ChannelMedium>
        public var wrapping: Int
    }

    public var agentsNow: [AgentNow] {
        agents.map { id, clock in
            AgentNow(
                agentID: id, presence: clock.presence, since: clock.since,
                busy: Set(clock.assigned.compactMap { contacts[$0]?.medium }), wrapping: clock.wrapping.count)
        }
    }
}

extension MetricsProjector.Rules {
    /// The service level thresholds of the routing rules' queues, and the channel accounts' kinds.
    public init(_ routing: RoutingRules, channels: ChannelDirectory) {
        self.init(
            thresholds: Dictionary(
                routing.queues.map { queue in
                    (queue.id, PerMedium(voice: queue.policy.serviceLevel.voice.threshold, messaging: queue.policy.serviceLevel.messaging.threshold,
                        email: queue.policy.serviceLevel.email.threshold))
                }, uniquingKeysWith: { first, _ in first }),
            shortAbandon: routing.metrics.shortAbandon, keepClosed: routing.metrics.keepClosed,
            accountKinds: channels.accounts.mapValues(\.kind), keepMinutes: routing.metrics.keepMinutes)
    }
}

// MARK: The projection's state, written as JSONEncoder (sorted keys) writes it

extension MetricsProjector.Contact: JSONWritable {
    /// The bytes `JSONEncoder` with sorted keys writes (dates as seconds since 2001, its default),
    /// which `JSONDecoder` reads back at the next start; the tests compare the two.
    func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("agent", agent)
        writer.seconds("assignedAt", assignedAt)
        writer.field("assignedByHand", assignedByHand)
        writer.field("channel", channel.rawValue)
        writer.seconds("closedAt", closedAt)
        writer.seconds("enteredAt", enteredAt)
        writer.seconds("firstInboundAt", firstInboundAt)
        writer.key("handled")
        writer.bool(handled)
        writer.field("hungUpBy", hungUpBy)
        writer.key("leftByCustomer")
        writer.bool(leftByCustomer)
        writer.key("overflowing")
        writer.bool(overflowing)
        writer.field("phase", phase.rawValue)
        writer.field("queue", queue)
        writer.seconds("queuedAt", queuedAt)
        writer.key("responded")
        writer.bool(responded)
        writer.endObject()
    }
}

extension MetricsProjector.AgentClock: JSONWritable {
    /// As `Contact.writeJSON`: `JSONEncoder`'s bytes (the set in its own order, as the encoder
    /// takes it).
    func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("assigned")
        writer.beginArray()
        for conversation in assigned { writer.string(conversation) }
        writer.endArray()
        writer.field("presence", presence)
        writer.seconds("since", since)
        writer.key("wrapping")
        writer.beginObject()
        for (conversation, started) in wrapping.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            writer.seconds(conversation, started)
        }
        writer.endObject()
        writer.endObject()
    }
}

extension JSONWriter {
    /// `key: seconds since 2001` (`JSONEncoder`'s default for dates), left out when nil.
    fileprivate mutating func seconds(_ name: String, _ value: Date?) {
        guard let value else { return }
        key(name)
        double(value.timeIntervalSinceReferenceDate)
    }
}
