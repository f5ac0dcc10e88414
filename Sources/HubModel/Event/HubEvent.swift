import Foundation
import Synchronization

/// One entry of the event log: a state change, with its place in the total order (`sequence`),
/// who caused it, which records it touches, and a snapshot of what changed.
///
/// Its fields live in one reference-counted box, copied when a copy is changed (as the standard
/// library's collections do): every follower of the log copies the events it reads (into pages,
/// feeds, batches), and copying a dozen strings' references each time was about 2 % of the hub's
/// processor time at a thousand SIP calls a second. An event is hardly ever changed once made.
public struct HubEvent: Sendable, Hashable, Codable {
    private final class Storage: @unchecked Sendable {
        // Changed only through a `HubEvent` that holds the one reference (`fields`): a value, like
        // the struct's stored properties it replaces.
        var sequence: Int64
        var kind: EventKind
        var occurredAt: Date
        var actor: Actor
        var refs: EventRefs
        var body: EventPayload

        init(sequence: Int64, kind: EventKind, occurredAt: Date, actor: Actor, refs: EventRefs, body: EventPayload) {
            self.sequence = sequence
            self.kind = kind
            self.occurredAt = occurredAt
            self.actor = actor
            self.refs = refs
            self.body = body
        }

        func copy() -> Storage { Storage(sequence: sequence, kind: kind, occurredAt: occurredAt, actor: actor, refs: refs, body: body) }
    }

    private var storage: Storage
    // (Fields that hold references are yielded in place, `_read`: a reader of one reference of an
    // event, `event.refs.conversationID`, then copies that one, not all of them.)

    /// The box, first copied if another event shares it.
    private var fields: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    /// Strictly increasing across the log; never reused. Clients resume after a sequence number.
    public var sequence: Int64 {
        get { storage.sequence }
        set { fields.sequence = newValue }
    }
    public var kind: EventKind {
        _read { yield storage.kind }
        set { fields.kind = newValue }
    }
    public var occurredAt: Date {
        get { storage.occurredAt }
        set { fields.occurredAt = newValue }
    }
    public var actor: Actor {
        _read { yield storage.actor }
        set { fields.actor = newValue }
    }
    public var refs: EventRefs {
        _read { yield storage.refs }
        set { fields.refs = newValue }
    }
    /// What changed. An event the store has just written keeps its payload as the JSON text it
    /// wrote until someone reads it (see `init(…payloadText:)`); copies share the one reading.
    public var payload: JSONValue {
        get { body.value }
        set { fields.body = EventPayload(newValue) }
    }
    private var body: EventPayload { storage.body }

    /// False when the payload surely has no member named `key` at any depth; true when it may
    /// (then read `payload`). An event that keeps its text answers from the text without parsing
    /// it: the hub writes a key as it is, in quotes, and leaves out members that are nil, so a
    /// follower that wants one member (who hung up a call) skips most payloads unread.
    public func payloadMayContain(_ key: String) -> Bool { body.mayContain(key) }

    public init(sequence: Int64, kind: EventKind, occurredAt: Date, actor: Actor, refs: EventRefs, payload: JSONValue) {
        self.init(sequence: sequence, kind: kind, occurredAt: occurredAt, actor: actor, refs: refs, body: EventPayload(payload))
    }

    /// An event whose payload is read from `payloadText` when it is first asked for. The store's
    /// writer makes the events it appends this way: parsing every payload on the one thread that
    /// writes was a tenth of its work, and most followers of the log never look at most payloads
    /// (a customer's creation, a routing record). The text must be JSON that `JSONReader` reads:
    /// the writer checks it (`JSONReader.validate`) before it commits.
    public init(sequence: Int64, kind: EventKind, occurredAt: Date, actor: Actor, refs: EventRefs, payloadText: String) {
        self.init(sequence: sequence, kind: kind, occurredAt: occurredAt, actor: actor, refs: refs, body: EventPayload(text: payloadText))
    }

    /// An event that keeps its payload's text and, besides it, the value the text was written
    /// from (see `carried`), which must read back from the text as exactly that value.
    public init(
        sequence: Int64, kind: EventKind, occurredAt: Date, actor: Actor, refs: EventRefs, payloadText: String,
        carrying value: (any CarriedEventPayload)?
    ) {
        self.init(
            sequence: sequence, kind: kind, occurredAt: occurredAt, actor: actor, refs: refs, body: EventPayload(text: payloadText, carrying: value))
    }

    /// The payload as a `T`, when the event carries the value it was written from: an event the
    /// store's writer has just appended does, for the payload types followers read on every call
    /// (a conversation's creation and changes, a call's record), so that the router, the metrics
    /// and the inbox do not each parse the text and build the value again. Nil for an event read
    /// back from the log (after a restart, a follower far behind): then read `payload`.
    public func carried<T: CarriedEventPayload>(_ type: T.Type) -> T? { body.carried as? T }

    private init(sequence: Int64, kind: EventKind, occurredAt: Date, actor: Actor, refs: EventRefs, body: EventPayload) {
        storage = Storage(sequence: sequence, kind: kind, occurredAt: occurredAt, actor: actor, refs: refs, body: body)
    }

    public static func == (lhs: HubEvent, rhs: HubEvent) -> Bool {
        lhs.sequence == rhs.sequence && lhs.kind == rhs.kind && lhs.occurredAt == rhs.occurredAt && lhs.actor == rhs.actor
            && lhs.refs == rhs.refs && lhs.payload == rhs.payload
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(sequence)
        hasher.combine(kind)
        hasher.combine(occurredAt)
        hasher.combine(actor)
        hasher.combine(refs)
        hasher.combine(payload)
    }

    private enum CodingKeys: String, CodingKey {
        case sequence, kind, occurredAt, actor, refs, payload
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            sequence: try container.decode(Int64.self, forKey: .sequence), kind: try container.decode(EventKind.self, forKey: .kind),
            occurredAt: try container.decode(Date.self, forKey: .occurredAt), actor: try container.decode(Actor.self, forKey: .actor),
            refs: try container.decode(EventRefs.self, forKey: .refs), payload: try container.decode(JSONValue.self, forKey: .payload))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(kind, forKey: .kind)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(actor, forKey: .actor)
        try container.encode(refs, forKey: .refs)
        try container.encode(payload, forKey: .payload)
    }
}

/// An event's payload: a value, or JSON text parsed the first time it is read (once, whichever
/// thread asks first; the value is kept).
private final class EventPayload: Sendable {
    private enum State {
        case text(String)
        case value(JSONValue)
    }

    private let state: Mutex<State>
    let carried: (any CarriedEventPayload)?

    init(_ value: JSONValue) {
        state = Mutex(.value(value))
        carried = nil
    }

    init(text: String, carrying value: (any CarriedEventPayload)? = nil) {
        state = Mutex(.text(text))
        carried = value
    }

    func mayContain(_ key: String) -> Bool {
        state.withLock { state in
            switch state {
            case .value: return true
            case .text(let text):
                let needle = Array("\"\(key)\"".utf8)
                return text.utf8.withContiguousStorageIfAvailable { Self.find(needle, in: $0) } ?? Self.find(needle, in: Array(text.utf8))
            }
        }
    }

    /// Whether `needle` occurs in `bytes` (a plain scan: payloads are a few hundred bytes).
    private static func find(_ needle: [UInt8], in bytes: some RandomAccessCollection<UInt8>) -> Bool {
        guard let first = needle.first, bytes.count >= needle.count else { return needle.isEmpty }
        return needle.withUnsafeBufferPointer { needle in
            var start = bytes.startIndex
            let last = bytes.index(bytes.endIndex, offsetBy: -needle.count)
            while start <= last {
                if bytes[start] == first {
                    var matched = 1
                    var index = bytes.index(after: start)
                    while matched < needle.count, bytes[index] == needle[matched] {
                        matched += 1
                        index = bytes.index(after: index)
                    }
                    if matched == needle.count { return true }
                }
                start = bytes.index(after: start)
            }
            return false
        }
    }

    var value: JSONValue {
        state.withLock { state in
            switch state {
            case .value(let value):
                return value
            case .text(let text):
                // The writer validated the text; should it fail anyway, the event still reads
                // (as an empty payload) rather than stopping every follower of the log.
                let value = (try? JSONReader.parse(text)) ?? .null
                state = .value(value)
                return value
            }
        }
    }
}

/// A payload type an event just written may carry as a value besides its text (`HubEvent.carried`).
/// The carried value must be what the text reads back as: `carriedForm` makes it so (timestamps
/// to the millisecond, as the text holds them), and debug builds of the store check every one
/// against its text (`init(json:)`).
public protocol CarriedEventPayload: Sendable, Equatable {
    /// This value as its JSON text reads back.
    var carriedForm: Self { get }
    /// The value from its parsed JSON text.
    init(json: JSONValue) throws(JSONFields.Failure)
}

extension Conversation: CarriedEventPayload {
    public var carriedForm: Conversation {
        var form = self
        form.createdAt = createdAt.truncatedToMilliseconds
        form.updatedAt = updatedAt.truncatedToMilliseconds
        form.lastMessageAt = lastMessageAt?.truncatedToMilliseconds
        form.lastInboundAt = lastInboundAt?.truncatedToMilliseconds
        form.firstResponseAt = firstResponseAt?.truncatedToMilliseconds
        form.closedAt = closedAt?.truncatedToMilliseconds
        return form
    }
}

/// A payload type whose events carry a part of it as a value: what the log's followers read of
/// it, where the whole would be a price every event pays (a message's metadata, its attachments).
public protocol SummarizedEventPayload {
    associatedtype Summary: CarriedEventPayload
    /// The part carried (as its JSON text reads back).
    var eventSummary: Summary { get }
}

/// What the log's followers read of a message's event: its direction and text. The ticket and
/// SLA services ask it of every message a customer sends (a call is one too); parsing the whole
/// message for it, and freeing the parsed tree afterwards, was about a seventieth of the hub's
/// processor time under SIP load.
public struct MessageSummary: CarriedEventPayload {
    public var direction: MessageDirection
    public var text: String?

    public init(direction: MessageDirection, text: String?) {
        self.direction = direction
        self.text = text
    }

    public var carriedForm: MessageSummary { self }

    /// From the JSON of the whole message.
    public init(json: JSONValue) throws(JSONFields.Failure) {
        let fields = try JSONFields(json)
        direction = try fields.value("direction", as: MessageDirection.self)
        text = try fields.optionalString("text")
    }
}

extension Message: SummarizedEventPayload {
    public var eventSummary: MessageSummary { MessageSummary(direction: direction, text: text) }
}

extension HubEvent {
    /// A message event's summary: the carried one, else read from the payload (nil when the
    /// payload is not a message).
    public var messageSummary: MessageSummary? {
        carried(MessageSummary.self) ?? (try? MessageSummary(json: payload))
    }
}

/// (A call's creation and its changes, three or four events per call: the metrics read who hung
/// up from the last.)
extension CallRecord: CarriedEventPayload {
    public var carriedForm: CallRecord {
        var form = self
        form.startedAt = startedAt.truncatedToMilliseconds
        form.queuedAt = queuedAt?.truncatedToMilliseconds
        form.offeredAt = offeredAt?.truncatedToMilliseconds
        form.answeredAt = answeredAt?.truncatedToMilliseconds
        form.endedAt = endedAt?.truncatedToMilliseconds
        return form
    }
}

/// The records an event touches, for filtering the log (an agent's feed, a customer's timeline).
public struct EventRefs: Sendable, Hashable, Codable {
    public var customerID: Customer.ID?
    public var conversationID: Conversation.ID?
    public var messageID: Message.ID?
    public var ticketID: Ticket.ID?
    public var callID: CallRecord.ID?
    /// The agent the event concerns: the one offered, assigned or acting on themselves; for any
    /// other event of a conversation, the conversation's assignee at that moment (the store fills
    /// it in), so that an agent's feed is a filter on this field alone.
    public var agentID: Agent.ID?
    public var deliveryID: Delivery.ID?

    public init(
        customerID: Customer.ID? = nil, conversationID: Conversation.ID? = nil, messageID: Message.ID? = nil,
        ticketID: Ticket.ID? = nil, callID: CallRecord.ID? = nil, agentID: Agent.ID? = nil,
        deliveryID: Delivery.ID? = nil
    ) {
        self.customerID = customerID
        self.conversationID = conversationID
        self.messageID = messageID
        self.ticketID = ticketID
        self.callID = callID
        self.agentID = agentID
        self.deliveryID = deliveryID
    }

    private enum CodingKeys: String, CodingKey {
        case customerID = "customerId"
        case conversationID = "conversationId"
        case messageID = "messageId"
        case ticketID = "ticketId"
        case callID = "callId"
        case agentID = "agentId"
        case deliveryID = "deliveryId"
    }
}

/// The name of a kind of event, `subject.change` ("message.received").
public struct EventKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }


    public static let customerCreated = EventKind(rawValue: "customer.created")
    public static let customerUpdated = EventKind(rawValue: "customer.updated")
    public static let customerMerged = EventKind(rawValue: "customer.merged")
    public static let customerUnmerged = EventKind(rawValue: "customer.unmerged")
    public static let handleCreated = EventKind(rawValue: "handle.created")
    public static let handleLinked = EventKind(rawValue: "handle.linked")
    /// A customer opted out of messages on a handle, or back in (payload `ConsentPayload`).
    public static let handleConsent = EventKind(rawValue: "handle.consent")
    public static let conversationCreated = EventKind(rawValue: "conversation.created")
    public static let conversationUpdated = EventKind(rawValue: "conversation.updated")
    public static let messageReceived = EventKind(rawValue: "message.received")
    public static let messageQueued = EventKind(rawValue: "message.queued")
    public static let messageNoted = EventKind(rawValue: "message.noted")
    public static let messageStatusChanged = EventKind(rawValue: "message.status")
    /// A customer's attachment is in the hub's store now, or was refused (payload: the message's
    /// id, the attachment's position and the attachment).
    public static let messageAttachment = EventKind(rawValue: "message.attachment")
    public static let deliveryAttempted = EventKind(rawValue: "delivery.attempted")
    public static let deliveryDead = EventKind(rawValue: "delivery.dead")
    public static let deliveryRecovered = EventKind(rawValue: "delivery.recovered")
    public static let ticketCreated = EventKind(rawValue: "ticket.created")
    public static let ticketUpdated = EventKind(rawValue: "ticket.updated")
    public static let ticketLinked = EventKind(rawValue: "ticket.linked")
    /// A comment on a ticket, internal or public (payload `TicketCommentedPayload`).
    public static let ticketCommented = EventKind(rawValue: "ticket.commented")
    /// A ticket was merged into this one (on the target; the source's own change is a
    /// `ticket.updated`).
    public static let ticketMerged = EventKind(rawValue: "ticket.merged")
    /// A ticket's change could be told to its customer on none of their channels (payload: the
    /// ticket, the change's event sequence and each channel's reason).
    public static let ticketUnnotified = EventKind(rawValue: "ticket.unnotified")
    /// A ticket's satisfaction survey went out (payload: the survey).
    public static let csatSent = EventKind(rawValue: "csat.sent")
    /// A customer scored a ticket (payload `CSATAnsweredPayload`).
    public static let csatAnswered = EventKind(rawValue: "csat.answered")
    /// A survey whose notification reached no channel was withdrawn (payload: the survey).
    public static let csatWithdrawn = EventKind(rawValue: "csat.withdrawn")
    /// A ticket's SLA target will be missed soon (payload `SLAAlertPayload`).
    public static let slaWarning = EventKind(rawValue: "sla.warning")
    /// A ticket's SLA target was missed (payload `SLAAlertPayload`).
    public static let slaBreached = EventKind(rawValue: "sla.breached")
    /// An automation's notice for supervisors and the ticket's agent (payload: `rule`, `text`).
    public static let automationNotified = EventKind(rawValue: "automation.notified")
    /// A metrics alert of `routing-rules/` was raised, or cleared (payload: the alert, the value,
    /// the threshold).
    public static let alertRaised = EventKind(rawValue: "alert.raised")
    public static let alertCleared = EventKind(rawValue: "alert.cleared")
    /// The channels a customer hears about their tickets on, in their order, were set.
    public static let customerNotifications = EventKind(rawValue: "customer.notifications")
    public static let callCreated = EventKind(rawValue: "call.created")
    public static let callUpdated = EventKind(rawValue: "call.updated")
    public static let agentConfigured = EventKind(rawValue: "agent.configured")
    public static let agentPresence = EventKind(rawValue: "agent.presence")
    /// The router: a conversation entered a queue, was offered, assigned, moved a step, overflowed,
    /// or left without an agent; an agent's wrap-up started or ended.
    public static let routingQueued = EventKind(rawValue: "routing.queued")
    public static let offerCreated = EventKind(rawValue: "offer.created")
    public static let offerEnded = EventKind(rawValue: "offer.ended")
    public static let routingAssigned = EventKind(rawValue: "routing.assigned")
    public static let routingStep = EventKind(rawValue: "routing.step")
    public static let routingOverflow = EventKind(rawValue: "routing.overflow")
    public static let routingEnded = EventKind(rawValue: "routing.ended")
    /// An agent's work on a conversation ended (completed, or the conversation closed); wrap-up follows.
    public static let routingCompleted = EventKind(rawValue: "routing.completed")
    public static let agentWrapUp = EventKind(rawValue: "agent.wrapup")
    /// An agent logged in or out (payload `state`: started, ended, expired).
    public static let agentSession = EventKind(rawValue: "agent.session")
    /// An agent's password was set (the payload says by whom; never the password or its hash).
    public static let agentPasswordSet = EventKind(rawValue: "agent.password")
    /// An agent's wrap-up of a conversation: disposition code and notes.
    public static let conversationDisposition = EventKind(rawValue: "conversation.disposition")
    /// The audit trail of customer data: a profile was shown (a screen pop, a REST read), or a
    /// masked phone number or e-mail address was revealed.
    public static let auditProfileViewed = EventKind(rawValue: "audit.profile_viewed")
    public static let auditContactRevealed = EventKind(rawValue: "audit.contact_revealed")
}
