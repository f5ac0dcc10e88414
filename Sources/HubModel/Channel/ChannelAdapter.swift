import Foundation

/// One channel account's adapter: it turns the provider's webhooks into `InboundEvent`s and
/// delivers outbound messages in the provider's format. Socket channels (SIP, SMTP) add services
/// of their own; every adapter implements at least delivery.
public protocol ChannelAdapter: Sendable {
    /// The channel account this adapter serves.
    var accountID: String { get }
    var kind: ChannelKind { get }

    /// Sends one delivery. Called by the outbox worker, possibly again for the same delivery after
    /// a failure or a crash: pass `delivery.idempotencyKey` to providers that deduplicate by it.
    /// - Returns: the provider's acceptance.
    /// - Throws: `DeliveryFailure`, saying whether a retry may help.
    func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt

    /// Answers a request to `/webhooks/<account id>`. Implementations verify that the request
    /// really comes from the provider, hand events to `sink`, and answer only after the sink has
    /// stored them.
    func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse

    /// Downloads a customer's attachment from the provider (a media URL, a media id), at most
    /// `maximumBytes`, for the hub to keep its own copy: providers' links expire.
    /// - Throws: `DeliveryFailure`: transient when a later try may work, permanent when not.
    func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment
}

/// An attachment's content as downloaded from a provider.
public struct FetchedAttachment: Sendable {
    public var bytes: [UInt8]
    /// The type the provider gave, if any.
    public var contentType: String?
    public var filename: String?

    public init(bytes: [UInt8], contentType: String?, filename: String? = nil) {
        self.bytes = bytes
        self.contentType = contentType
        self.filename = filename
    }
}

/// Where adapters hand what they receive. Implemented by the engine; every call returns only
/// once the change is durably stored.
public protocol InboundSink: Sendable {
    /// Stores an inbound message (or recognizes a retry of one already stored).
    func ingest(_ event: InboundEvent) async throws(IngestError) -> IngestReceipt
    /// Stores an inbound message that announces a call (a voice channel's INVITE) and the call's
    /// record with it, in one commit, in the message's conversation (`call.conversationID` is set
    /// to it). A retry of a stored message creates no record.
    func ingest(_ event: InboundEvent, call: CallRecord) async throws(IngestError) -> IngestReceipt
    /// Records a provider's status report for an outbound message.
    /// - Returns: false when no outbound message has that provider id.
    func updateDeliveryStatus(_ update: DeliveryStatusUpdate) async throws(IngestError) -> Bool
    /// Records an opt-out or opt-in that came without a message.
    /// - Returns: false when no customer has the sender's handle yet (nothing to record).
    func updateConsent(_ update: ConsentUpdate) async throws(IngestError) -> Bool
    /// Marks read the messages sent to the reader through the account up to `upTo`.
    /// - Returns: how many messages changed.
    func markRead(_ receipt: ReadReceipt) async throws(IngestError) -> Int
    /// Keeps content the hub received whole that is not part of an inbound message (a bounce
    /// report, mail that came back in a loop) durably in the hub's blob store. Content a message
    /// refers to goes with it instead (`InboundEvent.contents`), committed in its transaction.
    /// - Returns: the content's reference (`KeptContent.reference(of:)`).
    func keep(_ bytes: [UInt8]) async throws(IngestError) -> String
    /// Stores several inbound messages in order, in as few commits as it can (a later message
    /// sees the conversation an earlier one made); one result per event, in order.
    func ingest(_ events: [InboundEvent]) async -> [Result<IngestReceipt, IngestError>]
}

extension InboundSink {
    /// One at a time, in order.
    public func ingest(_ events: [InboundEvent]) async -> [Result<IngestReceipt, IngestError>] {
        var results: [Result<IngestReceipt, IngestError>] = []
        for event in events {
            do {
                results.append(.success(try await ingest(event)))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }
}

/// The provider accepted a delivery.
public struct DeliveryReceipt: Sendable, Hashable {
    /// The provider's id for the sent message (for status callbacks), if it gives one.
    public var providerMessageID: String?

    public init(providerMessageID: String?) { self.providerMessageID = providerMessageID }
}

/// Why a delivery attempt failed, and whether trying again may help.
public struct DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    /// False for errors a retry cannot fix (a rejected recipient, a malformed request).
    public var isRetryable: Bool
    /// How long the provider asked us to wait (HTTP 429 Retry-After).
    public var retryAfter: Duration?

    public init(reason: String, isRetryable: Bool, retryAfter: Duration? = nil) {
        self.reason = reason
        self.isRetryable = isRetryable
        self.retryAfter = retryAfter
    }

    /// A failure that may pass on a later attempt (timeouts, 5xx, 429, connection refused).
    public static func transient(_ reason: String, retryAfter: Duration? = nil) -> Self {
        Self(reason: reason, isRetryable: true, retryAfter: retryAfter)
    }

    /// A failure no retry will fix.
    public static func permanent(_ reason: String) -> Self { Self(reason: reason, isRetryable: false) }

    public var description: String { (isRetryable ? "transient: " : "permanent: ") + reason }
}

/// Why ingest refused an event. Adapters answer the provider with an error (so that it retries)
/// for `unavailable`, and with a 4xx for the others.
public struct IngestError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The kinds of ingest error.
    public enum Code: String, Sendable, Hashable {
        /// The event itself is unusable (no text and no attachment, bad sender address...).
        case invalidEvent = "invalid_event"
        /// No such channel account.
        case unknownAccount = "unknown_account"
        /// The store could not commit; nothing was stored, and a retry may succeed.
        case unavailable
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
