import Foundation
import HubModel
import HubStore
import HubTestSupport
import Testing

@testable import HubEngine

/// How the services that follow the log save their position in it.
@Suite("Log reader")
struct LogReaderTests {
    /// `count` inbound messages on the log, each with its conversation and routing events.
    static func writeEvents(_ fixture: EngineFixture, count: Int) async throws {
        for _ in 0..<count { _ = try await fixture.conversation() }
    }

    @Test("saved after every page when asked; periodically at most once per interval, and on `save`")
    func savingPolicies() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        let store = fixture.engine.store
        var every = LogReader(name: "every", pageSize: 2)
        var periodic = LogReader(name: "periodic", pageSize: 2, interval: .seconds(3600))
        // The first catch-up starts at the log's end and saves it at once (history is not acted on).
        try await every.catchUp(store) { _ in }
        try await periodic.catchUp(store, saving: .periodically) { _ in }
        let start = try await store.lastEventSequence()
        #expect(try await store.readerPosition("periodic") == start)

        try await Self.writeEvents(fixture, count: 3)
        let end = try await store.lastEventSequence()
        #expect(end > start + 3)
        var seen: [Int64] = []
        try await every.catchUp(store) { seen.append($0.sequence) }
        #expect(seen == Array(start + 1...end))
        #expect(try await store.readerPosition("every") == end)

        seen = []
        try await periodic.catchUp(store, saving: .periodically) { seen.append($0.sequence) }
        #expect(seen == Array(start + 1...end))
        #expect(periodic.position == end)
        // Within the interval of the last save: not written yet (a crash reads these again).
        #expect(try await store.readerPosition("periodic") == start)
        try await periodic.save(store)
        #expect(try await store.readerPosition("periodic") == end)

        // A reader started from the saved position reads on from there.
        var restarted = LogReader(name: "periodic")
        try await Self.writeEvents(fixture, count: 1)
        seen = []
        try await restarted.catchUp(store) { seen.append($0.sequence) }
        #expect(seen.first == end + 1)
    }

    @Test("a periodic reader whose interval has passed saves at the end of its catch-up")
    func periodicSaveWhenDue() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        let store = fixture.engine.store
        var reader = LogReader(name: "due", interval: .zero)
        try await reader.catchUp(store, saving: .periodically) { _ in }
        try await Self.writeEvents(fixture, count: 2)
        try await reader.catchUp(store, saving: .periodically) { _ in }
        #expect(try await store.readerPosition("due") == (try await store.lastEventSequence()))
    }

    @Test("a service's loop saves its position when it stops")
    func savedWhenTheLoopStops() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        let store = fixture.engine.store
        let tickets = fixture.engine.tickets
        try await tickets.catchUp()
        let start = try await store.readerPosition(TicketService.readerName)
        // A saving interval long enough that only the stop can have saved the position.
        await tickets.replaceReader(LogReader(name: TicketService.readerName, interval: .seconds(3600)))
        let loop = Task { try await tickets.run() }
        try await Self.writeEvents(fixture, count: 3)
        let end = try await store.lastEventSequence()
        // Wait (at most 10 s) until the loop has read to the end.
        let deadline = ContinuousClock.now + .seconds(10)
        while await tickets.reader.position != end, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await tickets.reader.position == end)
        #expect(try await store.readerPosition(TicketService.readerName) == start)
        loop.cancel()
        _ = await loop.result
        #expect(try await store.readerPosition(TicketService.readerName) == end)
    }
}

extension TicketService {
    func replaceReader(_ reader: LogReader) { self.reader = reader }
}
