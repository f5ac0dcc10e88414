import Foundation
import HubConfig
import HubModel
import HubStore

/// Sends messages to customers: records them and puts their deliveries in the outbox, then wakes
/// the outbox worker.
public struct OutboundService: Sendable {
    let store: any HubStore
    let channels: ChannelDirectory
    let now: @Sendable () -> Date
    let wake: @Sendable () -> Void

    /// A reply or note.
    public struct Request: Sendable, Hashable {
        public var conversationID: Conversation.ID
        public var author: MessageAuthor
        public var visibility: MessageVisibility
        public var content: OutboundContent
        /// The same key twice stores one message and one delivery.
        public var idempotencyKey: String?
        /// Another of the customer's handles to send through (default: the conversation's).
        public var handleID: Handle.ID?
        /// The account to send through, for a handle on another channel.
        public var channelAccountID: String?
        /// Not delivered before this instant (quiet hours).
        public var notBefore: Date?

        public init(
            conversationID: Conversation.ID, author: MessageAuthor, visibility: MessageVisibility = .public, content: OutboundContent,
            idempotencyKey: String? = nil, handleID: Handle.ID? = nil, channelAccountID: String? = nil, notBefore: Date? = nil
        ) {
            self.notBefore = notBefore
            self.conversationID = conversationID
            self.author = author
            self.visibility = visibility
            self.content = content
            self.idempotencyKey = idempotencyKey
            self.handleID = handleID
            self.channelAccountID = channelAccountID
        }
    }

    /// Records the message and, for a public one, queues its delivery.
    /// - Throws: `StoreError` (`notFound` conversation or handle, `invalid` content, `conflict`
    ///   when the customer opted out on that handle).
    public func send(_ request: Request, actor: Actor) async throws -> OutboundReceipt {
        let hasText = !(request.content.text ?? "").isEmpty
        guard hasText || !request.content.attachments.isEmpty else {
            throw StoreError.invalid("the message has neither text nor attachments")
        }
        guard let conversation = try await store.conversation(request.conversationID) else {
            throw StoreError.notFound("no conversation \(request.conversationID)")
        }
        // A retry of a request already stored gets what the first one stored, even if the channel
        // has closed meanwhile (the message is queued; refusing it now would be false).
        if let key = request.idempotencyKey, let stored = try await store.outboundReceipt(idempotencyKey: key) { return stored }
        let date = now()
        let messageID = Message.ID.generate(at: date)
        let key = request.idempotencyKey ?? "message:\(messageID)"
        var plan: DeliveryPlan?
        var content = request.content
        var metadata: [String: JSONValue] = [:]
        if request.visibility == .public {
            let route = try await route(request, in: conversation, at: date)
            plan = DeliveryPlan(
                deliveryID: .generate(at: date), channelAccountID: route.account.id, channelKind: route.account.kind,
                recipient: route.handle.key, orderingKey: route.account.delivery.ordered ? conversation.id.rawValue : nil,
                maxAttempts: route.account.delivery.maxAttempts, notBefore: request.notBefore)
            if let tag = route.messageTag { content.options["messageTag"] = .string(tag) }
            if route.account.kind.threadsReplies { try await addThreadReferences(to: &content, in: conversation, through: route.account.id) }
            if let rerouted = route.rerouted { metadata["rerouted"] = rerouted }
        }
        let receipt = try await store.enqueueOutbound(
            OutboundCommand(
                messageID: messageID, conversationID: conversation.id, author: request.author, visibility: request.visibility,
                content: content, idempotencyKey: key, delivery: plan, metadata: metadata, at: date, actor: actor))
        if receipt.delivery != nil, !receipt.duplicate { wake() }
        return receipt
    }

    /// A reply on a threaded channel (e-mail) names what it answers: the customer's latest
    /// message (else the latest message at all) as In-Reply-To, the thread's newest messages as
    /// References, and the conversation's subject for the adapter to answer under. A message
    /// rerouted from another channel starts a thread of its own.
    func addThreadReferences(to content: inout OutboundContent, in conversation: Conversation, through accountID: String) async throws {
        guard conversation.channelAccountID == accountID else { return }
        // Only real Message-IDs (a mail without one is known by a content hash, one that reused
        // another sender's id by that id, a space and the sender's hash); the thread's root first,
        // then the newest.
        let recent = try await store.threadReferences(in: conversation.id, channelAccountID: accountID, limit: 30)
            .filter { $0.providerMessageID.contains("@") && !$0.providerMessageID.contains(" ") }
        if content.inReplyTo == nil {
            content.inReplyTo = recent.last(where: { $0.direction == .inbound })?.providerMessageID ?? recent.last?.providerMessageID
        }
        var references = recent.map(\.providerMessageID)
        if conversation.threadKey.contains("@"), !references.contains(conversation.threadKey) {
            references = [conversation.threadKey] + references.suffix(29)
        }
        if !references.isEmpty { content.options["references"] = .array(references.map { .string($0) }) }
        if let subject = conversation.subject, content.options["threadSubject"] == nil { content.options["threadSubject"] = .string(subject) }
    }

    // MARK: Choosing the channel

    /// Where a public message goes, and how.
    struct Route {
        var account: ChannelAccountConfig
        var handle: Handle
        /// A provider tag that allows sending after the reply window (Meta's HUMAN_AGENT).
        var messageTag: String?
        /// Why the message does not take the conversation's channel, for the timeline.
        var rerouted: JSONValue?
    }

    /// The conversation's channel (or the one the sender chose), if the provider lets the message
    /// through now. When the conversation's own channel is closed, by a reply window (WeChat's 48
    /// hours, Messenger's 24) or because the customer opted out of it (SMS STOP, a WeChat
    /// unfollow), the message goes out on the customer's next channel: the one they wrote from
    /// most recently that is open, and the timeline says so. A channel the sender chose
    /// explicitly is never swapped: a closed one is refused with the reason.
    func route(_ request: Request, in conversation: Conversation, at date: Date) async throws -> Route {
        let accountID = request.channelAccountID ?? conversation.channelAccountID
        guard let account = channels.account(accountID) else { throw StoreError.invalid("no channel account '\(accountID)'") }
        guard let handleID = request.handleID ?? conversation.handleID else {
            throw StoreError.invalid("conversation \(conversation.id) has no customer handle to reply to")
        }
        let handles = try await store.handles(of: conversation.customerID)
        guard let handle = handles.first(where: { $0.id == handleID }) else {
            throw StoreError.notFound("customer \(conversation.customerID) has no handle \(handleID)")
        }
        guard handle.kind == account.kind.handleKind else {
            throw StoreError.invalid("a \(handle.kind.rawValue) handle cannot be reached through \(account.kind.rawValue) account '\(account.id)'")
        }
        try checkContent(request.content, fits: account)
        let verdict: WindowVerdict
        if let optedOut = handle.optedOutAt {
            // No address in the reason: it is shown to agents who see contacts masked.
            verdict = .closed("the customer opted out of messages on their \(handle.kind.rawValue) handle at \(HubJSON.formatTimestamp(optedOut))")
        } else {
            verdict = try await window(of: account, for: conversation.customerID, at: date)
        }
        switch verdict {
        case .open: return Route(account: account, handle: handle)
        case .tagged(let tag): return Route(account: account, handle: handle, messageTag: tag)
        case .closed(let reason):
            guard request.handleID == nil, request.channelAccountID == nil else { throw StoreError.conflict(reason) }
            var candidates: [(account: ChannelAccountConfig, handle: Handle, activity: ChannelActivity)] = []
            for other in handles where other.optedOutAt == nil {
                for next in channels.accounts(reaching: other) where !(next.id == account.id && other.id == handle.id) {
                    guard (try? checkContent(request.content, fits: next)) != nil else { continue }
                    let activity = try await store.channelActivity(customerID: conversation.customerID, channelAccountID: next.id)
                    candidates.append((next, other, activity))
                }
            }
            // The channel the customer used last first; then the oldest handle (usually the one
            // they gave first), then the account id, so the choice is stable.
            candidates.sort { left, right in
                let l = left.activity.lastInboundAt ?? .distantPast
                let r = right.activity.lastInboundAt ?? .distantPast
                if l != r { return l > r }
                if left.handle.createdAt != right.handle.createdAt { return left.handle.createdAt < right.handle.createdAt }
                return left.account.id < right.account.id
            }
            for candidate in candidates {
                let nextVerdict = windowVerdict(of: candidate.account, activity: candidate.activity, at: date)
                let tag: String?
                switch nextVerdict {
                case .open: tag = nil
                case .tagged(let value): tag = value
                case .closed: continue
                }
                let rerouted = JSONValue.object([
                    "fromChannelAccountId": .string(account.id), "fromChannel": .string(account.kind.rawValue),
                    "toChannelAccountId": .string(candidate.account.id), "toChannel": .string(candidate.account.kind.rawValue),
                    "reason": .string(reason),
                ])
                return Route(account: candidate.account, handle: candidate.handle, messageTag: tag, rerouted: rerouted)
            }
            throw StoreError.conflict("\(reason); the customer has no other channel this message can go out on")
        }
    }

    /// A reply window's verdict on sending now.
    enum WindowVerdict: Equatable {
        case open
        /// Closed, but the account's tag allows it.
        case tagged(String)
        /// Closed, with the reason in words.
        case closed(String)
    }

    /// Whether `account`'s provider lets the business write to the customer now: within the
    /// channel's reply window after the customer's last message there, and within its count of
    /// replies per customer message.
    func window(of account: ChannelAccountConfig, for customerID: Customer.ID, at date: Date) async throws -> WindowVerdict {
        guard account.kind.replyWindow != nil else { return .open }
        return windowVerdict(of: account, activity: try await store.channelActivity(customerID: customerID, channelAccountID: account.id), at: date)
    }

    /// The window's verdict from the customer's activity on the account.
    func windowVerdict(of account: ChannelAccountConfig, activity: ChannelActivity, at date: Date) -> WindowVerdict {
        guard let window = account.kind.replyWindow else { return .open }
        let provider = Self.providerName(account.kind)
        // A menu click (WeChat) lets the business answer briefly, whatever the message window says.
        if let action = account.kind.actionWindow, let actedAt = activity.lastActionAt,
            Duration.milliseconds(date.millisecondsSince1970 - actedAt.millisecondsSince1970) <= action.duration,
            activity.publicRepliesSinceAction < action.replies
        {
            return .open
        }
        guard let last = activity.lastInboundAt else {
            if let action = account.kind.actionWindow, activity.lastActionAt != nil {
                return .closed(
                    "the customer only used a menu through \(account.id); \(provider) allows \(action.replies) messages within \(action.duration.components.seconds) seconds of that")
            }
            return .closed("the customer has never written through \(account.id); \(provider) lets businesses write only after a customer's message")
        }
        let age = Duration.milliseconds(date.millisecondsSince1970 - last.millisecondsSince1970)
        if age > window {
            if let extensionWindow = account.options.windowExtension, age <= extensionWindow.lasts { return .tagged(extensionWindow.tag) }
            return .closed(
                "\(provider)'s \(Self.hours(window))-hour window closed: the customer last wrote through \(account.id) \(Self.hours(age)) hours ago")
        }
        if let quota = account.kind.repliesPerCustomerMessage, activity.publicRepliesSince >= quota {
            return .closed("\(provider) allows \(quota) messages per customer message; \(activity.publicRepliesSince) went out since the customer last wrote")
        }
        return .open
    }

    /// Refuses content the channel cannot carry, when it is sent rather than after it failed.
    func checkContent(_ content: OutboundContent, fits account: ChannelAccountConfig) throws {
        if let limit = account.kind.maximumOutboundTextLength, let text = content.text, text.count > limit {
            throw StoreError.invalid("a \(account.kind.rawValue) message holds at most \(limit) characters; this one has \(text.count)")
        }
    }

    static func hours(_ duration: Duration) -> Int { Int(duration.components.seconds / 3600) }

    static func providerName(_ kind: ChannelKind) -> String {
        switch kind {
        case .wechat: "WeChat"
        case .wecom: "WeCom"
        case .messenger: "Messenger"
        case .instagram: "Instagram"
        default: kind.rawValue
        }
    }
}
