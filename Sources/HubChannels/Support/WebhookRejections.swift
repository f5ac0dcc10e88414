import Synchronization

/// Counts the webhook requests each channel account refused, by reason (`invalid_signature`,
/// `malformed_body`, ...): a flood of bad signatures is an attack or a misconfigured secret, and
/// administrators see it in `GET /v1/channels`.
public final class WebhookRejections: Sendable {
    private let counts = Mutex<[String: [String: Int]]>([:])

    public init() {}

    /// One more refused request.
    public func count(account: String, reason: String) {
        counts.withLock { $0[account, default: [:]][reason, default: 0] += 1 }
    }

    /// The counts of one account, by reason.
    public func counts(account: String) -> [String: Int] {
        counts.withLock { $0[account] ?? [:] }
    }
}
