import Synchronization

/// Counts the webhook requests each channel account refused, by reason (`invalid_signature`,
/// `malformed_body`, ...): a flood of bad signatures is an attack or a misconfigured secret, and
/// administrators see it in `GET /v1/channels`.
public final class WebhookRejections: Sendable {
    private let counts = Mutex<[String: [String: Int]]>([:])
    private let observer = Mutex<(@Sendable (_ account: String, _ reason: String) -> Void)?>(nil)

    public init() {}

    /// One more refused request.
    public func count(account: String, reason: String) {
        counts.withLock { $0[account, default: [:]][reason, default: 0] += 1 }
        observer.withLock { $0 }?(account, reason)
    }

    /// Calls `handler` on every refused request from now on (the metrics count them).
    public func observe(_ handler: @escaping @Sendable (_ account: String, _ reason: String) -> Void) {
        observer.withLock { $0 = handler }
    }

    /// The counts of one account, by reason.
    public func counts(account: String) -> [String: Int] {
        counts.withLock { $0[account] ?? [:] }
    }
}
