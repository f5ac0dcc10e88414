import HubModel
import Synchronization

/// An `InboundSink` that keeps what adapters hand it, for testing adapters on their own. It
/// deduplicates by provider message id and sender like the real engine.
public final class RecordingSink: InboundSink {
    private struct State {
        var events: [InboundEvent] = []
        var receipts: [String: IngestReceipt] = [:]
        var statuses: [DeliveryStatusUpdate] = []
        var consents: [ConsentUpdate] = []
        var reads: [ReadReceipt] = []
        var blobs: [String: [UInt8]] = [:]
    }

    private let state = Mutex(State())
    /// Thrown by `ingest` when set.
    public let failure: IngestError?
    /// Provider ids `updateDeliveryStatus` knows.
    public let knownProviderIDs: Set<String>

    public init(failure: IngestError? = nil, knownProviderIDs: Set<String> = []) {
        self.failure = failure
        self.knownProviderIDs = knownProviderIDs
    }

    public var events: [InboundEvent] { state.withLock { $0.events } }
    public var statuses: [DeliveryStatusUpdate] { state.withLock { $0.statuses } }
    public var consents: [ConsentUpdate] { state.withLock { $0.consents } }
    public var reads: [ReadReceipt] { state.withLock { $0.reads } }

    /// Keeps the bytes in memory under their content reference, as the engine names them.
    public func keep(_ bytes: [UInt8]) async throws(IngestError) -> String {
        if let failure { throw failure }
        let content = KeptContent(bytes)
        state.withLock { $0.blobs[content.reference] = bytes }
        return content.reference
    }

    /// What `keep` stored, or an ingested event carried (`contents`), under a reference.
    public func kept(_ reference: String) -> [UInt8]? { state.withLock { $0.blobs[reference] } }

    public func markRead(_ receipt: ReadReceipt) async throws(IngestError) -> Int {
        if let failure { throw failure }
        state.withLock { $0.reads.append(receipt) }
        return 1
    }

    /// Records the event; the call's record is the store's business (this sink has none).
    public func ingest(_ event: InboundEvent, call: CallRecord) async throws(IngestError) -> IngestReceipt {
        try await ingest(event)
    }

    public func ingest(_ event: InboundEvent) async throws(IngestError) -> IngestReceipt {
        if let failure { throw failure }
        return state.withLock { state in
            // A retry is the same id from the same sender (another sender's reuse is kept).
            let key = event.channelAccountID + "\u{0}" + event.providerMessageID + "\u{0}" + event.sender.address
            if var receipt = state.receipts[key] {
                receipt.duplicate = true
                return receipt
            }
            state.events.append(event)
            for content in event.contents { state.blobs[content.reference] = content.bytes }
            let receipt = IngestReceipt(
                customerID: .generate(), conversationID: .generate(), messageID: .generate(), duplicate: false, customerCreated: true,
                conversationCreated: true)
            state.receipts[key] = receipt
            return receipt
        }
    }

    public func updateDeliveryStatus(_ update: DeliveryStatusUpdate) async throws(IngestError) -> Bool {
        if let failure { throw failure }
        guard knownProviderIDs.contains(update.providerMessageID) else { return false }
        state.withLock { $0.statuses.append(update) }
        return true
    }

    /// Records every consent change; senders that wrote before count as known.
    public func updateConsent(_ update: ConsentUpdate) async throws(IngestError) -> Bool {
        if let failure { throw failure }
        return state.withLock { state in
            state.consents.append(update)
            return state.events.contains { $0.channelAccountID == update.channelAccountID && $0.sender.address == update.sender.address }
        }
    }
}
