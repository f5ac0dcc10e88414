import Foundation
import HubEngine
import HubModel
import HubStore
import Logging
import Synchronization

/// Writes the B2BUA's call records (and closes its calls' conversations) off the signalling path:
/// changes queue in the order the calls make them and one writer saves them, as many as are
/// waiting in one transaction. A SIP message never waits for a commit; the timeline follows it
/// by one commit, at most `pacing` after the one before: each call makes three changes (ringing,
/// answered, ended), and at a hundred calls a second a transaction per change was a third of the
/// hub's commits. `finish()` then `run()`'s return: everything queued is saved.
final class CallRecorder: Sendable {
    private struct State {
        var queue: [CallRecordChange] = []
        var finished = false
    }

    private let state = Mutex(State())
    private let wake = WakeSignal()
    /// Ends the wait for the pacing early when the recorder finishes.
    private let finishing = WakeSignal()
    private let store: any HubStore
    private let logger: Logger
    static let maximumBatch = 1_000
    /// The least time between the starts of two saves while more is queued.
    let pacing: Duration

    init(store: any HubStore, pacing: Duration = .milliseconds(25), logger: Logger) {
        self.store = store
        self.pacing = pacing
        self.logger = logger
    }

    func enqueue(_ item: CallRecordChange) {
        state.withLock { $0.queue.append(item) }
        wake.signal()
    }

    /// No more items come: `run` returns once the queue is saved.
    func finish() {
        state.withLock { $0.finished = true }
        wake.signal()
        finishing.signal()
    }

    /// Saves what is queued, in order, until finished (or cancelled) with nothing left.
    func run() async {
        var lastSave: ContinuousClock.Instant?
        while true {
            // Let changes gather for the rest of the pacing since the last save (not when
            // finishing: then everything is saved at once).
            if let lastSave, ContinuousClock.now < lastSave + pacing, !state.withLock({ $0.finished }), !Task.isCancelled {
                await finishing.wait(timeout: ContinuousClock.now.duration(to: lastSave + pacing))
            }
            let (batch, finished) = state.withLock { state -> ([CallRecordChange], Bool) in
                if state.queue.count <= Self.maximumBatch {
                    defer { state.queue = [] }
                    return (state.queue, state.finished)
                }
                defer { state.queue.removeFirst(Self.maximumBatch) }
                return (Array(state.queue.prefix(Self.maximumBatch)), state.finished)
            }
            guard !batch.isEmpty else {
                if finished || Task.isCancelled { return }
                await wake.wait(timeout: nil)
                continue
            }
            lastSave = .now
            await save(batch)
        }
    }

    /// Ends the records of calls that were live when the hub last stopped (crashed, or stopped
    /// while a call was still being stored): their dialogs were in its memory, so the calls are
    /// gone. Each record ends now, by the system, and its conversation closes (the router then
    /// frees its agent). Run at start, before the router recovers and the element takes calls.
    /// The end is the restart's time (or the record's latest, should the clock have gone back):
    /// the talk time of such a call is an upper bound. Returns how many ended.
    static func endUnfinishedCalls(store: any HubStore, at date: Date, logger: Logger) async throws -> Int {
        var ended = 0
        while true {
            let unfinished = try await store.unfinishedCalls(limit: maximumBatch)
            guard !unfinished.isEmpty else { return ended }
            let changes = unfinished.map { call in
                var record = call
                record.state = .ended
                record.endedAt = [date, call.startedAt, call.queuedAt, call.offeredAt, call.answeredAt].compactMap { $0 }.max()
                record.hangupCause = restartCause
                record.hungUpBy = .system
                return CallRecordChange(record, isNew: false, actor: .system, closesConversation: true)
            }
            let missing = try await store.saveCalls(changes)
            for error in missing { logger.error("a call left live by the last run was not ended", metadata: ["error": "\(error)"]) }
            ended += changes.count - missing.count
            logger.warning("calls left live by the last run ended", metadata: ["count": "\(changes.count - missing.count)"])
            // A record that could not be saved would come back forever.
            guard missing.isEmpty else { return ended }
        }
    }

    static let restartCause = "the hub stopped during the call"

    /// One transaction for the lot; should it fail, each change on its own, so that one bad
    /// record costs only itself.
    private func save(_ records: [CallRecordChange]) async {
        guard !records.isEmpty else { return }
        do {
            for missing in try await store.saveCalls(records) {
                logger.error("call record not saved", metadata: ["error": "\(missing)"])
            }
            return
        } catch where records.count > 1 {
            logger.warning("call records not saved together: saving them one by one", metadata: ["count": "\(records.count)", "error": "\(error)"])
        } catch {
            logger.error("call record not saved", metadata: ["call": "\(records[0].record.sipCallID ?? "")", "error": "\(error)"])
            return
        }
        for record in records { await save([record]) }
    }
}
