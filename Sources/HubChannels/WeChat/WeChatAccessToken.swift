import Foundation
import HubModel

/// The Official Account's access token, fetched once and shared by every delivery: WeChat limits
/// token fetches per day, and a new token invalidates the old one after five minutes. Refreshed
/// before it expires and when the API says it is invalid; concurrent callers wait for one fetch.
actor WeChatAccessToken {
    typealias Fetch = @Sendable () async throws(DeliveryFailure) -> (token: String, lifetime: Duration)

    private let fetch: Fetch
    private let clock = ContinuousClock()
    /// How long before its expiry a token is replaced.
    private let margin: Duration
    private var current: (token: String, expires: ContinuousClock.Instant)?
    private var refreshing: Task<Result<(token: String, expires: ContinuousClock.Instant), DeliveryFailure>, Never>?
    /// Fetches so far (for tests and logs).
    private(set) var fetches = 0

    init(margin: Duration = .seconds(300), fetch: @escaping Fetch) {
        self.margin = margin
        self.fetch = fetch
    }

    /// A token valid for at least `margin` more (or half its lifetime, for short-lived ones).
    func token() async throws(DeliveryFailure) -> String {
        if let current, clock.now + margin < current.expires { return current.token }
        let valid = current.flatMap { clock.now < $0.expires ? $0.token : nil }
        let task: Task<Result<(token: String, expires: ContinuousClock.Instant), DeliveryFailure>, Never>
        if let refreshing {
            task = refreshing
        } else {
            fetches += 1
            let fetch = self.fetch
            let clock = self.clock
            task = Task {
                do throws(DeliveryFailure) {
                    let (token, lifetime) = try await fetch()
                    return .success((token, clock.now + lifetime))
                } catch {
                    return .failure(error)
                }
            }
            refreshing = task
        }
        let result = await task.value
        if refreshing == task { refreshing = nil }
        switch result {
        case .success(let fresh):
            // A caller resuming late from an older fetch must not put back a token already replaced.
            if current.map({ fresh.expires > $0.expires }) ?? true { current = fresh }
            return current?.token ?? fresh.token
        case .failure(let error):
            // A refresh that fails inside the margin leaves a token that still works.
            if let valid { return valid }
            throw error
        }
    }

    /// Drops `token` after the API refused it (40001, 40014, 42001), unless it was replaced already.
    func invalidate(_ token: String) {
        if current?.token == token { current = nil }
    }
}
