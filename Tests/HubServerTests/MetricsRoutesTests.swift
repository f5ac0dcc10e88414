import Foundation
import HTTPTypes
import HubEngine
import HubModel
@testable import HubServer
import HubStore
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("HTTP: the managers' figures (JSON, CSV, Prometheus)")
struct MetricsRoutesTests {
    /// One conversation through the queue to alice and done; one refused webhook.
    static func handleOne(_ fixture: ServerFixture, _ client: any TestClientProtocol) async throws {
        let routing = fixture.server.engine.routing
        try await routing.settle()
        let (_, stored) = try await client.postMessage(#"{"messageId":"m-1","from":{"id":"user-1"},"text":"help"}"#)
        let conversation = try #require(stored["conversationId"]?.stringValue)
        try await routing.settle()
        _ = try await client.admin(.post, "/v1/agents/alice/presence", json: #"{"presence":"available"}"#)
        let (_, offered) = try await client.admin(.get, "/v1/conversations/\(conversation)/routing")
        let offerID = try #require(offered["lastOffer"]?["offerId"]?.stringValue)
        #expect(try await client.admin(.post, "/v1/offers/\(offerID)/accept").0 == .ok)
        #expect(try await client.admin(.post, "/v1/conversations/\(conversation)/complete").0 == .ok)
        let (refused, _) = try await client.postMessage(#"{"messageId":"m-2","from":{"id":"user-2"},"text":"x"}"#, token: "wrong")
        #expect(refused == .unauthorized)
    }

    @Test("the report per channel and queue: counts, rates, the queues now; refused webhooks counted on their channel")
    func jsonReport() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await Self.handleOne(fixture, client)
            // The refusal reaches the projection a moment later.
            var body = JSONValue.null
            let counted = try await eventually {
                let (status, report) = try await client.admin(.get, "/v1/metrics/channels?minutes=60&groupBy=channel")
                #expect(status == .ok)
                body = report
                return report["groups"]?.arrayValue?.contains { number($0["figures"]?["inboundRejected"]) == 1 } == true
            }
            #expect(counted)
            let (status, report) = try await client.admin(.get, "/v1/metrics/channels?minutes=60&groupBy=channel,queue")
            #expect(status == .ok)
            #expect(report["groupBy"] == .array([.string("channel"), .string("queue")]))
            let support = try #require(report["groups"]?.arrayValue?.first { $0["channel"]?.stringValue == "api" && $0["queue"]?.stringValue == "support" })
            let figures = try #require(support["figures"])
            #expect(number(figures["offered"]) == 1)
            #expect(number(figures["handled"]) == 1)
            #expect(number(figures["answerRate"]) == 1)
            #expect(number(figures["serviceLevel"]) == 1)
            #expect(number(figures["abandoned"]) == 0)
            #expect(figures["averageResolutionSeconds"] == .null, "no ticket was resolved: no value, not zero")
            #expect(report["now"]?["queues"] == .array([]))
            #expect(report["behind"] == .int(0))
            // Only the figures asked for.
            let (_, chosen) = try await client.admin(.get, "/v1/metrics/channels?minutes=60&groupBy=channel&figures=handled,offered")
            let keys = chosen["groups"]?.arrayValue?.compactMap { group -> [String]? in
                if case .object(let figures)? = group["figures"] { return figures.keys.sorted() }
                return nil
            }
            #expect(keys?.allSatisfy { $0 == ["handled", "offered"] } == true)
            #expect(body["groups"]?.arrayValue?.isEmpty == false)
        }
    }

    @Test("the report written straight to bytes: window, groups with their keys, figures (null without a value), now")
    func directWriterMatchesTheTree() throws {
        var counters = MetricCounters()
        counters[.offered] = 3
        counters[.handled] = 2
        counters[.waitMs] = 12_345
        let start = Date(timeIntervalSince1970: 1_764_576_000)
        let report = MetricsReport(
            from: start, to: start.addingTimeInterval(7200), grouping: [.channel, .queue, .agent, .hour],
            groups: [
                (MetricGroup(channel: "api", queue: "support", agent: "bo", period: 29_409_600), counters),
                (MetricGroup(channel: "voice", queue: "vip \"one\"", agent: "", period: 29_409_660), MetricCounters()),
            ],
            now: MetricsNow(
                at: start, queues: [MetricsNow.Queue(channel: "api", queue: "support", waiting: 2, longestWaitSeconds: 1.5)],
                agents: [MetricsNow.Agents(medium: "voice", state: "idle", count: 1)]),
            behind: 7)
        let json = try HubJSON.makeDecoder().decode(
            JSONValue.self, from: Data(MetricsRoutes.jsonBytes(report, groupBy: ["channel", "hour"], figures: [.offered, .averageSpeedOfAnswerSeconds])))
        #expect(json["from"] == .string("2025-12-01T08:00:00.000Z") && json["to"] == .string("2025-12-01T10:00:00.000Z"))
        #expect(json["behind"] == .int(7) && json["groupBy"] == .array([.string("channel"), .string("hour")]))
        let groups = try #require(json["groups"]?.arrayValue)
        #expect(groups.count == 2)
        #expect(
            groups[0]
                == .object([
                    "channel": .string("api"), "queue": .string("support"), "agent": .string("bo"), "period": .string("2025-12-01T08:00:00.000Z"),
                    "figures": .object(["offered": .int(3), "averageSpeedOfAnswerSeconds": .double(6.173)]),
                ]))
        #expect(groups[1]["queue"] == .string("vip \"one\""), "escaped and read back")
        #expect(groups[1]["figures"] == .object(["offered": .int(0), "averageSpeedOfAnswerSeconds": .null]), "no value is null, not 0")
        #expect(json["now"]?["queues"]?.arrayValue?.first?["waiting"] == .int(2))
        #expect(json["now"]?["agents"]?.arrayValue?.first?["medium"] == .string("voice"))
        // Every figure when none is picked.
        let all = try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(MetricsRoutes.jsonBytes(report, groupBy: [])))
        if case .object(let figures)? = all["groups"]?.arrayValue?.first?["figures"] {
            #expect(Set(figures.keys) == Set(MetricFigure.allCases.map(\.rawValue)))
        } else {
            Issue.record("no figures")
        }
    }

    @Test("CSV export: a header of every figure, one row per group, RFC 4180 line ends")
    func csvExport() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await Self.handleOne(fixture, client)
            try await client.execute(
                uri: "/v1/metrics/channels?minutes=60&groupBy=channel,hour&format=csv", method: .get, headers: [.authorization: "Bearer admin-token"]
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(response.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"metrics-") == true)
                let text = String(buffer: response.body)
                #expect(text.hasSuffix("\r\n"))
                let lines = text.split(separator: "\r\n").map(String.init)
                let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                #expect(header == ["from", "to", "period", "channel", "queue", "agent"] + MetricFigure.allCases.map(\.rawValue))
                let api = try #require(lines.dropFirst().first { $0.contains(",api,") })
                let cells = api.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                #expect(cells.count == header.count)
                #expect(cells[header.firstIndex(of: "offered")!] == "1")
                #expect(cells[header.firstIndex(of: "averageResolutionSeconds")!] == "", "no value is an empty field")
            }
        }
    }

    @Test("only supervisors and admins read the figures; bad windows and groupings are refused with what is wrong")
    func permissionsAndValidation() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            let token = try await client.login("alice")
            #expect(try await client.agent(token, .get, "/v1/metrics/channels").0 == .forbidden)
            let (unauthorized, _) = try await client.execute(uri: "/v1/metrics/channels", method: .get) { ($0.status, ()) }
            #expect(unauthorized == .unauthorized)
            for (query, problem) in [
                ("groupBy=team", "not 'team'"), ("groupBy=hour,day", "not both"), ("minutes=0", "minutes"),
                ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "before"), ("from=yesterday", "timestamp"),
                ("format=xml", "json or csv"), ("figures=offered,speed", "unknown figure 'speed'"), ("minutes=5&to=soon", "timestamp"), ("from=2025-01-01T00:00:00Z&to=2026-12-01T00:00:00Z", "366 days"),
            ] {
                let (status, body) = try await client.admin(.get, "/v1/metrics/channels?\(query)")
                #expect(status == .unprocessableContent, "\(query)")
                #expect(body["error"]?["message"]?.stringValue?.contains(problem) == true, "\(query): \(body)")
            }
        }
    }

    @Test("Prometheus exposition: counters per channel and queue, agents' time, gauges now; the scrape needs a token")
    func prometheus() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await Self.handleOne(fixture, client)
            let (anonymous, _) = try await client.execute(uri: "/metrics", method: .get) { ($0.status, ()) }
            #expect(anonymous == .unauthorized)
            let token = try await client.login("alice")
            let (agent, _) = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"]) { ($0.status, ()) }
            #expect(agent == .forbidden)
            let (admin, _) = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer admin-token"]) { ($0.status, ()) }
            #expect(admin == .ok)
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-token"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE hub_contacts_offered_total counter"))
                #expect(text.contains(#"hub_contacts_offered_total{channel="api",queue="support"} 1"#))
                #expect(text.contains(#"hub_contacts_handled_total{channel="api",queue="support"} 1"#))
                #expect(text.contains(#"hub_agent_state_seconds_total{agent="alice",state="busy"}"#))
                // The store's writer: its transactions so far, and its busy time, of which its processor time is a part.
                func value(_ name: String) -> Double? {
                    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                }
                #expect(text.contains("# TYPE hub_store_writer_busy_seconds_total counter"))
                #expect((value("hub_store_transactions_total") ?? 0) >= 1)
                #expect((value("hub_store_writes_total") ?? 0) >= (value("hub_store_transactions_total") ?? .infinity))
                let busy = try #require(value("hub_store_writer_busy_seconds_total"))
                let processor = try #require(value("hub_store_writer_cpu_seconds_total"))
                #expect(busy > 0 && processor > 0 && processor <= busy)
                #expect(value("hub_store_paced_transactions_total") != nil && value("hub_store_pacing_seconds_total") != nil)
            }
        }
    }
}

/// A JSON number as a Double (1.0 is written, and read back, as 1).
func number(_ value: JSONValue?) -> Double? {
    switch value {
    case .int(let number)?: Double(number)
    case .double(let number)?: number
    default: nil
    }
}
