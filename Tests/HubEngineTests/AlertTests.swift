import AsyncHTTPClient
import Foundation
import HubConfig
import HubEngine
import HubModel
import HubRouting
import HubStore
import HubTestSupport
import NIOCore
import NIOHTTP1
import Testing

@Suite("Alerts on the figures: raised and cleared once, pushed, posted")
struct AlertTests {
    static func settings(webhook: String) -> MetricsSettings {
        let here = MetricsTests.here
        return MetricsSettings(alerts: [
            MetricAlert(id: "support-queue", name: "Support queue over 1", measure: .queueLength, above: 1, queue: "support", location: here),
            MetricAlert(
                id: "sl", name: "Service level under 80 %", measure: .figure(.serviceLevel), window: .seconds(900), below: 0.8, channel: .api,
                minimum: 2, webhook: webhook, location: here),
        ])
    }

    @Test("a queue over its length and a service level under target: raised once, cleared when back, posted to the webhook, kept across a restart")
    func raiseAndClear() async throws {
        let clock = ScriptClock(start: MetricsTests.start)
        let hook = FakeProvider()
        try await hook.serve { base in
            var rules = MetricsTests.rules()
            rules.metrics = Self.settings(webhook: base + "/alerts")
            let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)], routing: rules, now: { clock.now })
            defer { fixture.directory.remove() }
            let engine = fixture.engine
            let alerts = engine.alerts
            await alerts.setPoster { url, body in
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 16)
            }
            try await engine.routing.settle()
            let first = try await fixture.conversation(user: "user-1")
            let second = try await fixture.conversation(user: "user-2")
            try await engine.routing.settle()

            // Two waiting in support, over 1; the service level has no contact to judge yet.
            var transitions = try await alerts.check()
            #expect(transitions.map { "\($0.id) \($0.raised)" } == ["support-queue true"])
            #expect(transitions.first?.payload["value"] == .double(2))
            #expect(try await alerts.check().isEmpty, "raised once")

            clock.at(10)
            _ = try await engine.routing.setPresence(agent: "alice", .available, actor: .agent("alice"))
            try await engine.routing.accept(offer: try #require(await engine.routing.lastOffer(of: first.conversationID)).id)
            transitions = try await alerts.check()
            #expect(transitions.map { "\($0.id) \($0.raised)" } == ["support-queue false"], "one left waiting: not over 1")

            // The second customer gives up after 100 s: 1 of 2 answered within 60 s.
            clock.at(100)
            _ = try await engine.store.updateConversation(
                second.conversationID, ConversationChange(status: .closed), at: clock.now, actor: .channel("api-a"))
            try await engine.routing.settle()
            transitions = try await alerts.check()
            #expect(transitions.map { "\($0.id) \($0.raised)" } == ["sl true"])
            let posted = try await eventually { hook.requests.count == 1 }
            #expect(posted)
            let body = try #require(hook.requests.first).json()
            #expect(body["id"] == .string("sl") && body["state"] == .string("raised") && body["value"] == .double(0.5))
            #expect(body["threshold"] == .double(0.8) && body["comparison"] == .string("below") && body["windowSeconds"] == .int(900))

            // The log has each change once, for the inbox to push to supervisors.
            let kinds = try await engine.store.events(after: 0, limit: 10_000).map(\.kind).filter { $0.rawValue.hasPrefix("alert.") }
            #expect(kinds == [.alertRaised, .alertCleared, .alertRaised])
            #expect(try await alerts.raised().map { $0["id"] } == [.string("sl")])

            // A restarted hub knows the alert is raised: nothing is raised again.
            let restarted = AlertService(
                store: engine.store, metrics: engine.metrics, settings: Self.settings(webhook: base + "/alerts"), now: { clock.now },
                logger: EngineFixture.quietLogger)
            #expect(try await restarted.check().isEmpty)
            // Taken out of the rules while raised: cleared, saying why.
            await restarted.reload(MetricsSettings())
            transitions = try await restarted.check()
            #expect(transitions.map { "\($0.id) \($0.raised)" } == ["sl false"])
            #expect(transitions.first?.payload["reason"] == .string("no longer in the rules"))
            #expect(try await restarted.raised().isEmpty)
        }
    }
}
