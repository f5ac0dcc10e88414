import Foundation
import Synchronization

/// Per channel account, how fast the outbox may call the provider: a rate (providers cap
/// messages per second per number or app, and answer 429 beyond it), and a pause after the
/// provider asked for one (429 with Retry-After). Deliveries of a throttled account wait their
/// turn without holding up other accounts'.
///
/// The rate is a generic cell rate algorithm (a token bucket kept as one "theoretical arrival
/// time" per account): `burst` requests may go at once, then one every `1/rate` seconds.
public final class AccountThrottle: Sendable {
    private struct Account {
        /// When the bucket is next empty again (GCRA's theoretical arrival time).
        var theoreticalArrival: Date = .distantPast
        var pausedUntil: Date = .distantPast
        /// Deliveries were given back until then: no use claiming this account's before.
        var heldUntil: Date = .distantPast
    }

    private let accounts = Mutex<[String: Account]>([:])

    public init() {}

    /// How long a request to `account` must wait from `now`: zero to go at once. A request that
    /// goes (waits at most `reserveWithin`) takes its slot; a longer wait takes nothing, and the
    /// caller asks again later.
    public func admit(_ account: String, ratePerSecond: Double?, burst: Int, now: Date, reserveWithin: TimeInterval) -> TimeInterval {
        accounts.withLock { accounts in
            var state = accounts[account] ?? Account()
            defer { accounts[account] = state }
            let paused = max(0, state.pausedUntil.timeIntervalSince(now))
            guard let rate = ratePerSecond, rate > 0 else { return paused }
            let interval = 1 / rate
            let tolerance = interval * Double(max(burst, 1) - 1)
            let arrival = max(state.theoreticalArrival, now.addingTimeInterval(paused))
            let wait = max(paused, arrival.timeIntervalSince(now) - tolerance)
            if wait <= reserveWithin { state.theoreticalArrival = arrival.addingTimeInterval(interval) }
            return wait
        }
    }

    /// The account's deliveries were given back until `until`.
    public func hold(_ account: String, until: Date) {
        accounts.withLock { accounts in
            var state = accounts[account] ?? Account()
            state.heldUntil = max(state.heldUntil, until)
            accounts[account] = state
        }
    }

    /// Accounts whose deliveries are not worth claiming at `now`.
    public func heldAccounts(at now: Date) -> Set<String> {
        accounts.withLock { accounts in Set(accounts.compactMap { $0.value.heldUntil > now || $0.value.pausedUntil > now ? $0.key : nil }) }
    }

    /// No request to `account` before `until` (the provider said so).
    public func pause(_ account: String, until: Date) {
        accounts.withLock { accounts in
            var state = accounts[account] ?? Account()
            state.pausedUntil = max(state.pausedUntil, until)
            accounts[account] = state
        }
    }
}
