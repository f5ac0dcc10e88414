import Foundation
import HubConfig
import HubModel
import HubStore
import Logging
import ServiceLifecycle
import Synchronization

/// Copies customers' attachments from their providers into the hub's blob store: providers'
/// links expire (WeChat's media after three days, Meta's CDN links sooner), and agents and
/// auditors must still see what the customer sent. Each attachment of an inbound message has a
/// row written with the message; this service claims due rows, downloads through the channel's
/// adapter (size-limited), checks the content is of an accepted type and what it claims to be,
/// stores it by its SHA-256, and records the attachment as stored or refused, with an event.
/// Transient failures are retried with backoff; after `maximumAttempts` the attachment is refused.
public final class AttachmentFetcher: Service, Sendable {
    /// Fetcher settings.
    public struct Configuration: Sendable {
        public var concurrency: Int
        public var maximumAttempts: Int
        public var initialBackoff: Duration
        public var maximumBackoff: Duration
        public var lease: Duration
        public var idlePoll: Duration

        public init(
            concurrency: Int = 4, maximumAttempts: Int = 6, initialBackoff: Duration = .seconds(5), maximumBackoff: Duration = .seconds(600),
            lease: Duration = .seconds(300), idlePoll: Duration = .seconds(30)
        ) {
            self.concurrency = concurrency
            self.maximumAttempts = maximumAttempts
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.lease = lease
            self.idlePoll = idlePoll
        }
    }

    private let store: any HubStore
    private let channels: ChannelDirectory
    public let blobs: BlobStore
    private let maximumBytes: Int
    private let configuration: Configuration
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let wakeSignal = WakeSignal()

    public init(
        store: any HubStore, channels: ChannelDirectory, blobs: BlobStore, maximumBytes: Int, configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.channels = channels
        self.blobs = blobs
        self.maximumBytes = maximumBytes
        self.configuration = configuration
        self.now = now
        self.logger = logger
    }

    /// Tells the fetcher there may be new work.
    public func wake() { wakeSignal.signal() }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                var claimed: [AttachmentFetch] = []
                do {
                    let date = now()
                    claimed = try await store.claimAttachmentFetches(
                        now: date, limit: configuration.concurrency,
                        leaseUntil: date.addingTimeInterval(OutboxWorker.seconds(configuration.lease)))
                } catch {
                    logger.error("cannot claim attachments to fetch", metadata: ["error": "\(error)"])
                }
                await withDiscardingTaskGroup { group in
                    for fetch in claimed { group.addTask { await self.fetch(fetch) } }
                }
                if claimed.count == configuration.concurrency { continue }
                await wakeSignal.wait(timeout: await sleepDuration())
            }
        } onGracefulShutdown: {
            self.wakeSignal.signal()
        }
    }

    private func sleepDuration() async -> Duration {
        WakeSignal.sleep(until: try? await store.nextAttachmentFetchDue(), now: now(), idle: configuration.idlePoll)
    }

    /// One attempt at one attachment.
    func fetch(_ fetch: AttachmentFetch) async {
        let outcome = await attempt(fetch)
        var metadata: Logger.Metadata = [
            "message": "\(fetch.messageID)", "position": "\(fetch.position)", "account": "\(fetch.channelAccountID)", "attempt": "\(fetch.attempts)",
        ]
        switch outcome {
        case .stored(let attachment):
            metadata["blob"] = "\(attachment.reference)"
            logger.debug("attachment stored", metadata: metadata)
        case .retry(let error, _):
            metadata["error"] = "\(error)"
            logger.warning("attachment fetch failed, will retry", metadata: metadata)
        case .refused(let reason):
            metadata["reason"] = "\(reason)"
            logger.warning("attachment refused", metadata: metadata)
        }
        do {
            try await store.recordAttachmentFetch(fetch, outcome: outcome, at: now())
        } catch {
            logger.error("cannot record an attachment fetch", metadata: metadata.merging(["store_error": "\(error)"]) { $1 })
        }
    }

    func attempt(_ fetch: AttachmentFetch) async -> AttachmentFetchOutcome {
        guard let adapter = channels.adapter(fetch.channelAccountID) else {
            return retryOrRefuse(fetch, error: "channel account '\(fetch.channelAccountID)' is not configured", retryAfter: nil)
        }
        let fetched: FetchedAttachment
        do {
            fetched = try await adapter.fetchAttachment(fetch.attachment, maximumBytes: maximumBytes)
        } catch {
            return error.isRetryable ? retryOrRefuse(fetch, error: error.reason, retryAfter: error.retryAfter) : .refused(reason: error.reason)
        }
        switch MediaCheck.check(fetched.bytes, declared: fetched.contentType ?? fetch.attachment.contentType, maximumBytes: maximumBytes) {
        case .failure(let refusal): return .refused(reason: refusal.description)
        case .success(let type):
            do {
                let reference = try blobs.put(fetched.bytes)
                var attachment = fetch.attachment
                attachment.reference = reference
                attachment.source = fetch.attachment.reference
                attachment.contentType = type
                attachment.byteCount = fetched.bytes.count
                attachment.filename = attachment.filename ?? fetched.filename
                attachment.problem = nil
                return .stored(attachment)
            } catch {
                return retryOrRefuse(fetch, error: "cannot write the blob: \(error)", retryAfter: nil)
            }
        }
    }

    private func retryOrRefuse(_ fetch: AttachmentFetch, error: String, retryAfter: Duration?) -> AttachmentFetchOutcome {
        guard fetch.attempts < configuration.maximumAttempts else {
            return .refused(reason: "\(error) (gave up after \(fetch.attempts) attempts)")
        }
        let policy = DeliveryPolicy(initialBackoff: configuration.initialBackoff, maxBackoff: configuration.maximumBackoff)
        let delay = Backoff.delay(attempt: fetch.attempts, policy: policy, jitter: Double.random(in: 0..<1), retryAfter: retryAfter)
        return .retry(error: error, retryAt: now().addingTimeInterval(OutboxWorker.seconds(delay)))
    }
}
