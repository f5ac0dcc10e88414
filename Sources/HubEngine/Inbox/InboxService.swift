import Foundation
import HubConfig
import HubModel
import HubRouting
import HubStore
import Logging

/// What agents and supervisors do and read in the inbox, whether over the WebSocket or REST:
/// every read checked against the viewer (agents see the conversations and customers they serve
/// or served, and their queues'; supervisors and admins see all), contacts masked, profile views
/// and reveals written to the audit trail, and every command carried out by the service that
/// owns it (the router, the outbox, the store).
public struct InboxService: Sendable {
    let store: any HubStore
    let channels: ChannelDirectory
    let routing: RoutingService
    let outbound: OutboundService
    let now: @Sendable () -> Date
    let logger: Logger

    /// Events of a customer shown in a timeline (history across channels).
    static let timelineKinds: Set<EventKind> = [
        .conversationCreated, .messageReceived, .messageQueued, .messageNoted, .messageStatusChanged, .callCreated, .callUpdated,
        .ticketCreated, .ticketUpdated, .ticketLinked, .routingAssigned, .conversationDisposition, .handleConsent,
    ]

    public init(
        store: any HubStore, channels: ChannelDirectory, routing: RoutingService, outbound: OutboundService,
        now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.store = store
        self.channels = channels
        self.routing = routing
        self.outbound = outbound
        self.now = now
        self.logger = logger
    }

    // MARK: Access

    /// The conversation, when the viewer may read it (else `notFound`: no telling what exists).
    public func conversation(_ id: Conversation.ID, for viewer: Viewer) async throws -> Conversation {
        guard let conversation = try await store.conversation(id), try await mayRead(conversation, viewer) else {
            throw InboxError.notFound("no conversation \(id)")
        }
        return conversation
    }

    func mayRead(_ conversation: Conversation, _ viewer: Viewer) async throws -> Bool {
        if viewer.seesAll { return true }
        guard let agent = viewer.agentID else { return false }
        if conversation.assigneeID == agent { return true }
        if let queue = conversation.queueID, viewer.queues.contains(queue) { return true }
        return try await store.wasAssigned(conversation.id, to: agent)
    }

    /// The conversation, when the viewer may act on it: it is theirs now (supervisors: any).
    func ownConversation(_ id: Conversation.ID, for viewer: Viewer) async throws -> Conversation {
        let conversation = try await self.conversation(id, for: viewer)
        guard viewer.seesAll || conversation.assigneeID == viewer.agentID else {
            throw InboxError.forbidden("conversation \(id) is not assigned to you")
        }
        return conversation
    }

    /// The customer, when the viewer may read them.
    public func customer(_ id: Customer.ID, for viewer: Viewer) async throws -> Customer {
        guard let customer = try await store.customer(id) else { throw InboxError.notFound("no customer \(id)") }
        if viewer.seesAll { return customer }
        guard let agent = viewer.agentID, try await store.hasServed(id, agent: agent, queues: viewer.queues) else {
            throw InboxError.notFound("no customer \(id)")
        }
        return customer
    }

    // MARK: Reading

    /// A customer's profile for the viewer, written to the audit trail.
    public func customerProfile(_ id: Customer.ID, for viewer: Viewer, via: String) async throws -> JSONValue {
        let customer = try await self.customer(id, for: viewer)
        let handles = try await store.handles(of: id)
        try await audit(.auditProfileViewed, customer: id, conversation: nil, viewer: viewer, details: ["via": .string(via)])
        return InboxPresenter.customer(customer, handles: handles, for: viewer)
    }

    /// A customer's recent history across every channel, oldest first.
    public func timeline(of customer: Customer.ID, for viewer: Viewer, before: Int64? = nil, limit: Int = 30) async throws -> [JSONValue] {
        var entries: [HubEvent] = []
        var cursor = before
        // Read past the events that are not shown (deliveries, routing steps), a few pages at most.
        for _ in 0..<4 where entries.count < limit {
            let page = try await store.recentEvents(customerID: customer, before: cursor, limit: limit * 3)
            entries.insert(contentsOf: page.filter { Self.timelineKinds.contains($0.kind) }, at: 0)
            guard let oldest = page.first, page.count == limit * 3 else { break }
            cursor = oldest.sequence
        }
        return entries.suffix(limit).map { InboxPresenter.event($0, for: viewer) }
    }

    /// What an agent needs to answer a conversation: it, its customer (masked), the customer's
    /// open tickets, the recent timeline across all channels, and the channels a reply can take.
    /// A profile view, audited.
    public func conversationDetail(_ id: Conversation.ID, for viewer: Viewer, via: String) async throws -> JSONValue {
        let conversation = try await self.conversation(id, for: viewer)
        return try await detail(of: conversation, for: viewer, via: via, offer: nil)
    }

    /// The screen pop of an offer: the conversation's detail and why the router chose the agent.
    public func screenPop(conversation id: Conversation.ID, offer: JSONValue, for viewer: Viewer) async throws -> JSONValue {
        guard let conversation = try await store.conversation(id) else { throw InboxError.notFound("no conversation \(id)") }
        return try await detail(of: conversation, for: viewer, via: "screen pop", offer: offer)
    }

    private func detail(of conversation: Conversation, for viewer: Viewer, via: String, offer: JSONValue?) async throws -> JSONValue {
        let customerID = conversation.customerID
        guard let customer = try await store.customer(customerID) else { throw InboxError.notFound("no customer \(customerID)") }
        let handles = try await store.handles(of: customerID)
        let tickets = try await store.tickets(of: customerID).filter(\.isUnsolved)
        let timeline = try await timeline(of: customerID, for: viewer)
        try await audit(.auditProfileViewed, customer: customerID, conversation: conversation.id, viewer: viewer, details: ["via": .string(via)])
        var object: [String: JSONValue] = [
            "conversation": InboxPresenter.view(conversation, for: viewer),
            "customer": InboxPresenter.customer(customer, handles: handles, for: viewer),
            "openTickets": .array(tickets.map { InboxPresenter.view($0, for: viewer) }),
            "timeline": .array(timeline),
            "replyChannels": .array(replyChannels(conversation, handles: handles, for: viewer)),
        ]
        if let offer { object["offer"] = offer }
        return .object(object)
    }

    /// The ways a reply can reach the customer: each handle not opted out, through each account of
    /// its kind (for a provider id, of its scope: a PSID means nothing to another page); the
    /// conversation's own first.
    func replyChannels(_ conversation: Conversation, handles: [Handle], for viewer: Viewer) -> [JSONValue] {
        var options: [JSONValue] = []
        let ordered = handles.sorted { ($0.id == conversation.handleID ? 0 : 1, $0.createdAt) < ($1.id == conversation.handleID ? 0 : 1, $1.createdAt) }
        for handle in ordered where handle.optedOutAt == nil {
            for account in channels.accounts(reaching: handle) {
                let address = viewer.masksContacts ? ContactMask.mask(handle.address, kind: handle.kind) : handle.address
                options.append(
                    .object([
                        "handleId": .string(handle.id.rawValue), "channelAccountId": .string(account.id), "channel": .string(account.kind.rawValue),
                        "label": .string("\(account.name) · \(address)"),
                        "current": .bool(handle.id == conversation.handleID && account.id == conversation.channelAccountID),
                    ]))
            }
        }
        return options
    }

    /// The unmasked address of one handle, for a viewer with the right; audited.
    public func reveal(customer id: Customer.ID, handle handleID: Handle.ID, for viewer: Viewer, reason: String?) async throws -> String {
        guard viewer.canRevealContacts else { throw InboxError.forbidden("your role may not reveal contact details") }
        _ = try await customer(id, for: viewer)
        guard let handle = try await store.handles(of: id).first(where: { $0.id == handleID }) else {
            throw InboxError.notFound("customer \(id) has no handle \(handleID)")
        }
        try await audit(
            .auditContactRevealed, customer: id, conversation: nil, viewer: viewer,
            details: ["handleId": .string(handleID.rawValue), "kind": .string(handle.kind.rawValue), "reason": reason.map(JSONValue.string) ?? .null])
        return handle.address
    }

    /// The `blob:` reference of a received message's original (an e-mail as it arrived) or of a
    /// sent message's bounce report, for a
    /// viewer who may read the conversation and see contacts unmasked: the original shows every
    /// address. Audited as a reveal.
    public func rawMessage(_ id: Message.ID, for viewer: Viewer) async throws -> String {
        guard let message = try await store.message(id) else { throw InboxError.notFound("no message \(id)") }
        let conversation = try await self.conversation(message.conversationID, for: viewer)
        // A received mail's original, or the bounce report attached to a message sent.
        let kept = message.direction == .inbound ? message.metadata["raw"] : message.metadata["deliveryReport"]
        guard let raw = kept?.stringValue, raw.hasPrefix("blob:") else { throw InboxError.notFound("message \(id) has no original kept") }
        guard viewer.canRevealContacts else { throw InboxError.forbidden("the original shows contact details, which your role may not see") }
        try await audit(
            .auditContactRevealed, customer: conversation.customerID, conversation: conversation.id, viewer: viewer,
            details: ["messageId": .string(id.rawValue), "via": .string("raw message")])
        return raw
    }

    /// The agent's state on connecting: profile, presence and load, open offers with their
    /// screen pops, conversations in hand, wrap-ups.
    public func state(for viewer: Viewer) async throws -> JSONValue {
        guard let agentID = viewer.agentID, let agent = try await store.agent(agentID) else { throw InboxError.forbidden("not an agent") }
        let snapshot = await routing.agent(agentID.rawValue)
        var offers: [JSONValue] = []
        for offerID in snapshot?.offers ?? [] {
            guard let offer = await routing.offer(offerID) else { continue }
            let json = RoutingJSON.offer(offer)
            let pop = try? await screenPop(conversation: Conversation.ID(offer.taskID), offer: json, for: viewer)
            offers.append(pop ?? json)
        }
        let conversations = try await store.activeConversations(of: agentID, limit: 200)
        return .object([
            "agent": .object([
                "id": .string(agent.id.rawValue), "name": .string(agent.name), "role": .string(agent.role.rawValue),
                "queues": .array(agent.queues.map { .string($0.queueID) }), "canRevealContacts": .bool(agent.canRevealContacts),
            ]),
            "routing": snapshot == nil ? .null : await routing.agentJSON(agentID.rawValue) ?? .null,
            "offers": .array(offers),
            "conversations": .array(conversations.map { InboxPresenter.view($0, for: viewer) }),
        ])
    }

    // MARK: Commands

    public func setPresence(_ presence: Presence, for viewer: Viewer, agent: Agent.ID? = nil) async throws -> JSONValue {
        guard let target = agent ?? viewer.agentID else { throw InboxError.invalid("which agent?") }
        guard target == viewer.agentID || viewer.seesAll else { throw InboxError.forbidden("you may set only your own presence") }
        do {
            let snapshot = try await routing.setPresence(agent: target.rawValue, presence, actor: viewer.actor)
            return await routing.agentJSON(target.rawValue) ?? RoutingJSON.agent(snapshot)
        } catch let failure as RoutingService.Failure {
            throw Self.inboxError(failure)
        }
    }

    public func accept(offer id: String, for viewer: Viewer) async throws {
        try await checkOffer(id, viewer)
        do { try await routing.accept(offer: id) } catch let failure as RoutingService.Failure { throw Self.inboxError(failure) }
    }

    public func reject(offer id: String, reason: RejectReason, for viewer: Viewer) async throws {
        try await checkOffer(id, viewer)
        do { try await routing.reject(offer: id, reason: reason) } catch let failure as RoutingService.Failure { throw Self.inboxError(failure) }
    }

    private func checkOffer(_ id: String, _ viewer: Viewer) async throws {
        guard let offer = await routing.offer(id), viewer.seesAll || offer.agentID == viewer.agentID?.rawValue else {
            throw InboxError.notFound("no offer \(id) for you")
        }
    }

    /// A reply to the customer (public) or a private note.
    public func send(
        _ content: OutboundContent, to id: Conversation.ID, note: Bool, handle: Handle.ID?, account: String?, idempotencyKey: String?,
        for viewer: Viewer
    ) async throws -> OutboundReceipt {
        let conversation = note ? try await self.conversation(id, for: viewer) : try await ownConversation(id, for: viewer)
        let author: MessageAuthor = viewer.agentID.map(MessageAuthor.agent) ?? .system
        do {
            return try await outbound.send(
                OutboundService.Request(
                    conversationID: conversation.id, author: author, visibility: note ? .note : .public, content: content,
                    idempotencyKey: idempotencyKey.map { "\(viewer.actor):\($0)" }, handleID: handle, channelAccountID: account),
                actor: viewer.actor)
        } catch let error as StoreError {
            throw Self.inboxError(error)
        }
    }

    /// Passes the conversation to a queue or an agent, with a private note for whoever takes it.
    public func transfer(
        _ id: Conversation.ID, queue: String?, agent: Agent.ID?, note: String?, within: Duration = .seconds(60), keepAge: Bool = true,
        for viewer: Viewer
    ) async throws {
        _ = try await ownConversation(id, for: viewer)
        let target: TransferTarget
        switch (queue, agent) {
        case (let queue?, nil): target = .queue(queue)
        case (let queue, let agent?): target = .agent(agent.rawValue, queue: queue, within: within)
        default: throw InboxError.invalid("transfer to a queue or to an agent")
        }
        if let note, !note.isEmpty {
            _ = try await send(OutboundContent(text: "Transfer: " + note), to: id, note: true, handle: nil, account: nil, idempotencyKey: nil, for: viewer)
        }
        do {
            try await routing.transfer(conversation: id, to: target, keepAge: keepAge)
        } catch let failure as RoutingService.Failure {
            throw Self.inboxError(failure)
        }
    }

    /// The agent finished the conversation's work without closing it (wrap-up follows).
    public func complete(_ id: Conversation.ID, for viewer: Viewer) async throws {
        _ = try await ownConversation(id, for: viewer)
        do { try await routing.complete(conversation: id) } catch let failure as RoutingService.Failure { throw Self.inboxError(failure) }
    }

    /// Ends the agent's wrap-up of a conversation without a disposition.
    public func endWrapUp(agent: Agent.ID, conversation id: Conversation.ID, for viewer: Viewer) async throws {
        guard agent == viewer.agentID || viewer.seesAll else { throw InboxError.forbidden("you may end only your own wrap-up") }
        do {
            try await routing.endWrapUp(agent: agent.rawValue, conversation: id)
        } catch let failure as RoutingService.Failure {
            throw Self.inboxError(failure)
        }
    }

    /// Closes the conversation: the router completes it and the agent's wrap-up starts.
    public func close(_ id: Conversation.ID, for viewer: Viewer) async throws -> Conversation {
        _ = try await ownConversation(id, for: viewer)
        return try await store.updateConversation(id, ConversationChange(status: .closed), at: now(), actor: viewer.actor)
    }

    /// Records the disposition of the agent's work on the conversation and ends their wrap-up.
    public func wrapUp(_ id: Conversation.ID, disposition: String, notes: String?, for viewer: Viewer) async throws {
        let conversation = try await self.conversation(id, for: viewer)
        guard let agent = viewer.agentID, try await store.wasAssigned(id, to: agent) else {
            throw InboxError.forbidden("you did not handle conversation \(id)")
        }
        guard !disposition.isEmpty, disposition.count <= 100 else { throw InboxError.invalid("a disposition code of 1 to 100 characters") }
        try await store.recordEvent(
            .conversationDisposition, refs: EventRefs(customerID: conversation.customerID, conversationID: id, agentID: agent),
            payload: .object(["disposition": .string(disposition), "notes": notes.map(JSONValue.string) ?? .null, "agentId": .string(agent.rawValue)]),
            at: now(), actor: viewer.actor)
        if let snapshot = await routing.agent(agent.rawValue), snapshot.wrapUps.contains(id.rawValue) {
            do {
                try await routing.endWrapUp(agent: agent.rawValue, conversation: id)
            } catch let failure as RoutingService.Failure {
                throw Self.inboxError(failure)
            }
        }
    }

    // MARK: Audit

    private func audit(_ kind: EventKind, customer: Customer.ID, conversation: Conversation.ID?, viewer: Viewer, details: [String: JSONValue])
        async throws
    {
        var payload = details
        payload["customerId"] = .string(customer.rawValue)
        payload["role"] = .string(viewer.role.rawValue)
        payload["masked"] = .bool(viewer.masksContacts && kind != .auditContactRevealed)
        try await store.recordEvent(
            kind, refs: EventRefs(customerID: customer, conversationID: conversation, agentID: viewer.agentID), payload: .object(payload),
            at: now(), actor: viewer.actor)
    }

    static func inboxError(_ failure: RoutingService.Failure) -> InboxError {
        switch failure {
        case .notFound(let what): InboxError.notFound(what)
        case .refused(let error):
            switch error {
            case .unknownTask, .unknownAgent, .unknownQueue, .unknownOffer: InboxError.notFound(error.description)
            case .duplicateTask, .invalidState: InboxError(.conflict, error.description)
            }
        }
    }

    static func inboxError(_ error: StoreError) -> InboxError {
        switch error.code {
        case .notFound: InboxError.notFound(error.message)
        case .conflict: InboxError(.conflict, error.message)
        case .invalid: InboxError.invalid(error.message)
        case .unavailable: InboxError(.conflict, error.message)
        }
    }
}
