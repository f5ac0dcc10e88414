import Foundation
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

@Suite("Metrics: a stop during the count")
struct MetricsCancellationTests {
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
}
