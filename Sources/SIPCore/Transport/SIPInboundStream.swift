import Synchronization

/// The transport's inbound messages, for one consumer, in arrival order.
///
/// It does what `AsyncStream(bufferingPolicy: .bufferingOldest(limit))` did, at a fraction of the
/// cost per message. `AsyncStream` is generic code the standard library does not specialize: each
/// `yield` and `next` looked up generic metadata and removed the element from a generic deque
/// through witness tables, about 3 % of the hub's processor time at a thousand calls a second
/// (seven messages a call). Here everything is concrete, and the consumer takes every message
/// waiting at once (one lock, no copy: the two arrays are swapped), so that under load one wake-up
/// serves many messages.
///
/// - At most `limit` messages wait to be taken; one more is refused (`yield` says `.dropped`), as
///   with `.bufferingOldest`. Those taken and not yet handed out (at most `limit` more) are the
///   consumer's.
/// - `finish()` ends the stream: what waits is still handed out, then the iterator returns nil.
/// - Cancelling the consuming task ends it too, as it ends an `AsyncStream`'s iteration.
/// - `next(isolation:)` resumes on the consumer's actor: iterating from an actor costs no hop.
public struct SIPInboundStream: AsyncSequence, Sendable {
    public typealias Element = SIPInbound
    public typealias Failure = Never

    let queue: Queue

    init(limit: Int) { queue = Queue(limit: limit) }

    public func makeAsyncIterator() -> Iterator { Iterator(queue: queue) }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = SIPInbound
        public typealias Failure = Never

        let queue: Queue
        /// Taken from the queue and not yet handed out, from `index` on.
        var batch: [SIPInbound] = []
        var index = 0

        public mutating func next(isolation actor: isolated (any Actor)?) async -> SIPInbound? {
            if index == batch.count {
                batch.removeAll(keepingCapacity: true)
                index = 0
                guard await queue.take(into: &batch, isolation: actor) else { return nil }
            }
            index += 1
            return batch[index - 1]
        }

        public mutating func next() async -> SIPInbound? { await next(isolation: nil) }
    }

    public enum YieldResult: Sendable, Equatable {
        case enqueued
        /// `limit` messages were waiting.
        case dropped
        /// The stream has ended.
        case terminated
    }

    final class Queue: Sendable {
        struct State {
            var items: [SIPInbound] = []
            /// The consumer, when it waits for a message.
            var waiter: UnsafeContinuation<Void, Never>?
            var finished = false
        }

        let limit: Int
        let state = Mutex(State())

        init(limit: Int) { self.limit = Swift.max(1, limit) }

        func yield(_ item: SIPInbound) -> YieldResult {
            let (result, waiter) = state.withLock { state -> (YieldResult, UnsafeContinuation<Void, Never>?) in
                if state.finished { return (.terminated, nil) }
                if state.items.count >= limit { return (.dropped, nil) }
                state.items.append(item)
                defer { state.waiter = nil }
                return (.enqueued, state.waiter)
            }
            waiter?.resume()
            return result
        }

        func finish() {
            let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
                state.finished = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }

        /// Moves every waiting message into `batch` (empty), waiting for one if there is none;
        /// false when the stream has ended and nothing waits.
        func take(into batch: inout [SIPInbound], isolation actor: isolated (any Actor)?) async -> Bool {
            while true {
                let taken = state.withLock { state -> Bool? in
                    if !state.items.isEmpty {
                        swap(&batch, &state.items)
                        return true
                    }
                    return state.finished ? false : nil
                }
                if let taken { return taken }
                await withTaskCancellationHandler {
                    await withUnsafeContinuation(isolation: actor) { (continuation: UnsafeContinuation<Void, Never>) in
                        let waits = state.withLock { state -> Bool in
                            guard state.items.isEmpty, !state.finished else { return false }
                            // One consumer (as `AsyncStream`, which traps too): a second waiter
                            // would take the first one's place, and the first would never wake.
                            precondition(state.waiter == nil, "SIPInboundStream iterated by two tasks at once")
                            state.waiter = continuation
                            return true
                        }
                        if !waits { continuation.resume() }
                    }
                } onCancel: {
                    finish()
                }
            }
        }
    }
}
