import Foundation
import HubModel
import HubRouting

/// An automation (section `automations:` of `routing-rules/`): when an event of kind `on`
/// happens and `when` holds, the hub does `actions` by itself, once per event.
public struct AutomationRule: Sendable, Hashable {
    public var id: String
    public var on: EventKind
    /// Over `task.` attributes (see `AutomationRule.attributes`); nil: always.
    public var when: AttributeExpression?
    public var actions: AutomationActions
    public var location: ConfigLocation

    public init(id: String, on: EventKind, when: AttributeExpression? = nil, actions: AutomationActions, location: ConfigLocation) {
        self.id = id
        self.on = on
        self.when = when
        self.actions = actions
        self.location = location
    }

    /// The events automations follow.
    public static let events: [EventKind] = [.messageReceived, .ticketCreated, .ticketUpdated, .slaWarning, .slaBreached, .csatAnswered]

    /// What a condition may read, by event: `task.<name>`.
    public static func attributes(for kind: EventKind) -> [String] {
        let customer = ["tier", "tags", "customer"]
        let ticket = ["ticketNumber", "status", "priority", "queue", "assignee", "subject"]
        switch kind {
        case .messageReceived: return customer + ["channel", "account", "text"]
        case .ticketCreated: return customer + ticket
        case .ticketUpdated: return customer + ticket + ["previousStatus", "changes"]
        case .slaWarning, .slaBreached: return customer + ticket + ["metric"]
        case .csatAnswered: return customer + ticket + ["score", "account"]
        default: return []
        }
    }
}

/// What an automation does, in this order: open a ticket (on a customer message), set the
/// ticket's priority and queue, tag the customer, notify supervisors and the ticket's agent.
public struct AutomationActions: Sendable, Hashable {
    /// A ticket on the message's conversation: `subject` may hold `{text}` (the message, cut to
    /// 80 characters).
    public var createTicket: TicketTemplate?
    public var setPriority: TicketPriority?
    public var assignQueue: String?
    /// Added to the customer's tags.
    public var tags: [String]
    /// A text for supervisors and the ticket's agent (`{number}`, `{subject}`, `{text}` filled).
    public var notify: String?

    public init(createTicket: TicketTemplate? = nil, setPriority: TicketPriority? = nil, assignQueue: String? = nil, tags: [String] = [], notify: String? = nil) {
        self.createTicket = createTicket
        self.setPriority = setPriority
        self.assignQueue = assignQueue
        self.tags = tags
        self.notify = notify
    }

    public var touchesTicket: Bool { setPriority != nil || assignQueue != nil }
}

public struct TicketTemplate: Sendable, Hashable {
    public var subject: String
    public var queueID: String?
    public var priority: TicketPriority

    public init(subject: String, queueID: String? = nil, priority: TicketPriority = .normal) {
        self.subject = subject
        self.queueID = queueID
        self.priority = priority
    }
}

enum AutomationReader {

    static func read(_ node: ConfigNode) -> AutomationRule? {
        guard let mapping = node.mapping(allowedKeys: ["id", "on", "when", "do"]) else { return nil }
        guard let id = mapping.required("id").flatMap(ChannelAccountReader.readID),
            let on = mapping.required("on")?.oneOf(AutomationRule.events.map(\.rawValue), what: "event").map(EventKind.init(rawValue:)),
            let actionsNode = mapping.required("do")
        else { return nil }
        var when: AttributeExpression?
        if let whenNode = mapping["when"] {
            guard let condition = RoutingPolicyReader.expression(whenNode) else { return nil }
            let known = AutomationRule.attributes(for: on)
            for path in condition.paths {
                guard path.scope == .task, known.contains(path.name) else {
                    whenNode.error(
                        "'\(path)' is not known on \(on.rawValue)\(Suggestion.didYouMean(path.name, among: known)) (known: \(known.map { "task.\($0)" }.joined(separator: ", ")))")
                    return nil
                }
            }
            when = condition
        }
        guard let actions = readActions(actionsNode, on: on) else { return nil }
        return AutomationRule(id: id, on: on, when: when, actions: actions, location: node.location)
    }

    static func readActions(_ node: ConfigNode, on: EventKind) -> AutomationActions? {
        guard let mapping = node.mapping(allowedKeys: ["createTicket", "setPriority", "assignQueue", "tag", "notify"]) else { return nil }
        var actions = AutomationActions()
        let priorities = TicketPriority.allCases.map(\.rawValue)
        if let ticketNode = mapping["createTicket"] {
            guard on == .messageReceived else {
                ticketNode.error("createTicket is for message.received (a customer's message opens the ticket)")
                return nil
            }
            guard let ticket = ticketNode.mapping(allowedKeys: ["subject", "queue", "priority"]), let subject = ticket.required("subject")?.nonEmptyString
            else { return nil }
            var template = TicketTemplate(subject: subject)
            template.queueID = ticket["queue"]?.nonEmptyString
            if let priority = ticket["priority"]?.oneOf(priorities, what: "ticket priority") { template.priority = TicketPriority(rawValue: priority) ?? .normal }
            actions.createTicket = template
        }
        if let value = mapping["setPriority"]?.oneOf(priorities, what: "ticket priority") { actions.setPriority = TicketPriority(rawValue: value) }
        if let value = mapping["assignQueue"]?.nonEmptyString { actions.assignQueue = value }
        if let tags = mapping["tag"]?.stringList { actions.tags = tags }
        if let text = mapping["notify"]?.nonEmptyString { actions.notify = text }
        // Placeholders: `{text}` (the message), `{number}`, `{subject}` (the ticket).
        let checks = [(actions.notify, mapping["notify"]), (actions.createTicket?.subject, mapping["createTicket"])]
        for case (let text?, let textNode?) in checks {
            if let unknown = RoutingRulesReader.unknownPlaceholder(in: text, known: ["text", "number", "subject"]) {
                textNode.error("unknown placeholder {\(unknown)} (known: {text}, {number}, {subject})")
                return nil
            }
        }
        if on == .messageReceived, actions.touchesTicket, actions.createTicket == nil {
            node.error("on message.received, setPriority and assignQueue apply to the ticket createTicket opens: add createTicket")
            return nil
        }
        if actions == AutomationActions() {
            node.error("an automation must do something: createTicket, setPriority, assignQueue, tag or notify")
            return nil
        }
        return actions
    }
}
