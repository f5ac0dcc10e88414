import Foundation
import HubModel
import HubStore

/// A durable reader of the event log: a position saved in the database under `name` after each
/// page, so that a service reads on after a restart where it stopped (a page may be read twice
/// after a crash: what the service does for an event must be idempotent). At the very first start
/// the reader begins at the log's end: history is not acted on again.
struct LogReader: Sendable {
    let name: String
    let pageSize: Int
    private(set) var position: Int64?

    init(name: String, pageSize: Int = 200) {
        self.name = name
        self.pageSize = pageSize
    }

    /// Hands every event after the position to `handle`, in order, to the log's end.
    /// Runs on the caller's actor (`isolation`), as does `handle`.
    mutating func catchUp(
        _ store: any HubStore, isolation: isolated (any _Concurrency.Actor)? = #isolation, handle: (HubEvent) async throws -> Void
    ) async throws {
        var position = try await startingPosition(store)
        while true {
            let events = try await store.events(after: position, limit: pageSize)
            guard let last = events.last else { return }
            for event in events {
                try await handle(event)
                position = event.sequence
                self.position = position
            }
            try await store.setReaderPosition(name, to: last.sequence)
            if events.count < pageSize { return }
        }
    }

    private mutating func startingPosition(_ store: any HubStore) async throws -> Int64 {
        if let position { return position }
        if let saved = try await store.readerPosition(name) {
            position = saved
            return saved
        }
        let head = try await store.lastEventSequence()
        try await store.setReaderPosition(name, to: head)
        position = head
        return head
    }
}
