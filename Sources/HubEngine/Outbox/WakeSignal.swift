import Foundation
import HubStore
import Synchronization

/// A one-slot wake-up: `signal()` wakes the waiter, or the next `wait` if none is waiting.
/// Signals that arrive while nobody waits collapse into one.
public final class WakeSignal: Sendable {
    private struct State {
        var signaled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.signaled = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next signal, after `timeout` when one is given, or when the task is
    /// cancelled.
    public func wait(timeout: Duration?) async {
        await withTaskCancellationHandler {
            await waitForSignal(timeout: timeout)
        } onCancel: {
            self.signal()
        }
    }

    private func waitForSignal(timeout: Duration?) async {
        await withTaskGroup(of: Void.self) { group in
            if let timeout {
                group.addTask {
                    do {
                        try await Task.sleep(for: timeout)
                        self.signal()
                    } catch {}
                }
            }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.signaled {
                    state.signaled = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

extension WakeSignal {
    /// How long a worker sleeps until its next row is `due` (at most `idle`; a short nap when
    /// it is due already, or `idle` when nothing is due or the store did not answer).
    static func sleep(until due: Date?, now: Date, idle: Duration) -> Duration {
        guard let due else { return idle }
        let wait = due.timeIntervalSince(now)
        guard wait > 0 else { return .milliseconds(50) }
        return min(idle, .milliseconds(Int64((wait * 1000).rounded(.up))))
    }
}

extension WakeSignal {
    /// Runs `step` whenever the store commits events (or its timeout passes) until cancelled:
    /// how the services that follow the event log wait for it. `stop` runs once the loop has
    /// ended, outside its cancellation (a service saves its position in the log there).
    func follow(
        _ store: any HubStore, step: @escaping @Sendable () async -> Duration?, stop: (@Sendable () async -> Void)? = nil
    ) async throws {
        let commits = store.eventCommits()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in commits { self.signal() }
                }
                group.addTask {
                    while !Task.isCancelled {
                        let timeout = await step()
                        await self.wait(timeout: timeout)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            if let stop { await Task { await stop() }.value }
            throw error
        }
        if let stop { await Task { await stop() }.value }
    }
}
