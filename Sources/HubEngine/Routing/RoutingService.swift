import Foundation
import HubConfig
import HubModel
import HubRouting
import HubStore
import Logging
import ServiceLifecycle

/// The router in the running hub: an actor around the pure `RoutingEngine`, fed by the event log (a new
/// or reopened conversation in a queue becomes a task; a closed one leaves) and by agents'
/// commands (presence, accepting, declining, completing, transferring). Its decisions are written
/// back to the event log (`routing.*`, `offer.*`, `agent.*`) with the conversation's new assignee
/// or queue, in one transaction per batch, before anyone is told. (One command returns before
/// its records are in the log: a phone's answer, `accept(offer:waitForLog: false)`; the caller
/// hears its 200 while the assignment is being written, in order.)
public actor RoutingService {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case refused(RoutingError)
        case notFound(String)

        public var description: String {
            switch self {
            case .refused(let error): error.description
            case .notFound(let what): what
            }
        }
    }

    /// Who the router's own writes are attributed to.
    public static let actor = Actor(kind: .system, id: "router")

    private var router: RoutingEngine
    private var rules: RoutingRuleSet
    private var queueIDs: Set<String>
    private let store: any HubStore
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let wake = WakeSignal()
    private var cursor: Int64 = 0
    private var readingEvents = false
    /// Decisions made while handling the log's events, recorded after them (see `readEvents`).
    private var collected: [RoutingDecision] = []
    private var readWaiters: [CheckedContinuation<Void, Never>] = []
    /// Recovery finished: the cursor is where the log is to be followed from.
    private var isFollowing = false
    private var started = false
    /// Offers recently made, for explanations after they closed (bounded).
    private var recentOffers: [String: Offer] = [:]
    private var recentOfferOrder: [String] = []
    /// The latest offer of each conversation still in the router.
    private var lastOffer: [String: String] = [:]
    /// Records waiting to be written, in decision order (see `write`).
    private var queuedRecords: [(records: [RoutingRecord], actor: Actor, decisions: [RoutingDecision])] = []
    private var queuedCount = 0
    private var writtenCount = 0
    private var writing = false
    private var writeWaiters: [(ticket: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    /// The agents as configured, before what the hub knows now changes them (see `effective`).
    private var profiles: [String: AgentProfile]
    /// Whether calls go to agents' SIP phones: then only agents whose phone can be reached (in
    /// `voiceReachable`) have voice capacity in the router; the others, agents added by a reload
    /// included, are offered no calls; their other work goes on.
    private var voiceGated = false
    private var voiceReachable: Set<String> = []
    /// The page being handled: its new conversations, decoded once, by event sequence, and their
    /// customers' facts (see `prefetchFacts`).
    private var createdConversations: [Int64: Conversation] = [:]
    private var pageFacts: [Customer.ID: CustomerRoutingFacts] = [:]
    /// Who follows the decisions as they are made (the SIP element rings phones on offers).
    private var observers: [UUID: AsyncStream<RoutingDecision>.Continuation] = [:]

    public init(store: any HubStore, routing: RoutingRules, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.store = store
        self.now = now
        self.logger = logger
        rules = routing.rules
        queueIDs = Set(routing.queues.map(\.id))
        profiles = Dictionary(routing.agents.map { ($0.profile.id, $0.profile) }, uniquingKeysWith: { $1 })
        router = RoutingEngine(
            configuration: routing.router, queues: routing.queues.map(\.policy), agents: routing.agents.map(\.profile),
            now: RoutingInstant(now()))
    }

    // MARK: Running

    /// Rebuilds the router from the store (open conversations wait again; assigned ones count on
    /// their agents), then follows the event log and the router's timers until cancelled.
    public func run() async throws {
        try await start()
        await wake.follow(store) { await self.step() }
    }

    /// Recovery; idempotent.
    func start() async throws {
        guard !started else { return }
        started = true
        cursor = try await store.lastEventSequence()
        // Every agent starts offline (presence is not kept across a restart, nor are wrap-ups in
        // progress): the log says so, so that the metrics stop counting an agent's time in the
        // state it had before.
        try await write(
            router.agentSnapshots.map { agent in
                RoutingRecord(
                    kind: .agentPresence, refs: EventRefs(agentID: Agent.ID(agent.id)),
                    payload: .object(["agentId": .string(agent.id), "presence": RoutingJSON.presence(.offline), "by": .string("restart")]))
            }, actor: Self.actor)
        // Pending and snoozed conversations wait for the customer, not for an agent (they leave the
        // router when they become so: `conversationChanged`).
        let open = try await store.openConversations(limit: 1_000_000).filter { $0.queueID != nil && $0.status == .open }
        var recovered = 0
        defer { pageFacts = [:] }
        for start in stride(from: 0, to: open.count, by: 500) {
            let chunk = open[start..<min(open.count, start + 500)]
            // Their customers' facts a few hundred at a time (see `prefetchFacts`).
            pageFacts = try await store.routingFacts(of: Self.customers(of: chunk), recent: Self.recentConversations)
            for conversation in chunk {
                guard let request = try await request(for: conversation, ageBase: conversation.createdAt) else { continue }
                if let agent = conversation.assigneeID {
                    if router.agent(agent.rawValue) != nil, (try? await apply(.taskAssigned(request, agentID: agent.rawValue), record: false)) != nil {
                        recovered += 1
                    }
                } else if (try? await apply(.taskArrived(request), record: true)) != nil {
                    recovered += 1
                }
            }
        }
        logger.info("router started", metadata: ["tasks": "\(recovered)", "cursor": "\(cursor)"])
        isFollowing = true
    }

    /// Reads new events, fires due timers; returns how long until the next timer.
    func step() async -> Duration? {
        do {
            try await readEvents()
            try await advance()
        } catch is CancellationError {
            // The hub is stopping; the next start rebuilds the router from the store.
            return nil
        } catch {
            logger.error("routing step failed", metadata: ["error": "\(error)"])
            return .seconds(1)
        }
        guard let deadline = router.nextDeadline else { return nil }
        let wait = Double(deadline.milliseconds - RoutingInstant(now()).milliseconds) / 1000
        return .milliseconds(Int64(max(0, wait) * 1000) + 1)
    }

    /// Follows the event log to its end. One reader at a time: the actor is reentrant, and two
    /// readers from the same cursor would each handle the same events (a conversation queued
    /// twice, the cursor moved back); a caller that finds the log being read waits, then reads
    /// what came after.
    private func readEvents() async throws {
        while readingEvents { await withCheckedContinuation { readWaiters.append($0) } }
        readingEvents = true
        defer {
            readingEvents = false
            let waiters = readWaiters
            readWaiters = []
            for waiter in waiters { waiter.resume() }
        }
        while true {
            let events = try await store.events(after: cursor, limit: 500)
            try await prefetchFacts(for: events)
            defer {
                pageFacts = [:]
                createdConversations = [:]
            }
            // The decisions of events read together are recorded together, in order, a few at a
            // time: the log's events are not each held up by a commit of their own, nor are
            // offers held back until hundreds of events have been read (see `commitCollected`).
            await Self.$collecting.withValue(true) {
                for event in events {
                    cursor = event.sequence
                    await handle(event)
                    if collected.count >= Self.collectedPerCommit { commitCollected() }
                }
            }
            commitCollected()
            if events.count < 500 { break }
        }
    }

    /// The customers of the conversations a page of the log creates, read in one store read
    /// before the page is handled, rather than two reads per conversation on the router's serial
    /// path. Each is used once: a customer's second conversation in the page reads afresh (as
    /// every conversation did before).
    private func prefetchFacts(for events: [HubEvent]) async throws {
        pageFacts = [:]
        var queued: [Conversation] = []
        for event in events where event.kind == .conversationCreated && event.actor != Self.actor {
            guard let conversation = event.carried(Conversation.self) ?? (try? Conversation(json: event.payload)) else { continue }
            createdConversations[event.sequence] = conversation
            // Only those `handle` will queue.
            if Self.waitsForRouting(conversation) { queued.append(conversation) }
        }
        let customers = Self.customers(of: queued)
        guard customers.count > 1 else { return }
        pageFacts = try await store.routingFacts(of: customers, recent: Self.recentConversations)
    }

    /// A new conversation the router takes: open, in a queue, nobody's yet.
    private static func waitsForRouting(_ conversation: Conversation) -> Bool {
        conversation.status.isOpen && conversation.assigneeID == nil && conversation.queueID != nil
    }

    /// The conversations' customers, each once, in order.
    private static func customers(of conversations: some Sequence<Conversation>) -> [Customer.ID] {
        var seen: Set<Customer.ID> = []
        return conversations.map(\.customerID).filter { seen.insert($0).inserted }
    }

    private static let recentConversations = 10

    /// Set while the log's events are handled: their decisions gather in `collected` (the actor
    /// is reentrant: commands handled meanwhile record their own at once).
    @TaskLocal private static var collecting = false
    private static let collectedPerCommit = 16

    /// Hands the collected decisions to the ordered writer without waiting for their commit: the
    /// router goes on with the page while they are written, and their offers go out as soon as
    /// they are in the log. (Waiting for each commit put one on the router's serial path per 16
    /// decisions, one of the hub's limits near 500 calls a second.)
    private func commitCollected() {
        let decisions = collected
        collected = []
        commit(decisions)
    }

    /// Before a command: the events already committed are read first, so that a command about a
    /// conversation stored a moment ago (a transfer right after the customer's message) finds it
    /// in the router rather than racing the loop that follows the log.
    private func catchUp() async throws {
        guard isFollowing else { return }
        try await readEvents()
    }

    private func advance() async throws {
        let decisions = router.advance(to: RoutingInstant(now()))
        try await record(decisions)
    }

    /// Applies an event at the current time and records its decisions.
    @discardableResult
    private func apply(_ event: RoutingEvent, record shouldRecord: Bool = true, waitForLog: Bool = true) async throws -> [RoutingDecision] {
        var decisions = router.advance(to: RoutingInstant(now()))
        do {
            decisions += try router.apply(event)
        } catch {
            if waitForLog { try await record(decisions) } else { recordLater(decisions) }
            throw Failure.refused(error)
        }
        let recorded = shouldRecord ? decisions : decisions.filter { if case .assigned = $0 { false } else { true } }
        if waitForLog { try await record(recorded) } else { recordLater(recorded) }
        return decisions
    }

    // MARK: The event log in

    private func handle(_ event: HubEvent) async {
        guard event.actor != Self.actor else { return }
        do {
            switch event.kind {
            case .conversationCreated:
                let conversation =
                    try createdConversations.removeValue(forKey: event.sequence) ?? event.carried(Conversation.self) ?? Conversation(json: event.payload)
                guard Self.waitsForRouting(conversation) else { return }
                if let request = try await request(for: conversation, ageBase: conversation.createdAt) { try await apply(.taskArrived(request)) }
            case .conversationUpdated:
                let update = try event.carried(ConversationUpdatedPayload.self) ?? ConversationUpdatedPayload(json: event.payload)
                try await conversationChanged(update.conversation, changes: update.changes)
            default:
                return
            }
        } catch is CancellationError {
            // Stopping: the next start rebuilds the router from the store, this event included.
            logger.debug("routing stopped before an event", metadata: ["sequence": "\(event.sequence)"])
        } catch {
            logger.warning("routing ignored an event", metadata: ["sequence": "\(event.sequence)", "kind": "\(event.kind)", "error": "\(error)"])
        }
    }

    private func conversationChanged(_ conversation: Conversation, changes: [String]) async throws {
        let id = conversation.id.rawValue
        let known = router.task(id)
        if conversation.status == .closed || conversation.status == .snoozed || conversation.status == .pending {
            guard let known else { return }
            if case .assigned = known.phase {
                try await apply(.taskCompleted(taskID: id))
            } else {
                try await apply(.taskCancelled(taskID: id, reason: .withdrawn))
            }
            return
        }
        guard let known else {
            // Reopened, or newly put in a queue: it waits from now.
            guard conversation.assigneeID == nil, conversation.queueID != nil else { return }
            if let request = try await request(for: conversation, ageBase: now()) { try await apply(.taskArrived(request)) }
            return
        }
        if changes.contains("assigneeID"), let agent = conversation.assigneeID, known.phase != .assigned(agent.rawValue) {
            // Given to an agent by hand.
            guard let request = try await request(for: conversation, ageBase: known.ageBase.date) else { return }
            if case .assigned = known.phase { try await apply(.taskCompleted(taskID: id)) } else { try await apply(.taskCancelled(taskID: id, reason: .withdrawn)) }
            try await apply(.taskAssigned(request, agentID: agent.rawValue))
            return
        }
        if changes.contains("queueID"), let queue = conversation.queueID, queue != known.queue, queueIDs.contains(queue) {
            try await apply(.taskTransferred(taskID: id, to: .queue(queue), keepAge: true))
            return
        }
        if case .assigned = known.phase { return }
        if changes.contains(where: { $0.hasPrefix("attributes.") || $0 == "priority" }) {
            // New facts (sentiment turned angry): the rules again.
            guard let request = try await request(for: conversation, ageBase: known.ageBase.date) else { return }
            try await apply(
                .taskUpdated(
                    TaskUpdate(id: id, priority: request.priority, attributes: request.attributes, requirements: request.requirements, steps: request.steps)))
        }
    }

    /// A conversation as a task: its attributes and its customer's (tier, owner, last agent),
    /// through the rules.
    private func request(for conversation: Conversation, ageBase: Date) async throws -> TaskRequest? {
        guard let queue = conversation.queueID else { return nil }
        var attributes: [String: AttributeValue] = [:]
        for (name, value) in conversation.attributes { attributes[name] = AttributeValue(parsing: value) }
        attributes[TaskAttribute.customer] = .string(conversation.customerID.rawValue)
        let facts: CustomerRoutingFacts?
        if let prefetched = pageFacts.removeValue(forKey: conversation.customerID) {
            facts = prefetched
        } else {
            facts = try await store.routingFacts(of: [conversation.customerID], recent: Self.recentConversations)[conversation.customerID]
        }
        if let customer = facts?.customer {
            attributes[TaskAttribute.tier] = .string(customer.tier.rawValue)
            attributes[TaskAttribute.vip] = .bool(customer.tier == .vip)
            if let owner = customer.ownerAgentID { attributes[TaskAttribute.ownerAgent] = .string(owner.rawValue) }
            for tag in customer.tags { attributes["tag.\(tag)"] = .bool(true) }
        }
        if let last = facts?.lastAgent(excluding: conversation.id) {
            attributes[TaskAttribute.lastAgent] = .string(last.rawValue)
        }
        let base = TaskRequest(
            id: conversation.id.rawValue, channel: conversation.channelKind, queue: queue, priority: conversation.priority,
            ageBase: RoutingInstant(ageBase), attributes: attributes, resumeKey: conversation.customerID.rawValue)
        var classified = rules.classify(base).request
        if !queueIDs.contains(classified.queue) {
            logger.warning("unknown queue for a conversation", metadata: ["conversation": "\(conversation.id)", "queue": "\(classified.queue)"])
            guard queueIDs.contains(queue) else { return nil }
            classified.queue = queue
        }
        return classified
    }

    // MARK: Decisions out

    private func record(_ decisions: [RoutingDecision]) async throws {
        if Self.collecting {
            collected += decisions
            return
        }
        guard let ticket = commit(decisions) else { return }
        try await written(ticket)
    }

    /// `record` without waiting for the commit.
    private func recordLater(_ decisions: [RoutingDecision]) {
        if Self.collecting {
            collected += decisions
        } else {
            commit(decisions)
        }
    }

    /// Queues decisions for the log (see `enqueue`); returns the ticket to wait for, if any.
    @discardableResult
    private func commit(_ decisions: [RoutingDecision]) -> Int? {
        guard !decisions.isEmpty else { return nil }
        var records: [RoutingRecord] = []
        for decision in decisions { records.append(contentsOf: Self.records(for: decision)) }
        for decision in decisions {
            if case .offered(let offer) = decision { remember(offer) }
            if case .taskEnded(let task, _) = decision { lastOffer[task] = nil }
        }
        return enqueue(records, actor: Self.actor, decisions: decisions)
    }

    /// Logs what the log now says (after the commit).
    private func announce(_ decisions: [RoutingDecision]) {
        for decision in decisions {
            switch decision {
            case .offered(let offer):
                logger.info("offer", metadata: ["offer": "\(offer.id)", "conversation": "\(offer.taskID)", "agent": "\(offer.agentID)"])
            case .assigned(let task, let agent, _):
                logger.info("assigned", metadata: ["conversation": "\(task)", "agent": "\(agent)"])
            case .overflowed(let task, let rule, _, let action):
                logger.notice("overflow", metadata: ["conversation": "\(task)", "rule": "\(rule)", "action": "\(action)"])
            default:
                break
            }
        }
    }

    /// Writes records in the order the router made them, and returns once they are in the log.
    private func write(_ records: [RoutingRecord], actor: Actor, decisions: [RoutingDecision] = []) async throws {
        guard let ticket = enqueue(records, actor: actor, decisions: decisions) else { return }
        try await written(ticket)
    }

    /// Queues records for the log; returns their ticket (nil for none). The actor is reentrant:
    /// while one batch is being written the router may decide more, so batches queue here and one
    /// writer (a task of its own, started with the first) drains them in order, all that waits in
    /// one transaction, and tells the observers each batch's decisions once it is in the log.
    private func enqueue(_ records: [RoutingRecord], actor: Actor, decisions: [RoutingDecision]) -> Int? {
        guard !records.isEmpty else { return nil }
        queuedRecords.append((records, actor, decisions))
        queuedCount += 1
        if !writing {
            writing = true
            // Detached: the writes of decisions the router has made are done even when the
            // caller is cancelled (the hub stopping), and no task-local of the caller goes along.
            Task.detached { await self.drainRecords() }
        }
        return queuedCount
    }

    /// Waits until the batch with this ticket is written; throws if it could not be.
    private func written(_ ticket: Int) async throws {
        guard ticket > writtenCount else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            writeWaiters.append((ticket, continuation))
        }
    }

    private func drainRecords() async {
        while !queuedRecords.isEmpty {
            let batch = queuedRecords
            queuedRecords = []
            let through = writtenCount + batch.count
            var failure: (any Error)?
            var told = 0
            do {
                do {
                    // Every batch waiting in one transaction.
                    let batches = batch.map { (records: $0.records, actor: $0.actor) }
                    try await store.recordRouting(batches, at: now().truncatedToMilliseconds)
                } catch where batch.count > 1 {
                    // One batch spoiled the lot (a conversation gone): each on its own, so that
                    // those before the bad one are recorded.
                    for entry in batch {
                        try await store.recordRouting(entry.records, at: now().truncatedToMilliseconds, actor: entry.actor)
                        tell(entry.decisions)
                        announce(entry.decisions)
                        told += 1
                    }
                }
                for entry in batch[told...] {
                    tell(entry.decisions)
                    announce(entry.decisions)
                }
            } catch {
                // Observers still hear what the router decided, in order; the decisions stand in
                // the router, the log misses them. Say so loudly.
                for entry in batch[told...] { tell(entry.decisions) }
                logger.error("routing decisions not recorded", metadata: ["batches": "\(batch.count)", "error": "\(error)"])
                failure = error
            }
            writtenCount = through
            let done = writeWaiters.filter { $0.ticket <= through }
            writeWaiters.removeAll { $0.ticket <= through }
            for waiter in done {
                if let failure { waiter.continuation.resume(throwing: failure) } else { waiter.continuation.resume() }
            }
        }
        writing = false
    }

    private func remember(_ offer: Offer) {
        recentOffers[offer.id] = offer
        recentOfferOrder.append(offer.id)
        lastOffer[offer.taskID] = offer.id
        if recentOfferOrder.count > 10_000 {
            for id in recentOfferOrder.prefix(1_000) { recentOffers[id] = nil }
            recentOfferOrder.removeFirst(1_000)
        }
    }

    static func records(for decision: RoutingDecision) -> [RoutingRecord] {
        func conversation(_ id: String) -> Conversation.ID { Conversation.ID(id) }
        switch decision {
        case .queued(let task, let queue, let resumed, let estimate):
            return [
                RoutingRecord(
                    kind: .routingQueued, refs: EventRefs(conversationID: conversation(task)),
                    payload: .object([
                        "queue": .string(queue), "resumed": .bool(resumed),
                        "estimatedWaitSeconds": estimate.map { .double($0.secondsValueForJSON) } ?? .null,
                    ]),
                    conversationChange: ConversationChange(queueID: .some(queue)))
            ]
        case .offered(let offer):
            return [
                RoutingRecord(
                    kind: .offerCreated, refs: EventRefs(conversationID: conversation(offer.taskID), agentID: Agent.ID(offer.agentID)),
                    payload: RoutingJSON.OfferPayload(offer))
            ]
        case .assigned(let task, let agent, let offer):
            return [
                RoutingRecord(
                    kind: .routingAssigned, refs: EventRefs(conversationID: conversation(task), agentID: Agent.ID(agent)),
                    payload: .object(["agentId": .string(agent), "offerId": offer.map { .string($0) } ?? .null]),
                    conversationChange: ConversationChange(assigneeID: .some(Agent.ID(agent))))
            ]
        case .offerEnded(let offer, let task, let agent, let reason):
            return [
                RoutingRecord(
                    kind: .offerEnded, refs: EventRefs(conversationID: conversation(task), agentID: Agent.ID(agent)),
                    payload: .object(["offerId": .string(offer), "agentId": .string(agent), "reason": .string(reason.rawValue)]))
            ]
        case .presenceChanged(let agent, let presence):
            return [
                RoutingRecord(
                    kind: .agentPresence, refs: EventRefs(agentID: Agent.ID(agent)),
                    payload: .object(["agentId": .string(agent), "presence": RoutingJSON.presence(presence), "by": .string("router")]))
            ]
        case .stepAdvanced(let task, let step, let name, let reason):
            return [
                RoutingRecord(
                    kind: .routingStep, refs: EventRefs(conversationID: conversation(task)),
                    payload: .object(["step": .int(Int64(step)), "name": .string(name), "reason": .string(reason.rawValue)]))
            ]
        case .requirementsRelaxed(let task, let dropped):
            return [
                RoutingRecord(
                    kind: .routingStep, refs: EventRefs(conversationID: conversation(task)),
                    payload: .object(["relaxed": .array(dropped.map { .string($0) })]))
            ]
        case .overflowed(let task, let rule, let trigger, let action):
            return [
                RoutingRecord(
                    kind: .routingOverflow, refs: EventRefs(conversationID: conversation(task)),
                    payload: .object(["rule": .string(rule), "trigger": .string(trigger.description), "action": RoutingJSON.action(action)]))
            ]
        case .taskEnded(let task, let reason):
            return [
                RoutingRecord(
                    kind: .routingEnded, refs: EventRefs(conversationID: conversation(task)), payload: .object(["reason": RoutingJSON.reason(reason)]))
            ]
        case .completed(let task, let agent):
            return [
                RoutingRecord(
                    kind: .routingCompleted, refs: EventRefs(conversationID: conversation(task), agentID: Agent.ID(agent)),
                    payload: .object(["agentId": .string(agent)]))
            ]
        case .wrapUpStarted(let agent, let task, let until):
            return [
                RoutingRecord(
                    kind: .agentWrapUp, refs: EventRefs(conversationID: conversation(task), agentID: Agent.ID(agent)),
                    payload: .object(["state": .string("started"), "until": .string(HubJSON.formatTimestamp(until.date))]))
            ]
        case .wrapUpEnded(let agent, let task):
            return [
                RoutingRecord(
                    kind: .agentWrapUp, refs: EventRefs(conversationID: conversation(task), agentID: Agent.ID(agent)),
                    payload: .object(["state": .string("ended")]))
            ]
        }
    }

    /// The router's decisions from now on, each after it is in the event log, in the order they
    /// were made (the SIP element rings an agent's phone on an offer and cancels it when the
    /// offer ends). The stream ends when the caller stops iterating.
    public func decisions() -> AsyncStream<RoutingDecision> {
        let (stream, continuation) = AsyncStream.makeStream(of: RoutingDecision.self, bufferingPolicy: .unbounded)
        let id = UUID()
        observers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.stopObserving(id) }
        }
        return stream
    }

    private func stopObserving(_ id: UUID) { observers[id] = nil }

    /// Hands decisions to the observers, batch by batch in the order they are written.
    private func tell(_ decisions: [RoutingDecision]) {
        guard !decisions.isEmpty else { return }
        for observer in observers.values {
            for decision in decisions { observer.yield(decision) }
        }
    }

    // MARK: Commands from agents and supervisors

    public func setPresence(agent: String, _ presence: Presence, actor: Actor) async throws -> AgentSnapshot {
        guard router.agent(agent) != nil else { throw Failure.notFound("no agent \(agent)") }
        try await write(
            [
                RoutingRecord(
                    kind: .agentPresence, refs: EventRefs(agentID: Agent.ID(agent)),
                    payload: .object(["agentId": .string(agent), "presence": RoutingJSON.presence(presence), "by": .string(actor.description)]))
            ], actor: actor)
        try await apply(.agentPresence(agentID: agent, presence))
        return router.agent(agent)!
    }

    /// - Parameter waitForLog: false returns once the router has taken the acceptance, before its
    ///   records are in the log (they follow in order, as the router's own decisions do). A phone's
    ///   answer takes this: the caller's 200 waits for nothing a crash would keep (the call's
    ///   dialogs are in memory, and a restart ends the calls it finds live).
    public func accept(offer id: String, waitForLog: Bool = true) async throws {
        try await catchUp()
        try await apply(.offerAccepted(offerID: id), waitForLog: waitForLog)
    }

    public func reject(offer id: String, reason: RejectReason) async throws {
        try await catchUp()
        try await apply(.offerRejected(offerID: id, reason: reason))
    }

    /// The agent finished the conversation's work (wrap-up follows).
    public func complete(conversation id: Conversation.ID) async throws {
        try await catchUp()
        try await apply(.taskCompleted(taskID: id.rawValue))
    }

    public func endWrapUp(agent: String, conversation id: Conversation.ID) async throws {
        try await catchUp()
        try await apply(.wrapUpEnded(agentID: agent, taskID: id.rawValue))
    }

    public func transfer(conversation id: Conversation.ID, to target: TransferTarget, keepAge: Bool = true) async throws {
        try await catchUp()
        try await apply(.taskTransferred(taskID: id.rawValue, to: target, keepAge: keepAge))
    }

    /// New rules from a reload: queues and agents replaced in place, waiting tasks re-routed.
    public func reload(_ routing: RoutingRules) async throws {
        rules = routing.rules
        var decisions: [RoutingDecision] = router.advance(to: RoutingInstant(now()))
        for queue in routing.queues { decisions += (try? router.apply(.queueConfigured(queue.policy))) ?? [] }
        let configured = Set(routing.agents.map(\.profile.id))
        profiles = Dictionary(routing.agents.map { ($0.profile.id, $0.profile) }, uniquingKeysWith: { $1 })
        for agent in routing.agents { decisions += (try? router.apply(.agentConfigured(effective(agent.profile)))) ?? [] }
        for agent in router.agentSnapshots where agent.active && !configured.contains(agent.id) {
            decisions += (try? router.apply(.agentRemoved(agentID: agent.id))) ?? []
        }
        queueIDs = Set(routing.queues.map(\.id))
        router.configuration = routing.router
        try await record(decisions)
        logger.info("routing rules reloaded", metadata: ["queues": "\(routing.queues.count)", "agents": "\(routing.agents.count)"])
    }

    /// From now on only agents whose phone can be reached take calls: `reachable` at first,
    /// then as `setVoiceReachable` says.
    public func gateVoice(reachable: Set<String>) async throws {
        voiceGated = true
        voiceReachable = reachable
        var decisions = router.advance(to: RoutingInstant(now()))
        for profile in profiles.values.sorted(by: { $0.id < $1.id }) {
            decisions += (try? router.apply(.agentConfigured(effective(profile)))) ?? []
        }
        try await record(decisions)
    }

    /// Whether the agent's phone can be reached (the registrar's view); an unreachable agent is
    /// offered no calls until it can be again.
    public func setVoiceReachable(agent: String, _ reachable: Bool) async throws {
        let changed = reachable ? voiceReachable.insert(agent).inserted : voiceReachable.remove(agent) != nil
        guard changed, voiceGated, let profile = profiles[agent] else { return }
        var decisions = router.advance(to: RoutingInstant(now()))
        decisions += try router.apply(.agentConfigured(effective(profile)))
        try await record(decisions)
        logger.info("agent's phone \(reachable ? "reachable" : "unreachable")", metadata: ["agent": "\(agent)"])
    }

    public func isVoiceReachable(agent: String) -> Bool { !voiceGated || voiceReachable.contains(agent) }

    /// An agent's routing state as the API shows it.
    public func agentJSON(_ id: String) -> JSONValue? {
        router.agent(id).map { RoutingJSON.agent($0, voiceReachable: isVoiceReachable(agent: id)) }
    }

    /// Every agent's routing state as the API shows it.
    public func agentsJSON() -> [(id: String, json: JSONValue)] {
        router.agentSnapshots.map { ($0.id, RoutingJSON.agent($0, voiceReachable: isVoiceReachable(agent: $0.id))) }
    }

    /// The profile the router gets: the configured one, with no voice capacity while the agent's
    /// phone cannot be reached.
    private func effective(_ profile: AgentProfile) -> AgentProfile {
        guard !isVoiceReachable(agent: profile.id) else { return profile }
        var profile = profile
        profile.capacity.voice = 0
        return profile
    }

    // MARK: Reading

    public func queues() -> [QueueSnapshot] { router.queueSnapshots }
    public func queue(_ id: String) -> QueueSnapshot? { router.queue(id) }
    public func agents() -> [AgentSnapshot] { router.agentSnapshots }
    public func agent(_ id: String) -> AgentSnapshot? { router.agent(id) }
    public func task(_ conversation: Conversation.ID) -> TaskSnapshot? { router.task(conversation.rawValue) }

    /// An offer while it is open.
    public func openOffer(_ id: String) -> Offer? { router.offer(id) }

    /// An offer, open or recently closed.
    public func offer(_ id: String) -> Offer? { router.offer(id) ?? recentOffers[id] }

    /// The latest offer made for a conversation.
    public func lastOffer(of conversation: Conversation.ID) -> Offer? {
        lastOffer[conversation.rawValue].flatMap { offer($0) }
    }

    /// Recovers if not yet done, then processes what is pending now (for tests and tools that do
    /// not run the loop).
    public func settle() async throws {
        try await start()
        _ = await step()
        // The decisions of the events read are in the log before this returns.
        try await written(queuedCount)
    }
}

/// Runs the routing service in the hub's service group.
public struct RoutingServiceRunner: Service {
    let routing: RoutingService

    public init(_ routing: RoutingService) { self.routing = routing }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await routing.run()
        }
    }
}
