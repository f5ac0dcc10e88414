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

        public init(
            conversationID: Conversation.ID, author: MessageAuthor, visibility: MessageVisibility = .public, content: OutboundContent,
            idempotencyKey: String? = nil, handleID: Handle.ID? = nil, channelAccountID: String? = nil
        ) {
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
        let date = now()
        let messageID = Message.ID.generate(at: date)
        let key = request.idempotencyKey ?? "message:\(messageID)"
        var plan: DeliveryPlan?
        if request.visibility == .public {
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
            if let limit = account.kind.maximumOutboundTextLength, let text = request.content.text, text.count > limit {
                throw StoreError.invalid("a \(account.kind.rawValue) message holds at most \(limit) characters; this one has \(text.count)")
            }
            if let optedOut = handle.optedOutAt {
                throw StoreError.conflict("the customer opted out of messages on \(handle.key) at \(HubJSON.formatTimestamp(optedOut))")
            }
            plan = DeliveryPlan(
                deliveryID: .generate(at: date), channelAccountID: account.id, channelKind: account.kind, recipient: handle.key,
                orderingKey: account.delivery.ordered ? conversation.id.rawValue : nil, maxAttempts: account.delivery.maxAttempts)
        }
        let receipt = try await store.enqueueOutbound(
            OutboundCommand(
                messageID: messageID, conversationID: conversation.id, author: request.author, visibility: request.visibility,
                content: request.content, idempotencyKey: key, delivery: plan, at: date, actor: actor))
        if receipt.delivery != nil, !receipt.duplicate { wake() }
        return receipt
    }
}
