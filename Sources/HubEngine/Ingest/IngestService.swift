import Dispatch
import Foundation
import HubConfig
import HubModel
import HubStore
import Logging

/// Where adapters hand inbound messages: validates and normalizes them, then stores each in one
/// transaction (grouped with concurrent ones), answering only after the commit.
public struct IngestService: InboundSink {
    let channels: ChannelDirectory
    let configuration: EngineConfiguration
    let store: any HubStore
    let committer: GroupCommitter
    let now: @Sendable () -> Date
    let logger: Logger
    /// Called after a message with attachments is stored (wakes the attachment fetcher).
    let onAttachments: @Sendable () -> Void
    /// Where content received whole (a raw e-mail, its attachments) is kept.
    let blobs: BlobStore?
    /// Whether customers' status questions are answered without an agent (see `TicketService`).
    let tickets: TicketSettingsCell

    init(
        channels: ChannelDirectory, configuration: EngineConfiguration, store: any HubStore, now: @escaping @Sendable () -> Date,
        logger: Logger, blobs: BlobStore? = nil, tickets: TicketSettingsCell = TicketSettingsCell(TicketSettings()),
        onAttachments: @escaping @Sendable () -> Void = {}
    ) {
        self.tickets = tickets
        self.onAttachments = onAttachments
        self.blobs = blobs
        self.channels = channels
        self.configuration = configuration
        self.store = store
        self.committer = GroupCommitter(store: store, maximumBatch: configuration.maximumIngestBatch)
        self.now = now
        self.logger = logger
    }

    public func ingest(_ event: InboundEvent) async throws(IngestError) -> IngestReceipt {
        try await storeInbound(event, call: nil)
    }

    public func ingest(_ event: InboundEvent, call: CallRecord) async throws(IngestError) -> IngestReceipt {
        try await storeInbound(event, call: call)
    }

    /// Stores an inbound message; `call`: the call it announces, created with it (see
    /// `IngestCommand.call`).
    private func storeInbound(_ event: InboundEvent, call: CallRecord?) async throws(IngestError) -> IngestReceipt {
        var command = try prepare(event)
        command.call = call
        try await keepLargeContent(&command)
        let result = await committer.submit(command)
        return try stored(event, result).get()
    }

    /// The events in order, in one transaction (a caller with a batch of its own, such as the
    /// mail spool's processor, needs no group commit to share). An event that is refused, or
    /// whose large content cannot be kept, gets its error; the others are stored.
    public func ingest(_ events: [InboundEvent]) async -> [Result<IngestReceipt, IngestError>] {
        var results = [Result<IngestReceipt, IngestError>?](repeating: nil, count: events.count)
        var commands: [IngestCommand] = []
        var positions: [Int] = []
        for (index, event) in events.enumerated() {
            do {
                var command = try prepare(event)
                try await keepLargeContent(&command)
                commands.append(command)
                positions.append(index)
            } catch {
                results[index] = .failure(error)
            }
        }
        if !commands.isEmpty {
            let stored: [Result<IngestReceipt, StoreError>]
            do {
                stored = try await store.ingest(commands)
            } catch {
                let failure = (error as? StoreError) ?? StoreError(.unavailable, "the store could not commit: \(error)")
                stored = Array(repeating: .failure(failure), count: commands.count)
            }
            for (position, result) in zip(positions, stored) { results[position] = self.stored(events[position], result) }
        }
        return results.map { $0 ?? .failure(IngestError(.unavailable, "the event was not stored")) }
    }

    /// Large content goes to the blob files first (synced); the rest commits with the message.
    private func keepLargeContent(_ command: inout IngestCommand) async throws(IngestError) {
        guard command.event.contents.contains(where: { $0.bytes.count > configuration.maximumInlineContentBytes }) else { return }
        var inline: [KeptContent] = []
        for content in command.event.contents {
            if content.bytes.count > configuration.maximumInlineContentBytes {
                _ = try await keep(content.bytes)
            } else {
                inline.append(content)
            }
        }
        command.event.contents = inline
    }

    /// The store's answer for one event, logged, as the sink's.
    private func stored(_ event: InboundEvent, _ result: Result<IngestReceipt, StoreError>) -> Result<IngestReceipt, IngestError> {
        switch result {
        case .success(let receipt):
            if !receipt.duplicate, !event.attachments.isEmpty { onAttachments() }
            logger.debug(
                "message stored",
                metadata: [
                    "account": "\(event.channelAccountID)", "message": "\(receipt.messageID)", "conversation": "\(receipt.conversationID)",
                    "duplicate": "\(receipt.duplicate)",
                ])
            return .success(receipt)
        case .failure(let error):
            logger.error("ingest failed", metadata: ["account": "\(event.channelAccountID)", "error": "\(error)"])
            switch error.code {
            case .invalid, .conflict, .notFound: return .failure(IngestError(.invalidEvent, error.message))
            case .unavailable: return .failure(IngestError(.unavailable, error.message))
            }
        }
    }

    /// The content of a reference: from the blob files or the database (kept with its message).
    /// - Throws: when the database could not be read.
    public func content(_ reference: String) async throws -> [UInt8]? {
        guard let blobs else { return try await store.content(reference) }
        return try await blobs.get(reference, orFrom: store)
    }

    public func keep(_ bytes: [UInt8]) async throws(IngestError) -> String {
        guard let blobs else { throw IngestError(.unavailable, "this hub keeps no received content (no blob store)") }
        do {
            // The write and its fsyncs block: on a Dispatch thread, not on the few threads that
            // run every task of the hub.
            return try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global(qos: .userInitiated).async {
                    continuation.resume(with: Result { try blobs.put(bytes) })
                }
            }
        } catch {
            logger.error("keeping received content failed", metadata: ["bytes": "\(bytes.count)", "error": "\(error)"])
            throw IngestError(.unavailable, "the received content could not be stored: \(error)")
        }
    }

    /// Checks an event and turns it into a store command.
    func prepare(_ event: InboundEvent) throws(IngestError) -> IngestCommand {
        guard let account = channels.account(event.channelAccountID) else {
            throw IngestError(.unknownAccount, "no channel account '\(event.channelAccountID)'")
        }
        guard account.kind == event.channelKind else {
            throw IngestError(.invalidEvent, "channel account '\(account.id)' is a \(account.kind.rawValue) account, not \(event.channelKind.rawValue)")
        }
        let providerID = event.providerMessageID
        guard !providerID.isEmpty, providerID.utf8.count <= 512 else {
            throw IngestError(.invalidEvent, "the provider message id must be 1 to 512 bytes long")
        }
        let hasText = !(event.text ?? "").isEmpty
        guard hasText || !event.attachments.isEmpty else {
            throw IngestError(.invalidEvent, "the message has neither text nor attachments")
        }
        if let text = event.text, text.utf8.count > configuration.maximumTextLength, text.count > configuration.maximumTextLength {
            throw IngestError(.invalidEvent, "the text is \(text.count) characters long; at most \(configuration.maximumTextLength) are accepted")
        }
        guard event.attachments.count <= configuration.maximumAttachments else {
            throw IngestError(.invalidEvent, "\(event.attachments.count) attachments; at most \(configuration.maximumAttachments) are accepted")
        }
        let sender = try normalize(event.sender, kind: event.channelKind, account: account)
        var event = event
        event.occurredAt = plausible(event.occurredAt)
        if event.channelKind != .email {
            // Names only the e-mail receiver writes (the inbox shows `email`, `/raw` serves `raw`):
            // an integrator's metadata cannot pose as them.
            event.metadata["email"] = nil
            event.metadata["raw"] = nil
        }
        // A conversation that begins with a question about tickets ("T-000123", "status") is
        // answered by the ticket service and closed, so it waits in no queue; if the customer goes
        // on to say more, the service puts it in the account's queue then.
        // A bare score ("5", "😊") may answer a satisfaction survey: the ticket service decides,
        // and queues the conversation when it answers none.
        // A call's text describes the call ("Incoming call to …"): the customer asked nothing in
        // writing, and a call always waits for an agent.
        let settings = tickets.value
        let text = event.text ?? ""
        let selfService =
            account.queueID != nil && event.channelKind != .voice
            && ((settings.statusReplies && TicketQuery.isWholeQuestion(text)) || (settings.csat != nil && CSATScore.parse(text) != nil))
        return IngestCommand(
            event: event, sender: sender, receivedAt: now(), queueID: selfService ? nil : account.queueID, priority: account.priority)
    }

    /// A provider's timestamp, if it is one the hub can believe: between 2000 and a day ahead of
    /// the hub's clock. Anything else (a garbled or hostile value) is dropped; the hub's own
    /// receiving time stays.
    func plausible(_ date: Date?) -> Date? {
        guard let date else { return nil }
        guard date.timeIntervalSince1970 >= 946_684_800, date <= now().addingTimeInterval(86_400) else {
            logger.info("implausible provider timestamp ignored", metadata: ["timestamp": "\(date.timeIntervalSince1970)"])
            return nil
        }
        return date
    }

    /// The sender's handle in its normal form.
    func normalize(_ sender: InboundSender, kind channelKind: ChannelKind, account: ChannelAccountConfig) throws(IngestError) -> HandleAddress {
        let kind = sender.kind ?? channelKind.handleKind
        do {
            return try HandleAddress.normalize(
                kind: kind, raw: sender.address, scope: account.identityScope, defaultRegion: account.defaultRegion ?? configuration.defaultRegion)
        } catch {
            throw IngestError(.invalidEvent, "sender: \(error)")
        }
    }

    public func updateConsent(_ update: ConsentUpdate) async throws(IngestError) -> Bool {
        guard let account = channels.account(update.channelAccountID) else {
            throw IngestError(.unknownAccount, "no channel account '\(update.channelAccountID)'")
        }
        let handle = try normalize(update.sender, kind: update.channelKind, account: account)
        do {
            return try await store.applyConsent(update.consent, handle: handle, channelAccountID: account.id, at: now())
        } catch {
            logger.error("consent not stored", metadata: ["account": "\(update.channelAccountID)", "error": "\(error)"])
            throw IngestError(.unavailable, "the store could not commit: \(error)")
        }
    }

    public func markRead(_ receipt: ReadReceipt) async throws(IngestError) -> Int {
        guard let account = channels.account(receipt.channelAccountID) else {
            throw IngestError(.unknownAccount, "no channel account '\(receipt.channelAccountID)'")
        }
        let handle = try normalize(receipt.reader, kind: receipt.channelKind, account: account)
        guard let upTo = plausible(receipt.upTo) else { return 0 }
        do {
            return try await store.applyRead(handle: handle, channelAccountID: account.id, upTo: upTo, at: now())
        } catch {
            logger.error("read receipt not stored", metadata: ["account": "\(receipt.channelAccountID)", "error": "\(error)"])
            throw IngestError(.unavailable, "the store could not commit: \(error)")
        }
    }

    public func updateDeliveryStatus(_ update: DeliveryStatusUpdate) async throws(IngestError) -> Bool {
        guard channels.account(update.channelAccountID) != nil else {
            throw IngestError(.unknownAccount, "no channel account '\(update.channelAccountID)'")
        }
        var update = update
        update.occurredAt = plausible(update.occurredAt)
        do {
            return try await store.applyDeliveryStatus(update, at: now())
        } catch {
            logger.error("delivery status not stored", metadata: ["account": "\(update.channelAccountID)", "error": "\(error)"])
            throw IngestError(.unavailable, "the store could not commit: \(error)")
        }
    }
}
