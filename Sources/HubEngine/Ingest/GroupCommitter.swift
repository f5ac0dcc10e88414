import HubModel
import HubStore
import Synchronization

/// Commits concurrent ingest commands together: while one batch is being written, new commands
/// queue up and go into the next batch, so one fsync acknowledges many messages. There is no
/// background task: the first caller to find the committer idle writes a batch (its own command
/// included), then hands the lead to the next waiting caller. Each caller is answered only after
/// the transaction holding its command committed.
final class GroupCommitter: Sendable {
    private enum Wakeup {
        case lead
        case done(Result<IngestReceipt, StoreError>)
    }

    private struct Entry {
        let id: UInt64
        let command: IngestCommand
        /// Nil for the leader's own entry (its continuation was used to make it leader).
        var continuation: CheckedContinuation<Wakeup, Never>?
    }

    private struct State {
        var nextID: UInt64 = 0
        var queue: [Entry] = []
        var committing = false
    }

    private let state = Mutex(State())
    private let store: any IngestStore
    private let maximumBatch: Int

    init(store: any IngestStore, maximumBatch: Int = 256) {
        self.store = store
        self.maximumBatch = maximumBatch
    }

    /// Stores `command` and returns once its transaction committed (or failed).
    func submit(_ command: IngestCommand) async -> Result<IngestReceipt, StoreError> {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let wakeup = await withCheckedContinuation { (continuation: CheckedContinuation<Wakeup, Never>) in
            let lead = state.withLock { state in
                if state.committing {
                    state.queue.append(Entry(id: id, command: command, continuation: continuation))
                    return false
                }
                state.committing = true
                state.queue.append(Entry(id: id, command: command, continuation: nil))
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        switch wakeup {
        case .done(let result): return result
        case .lead: return await commitBatch(leaderID: id)
        }
    }

    /// Writes the queued commands (the leader's is first in the queue), answers every waiter,
    /// then passes the lead on.
    private func commitBatch(leaderID: UInt64) async -> Result<IngestReceipt, StoreError> {
        let batch = state.withLock { state in
            let count = min(state.queue.count, maximumBatch)
            defer { state.queue.removeFirst(count) }
            return Array(state.queue.prefix(count))
        }
        let results: [Result<IngestReceipt, StoreError>]
        do {
            results = try await store.ingest(batch.map(\.command))
        } catch {
            let failure = (error as? StoreError) ?? StoreError(.unavailable, "the store could not commit: \(error)")
            results = Array(repeating: .failure(failure), count: batch.count)
        }
        var own: Result<IngestReceipt, StoreError> = .failure(StoreError(.unavailable, "the command was not in its batch"))
        for (entry, result) in zip(batch, results) {
            if entry.id == leaderID {
                own = result
            } else {
                entry.continuation?.resume(returning: .done(result))
            }
        }
        let next: CheckedContinuation<Wakeup, Never>? = state.withLock { state in
            guard !state.queue.isEmpty else {
                state.committing = false
                return nil
            }
            defer { state.queue[0].continuation = nil }
            return state.queue[0].continuation
        }
        next?.resume(returning: .lead)
        return own
    }
}
