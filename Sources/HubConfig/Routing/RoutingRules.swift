import Foundation
import HubModel
import HubRouting

/// The routing configuration from `routing-rules/*.yaml`: skills, queues, agents, rules and the
/// router's settings. Any file may hold any section; ids must be unique across all files.
public struct RoutingRules: Sendable {
    public var skills: [SkillConfig]
    public var queues: [QueueConfig]
    public var agents: [AgentConfig]
    /// In file order (files sorted by name).
    public var rules: RoutingRuleSet
    public var router: RouterConfiguration
    public var tickets: TicketSettings
    public var sla: SLASettings
    /// In file order (files sorted by name).
    public var automations: [AutomationRule]
    /// How the managers' figures are counted, and their alerts.
    public var metrics: MetricsSettings

    public init(
        skills: [SkillConfig] = [], queues: [QueueConfig] = [], agents: [AgentConfig] = [], rules: RoutingRuleSet = RoutingRuleSet(),
        router: RouterConfiguration = RouterConfiguration(), tickets: TicketSettings = TicketSettings(), sla: SLASettings = SLASettings(),
        automations: [AutomationRule] = [], metrics: MetricsSettings = MetricsSettings()
    ) {
        self.automations = automations
        self.metrics = metrics
        self.tickets = tickets
        self.sla = sla
        self.skills = skills
        self.queues = queues
        self.agents = agents
        self.rules = rules
        self.router = router
    }

    /// The queue with `id`.
    public func queue(_ id: String) -> QueueConfig? { queues.first { $0.id == id } }
}

/// How the managers' figures are counted (section `metrics:` of `routing-rules/`).
public struct MetricsSettings: Sendable, Hashable {
    /// A contact that leaves the queue sooner is a short abandon: counted, but not against the
    /// service level (a misdial, a caller who hangs up at the greeting).
    public var shortAbandon: Duration
    /// How long a closed conversation's facts are kept for delivery reports that come late.
    public var keepClosed: Duration
    /// How long the figures are kept per minute; older ones per hour and per day only (reports
    /// over them are widened to whole hours). At least 2 days.
    public var keepMinutes: Duration
    /// Conditions on the figures that raise alerts (and clear them).
    public var alerts: [MetricAlert]
    /// How often the alerts are checked besides when the figures change.
    public var alertInterval: Duration

    public init(
        shortAbandon: Duration = .seconds(5), keepClosed: Duration = .seconds(7 * 86_400), keepMinutes: Duration = .seconds(35 * 86_400),
        alerts: [MetricAlert] = [], alertInterval: Duration = .seconds(5)
    ) {
        self.shortAbandon = shortAbandon
        self.keepClosed = keepClosed
        self.keepMinutes = keepMinutes
        self.alerts = alerts
        self.alertInterval = alertInterval
    }
}

/// An alert on a figure (section `metrics.alerts`): raised when the figure crosses its threshold,
/// cleared when it is back.
public struct MetricAlert: Sendable, Hashable {
    /// What is watched: a report figure over the last `window`, or a figure of now.
    public enum Measure: Sendable, Hashable {
        case figure(MetricFigure)
        /// Contacts waiting now.
        case queueLength
        /// The longest current wait, in seconds.
        case longestWaitSeconds

        public var name: String {
            switch self {
            case .figure(let figure): figure.rawValue
            case .queueLength: "queueLength"
            case .longestWaitSeconds: "longestWaitSeconds"
            }
        }
    }

    public var id: String
    public var name: String
    public var measure: Measure
    /// The report window a figure is taken over (not for the figures of now).
    public var window: Duration
    /// Raised when the value is above this (or below `below`); exactly one of them is set.
    public var above: Double?
    public var below: Double?
    /// Only the contacts of this channel kind and queue (none: all).
    public var channel: ChannelKind?
    public var queue: String?
    /// A rate or an average is judged only over at least this many (contacts, messages...: see
    /// `MetricFigure.sample`), so that one call does not make a service level.
    public var minimum: Int
    /// Where the raise and the clear are POSTed as JSON, besides the event log and the inbox.
    public var webhook: String?
    public var location: ConfigLocation

    public init(
        id: String, name: String, measure: Measure, window: Duration = .seconds(900), above: Double? = nil, below: Double? = nil,
        channel: ChannelKind? = nil, queue: String? = nil, minimum: Int = 1, webhook: String? = nil, location: ConfigLocation
    ) {
        self.id = id
        self.name = name
        self.measure = measure
        self.window = window
        self.above = above
        self.below = below
        self.channel = channel
        self.queue = queue
        self.minimum = minimum
        self.webhook = webhook
        self.location = location
    }
}

/// How tickets live after they are solved, and what customers may ask about them by themselves
/// (section `tickets:` of `routing-rules/`).
public struct TicketSettings: Sendable, Hashable {
    /// A customer who writes on a solved ticket's conversation within this time reopens it.
    public var reopenWindow: Duration
    /// A solved ticket closes this long after it was solved; a closed ticket stays closed.
    public var closeAfter: Duration
    /// Customers who send a ticket number or "status" get their tickets' status on the channel
    /// they asked on, without an agent.
    public var statusReplies: Bool
    /// The statuses a customer is told about when an agent (or a rule) sets them.
    public var announce: Set<TicketStatus>
    /// Texts that replace the built-in ones: by template (`solved`, `comment`...) and locale
    /// (`en`, `zh-CN`) for every channel (see `channelTemplates` for one kind), with `{number}`, `{subject}`, `{status}`, `{comment}`, `{reopenWindow}`.
    public var templates: [String: [CustomerLocale: String]]

    /// Texts for one kind of channel (a short SMS, say), by template, kind and locale: they come
    /// before `templates`.
    public var channelTemplates: [String: [ChannelKind: [CustomerLocale: String]]] = [:]

    /// The configured text of a template for a channel kind and locale (nil: the built-in one).
    public func template(_ name: String, _ locale: CustomerLocale, channel: ChannelKind?) -> String? {
        channel.flatMap { channelTemplates[name]?[$0]?[locale] } ?? templates[name]?[locale]
    }

    /// Hours in which notifications wait (delivered when they end).
    public var quietHours: QuietHours?
    /// The satisfaction survey sent with the notification that a ticket is solved (off unless
    /// configured).
    public var csat: CSATSettings?

    /// The templates there are: one per status, and `comment` for an agent's public comment.
    public static let templateNames = TicketStatus.allCases.map(\.rawValue) + ["comment", "survey", "thanks", "sorry"]
    public static let placeholders = ["number", "subject", "status", "comment", "reopenWindow", "scale", "link", "score"]

    public init(
        reopenWindow: Duration = .seconds(7 * 86_400), closeAfter: Duration = .seconds(7 * 86_400), statusReplies: Bool = true,
        announce: Set<TicketStatus> = [.open, .pending, .onHold, .solved], templates: [String: [CustomerLocale: String]] = [:],
        quietHours: QuietHours? = nil, csat: CSATSettings? = nil
    ) {
        self.quietHours = quietHours
        self.csat = csat
        self.reopenWindow = reopenWindow
        self.closeAfter = closeAfter
        self.statusReplies = statusReplies
        self.announce = announce
        self.templates = templates
    }
}

/// Service-level targets for tickets (section `sla:`): business calendars and policies, the first
/// policy that matches a ticket applying.
public struct SLASettings: Sendable, Hashable {
    public var calendars: [String: BusinessCalendar]
    public var policies: [SLAPolicy]
    /// How often clocks are checked for warnings and breaches.
    public var checkInterval: Duration

    public init(calendars: [String: BusinessCalendar] = [:], policies: [SLAPolicy] = [], checkInterval: Duration = .seconds(15)) {
        self.calendars = calendars
        self.policies = policies
        self.checkInterval = checkInterval
    }

    /// The first policy for a ticket in `queueID` at `priority` of a customer of `tier`.
    public func policy(queueID: String?, priority: TicketPriority, tier: CustomerTier?) -> SLAPolicy? {
        policies.first { $0.matches(queueID: queueID, priority: priority, tier: tier) }
    }

    /// The calendar a policy counts in (24/7 when it names none).
    public func calendar(of policy: SLAPolicy?) -> BusinessCalendar {
        policy?.calendarID.flatMap { calendars[$0] } ?? .always
    }
}

/// Targets for the tickets it matches: every condition given must hold (a list: any of its
/// values).
public struct SLAPolicy: Sendable, Hashable {
    public var id: String
    public var queues: Set<String>?
    public var priorities: Set<TicketPriority>?
    public var tiers: Set<CustomerTier>?
    /// nil: around the clock.
    public var calendarID: String?
    /// Targets in business time, per metric (`due` is not configured: it is the ticket's own).
    public var targets: [SLAMetric: Duration]
    /// A warning this long (in business time) before a target is missed.
    public var warnBefore: Duration
    /// Added to the routing priority of the ticket's waiting conversations when a target is missed.
    public var raisePriority: Int

    public init(
        id: String, queues: Set<String>? = nil, priorities: Set<TicketPriority>? = nil, tiers: Set<CustomerTier>? = nil, calendarID: String? = nil,
        targets: [SLAMetric: Duration], warnBefore: Duration = .seconds(15 * 60), raisePriority: Int = 50
    ) {
        self.id = id
        self.queues = queues
        self.priorities = priorities
        self.tiers = tiers
        self.calendarID = calendarID
        self.targets = targets
        self.warnBefore = warnBefore
        self.raisePriority = raisePriority
    }

    public func matches(queueID: String?, priority: TicketPriority, tier: CustomerTier?) -> Bool {
        if let queues, !queueID.map(queues.contains).isTrue { return false }
        if let priorities, !priorities.contains(priority) { return false }
        if let tiers, !tier.map(tiers.contains).isTrue { return false }
        return true
    }
}

extension Optional where Wrapped == Bool {
    fileprivate var isTrue: Bool { self ?? false }
}

/// The satisfaction survey (section `tickets.csat`): sent once per ticket, appended to the
/// notification that it is solved, answered by a score from 1 to 5 on any of the customer's
/// channels or on the survey's page. A low score reopens the ticket to the escalation queue with
/// a follow-up deadline.
public struct CSATSettings: Sendable, Hashable {
    public enum Scale: String, Sendable, Hashable, CaseIterable {
        /// "Reply 1 (poor) to 5 (excellent)".
        case numbers
        /// "😡1 😞2 😐3 🙂4 😍5"; numbers are taken as well.
        case emoji
    }

    public var scale: Scale
    /// Answers are taken this long after the survey is sent.
    public var expireAfter: Duration
    /// Scores at or below this reopen the ticket.
    public var lowScore: Int
    /// Where a low score sends the ticket back to (a queue of supervisors); nil: it stays
    /// solved and only the score is recorded.
    public var escalationQueue: String?
    /// The reopened ticket is due this long after the low score.
    public var followUp: Duration
    /// The survey page's address as customers see it, with `{token}` for the survey's secret
    /// (`https://support.example.com/csat/{token}`, served by the hub at `/csat/{token}`); nil:
    /// the survey asks for a reply only.
    public var link: String?

    public init(
        scale: Scale = .numbers, expireAfter: Duration = .seconds(3 * 86_400), lowScore: Int = 2, escalationQueue: String? = nil,
        followUp: Duration = .seconds(2 * 3600), link: String? = nil
    ) {
        self.scale = scale
        self.expireAfter = expireAfter
        self.lowScore = lowScore
        self.escalationQueue = escalationQueue
        self.followUp = followUp
        self.link = link
    }
}

/// A daily span of local time in which customers are not disturbed: ticket notifications
/// through the listed kinds of channel wait until it ends (answers to a customer's own question
/// do not).
public struct QuietHours: Sendable, Hashable {
    /// Minutes after local midnight; `start > end` spans midnight (21:00-08:00).
    public var start: Int
    public var end: Int
    public var timeZone: TimeZone
    public var channels: Set<ChannelKind>

    public init(start: Int, end: Int, timeZone: TimeZone, channels: Set<ChannelKind> = Self.defaultChannels) {
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.channels = channels
    }

    /// Every kind that buzzes a phone: not e-mail, not the `api` integration.
    public static let defaultChannels: Set<ChannelKind> = [.sms, .wechat, .wecom, .messenger, .instagram, .telegram, .webchat]

    /// When a notification through `kind` at `date` may go: `date` itself outside the quiet
    /// hours, else the end of them.
    public func release(_ date: Date, through kind: ChannelKind) -> Date {
        guard channels.contains(kind), start != end else { return date }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let midnight = calendar.startOfDay(for: date)
        let minute = Int(date.timeIntervalSince(midnight) / 60)
        let quiet = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
        guard quiet else { return date }
        let endToday = calendar.date(byAdding: .minute, value: end, to: midnight) ?? date
        if endToday > date { return endToday }
        let nextMidnight = calendar.date(byAdding: .day, value: 1, to: midnight) ?? date
        return calendar.date(byAdding: .minute, value: end, to: nextMidnight) ?? date
    }
}

/// A skill agents can have, at a level from 1 to 10.
public struct SkillConfig: Sendable, Hashable {
    public var id: String
    public var name: String
    public var location: ConfigLocation

    public init(id: String, name: String, location: ConfigLocation) {
        self.id = id
        self.name = name
        self.location = location
    }
}

/// A queue: where waiting work collects, which channels it takes, and its routing policy.
public struct QueueConfig: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The channel kinds the queue takes.
    public var channels: [ChannelKind]
    /// Strategy, service level, steps, offers, overflow...: what the router uses.
    public var policy: QueuePolicy
    public var location: ConfigLocation

    public init(id: String, name: String, channels: [ChannelKind], policy: QueuePolicy, location: ConfigLocation) {
        self.id = id
        self.name = name
        self.channels = channels
        self.policy = policy
        self.location = location
    }

    /// Cross-queue priority: higher is served first by agents in several queues.
    public var priority: Int { policy.priority }
}

/// An agent as configured, with where it was configured.
public struct AgentConfig: Sendable, Hashable {
    public var agent: Agent
    /// The router's view: skills, memberships with tiers and delays, capacity, attributes.
    public var profile: AgentProfile
    /// The agent's SIP phone, when it has one (`sip` with `sipPassword` and/or `sipContact`).
    public var phone: AgentPhone?
    public var location: ConfigLocation

    public init(agent: Agent, profile: AgentProfile, phone: AgentPhone? = nil, location: ConfigLocation) {
        self.agent = agent
        self.profile = profile
        self.phone = phone
        self.location = location
    }
}

/// How the hub reaches an agent's SIP phone: it registers (digest user name: the user part of
/// the agent's `sip` address, with the password from the environment), or it sits at a static
/// contact, or both.
public struct AgentPhone: Sendable, Hashable {
    /// The agent's address of record (`sip:alice@switchboard.example`).
    public var addressOfRecord: String
    /// The digest password; nil when the variable is not set (the phone cannot register then).
    public var password: Secret?
    /// A contact the hub calls without any registration.
    public var staticContact: String?

    public init(addressOfRecord: String, password: Secret? = nil, staticContact: String? = nil) {
        self.addressOfRecord = addressOfRecord
        self.password = password
        self.staticContact = staticContact
    }
}
