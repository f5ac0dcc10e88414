import Foundation
import HubStore
import Synchronization

/// A one-slot wake-up: `signal()` wakes the waiter, or the next `wait` if none is waiting.
/// Signals that arrive while nobody waits collapse into one.
///
/// A wait's timeout is kept by one alarm per signal, not a timer per wait: a service that waits
/// "until the next commit, or a minute" is woken by commits hundreds of times a second, and a
/// sleeping task started and cancelled for each of those waits cost a timer registration and a
/// wake-up of the dispatch manager thread each. The alarm sleeps to the earliest deadline it was
/// given; when it wakes and the current deadline is later (the waits since asked for later
/// ones), it sleeps on to that one, so a later deadline costs nothing. Only an earlier deadline
/// replaces the alarm.
public final class WakeSignal: Sendable {
    private struct State {
        var signaled = false
        var waiter: CheckedContinuation<Void, Never>?
        /// When the current wait ends at the latest (nil: it waits for a signal only).
        var deadline: ContinuousClock.Instant?
        /// The alarm task, what it sleeps to, and its number (an alarm replaced ends quietly).
        var alarm: Task<Void, Never>?
        var alarmTarget: ContinuousClock.Instant?
        var alarmNumber = 0
    }

    private let state = Mutex(State())

    public init() {}

    deinit {
        state.withLock { $0.alarm?.cancel() }
    }

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
        setDeadline(timeout.map { ContinuousClock.now + $0 })
        await withTaskCancellationHandler {
            await waitForSignal()
        } onCancel: {
            self.signal()
        }
        // Ended: the alarm has nothing to signal until the next wait gives it a deadline.
        state.withLock { $0.deadline = nil }
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

    // MARK: The alarm

    private func setDeadline(_ deadline: ContinuousClock.Instant?) {
        state.withLock { state in
            state.deadline = deadline
            guard let deadline else { return }
            // An alarm that goes off at or before the deadline sleeps on to it when it wakes.
            if let target = state.alarmTarget, target <= deadline { return }
            state.alarm?.cancel()
            state.alarmNumber &+= 1
            state.alarmTarget = deadline
            state.alarm = Self.startAlarm(self, number: state.alarmNumber, target: deadline)
        }
    }

    private static func startAlarm(_ signal: WakeSignal, number: Int, target: ContinuousClock.Instant) -> Task<Void, Never> {
        Task { [weak signal] in
            var target = target
            while true {
                do {
                    try await Task.sleep(until: target, clock: .continuous)
                } catch {
                    return  // replaced by an earlier deadline
                }
                guard let next = signal?.alarmWentOff(number: number) else { return }
                target = next
            }
        }
    }

    /// Signals when the deadline has come; otherwise the later deadline to sleep on to.
    private func alarmWentOff(number: Int) -> ContinuousClock.Instant? {
        let (next, due) = state.withLock { state -> (ContinuousClock.Instant?, Bool) in
            guard state.alarmNumber == number else { return (nil, false) }
            if let deadline = state.deadline, deadline > .now {
                state.alarmTarget = deadline
                return (deadline, false)
            }
            let due = state.deadline != nil
            state.deadline = nil
            state.alarm = nil
            state.alarmTarget = nil
            return (nil, due)
        }
        if due { signal() }
        return next
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
    /// how the services that follow the event log wait for it. The store's commit signals this
    /// directly, on the committing thread. `stop` runs once the loop has ended, outside its
    /// cancellation (a service saves its position in the log there).
    func follow(
        _ store: any HubStore, step: @escaping @Sendable () async -> Duration?, stop: (@Sendable () async -> Void)? = nil
    ) async {
        let observation = store.observeEventCommits { [weak self] _ in self?.signal() }
        defer { observation.cancel() }
        while !Task.isCancelled {
            let timeout = await step()
            await wait(timeout: timeout)
        }
        if let stop { await Task { await stop() }.value }
    }
}
