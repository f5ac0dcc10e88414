import Foundation
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

@Suite("Metrics: a stop during the count, and the figures' keeping time")
struct MetricsLifecycleTests {
    @Test("a projection cancelled during a long count stops after its page with what it counted committed; the next one goes on without counting twice")
    func cancelledCount() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        defer { fixture.directory.remove() }
        // A conversation of 120 customer messages: several hundred events in the log.
        for index in 0..<120 { _ = try await fixture.conversation(providerID: "m\(index)") }
        let store = fixture.engine.store
        let head = try await store.lastEventSequence()
        let rules = MetricsProjector.Rules(accountKinds: ["api-a": .api])
        func service() -> MetricsService {
            // Ten events a page, so that the count takes many pages.
            MetricsService(store: store, rules: rules, now: { Date() }, logger: EngineFixture.quietLogger, pageSize: 10)
        }

        let first = service()
        let counting = Task { try await first.catchUp() }
        let deadline = ContinuousClock.now + .seconds(30)
        while (try await store.metricsPosition() ?? 0) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        counting.cancel()
        await #expect(throws: CancellationError.self) { try await counting.value }
        let stopped = try #require(try await store.metricsPosition())
        #expect(stopped > 0 && stopped < head, "stopped at \(stopped) of \(head)")
        #expect(stopped % 10 == 0 || stopped == head, "at a page's end")

        // A new projection (the restarted hub) reads on from the commit.
        let window = (from: Date().addingTimeInterval(-3600), to: Date().addingTimeInterval(3600))
        let resumed = try await service().report(from: window.from, to: window.to, grouping: .channel)
        #expect(try await store.metricsPosition() == head)
        let api = try #require(resumed.groups.first { $0.group.channel == "api" })
        #expect(api.counters[.inboundMessages] == 120)
        // The same as counting the whole log in one go.
        try await store.resetMetrics()
        let recounted = try await service().report(from: window.from, to: window.to, grouping: .channel)
        #expect(recounted.groups.map(\.group) == resumed.groups.map(\.group))
        #expect(recounted.groups.map(\.counters) == resumed.groups.map(\.counters))
    }

    @Test("per-minute figures older than keepMinutes are deleted at a whole hour; a report over that time is widened to whole hours and still counts everything")
    func keptMinutes() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        defer { fixture.directory.remove() }
        let start = Date()
        for index in 0..<30 { _ = try await fixture.conversation(providerID: "m\(index)") }
        let clock = ScriptClock(start: start)
        let metrics = MetricsService(
            store: fixture.engine.store, rules: MetricsProjector.Rules(accountKinds: ["api-a": .api], keepMinutes: .seconds(2 * 86_400)),
            now: { clock.now }, logger: EngineFixture.quietLogger)
        try await metrics.catchUp()
        #expect(try await metrics.pruneMinutes() == 0, "nothing is old yet")
        let window = (from: start.addingTimeInterval(-90), to: start.addingTimeInterval(120))
        func minute(_ date: Date) -> Double { (date.timeIntervalSince1970 / 60).rounded(.down) * 60 }
        let recent = try await metrics.report(from: window.from, to: window.to, grouping: .channel)
        #expect(recent.from.timeIntervalSince1970 == minute(window.from), "read per minute")
        #expect(recent.groups.first { $0.group.channel == "api" }?.counters[.inboundMessages] == 30)

        // Three days on: the minutes are gone, the hours and days stay.
        clock.at(3 * 86_400)
        #expect(try await metrics.pruneMinutes() > 0)
        #expect(try await metrics.pruneMinutes() == 0)
        let old = try await metrics.report(from: window.from, to: window.to, grouping: .channel)
        #expect(old.from.timeIntervalSince1970 == (window.from.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        #expect(old.to.timeIntervalSince1970 == (window.to.timeIntervalSince1970 / 3600).rounded(.up) * 3600)
        #expect(old.groups.first { $0.group.channel == "api" }?.counters[.inboundMessages] == 30)
        let byHour = try await metrics.report(from: window.from, to: window.to, grouping: [.channel, .hour])
        #expect(byHour.groups.filter { $0.group.channel == "api" }.map { $0.counters[.inboundMessages] }.reduce(0, +) == 30)
    }
}
