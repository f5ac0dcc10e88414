import Foundation
import HubModel
import HubStore
import Logging

/// A durable reader of the event log: a position saved in the database under `name`, so that a
/// service reads on after a restart where it stopped (a page may be read twice after a crash:
/// what the service does for an event must be idempotent). At the very first start the reader
/// begins at the log's end: history is not acted on again.
///
/// How often the position is saved is the caller's choice (`Saving`). A service's own loop saves
/// it at most once a second (`.periodically`): under load the log grows by a commit every few
/// milliseconds, and a write transaction per service per commit was two thirds of the hub's
/// transactions under SIP load. A crash then reads at most the last second again, which
/// idempotence makes harmless; a service that stops saves its position on the way out (`save`).
struct LogReader: Sendable {
    /// When `catchUp` saves the position it reached.
    enum Saving: Sendable {
        /// After every page (a caller that wants the position durable when it returns).
        case everyPage
        /// When `interval` has passed since the last save, and at the end of a catch-up that is due.
        case periodically
    }

    let name: String
    let pageSize: Int
    /// The least time between two saves when `.periodically`.
    let interval: Duration
    private(set) var position: Int64?
    /// The position last written to the store.
    private(set) var saved: Int64?
    private var savedAt: ContinuousClock.Instant?

    init(name: String, pageSize: Int = 200, interval: Duration = .seconds(1)) {
        self.name = name
        self.pageSize = pageSize
        self.interval = interval
    }

    /// Hands every event after the position to `handle`, in order, to the log's end.
    /// Runs on the caller's actor (`isolation`), as does `handle`.
    mutating func catchUp(
        _ store: any HubStore, saving: Saving = .everyPage, isolation: isolated (any _Concurrency.Actor)? = #isolation,
        handle: (HubEvent) async throws -> Void
    ) async throws {
        var position = try await startingPosition(store)
        while true {
            let events = try await store.events(after: position, limit: pageSize)
            for event in events {
                try await handle(event)
                position = event.sequence
                self.position = position
            }
            switch saving {
            case .everyPage: try await save(store)
            case .periodically: if isDue { try await save(store) }
            }
            if events.count < pageSize { return }
        }
    }

    /// Writes the position reached, if it moved since the last save.
    mutating func save(_ store: any HubStore) async throws {
        guard let position, position != saved else { return }
        try await store.setReaderPosition(name, to: position)
        saved = position
        savedAt = .now
    }

    private var isDue: Bool {
        guard position != saved else { return false }
        guard let savedAt else { return true }
        return savedAt.duration(to: .now) >= interval
    }

    private mutating func startingPosition(_ store: any HubStore) async throws -> Int64 {
        if let position { return position }
        let start: Int64
        if let stored = try await store.readerPosition(name) {
            start = stored
        } else {
            start = try await store.lastEventSequence()
            try await store.setReaderPosition(name, to: start)
        }
        position = start
        saved = start
        savedAt = .now
        return start
    }
}

/// A service that follows the log with a `LogReader`.
protocol LogFollower: _Concurrency.Actor {
    var store: any HubStore { get }
    var logger: Logger { get }
    var reader: LogReader { get set }
}

extension LogFollower {
    /// Saves the position reached in the log (the service's own loop saves it at most once a
    /// second); a service calls it when its loop ends.
    func savePosition() async {
        var reader = self.reader
        defer { self.reader = reader }
        do {
            try await reader.save(store)
        } catch {
            logger.warning("could not save the position in the log", metadata: ["reader": "\(reader.name)", "error": "\(error)"])
        }
    }
}
