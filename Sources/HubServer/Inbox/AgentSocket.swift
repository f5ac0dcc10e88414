import Foundation
import HubEngine
import HubModel
import HubRouting
import HubStore
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket

/// One agent's WebSocket connection (`/v1/agent/ws`, protocol in docs/agent-protocol.md): JSON
/// frames with a `type`; each request carries an `id` answered by an `ack` or an `error` with a
/// code. After `hello` (optionally with `resumeFrom`), the agent's events follow in log order, each
/// with its sequence number, offers with their screen pop. Bad input gets an error frame, never a
/// crash; an expired or revoked session closes the connection with code 4401.
struct AgentSocket {
    struct Configuration: Sendable {
        /// The largest message accepted from a client.
        var maximumMessageBytes = 64 * 1024
        /// A client must say hello within this time.
        var helloTimeout: Duration = .seconds(30)
    }

    /// Close codes of the application (RFC 6455 §7.4.2: 4000-4999).
    enum CloseCode {
        static let unauthorized = WebSocketErrorCode.unknown(4401)
        static let forbidden = WebSocketErrorCode.unknown(4403)
        static let helloTimeout = WebSocketErrorCode.unknown(4408)
    }

    /// The socket's viewer; nil after refusing the socket (no usable token, or not `allowed`).
    static func viewer(
        _ context: HubRequestContext, outbound: WebSocketOutboundWriter, allowed: (Viewer) -> Bool, refusal: String
    ) async throws -> Viewer? {
        guard let viewer = context.viewer else {
            try await refuse(context.authFailure ?? APIError(.unauthorized, code: "unauthorized", message: "log in first"), outbound: outbound)
            return nil
        }
        guard allowed(viewer) else {
            try await refuse(APIError(.forbidden, code: "forbidden", message: refusal), outbound: outbound)
            return nil
        }
        return viewer
    }

    /// Answers a connection that may not have a socket: one error frame, then the close code.
    static func refuse(_ error: APIError, outbound: WebSocketOutboundWriter) async throws {
        try await outbound.writeTextMessage(
            JSONWriter.text(of: JSONValue.object(["type": .string("error"), "code": .string(error.code), "message": .string(error.message)])))
        try await outbound.close(error.status == .forbidden ? CloseCode.forbidden : CloseCode.unauthorized, reason: error.code)
    }

    let engine: Engine
    let viewer: Viewer
    let configuration: Configuration
    let logger: Logger

    /// Frames to the client, written by one task in order.
    private let frames: AsyncStream<Outgoing>
    private let sink: AsyncStream<Outgoing>.Continuation

    enum Outgoing: Sendable {
        case frame(JSONValue)
        case close(WebSocketErrorCode, String)
    }

    init(engine: Engine, viewer: Viewer, configuration: Configuration, logger: Logger) {
        self.engine = engine
        self.viewer = viewer
        self.configuration = configuration
        (frames, sink) = AsyncStream<Outgoing>.makeStream()
        var logger = logger
        logger[metadataKey: "agent"] = "\(viewer.agentID?.rawValue ?? "-")"
        self.logger = logger
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        logger.info("agent connected")
        let subscription = SubscriptionBox()
        defer { logger.info("agent disconnected") }
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await write(to: outbound) }
            group.addTask { await watchSession() }
            group.addTask {
                try await Task.sleep(for: configuration.helloTimeout)
                if await subscription.id == nil { sink.yield(.close(CloseCode.helloTimeout, "send hello first")) }
            }
            do {
                for try await message in inbound.messages(maxSize: configuration.maximumMessageBytes) {
                    guard case .text(let text) = message else {
                        send(error: "unsupported_frame", "send JSON text frames", id: nil)
                        continue
                    }
                    await handle(text, subscription: subscription, group: &group)
                }
            } catch {
                logger.debug("agent socket read ended", metadata: ["error": "\(error)"])
            }
            if let id = await subscription.id { await engine.feed.unsubscribe(id) }
            sink.finish()
            group.cancelAll()
        }
    }

    /// Holds the feed subscription once `hello` made it.
    actor SubscriptionBox {
        var id: Int?
        func set(_ id: Int) { self.id = id }
    }

    // MARK: Writing

    private func write(to outbound: WebSocketOutboundWriter) async throws {
        for await item in frames {
            switch item {
            case .frame(let value):
                try await outbound.writeTextMessage(JSONWriter.text(of: value))
            case .close(let code, let reason):
                try await outbound.close(code, reason: reason)
                return
            }
        }
    }

    private func send(_ type: String, id: String?, _ fields: [String: JSONValue] = [:]) {
        var object = fields
        object["type"] = .string(type)
        if let id { object["id"] = .string(id) }
        sink.yield(.frame(.object(object)))
    }

    private func send(error code: String, _ message: String, id: String?) {
        send("error", id: id, ["code": .string(code), "message": .string(message)])
    }

    // MARK: The session

    /// Closes the connection when its session expires. (A session ended by logout or a new
    /// password is seen in the feed, as it happens: `agent.session`.)
    private func watchSession() async {
        guard let expiry = viewer.sessionExpiresAt else { return }
        do {
            try await Task.sleep(for: .milliseconds(max(0, Int64(expiry.timeIntervalSinceNow * 1000))))
            endSession()
        } catch {
            return
        }
    }

    private func endSession() {
        send(error: "unauthorized", "the session ended (logout, expiry or a new password): log in again", id: nil)
        sink.yield(.close(CloseCode.unauthorized, "session ended"))
    }

    /// Whether the event ends this connection's own session.
    private func endsSession(_ event: HubEvent) -> Bool {
        guard event.kind == .agentSession, event.payload["state"]?.stringValue == "ended", let digest = viewer.sessionDigest,
            let session = event.payload["session"]?.stringValue
        else { return false }
        return digest.hasPrefix(session)
    }

    // MARK: The feed

    private func pump(_ subscription: Int) async {
        while !Task.isCancelled {
            switch await engine.feed.next(subscription) {
            case .events(let events, _):
                for event in events {
                    sink.yield(.frame(await frame(for: event)))
                    if endsSession(event) {
                        endSession()
                        return
                    }
                }
            case .resync(let sequence):
                send("resync", id: nil, ["sequence": .int(sequence), "state": (try? await engine.inbox.state(for: viewer)) ?? .null])
            case .ended:
                return
            }
        }
    }

    /// An event as sent: an offer to this agent carries its screen pop.
    private func frame(for event: HubEvent) async -> JSONValue {
        guard case .object(var object) = InboxPresenter.event(event, for: viewer) else { return .null }
        object["type"] = .string("event")
        if event.kind == .offerCreated, event.refs.agentID == viewer.agentID, let conversation = event.refs.conversationID {
            do {
                object["screenPop"] = try await engine.inbox.screenPop(conversation: conversation, offer: event.payload, for: viewer)
            } catch {
                logger.warning("screen pop failed", metadata: ["conversation": "\(conversation)", "error": "\(error)"])
            }
        }
        return .object(object)
    }

    // MARK: Requests

    private func handle(_ text: String, subscription: SubscriptionBox, group: inout ThrowingTaskGroup<Void, any Error>) async {
        guard let data = text.data(using: .utf8), let value = try? HubJSON.makeDecoder().decode(JSONValue.self, from: data),
            case .object(let request) = value
        else {
            send(error: "invalid_json", "a frame is one JSON object", id: nil)
            return
        }
        let id = request["id"]?.stringValue
        guard let type = request["type"]?.stringValue else {
            send(error: "invalid_request", "a frame needs a \"type\"", id: id)
            return
        }
        if type != "hello", await subscription.id == nil {
            send(error: "hello_required", "say hello first", id: id)
            return
        }
        do {
            switch type {
            case "hello":
                guard await subscription.id == nil else { throw InboxError(.conflict, "hello was already said") }
                let resumeFrom = request["resumeFrom"]?.intValue
                let monitoring = (request["monitor"]?.arrayOfStrings ?? []).map(Conversation.ID.init(rawValue:))
                let subscriber = try await engine.feed.subscribe(
                    InboxFeed.Audience(agentID: viewer.agentID, seesAll: viewer.seesAll), resumeFrom: resumeFrom,
                    monitoring: viewer.seesAll ? monitoring : [])
                let sequence = await engine.feed.head
                let state = try await engine.inbox.state(for: viewer)
                await subscription.set(subscriber)
                send("welcome", id: id, ["sequence": .int(resumeFrom ?? sequence), "state": state])
                group.addTask { await pump(subscriber) }
            case "ping":
                send("ack", id: id, ["pong": .bool(true)])
            case "presence.set":
                let presence = try RoutingRoutes.presence(try required(request, "presence"), reason: request["reason"]?.stringValue)
                send("ack", id: id, ["routing": try await engine.inbox.setPresence(presence, for: viewer)])
            case "offer.accept":
                try await engine.inbox.accept(offer: try required(request, "offerId"), for: viewer)
                send("ack", id: id)
            case "offer.reject":
                guard let reason = RejectReason(rawValue: request["reason"]?.stringValue ?? "declined") else {
                    throw InboxError.invalid("reason is declined, busy, unreachable or noAnswer")
                }
                try await engine.inbox.reject(offer: try required(request, "offerId"), reason: reason, for: viewer)
                send("ack", id: id)
            case "conversation.open":
                let conversation = Conversation.ID(try required(request, "conversationId"))
                send("ack", id: id, ["detail": try await engine.inbox.conversationDetail(conversation, for: viewer, via: "inbox")])
            case "conversation.messages":
                let conversation = Conversation.ID(try required(request, "conversationId"))
                _ = try await engine.inbox.conversation(conversation, for: viewer)
                let after = request["after"]?.stringValue.map(Message.ID.init(rawValue:))
                let messages = try await engine.store.messages(in: conversation, after: after, limit: 200)
                send("ack", id: id, ["messages": .array(messages.map { InboxPresenter.view($0, for: viewer) })])
            case "customer.timeline":
                let customer = Customer.ID(try required(request, "customerId"))
                _ = try await engine.inbox.customer(customer, for: viewer)
                let timeline = try await engine.inbox.timeline(of: customer, for: viewer, before: request["before"]?.intValue, limit: 50)
                send("ack", id: id, ["timeline": .array(timeline)])
            case "message.send", "note.add":
                let conversation = Conversation.ID(try required(request, "conversationId"))
                let text: String = try required(request, "text")
                guard text.utf8.count <= 32_768 else { throw InboxError.invalid("a message of at most 32 KiB") }
                let receipt = try await engine.inbox.send(
                    OutboundContent(text: text, subject: request["subject"]?.stringValue), to: conversation, note: type == "note.add",
                    handle: request["handleId"]?.stringValue.map(Handle.ID.init(rawValue:)), account: request["channelAccountId"]?.stringValue,
                    idempotencyKey: request["clientMessageId"]?.stringValue, for: viewer)
                send(
                    "ack", id: id,
                    [
                        "message": InboxPresenter.view(receipt.message, for: viewer), "deliveryId": receipt.delivery.map { .string($0.id.rawValue) } ?? .null,
                        "duplicate": .bool(receipt.duplicate),
                    ])
            case "conversation.transfer":
                let conversation = Conversation.ID(try required(request, "conversationId"))
                try await engine.inbox.transfer(
                    conversation, queue: request["queue"]?.stringValue, agent: request["agentId"]?.stringValue.map(Agent.ID.init(rawValue:)),
                    note: request["note"]?.stringValue, for: viewer)
                send("ack", id: id)
            case "conversation.close":
                let conversation = try await engine.inbox.close(Conversation.ID(try required(request, "conversationId")), for: viewer)
                send("ack", id: id, ["conversation": InboxPresenter.view(conversation, for: viewer)])
            case "conversation.wrapup":
                try await engine.inbox.wrapUp(
                    Conversation.ID(try required(request, "conversationId")), disposition: try required(request, "disposition"),
                    notes: request["notes"]?.stringValue, for: viewer)
                send("ack", id: id)
            case "contact.reveal":
                let address = try await engine.inbox.reveal(
                    customer: Customer.ID(try required(request, "customerId")), handle: Handle.ID(try required(request, "handleId")), for: viewer,
                    reason: request["reason"]?.stringValue)
                send("ack", id: id, ["address": .string(address)])
            case "ticket.create":
                let ticket = try await engine.inbox.createTicket(
                    InboxService.NewTicket(
                        subject: try required(request, "subject"), customerID: request["customerId"]?.stringValue.map(Customer.ID.init(rawValue:)),
                        conversationIDs: (request["conversationIds"]?.arrayOfStrings ?? request["conversationId"]?.stringValue.map { [$0] } ?? [])
                            .map(Conversation.ID.init(rawValue:)),
                        priority: try Self.enumValue(request["priority"], default: .normal), queueID: request["queueId"]?.stringValue,
                        assigneeID: request["assigneeId"].map { $0.stringValue.map(Agent.ID.init(rawValue:)) }, note: request["note"]?.stringValue),
                    for: viewer)
                send("ack", id: id, ["ticket": InboxPresenter.view(ticket, for: viewer)])
            case "ticket.get":
                let ticket = try await engine.inbox.ticket(Ticket.ID(try required(request, "ticketId")), for: viewer)
                let comments = try await engine.inbox.comments(of: ticket.id, for: viewer)
                send(
                    "ack", id: id,
                    ["ticket": InboxPresenter.view(ticket, for: viewer), "comments": .array(comments.map { InboxPresenter.view($0, for: viewer) })])
            case "ticket.update":
                let change = TicketChange(
                    status: try Self.optionalEnum(request["status"]), priority: try Self.optionalEnum(request["priority"]),
                    subject: request["subject"]?.stringValue,
                    assigneeID: request["assigneeId"].map { $0.stringValue.map(Agent.ID.init(rawValue:)) },
                    queueID: request["queueId"].map { $0.stringValue })
                let ticket = try await engine.inbox.updateTicket(Ticket.ID(try required(request, "ticketId")), change, for: viewer)
                send("ack", id: id, ["ticket": InboxPresenter.view(ticket, for: viewer)])
            case "ticket.comment":
                let comment = try await engine.inbox.comment(
                    on: Ticket.ID(try required(request, "ticketId")), body: try required(request, "body"),
                    visibility: try Self.enumValue(request["visibility"], default: .internal), for: viewer)
                send("ack", id: id, ["comment": InboxPresenter.view(comment, for: viewer)])
            case "ticket.merge":
                let merge = try await engine.inbox.mergeTicket(
                    Ticket.ID(try required(request, "ticketId")), into: Ticket.ID(try required(request, "into")), for: viewer)
                send("ack", id: id, ["source": InboxPresenter.view(merge.source, for: viewer), "target": InboxPresenter.view(merge.target, for: viewer)])
            case "ticket.link":
                let ticket = try await engine.inbox.link(
                    Conversation.ID(try required(request, "conversationId")), to: Ticket.ID(try required(request, "ticketId")), for: viewer)
                send("ack", id: id, ["ticket": InboxPresenter.view(ticket, for: viewer)])
            case "ticket.history":
                let history = try await engine.inbox.ticketHistory(
                    Ticket.ID(try required(request, "ticketId")), after: request["after"]?.intValue ?? 0, limit: 200, for: viewer)
                send("ack", id: id, ["history": .array(history)])
            case "supervisor.snapshot":
                guard viewer.seesAll else { throw InboxError.forbidden("for supervisors") }
                send(
                    "ack", id: id,
                    [
                        "queues": .array(await engine.routing.queues().map(RoutingJSON.queue)),
                        "agents": .array(await engine.routing.agentsJSON().map(\.json)),
                    ])
            case "supervisor.monitor", "supervisor.unmonitor":
                guard viewer.seesAll else { throw InboxError.forbidden("for supervisors") }
                let conversation = Conversation.ID(try required(request, "conversationId"))
                _ = try await engine.inbox.conversation(conversation, for: viewer)
                guard let subscriber = await subscription.id else { throw InboxError.invalid("say hello first") }
                if type == "supervisor.monitor" {
                    await engine.feed.monitor(subscriber, conversation)
                } else {
                    await engine.feed.unmonitor(subscriber, conversation)
                }
                send("ack", id: id)
            default:
                send(error: "unknown_type", "unknown frame type '\(type)'", id: id)
            }
        } catch let error as InboxError {
            send(error: error.code.rawValue, error.message, id: id)
        } catch let error as APIError {
            send(error: error.code, error.message, id: id)
        } catch let error as StoreError {
            send(error: APIError.from(error).code, error.message, id: id)
        } catch {
            logger.error("agent request failed", metadata: ["type": "\(type)", "error": "\(error)"])
            send(error: "internal", "the hub failed to handle this request; see its log", id: id)
        }
    }

    /// A field naming one of an enumeration's raw values; `fallback` when absent.
    private static func enumValue<T: RawRepresentable & CaseIterable>(_ value: JSONValue?, default fallback: T) throws -> T where T.RawValue == String {
        try optionalEnum(value) ?? fallback
    }

    private static func optionalEnum<T: RawRepresentable & CaseIterable>(_ value: JSONValue?) throws -> T? where T.RawValue == String {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue, let result = T(rawValue: text) else {
            throw InboxError.invalid("expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return result
    }

    private func required(_ request: [String: JSONValue], _ key: String) throws -> String {
        guard let value = request[key]?.stringValue, !value.isEmpty else { throw InboxError.invalid("\"\(key)\" is required") }
        return value
    }
}

extension JSONValue {
    /// The strings of an array of strings.
    var arrayOfStrings: [String]? {
        guard case .array(let items) = self else { return nil }
        return items.compactMap(\.stringValue)
    }
}

/// The route of the agents' socket.
enum AgentSocketRoutes {
    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine, configuration: AgentSocket.Configuration, logger: Logger) {
        api.ws(
            "agent/ws",
            shouldUpgrade: { _, _ in .upgrade([:]) },
            onUpgrade: { inbound, outbound, context in
                guard
                    let viewer = try await AgentSocket.viewer(
                        context.requestContext, outbound: outbound, allowed: { $0.agentID != nil },
                        refusal: "the agent socket is for agents: log in as one")
                else { return }
                try await AgentSocket(engine: engine, viewer: viewer, configuration: configuration, logger: logger).run(inbound: inbound, outbound: outbound)
            })
    }
}
