import Foundation
import HubModel
import Synchronization

/// The most recent committed events, in memory. The writer appends each transaction's events
/// right after its commit, inside the serialized writer, so the tail is always a gap-free run of
/// the log: every committed event with a sequence number above `coveredAfter`, in order. The
/// log's followers (the router, the agents' feed) ask for "what came after n" at every commit;
/// while n is within the tail they get their answer without a query, a statement preparation and
/// the decoding of every row again.
final class EventTail: Sendable {
    private struct State {
        var started = false
        /// Every committed event above this is in `events`.
        var coveredAfter: Int64 = 0
        var events: [HubEvent] = []
        /// Index of the oldest retained event (the array is compacted in halves, not per event).
        var first = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var isStarted: Bool { state.withLock { $0.started } }

    /// Starts covering the log after `sequence`, the last committed event (read by the writer
    /// before its first transaction, so nothing can be committed in between).
    func start(after sequence: Int64) {
        state.withLock { state in
            guard !state.started else { return }
            state.started = true
            state.coveredAfter = sequence
        }
    }

    /// Adds the events of one committed transaction, in sequence order.
    func append(_ committed: [HubEvent]) {
        guard !committed.isEmpty else { return }
        state.withLock { state in
            guard state.started else { return }
            state.events.append(contentsOf: committed)
            let retained = state.events.count - state.first
            if retained > capacity {
                state.first += retained - capacity
                state.coveredAfter = state.events[state.first - 1].sequence
                if state.first >= capacity {
                    state.events.removeFirst(state.first)
                    state.first = 0
                }
            }
        }
    }

    /// The committed events after `sequence`, at most `limit`; nil when the tail does not reach
    /// that far back (the caller reads the database).
    func events(after sequence: Int64, limit: Int) -> [HubEvent]? {
        state.withLock { state in
            guard state.started, sequence >= state.coveredAfter else { return nil }
            // Binary search for the first event above `sequence`.
            var low = state.first
            var high = state.events.count
            while low < high {
                let middle = (low + high) / 2
                if state.events[middle].sequence <= sequence { low = middle + 1 } else { high = middle }
            }
            let end = min(state.events.count, low + max(0, limit))
            return Array(state.events[low..<end])
        }
    }
}
