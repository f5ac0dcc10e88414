import Foundation
import HubModel
import Synchronization

/// Everything the hub persists, behind one protocol so that the same contract tests run against
/// every backend (SQLite now, PostgreSQL for several nodes). Each method is atomic (a transaction,
/// or in SQLite a savepoint of a transaction shared with the writes asked for meanwhile), and
/// every state change it makes appends its events to the event log in that same commit.
public protocol HubStore: EventLogStore, IngestStore, IdentityStore, ConversationStore, OutboxStore, TicketStore,
    CallStore, AgentStore, RoutingStore, AuthStore, InboxStore, CSATStore, SLAStore, AutomationStore, MetricsStore,
    RegistrationStore, MailSpoolStore
{
    /// Whether this store is used by one hub process only (SQLite). Then deliveries left in
    /// flight by a crash can be retried at once instead of after their lease.
    var isExclusive: Bool { get }

    /// Creates or upgrades the schema. Safe to call on every start.
    func migrate() async throws

    /// What the store's writer has done since it opened; nil for a store without one serial
    /// writer.
    var writerStatistics: StoreWriterStatistics? { get }
}

extension HubStore {
    public var writerStatistics: StoreWriterStatistics? { nil }
}

/// The work of a store's one writer since the store opened (SQLite: every write of the hub goes
/// through it, gathered into transactions). Its busy time over the time passed is how close the
/// hub is to what its storage can take: near one, every write waits for the ones before it.
public struct StoreWriterStatistics: Sendable, Equatable {
    /// Transactions begun (committed or not).
    public var transactions: Int
    /// Writes run in them (a write: one operation of the store, an inbound message, a call's record).
    public var writes: Int
    /// Time the writer spent in transactions, from the first write to the answers.
    public var busySeconds: Double
    /// The writer thread's processor time in the same spans.
    public var processorSeconds: Double
    /// Transactions that waited for the commit window under concurrent load, and the time they
    /// waited in all (not part of `busySeconds`).
    public var pacedTransactions: Int
    public var pacingSeconds: Double

    public init(transactions: Int, writes: Int, busySeconds: Double, processorSeconds: Double, pacedTransactions: Int = 0, pacingSeconds: Double = 0) {
        self.transactions = transactions
        self.writes = writes
        self.busySeconds = busySeconds
        self.processorSeconds = processorSeconds
        self.pacedTransactions = pacedTransactions
        self.pacingSeconds = pacingSeconds
    }
}

/// The append-only event log.
public protocol EventLogStore: Sendable {
    /// Events with a sequence number greater than `sequence`, in order, at most `limit`.
    func events(after sequence: Int64, limit: Int) async throws -> [HubEvent]
    /// Events touching one customer (or a customer merged into it), newest last, after `sequence`.
    func events(customerID: Customer.ID, after sequence: Int64, limit: Int) async throws -> [HubEvent]
    /// The sequence number of the last event (0 when the log is empty).
    func lastEventSequence() async throws -> Int64
    /// The last sequence number after every commit that appended events.
    func eventCommits() -> AsyncStream<Int64>
    /// Calls `handler` with the last sequence number after every commit that appended events,
    /// on the committing thread, until the observation is cancelled. For a wake-up signal: no
    /// task is woken to pass the number on, as a stream's consumer would be.
    func observeEventCommits(_ handler: @escaping @Sendable (Int64) -> Void) -> EventCommitObservation
    /// Where a durable reader of the log (`name`) has got to; nil before it first saved one.
    func readerPosition(_ name: String) async throws -> Int64?
    /// Saves a durable reader's position.
    func setReaderPosition(_ name: String, to sequence: Int64) async throws
}

/// Inbound messages and provider status reports.
public protocol IngestStore: Sendable {
    /// Stores inbound messages in ONE transaction (group commit), each in its own savepoint so
    /// that one bad command does not fail the others. A provider message id already stored on the
    /// account yields a `duplicate` receipt and writes nothing.
    /// - Returns: one result per command, in order.
    /// - Throws: when the transaction as a whole could not commit: nothing was stored.
    func ingest(_ commands: [IngestCommand]) async throws -> [Result<IngestReceipt, StoreError>]
    /// Applies a provider's status report to the outbound message with that provider id.
    /// - Returns: false when no such message exists.
    func applyDeliveryStatus(_ update: DeliveryStatusUpdate, at date: Date) async throws -> Bool
    /// Sets or clears a handle's opt-out, with a `handle.consent` event when it changes.
    /// - Returns: false when no handle has that address.
    func applyConsent(_ consent: ConsentChange, handle: HandleAddress, channelAccountID: String, at date: Date) async throws -> Bool
    /// Marks read the outbound messages to the handle's customer through the account, sent (or
    /// delivered) at or before `upTo`: at most the latest 200.
    /// - Returns: how many changed.
    func applyRead(handle: HandleAddress, channelAccountID: String, upTo: Date, at date: Date) async throws -> Int
}

/// Customers, their handles, merges.
public protocol IdentityStore: Sendable {
    func customer(_ id: Customer.ID) async throws -> Customer?
    /// Customers in id order after `after`, at most `limit`; merged-away customers left out. With
    /// `servedBy`, only those some conversation of whose is or was assigned to that agent or is in
    /// one of `queues` (what an agent may open).
    func customers(after: Customer.ID?, servedBy agentID: Agent.ID?, queues: [String], limit: Int) async throws -> [Customer]
    /// The handles of a customer, oldest first.
    func handles(of customerID: Customer.ID) async throws -> [Handle]
    /// The handle with this normalized key.
    func handle(_ key: HandleAddress) async throws -> Handle?
    /// Creates a customer with its first handles.
    /// - Throws: `conflict` when a handle already belongs to someone.
    func createCustomer(_ customer: Customer, handles: [Handle], actor: Actor) async throws
    /// Saves profile fields (name, tier, tags, locale, owner agent).
    func updateCustomer(_ customer: Customer, actor: Actor) async throws -> Customer
    /// Links a new handle to an existing customer; returns the stored handle (the existing one
    /// when it is already this customer's).
    /// - Throws: `conflict` when it belongs to another customer, `notFound` for no customer.
    func linkHandle(_ handle: Handle, actor: Actor) async throws -> Handle
    /// Merges `mergedID` into `survivorID`: handles, conversations and tickets move; the merged
    /// customer stays, marked `mergedInto`. Recorded so that `unmergeCustomer` can undo it.
    func mergeCustomers(survivorID: Customer.ID, mergedID: Customer.ID, mergeID: CustomerMerge.ID, at date: Date, actor: Actor)
        async throws -> CustomerMerge
    /// Undoes the merge of `mergedID`: its handles, the conversations on them and its tickets
    /// return, and the survivor's profile loses what the merge added.
    func unmergeCustomer(_ mergedID: Customer.ID, at date: Date, actor: Actor) async throws -> CustomerMerge
    /// Merges that involved a customer, on either side, oldest first.
    func merges(involving customerID: Customer.ID) async throws -> [CustomerMerge]
}

/// One message of a thread, as a reply refers to it.
public struct ThreadReference: Sendable, Hashable {
    public var providerMessageID: String
    public var direction: MessageDirection

    public init(providerMessageID: String, direction: MessageDirection) {
        self.providerMessageID = providerMessageID
        self.direction = direction
    }
}

/// Conversations, messages, and outbound messages entering the outbox.
public protocol ConversationStore: Sendable {
    func conversation(_ id: Conversation.ID) async throws -> Conversation?
    /// A customer's conversations, newest first (by creation), after `cursor` (see
    /// `PageCursors.conversation`), at most `limit`.
    func conversations(of customerID: Customer.ID, after cursor: PageCursor?, limit: Int) async throws -> [Conversation]
    func message(_ id: Message.ID) async throws -> Message?
    /// Content stored with the message that refers to it (`InboundEvent.contents`), by its
    /// `blob:sha256:` reference; nil when the database holds none (it may be in the blob files).
    func content(_ reference: String) async throws -> [UInt8]?
    /// Messages of a conversation in order, after the message `after` (exclusive), at most `limit`.
    func messages(in conversationID: Conversation.ID, after: Message.ID?, limit: Int) async throws -> [Message]
    /// The provider ids of a conversation's messages through one account, oldest first, the
    /// newest `limit` of them: an e-mail reply's References. (Outbound ids are known once sent.)
    func threadReferences(in conversationID: Conversation.ID, channelAccountID: String, limit: Int) async throws -> [ThreadReference]
    /// Changes status, queue, priority, assignee, subject or attributes.
    func updateConversation(_ id: Conversation.ID, _ change: ConversationChange, at date: Date, actor: Actor) async throws
        -> Conversation
    /// Records an outbound message (or a private note) and, for a public one, its delivery in the
    /// outbox, in one transaction. Idempotent by `command.idempotencyKey`.
    func enqueueOutbound(_ command: OutboundCommand) async throws -> OutboundReceipt
    /// What an earlier request with this idempotency key stored (a duplicate's receipt), if any.
    func outboundReceipt(idempotencyKey: String) async throws -> OutboundReceipt?
    /// When the customer last wrote through a channel account, and how many public messages went
    /// out through it since: what providers' reply windows are counted from.
    func channelActivity(customerID: Customer.ID, channelAccountID: String) async throws -> ChannelActivity
}

/// A customer's last message through one channel account, and the replies through it since; the
/// same for their last action that is not a message (an inbound message whose metadata `msgType`
/// is `event`: a WeChat menu click), which providers answer under other rules.
public struct ChannelActivity: Sendable, Hashable {
    public var lastInboundAt: Date?
    public var publicRepliesSince: Int
    public var lastActionAt: Date?
    public var publicRepliesSinceAction: Int

    public init(lastInboundAt: Date?, publicRepliesSince: Int, lastActionAt: Date? = nil, publicRepliesSinceAction: Int = 0) {
        self.lastInboundAt = lastInboundAt
        self.publicRepliesSince = publicRepliesSince
        self.lastActionAt = lastActionAt
        self.publicRepliesSinceAction = publicRepliesSinceAction
    }
}

/// The durable outbox.
public protocol OutboxStore: Sendable {
    func delivery(_ id: Delivery.ID) async throws -> Delivery?
    /// Claims up to `limit` deliveries that are due (or whose lease has run out), oldest first,
    /// skipping those behind an unfinished earlier delivery with the same ordering key. Each
    /// claim counts as an attempt.
    func claimDeliveries(now: Date, limit: Int, owner: String, leaseUntil: Date) async throws -> [Delivery]
    /// The same, skipping the deliveries of `excludingAccounts` (throttled ones: claiming them
    /// only to give them back would keep the writer busy for nothing).
    func claimDeliveries(now: Date, limit: Int, owner: String, leaseUntil: Date, excludingAccounts: Set<String>) async throws -> [Delivery]
    /// Records how an attempt ended, with its events.
    func recordDeliveryResult(_ id: Delivery.ID, owner: String, result: DeliveryAttemptResult, at date: Date) async throws
        -> Delivery
    /// Claims up to `limit` attachments due to be fetched (or whose lease ran out); each claim is
    /// an attempt.
    func claimAttachmentFetches(now: Date, limit: Int, leaseUntil: Date) async throws -> [AttachmentFetch]
    /// Records how fetching an attachment ended; a stored or refused one updates its message,
    /// with a `message.attachment` event.
    func recordAttachmentFetch(_ fetch: AttachmentFetch, outcome: AttachmentFetchOutcome, at date: Date) async throws
    /// When the next attachment is due to be fetched, if any.
    func nextAttachmentFetchDue() async throws -> Date?
    /// Gives claimed deliveries back without an attempt (their account is throttled), in one
    /// transaction: due again at `until`, their attempt counts as before the claim. Only the
    /// claim's owner can.
    func deferDeliveries(_ ids: [Delivery.ID], owner: String, until: Date, at date: Date) async throws
    /// Makes deliveries left `sending` by a crashed process due again now (exclusive stores only).
    func recoverInterruptedDeliveries(now: Date) async throws -> [Delivery]
    /// When the next claimable delivery becomes due, if any is waiting.
    func nextDeliveryDue() async throws -> Date?
    /// Counts of deliveries per state.
    func deliveryCounts() async throws -> [DeliveryState: Int]
}

/// Tickets.
public protocol TicketStore: Sendable {
    /// Creates a ticket with the next human number.
    func createTicket(_ draft: TicketDraft, at date: Date, actor: Actor) async throws -> Ticket
    func ticket(_ id: Ticket.ID) async throws -> Ticket?
    func ticket(number: TicketNumber) async throws -> Ticket?
    /// A customer's tickets, newest first (by number), after `cursor` (see `PageCursors.ticket`), at most `limit`.
    func tickets(of customerID: Customer.ID, after cursor: PageCursor?, limit: Int) async throws -> [Ticket]
    func updateTicket(_ id: Ticket.ID, _ change: TicketChange, at date: Date, actor: Actor) async throws -> Ticket
    /// Links a conversation to a ticket (no-op when already linked).
    func linkConversation(_ conversationID: Conversation.ID, toTicket ticketID: Ticket.ID, at date: Date, actor: Actor)
        async throws -> Ticket
    /// Tickets matching `filter`, newest first (by number), after `cursor`, at most `limit`.
    func tickets(matching filter: TicketFilter, after cursor: PageCursor?, limit: Int) async throws -> [Ticket]
    /// The tickets a conversation is linked to, newest first.
    func tickets(linkedTo conversationID: Conversation.ID) async throws -> [Ticket]
    /// The tickets a conversation is linked to that are the customer's, newest first (links that
    /// cross customers, left by an unmerge, are not).
    func tickets(linkedTo conversationID: Conversation.ID, of customerID: Customer.ID) async throws -> [Ticket]
    /// What the ticket service reads when a customer writes, in one read: the conversation, its
    /// tickets that are its customer's, and that customer's pending tickets (newest first, at
    /// most `pendingLimit`). Nil when there is no such conversation.
    func customerMessageContext(_ conversationID: Conversation.ID, pendingLimit: Int) async throws -> CustomerMessageContext?
    /// Adds a comment, with a `ticket.commented` event.
    /// - Throws: `notFound` ticket, `invalid` empty body, `conflict` on a closed ticket.
    func addTicketComment(_ draft: TicketCommentDraft, at date: Date, actor: Actor) async throws -> TicketComment
    /// A ticket's comments, oldest first; internal ones only when asked.
    func ticketComments(of ticketID: Ticket.ID, includeInternal: Bool) async throws -> [TicketComment]
    /// Merges `sourceID` into `targetID`: the source's conversations move to the target, the
    /// source closes with `mergedIntoID` set (its `ticket.updated`); the target gets a
    /// `ticket.merged` event, which the source's history shows too.
    /// - Throws: `notFound`, `conflict` (the same ticket, a closed one, two customers).
    func mergeTicket(_ sourceID: Ticket.ID, into targetID: Ticket.ID, at date: Date, actor: Actor) async throws -> TicketMerge
    /// A ticket's history: the events that name it, oldest first, after `sequence`.
    func ticketEvents(_ ticketID: Ticket.ID, after sequence: Int64, limit: Int) async throws -> [HubEvent]
    /// Closes a conversation that waits in no queue and no agent's hands, if `messageID` is still
    /// the newest customer message in it: in one transaction, so that a message arriving
    /// meanwhile keeps it open. Returns whether it closed.
    func closeUnattended(_ conversationID: Conversation.ID, ifLatestInboundIs messageID: Message.ID, at date: Date, actor: Actor) async throws -> Bool
    /// Tickets solved at or before `date` and not yet closed, oldest solution first.
    func solvedTickets(solvedAtOrBefore date: Date, limit: Int) async throws -> [Ticket]
    /// The channel accounts a customer hears about their tickets on, in the order they prefer
    /// (empty: never set).
    func notificationChannels(of customerID: Customer.ID) async throws -> [NotificationChannel]
    /// Sets them, with a `customer.notifications` event.
    /// - Throws: `notFound` customer.
    func setNotificationChannels(_ channels: [NotificationChannel], of customerID: Customer.ID, at date: Date, actor: Actor) async throws
    /// Records that a ticket's change reached its customer on no channel, with a
    /// `ticket.unnotified` event: once per `key` (a second call with the key records nothing).
    /// - Returns: whether it was recorded now.
    func recordUnnotified(_ ticket: Ticket, key: String, reasons: [String: String], at date: Date, actor: Actor) async throws -> Bool
}

/// A call record to save: new (its conversation must exist) or changed (it must have been saved).
public struct CallRecordChange: Sendable {
    public var record: CallRecord
    public var isNew: Bool
    public var actor: Actor
    /// The call is over: its conversation closes in the same commit (at the record's end).
    public var closesConversation: Bool

    public init(_ record: CallRecord, isNew: Bool, actor: Actor, closesConversation: Bool = false) {
        self.record = record
        self.isNew = isNew
        self.actor = actor
        self.closesConversation = closesConversation
    }
}

/// Voice call records.
public protocol CallStore: Sendable {
    func createCall(_ call: CallRecord, actor: Actor) async throws
    /// Saves a changed call record.
    func updateCall(_ call: CallRecord, actor: Actor) async throws
    /// Saves call records in the order given, in one transaction, each with its event (and its
    /// conversation's close where the change says so). A change whose conversation (new) or
    /// record (changed) is missing is left out whole and returned as a `notFound` error; the
    /// others are saved. Any other failure saves nothing and throws.
    func saveCalls(_ changes: [CallRecordChange]) async throws -> [StoreError]
    func call(_ id: CallRecord.ID) async throws -> CallRecord?
    func calls(in conversationID: Conversation.ID) async throws -> [CallRecord]
    /// Call records whose state is not `ended`, oldest first, at most `limit`.
    func unfinishedCalls(limit: Int) async throws -> [CallRecord]
}

/// Agents, as configured.
public protocol AgentStore: Sendable {
    /// Makes the stored agents match configuration: new and changed ones are saved, agents no
    /// longer configured become inactive. Returns how many changed.
    func syncAgents(_ agents: [Agent], at date: Date) async throws -> Int
    func agent(_ id: Agent.ID) async throws -> Agent?
    func agents() async throws -> [Agent]
}

/// What the router reads and writes.
public protocol RoutingStore: Sendable {
    /// Conversations that are not closed, oldest first: what the router waits on after a restart.
    func openConversations(limit: Int) async throws -> [Conversation]
    /// What the router reads of customers whose conversations it queues, for many customers in
    /// one read: each customer and their `recent` newest conversations' ids and assignees,
    /// newest first. Customers not in the store are absent from the answer.
    func routingFacts(of customers: [Customer.ID], recent: Int) async throws -> [Customer.ID: CustomerRoutingFacts]
    /// Records routing decisions in one transaction: each record's event, and its conversation
    /// change with a `conversation.updated` event when it changes anything.
    /// - Throws: `notFound` for an unknown conversation; then nothing is recorded.
    func recordRouting(_ records: [RoutingRecord], at date: Date, actor: Actor) async throws
    /// Records several batches of decisions, in order, in one transaction (all or nothing).
    func recordRouting(_ batches: [(records: [RoutingRecord], actor: Actor)], at date: Date) async throws
}

/// A customer as the router sees it when one of their conversations is queued.
public struct CustomerRoutingFacts: Sendable, Equatable {
    public var customer: Customer
    /// Their newest conversations, newest first: id and assignee (nil: never assigned).
    public var recent: [Recent]

    public struct Recent: Sendable, Equatable {
        public var conversationID: Conversation.ID
        public var assigneeID: Agent.ID?

        public init(conversationID: Conversation.ID, assigneeID: Agent.ID?) {
            self.conversationID = conversationID
            self.assigneeID = assigneeID
        }
    }

    public init(customer: Customer, recent: [Recent]) {
        self.customer = customer
        self.recent = recent
    }

    /// The agent who served the customer last, other than in `conversation` itself.
    public func lastAgent(excluding conversation: Conversation.ID) -> Agent.ID? {
        recent.first { $0.conversationID != conversation && $0.assigneeID != nil }?.assigneeID
    }
}

extension ConversationStore {
    /// A customer's newest conversations.
    public func conversations(of customerID: Customer.ID, limit: Int) async throws -> [Conversation] {
        try await conversations(of: customerID, after: nil, limit: limit)
    }
}

extension TicketStore {
    /// A customer's newest tickets.
    public func tickets(of customerID: Customer.ID, limit: Int = 1_000) async throws -> [Ticket] {
        try await tickets(of: customerID, after: nil, limit: limit)
    }
}

/// Where the page after an item begins, for the lists above.
public enum PageCursors {
    public static func conversation(_ conversation: Conversation) -> PageCursor {
        PageCursor(key: conversation.createdAt.millisecondsSince1970, id: conversation.id.rawValue)
    }

    public static func ticket(_ ticket: Ticket) -> PageCursor {
        PageCursor(key: Int64(ticket.number.rawValue), id: ticket.id.rawValue)
    }

    /// An agent's conversations in hand are ordered by their last activity.
    public static func activeConversation(_ conversation: Conversation) -> PageCursor {
        PageCursor(key: (conversation.lastMessageAt ?? conversation.updatedAt).millisecondsSince1970, id: conversation.id.rawValue)
    }
}

/// A subscription to the store's commits (`observeEventCommits`), ended by `cancel()` or when released.
public final class EventCommitObservation: Sendable {
    private let end: Mutex<(@Sendable () -> Void)?>

    init(end: @escaping @Sendable () -> Void) {
        self.end = Mutex(end)
    }

    public func cancel() {
        end.withLock { end in
            let call = end
            end = nil
            return call
        }?()
    }

    deinit { cancel() }
}

/// See `TicketStore.customerMessageContext`.
public struct CustomerMessageContext: Sendable, Equatable {
    public var conversation: Conversation
    /// The conversation's tickets whose customer is the conversation's (links left across
    /// customers by an unmerge are not theirs), newest first.
    public var linkedTickets: [Ticket]
    /// The customer's pending tickets, newest first.
    public var pendingTickets: [Ticket]

    public init(conversation: Conversation, linkedTickets: [Ticket], pendingTickets: [Ticket]) {
        self.conversation = conversation
        self.linkedTickets = linkedTickets
        self.pendingTickets = pendingTickets
    }
}
