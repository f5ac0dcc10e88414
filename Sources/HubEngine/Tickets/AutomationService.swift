import Foundation
import HubConfig
import HubModel
import HubRouting
import HubStore
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the automations of `routing-rules/` on the event log: for each event an automation
/// follows whose condition holds, its actions, once.
///
/// Once per event even when the log is read again after a crash: a ticket an automation opens
/// has an id made of the event's sequence number and the automation's id (found, it is not opened
/// again); priority, queue and tags are set to a value (setting them twice is setting them once);
/// a notice is recorded under a key. Automations never react to their own changes, so they cannot
/// loop.
public actor AutomationService: LogFollower {
    static let readerName = "automations"
    static let actor = Actor(kind: .system, id: "automations")

    let store: any HubStore
    let now: @Sendable () -> Date
    let logger: Logger
    private let rulesCell: Mutex<[AutomationRule]>
    var reader = LogReader(name: AutomationService.readerName)
    private let wake = WakeSignal()

    init(store: any HubStore, rules: [AutomationRule], now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.rulesCell = Mutex(rules)
        self.now = now
        self.logger = logger
    }

    public nonisolated var rules: [AutomationRule] { rulesCell.withLock { $0 } }

    /// New automations from a rules reload: they apply to events read from now on.
    public func reload(_ rules: [AutomationRule]) {
        rulesCell.withLock { $0 = rules }
        wake.signal()
    }

    public func run() async throws {
        await wake.follow(store) {
            do {
                try await self.read(saving: .periodically)
            } catch is CancellationError {
            } catch {
                self.logger.error("automations could not read the log", metadata: ["error": "\(error)"])
            }
            return .seconds(60)
        } stop: {
            await self.savePosition()
        }
    }

    /// Handles every event up to the log's end.
    public func catchUp() async throws {
        try await read(saving: .everyPage)
    }

    private func read(saving: LogReader.Saving) async throws {
        var reader = self.reader
        defer { self.reader = reader }
        try await reader.catchUp(store, saving: saving) { event in
            let matching = rules.filter { $0.on == event.kind }
            guard event.actor != Self.actor, !matching.isEmpty else { return }
            do {
                // Read once for every automation the event concerns.
                guard var subject = try await subject(of: event) else { return }
                for rule in matching {
                    do {
                        try await apply(rule, to: event, subject: &subject)
                    } catch let error as StoreError where error.code != .unavailable {
                        logger.warning("automation skipped an event", metadata: ["rule": "\(rule.id)", "sequence": "\(event.sequence)", "error": "\(error)"])
                    }
                }
            } catch is DecodingError {
                logger.warning("automations skipped an event they cannot read", metadata: ["sequence": "\(event.sequence)", "kind": "\(event.kind)"])
            } catch let error as StoreError where error.code != .unavailable {
                logger.warning("automations skipped an event", metadata: ["sequence": "\(event.sequence)", "error": "\(error)"])
            }
        }
    }

    /// What a condition reads about an event, and what the actions work on.
    struct Subject {
        var attributes: [String: AttributeValue] = [:]
        var customer: Customer?
        var ticket: Ticket?
        var conversationID: Conversation.ID?
        var text = ""
    }

    /// One automation: `subject` carries what earlier ones did (the ticket opened or changed).
    private func apply(_ rule: AutomationRule, to event: HubEvent, subject: inout Subject) async throws {
        if let condition = rule.when, !condition.holds({ path in subject.attributes[path.name] }) { return }
        let actions = rule.actions
        if let template = actions.createTicket, let conversationID = subject.conversationID, let customer = subject.customer {
            let id = Ticket.ID("tkt_auto_\(event.sequence)_\(rule.id)")
            let open = try await store.tickets(linkedTo: conversationID).first { $0.customerID == customer.id && $0.isUnsolved }
            if let existing = try await store.ticket(id) {
                subject.ticket = existing
            } else if let open {
                // The conversation has its ticket already ("refund" said twice is one case):
                // the rule's other actions apply to it.
                subject.ticket = open
            } else {
                let excerpt = String(subject.text.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(80))
                let subjectText = template.subject.replacingOccurrences(of: "{text}", with: excerpt).trimmingCharacters(in: .whitespaces)
                subject.ticket = try await store.createTicket(
                    TicketDraft(
                        id: id, subject: subjectText.isEmpty ? rule.id : subjectText, customerID: customer.id, priority: template.priority,
                        queueID: template.queueID, conversationIDs: [conversationID], note: "opened by the automation \(rule.id)", status: .new),
                    at: now(), actor: Self.actor)
                logger.info("automation opened a ticket", metadata: ["rule": "\(rule.id)", "ticket": "\(subject.ticket?.number.description ?? "")"])
            }
        }
        // Each action once per event, in its own transaction with its key: read again after a
        // crash, an action already done is not done over an agent's later change.
        let key = "automation:\(rule.id):\(event.sequence)"
        if actions.touchesTicket, let ticket = subject.ticket, ticket.status != .closed {
            let change = TicketChange(
                priority: actions.setPriority, queueID: actions.assignQueue.map { .some($0) }, reason: "the automation \(rule.id)",
                onceKey: key + ":ticket")
            subject.ticket = try await store.updateTicket(ticket.id, change, at: now(), actor: Self.actor)
        }
        if !actions.tags.isEmpty, let customer = subject.customer {
            subject.customer = try await store.addCustomerTags(actions.tags, to: customer.id, onceFor: key + ":tags", at: now(), actor: Self.actor)
        }
        if let notice = actions.notify {
            var text = notice.replacingOccurrences(of: "{text}", with: String(subject.text.prefix(200)))
            if let ticket = subject.ticket {
                text = text.replacingOccurrences(of: "{number}", with: ticket.number.description).replacingOccurrences(of: "{subject}", with: ticket.subject)
            }
            _ = try await store.recordEvent(
                onceFor: key, .automationNotified,
                refs: EventRefs(customerID: subject.customer?.id, conversationID: subject.conversationID, ticketID: subject.ticket?.id, agentID: subject.ticket?.assigneeID),
                payload: .object(["rule": .string(rule.id), "text": .string(text), "event": .string(event.kind.rawValue)]), at: now(), actor: Self.actor)
        }
    }

    /// The names `task.changes` lists for the fields a ticket's update changed.
    static let changeNames = ["queueID": "queue", "assigneeID": "assignee", "firstResponseDueAt": "firstResponseDue", "dueAt": "due"]

    /// The event's attributes (see `AutomationRule.attributes`), customer, ticket and conversation.
    private func subject(of event: HubEvent) async throws -> Subject? {
        var subject = Subject()
        var ticket: Ticket?
        switch event.kind {
        case .messageReceived:
            guard event.payload["direction"]?.stringValue == MessageDirection.inbound.rawValue, let id = event.refs.conversationID,
                let conversation = try await store.conversation(id)
            else { return nil }
            subject.conversationID = id
            subject.text = event.payload["text"]?.stringValue ?? ""
            subject.attributes["text"] = .string(subject.text)
            subject.attributes["channel"] = .string(conversation.channelKind.rawValue)
            subject.attributes["account"] = .string(conversation.channelAccountID)
        case .ticketCreated:
            ticket = try event.payload.decode(as: Ticket.self)
        case .ticketUpdated:
            let update = try event.payload.decode(as: TicketUpdatedPayload.self)
            ticket = update.ticket
            subject.attributes["changes"] = .list(update.changes.map { Self.changeNames[$0] ?? $0 })
            if let previous = update.previousStatus { subject.attributes["previousStatus"] = .string(previous.rawValue) }
        case .slaWarning, .slaBreached:
            let alert = try event.payload.decode(as: SLAAlertPayload.self)
            subject.attributes["metric"] = .string(alert.timer.metric.rawValue)
            ticket = try await store.ticket(alert.timer.ticketID)
        case .csatAnswered:
            let answer = try event.payload.decode(as: CSATAnsweredPayload.self)
            subject.attributes["score"] = answer.survey.score.map { .number(Double($0)) }
            subject.attributes["account"] = answer.survey.answerChannelAccountID.map { .string($0) }
            ticket = try await store.ticket(answer.survey.ticketID)
        default:
            return nil
        }
        if let ticket {
            // The condition reads the ticket as the event left it (the same on every reading of
            // the log); the actions work on the ticket as it is now.
            subject.ticket = try await store.ticket(ticket.id) ?? ticket
            subject.attributes["ticketNumber"] = .string(ticket.number.description)
            subject.attributes["status"] = .string(ticket.status.rawValue)
            subject.attributes["priority"] = .string(ticket.priority.rawValue)
            subject.attributes["subject"] = .string(ticket.subject)
            if let queue = ticket.queueID { subject.attributes["queue"] = .string(queue) }
            if let agent = ticket.assigneeID { subject.attributes["assignee"] = .string(agent.rawValue) }
        }
        // The customer the conversation or ticket belongs to now (a merge may have moved it).
        var customerID = ticket?.customerID ?? event.refs.customerID
        if let id = subject.conversationID, let conversation = try await store.conversation(id) { customerID = conversation.customerID }
        if let customerID, let customer = try await store.customer(customerID) {
            subject.customer = customer
            subject.attributes["customer"] = .string(customer.id.rawValue)
            subject.attributes["tier"] = .string(customer.tier.rawValue)
            subject.attributes["tags"] = .list(customer.tags)
        }
        return subject
    }
}

/// Runs the automations in the hub's service group.
public struct AutomationServiceRunner: Service {
    let automations: AutomationService

    public init(_ automations: AutomationService) { self.automations = automations }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await automations.run()
        }
    }
}
