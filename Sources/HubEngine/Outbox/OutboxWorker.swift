import Foundation
import HubConfig
import HubModel
import HubStore
import Logging
import ServiceLifecycle
import Synchronization

/// Delivers the outbox: claims due deliveries, hands each to its channel adapter, and records the
/// outcome (sent, retry with backoff, or dead) with its events. After a crash it resumes where the
/// store says it was; an attempt that was in flight is tried again with the same idempotency key.
public final class OutboxWorker: Service, Sendable {
    /// Worker settings.
    public struct Configuration: Sendable {
        /// Deliveries in flight at once.
        public var concurrency: Int
        /// How long a claim holds a delivery before another worker may take it over. Longer than
        /// any attempt may take.
        public var lease: Duration
        /// The longest sleep when nothing is due (a safety net; new work wakes the worker).
        public var idlePoll: Duration

        public init(concurrency: Int = 16, lease: Duration = .seconds(120), idlePoll: Duration = .seconds(30)) {
            self.concurrency = concurrency
            self.lease = lease
            self.idlePoll = idlePoll
        }
    }

    private let store: any HubStore
    private let channels: ChannelDirectory
    private let configuration: Configuration
    private let now: @Sendable () -> Date
    private let jitter: @Sendable () -> Double
    private let logger: Logger
    private let wakeSignal = WakeSignal()
    private let inFlight = Mutex(0)
    /// Per-account rates and provider-requested pauses.
    let throttle = AccountThrottle()
    /// A throttled delivery waits in its task up to this long; a longer wait gives the claim back.
    static let shortWait: TimeInterval = 1
    /// Identifies this process's claims.
    public let owner: String

    public init(
        store: any HubStore, channels: ChannelDirectory, configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() }, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger
    ) {
        self.store = store
        self.channels = channels
        self.configuration = configuration
        self.now = now
        self.jitter = jitter
        self.logger = logger
        self.owner = "worker-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Tells the worker there is new work.
    public func wake() { wakeSignal.signal() }

    public func run() async throws {
        if store.isExclusive {
            let recovered = try await store.recoverInterruptedDeliveries(now: now())
            if !recovered.isEmpty {
                logger.warning(
                    "resuming deliveries interrupted by a stop", metadata: ["count": "\(recovered.count)", "ids": "\(recovered.map(\.id.rawValue))"])
            }
        }
        logger.info("outbox worker started", metadata: ["owner": "\(owner)", "concurrency": "\(configuration.concurrency)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    let free = configuration.concurrency - inFlight.withLock { $0 }
                    var claimed: [Delivery] = []
                    if free > 0 {
                        do {
                            let date = now()
                            claimed = try await store.claimDeliveries(
                                now: date, limit: free, owner: owner, leaseUntil: date.addingTimeInterval(Self.seconds(configuration.lease)),
                                excludingAccounts: throttle.heldAccounts(at: date))
                        } catch {
                            logger.error("cannot claim deliveries", metadata: ["error": "\(error)"])
                        }
                    }
                    // Over its rate or paused, an account's claims are given back (without counting an
                    // attempt) in one transaction, and the account is left out of claims until then,
                    // so that other accounts' deliveries go meanwhile.
                    var heldBack: [String: (ids: [Delivery.ID], until: Date)] = [:]
                    for delivery in claimed {
                        let policy = channels.account(delivery.channelAccountID)?.delivery ?? DeliveryPolicy()
                        let date = now()
                        let wait = throttle.admit(
                            delivery.channelAccountID, ratePerSecond: policy.ratePerSecond, burst: policy.burst, now: date,
                            reserveWithin: Self.shortWait)
                        if wait > Self.shortWait {
                            let until = date.addingTimeInterval(wait)
                            heldBack[delivery.channelAccountID, default: ([], until)].ids.append(delivery.id)
                            continue
                        }
                        inFlight.withLock { $0 += 1 }
                        group.addTask {
                            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up)))) }
                            await self.attempt(delivery)
                            self.inFlight.withLock { $0 -= 1 }
                            self.wakeSignal.signal()
                        }
                    }
                    for (account, held) in heldBack {
                        throttle.hold(account, until: held.until)
                        do {
                            try await store.deferDeliveries(held.ids, owner: owner, until: held.until, at: now())
                        } catch {
                            logger.error("cannot give throttled deliveries back", metadata: ["account": "\(account)", "error": "\(error)"])
                        }
                    }
                    if !claimed.isEmpty, claimed.count == free { continue }
                    await wakeSignal.wait(timeout: await sleepDuration())
                }
            }
        } onGracefulShutdown: {
            self.wakeSignal.signal()
        }
        logger.info("outbox worker stopped", metadata: ["owner": "\(owner)"])
    }

    /// Until the next delivery is due, at most `idlePoll`.
    private func sleepDuration() async -> Duration {
        WakeSignal.sleep(until: try? await store.nextDeliveryDue(), now: now(), idle: configuration.idlePoll)
    }

    /// One attempt: deliver, then record the outcome.
    func attempt(_ delivery: Delivery) async {
        let account = channels.account(delivery.channelAccountID)
        let policy = account?.delivery ?? DeliveryPolicy()
        let result: DeliveryAttemptResult
        do {
            guard let adapter = channels.adapter(delivery.channelAccountID), let account else {
                throw DeliveryFailure.transient("channel account '\(delivery.channelAccountID)' is not configured")
            }
            if let reason = account.inactiveReason { throw DeliveryFailure.transient(reason) }
            let receipt = try await adapter.deliver(delivery)
            result = .sent(providerMessageID: receipt.providerMessageID)
        } catch let failure as DeliveryFailure {
            if let retryAfter = failure.retryAfter, retryAfter > .zero {
                // The provider asked the whole account to slow down (429 Retry-After).
                throttle.pause(delivery.channelAccountID, until: now().addingTimeInterval(Self.seconds(min(retryAfter, Backoff.maximumRetryAfter))))
            }
            result = Self.outcome(of: failure, delivery: delivery, policy: policy, now: now(), jitter: jitter())
        } catch {
            result = Self.outcome(of: .transient("\(error)"), delivery: delivery, policy: policy, now: now(), jitter: jitter())
        }
        var metadata: Logger.Metadata = [
            "delivery": "\(delivery.id)", "account": "\(delivery.channelAccountID)", "attempt": "\(delivery.attempts)",
        ]
        switch result {
        case .sent(let providerID):
            metadata["provider_id"] = "\(providerID ?? "-")"
            logger.debug("delivered", metadata: metadata)
        case .retry(let error, let retryAt):
            metadata["error"] = "\(error)"
            metadata["retry_at"] = "\(HubJSON.formatTimestamp(retryAt))"
            logger.warning("delivery failed, will retry", metadata: metadata)
        case .dead(let error):
            metadata["error"] = "\(error)"
            logger.error("delivery dead", metadata: metadata)
        }
        do {
            _ = try await store.recordDeliveryResult(delivery.id, owner: owner, result: result, at: now())
        } catch {
            // The row keeps its lease; when it runs out the delivery is attempted again with the
            // same idempotency key, which providers use to drop the repeat.
            logger.error("cannot record delivery outcome", metadata: metadata.merging(["store_error": "\(error)"]) { $1 })
        }
    }

    /// Retry or give up, by the failure and the attempts left.
    static func outcome(of failure: DeliveryFailure, delivery: Delivery, policy: DeliveryPolicy, now: Date, jitter: Double)
        -> DeliveryAttemptResult
    {
        guard failure.isRetryable else { return .dead(error: failure.reason) }
        guard delivery.attempts < delivery.maxAttempts else {
            return .dead(error: "\(failure.reason) (gave up after \(delivery.attempts) attempts)")
        }
        let delay = Backoff.delay(attempt: delivery.attempts, policy: policy, jitter: jitter, retryAfter: failure.retryAfter)
        return .retry(error: failure.reason, retryAt: now.addingTimeInterval(seconds(delay)))
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
