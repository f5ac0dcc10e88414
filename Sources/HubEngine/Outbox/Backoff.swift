import HubConfig

/// When to try a failed delivery again: exponential backoff with "equal jitter" (half the delay
/// fixed, half random), so retries after an outage spread out instead of arriving together.
public enum Backoff {
    /// The longest wait a provider's Retry-After is honoured for: a garbled or hostile value
    /// must neither park a message for years nor overflow a date.
    public static let maximumRetryAfter: Duration = .seconds(3600)

    /// The wait after failed attempt number `attempt` (1-based).
    /// - Parameters:
    ///   - jitter: a value in 0..<1 from the worker's random source.
    ///   - retryAfter: what the provider asked for; the wait is never shorter.
    public static func delay(attempt: Int, policy: DeliveryPolicy, jitter: Double, retryAfter: Duration? = nil) -> Duration {
        let initial = Double(policy.initialBackoff.components.seconds) + Double(policy.initialBackoff.components.attoseconds) / 1e18
        let maximum = Double(policy.maxBackoff.components.seconds) + Double(policy.maxBackoff.components.attoseconds) / 1e18
        let exponent = Double(min(max(attempt - 1, 0), 30))
        let base = min(maximum, initial * pow2(exponent))
        let seconds = base / 2 + base / 2 * min(max(jitter, 0), 1)
        let computed = Duration.milliseconds(Int64((seconds * 1000).rounded()))
        if let retryAfter, retryAfter > computed { return min(retryAfter, maximumRetryAfter) }
        return computed
    }

    private static func pow2(_ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= 2 }
        return result
    }
}
