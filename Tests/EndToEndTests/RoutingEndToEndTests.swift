import Foundation
import HubModel
import HubTestSupport
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("End to end: routing in the hub process", .serialized)
struct RoutingEndToEndTests {
    @Test("a message waits, an agent logs in and is offered it, accepts, and the rules reload without a restart")
    func routeAndReload() async throws {
        let scratch = try TemporaryDirectory("hub-e2e-routing")
        defer { scratch.remove() }
        try E2E.configuration(in: scratch)
        let hub = try HubProcess(arguments: [], environment: E2E.environment(scratch), logDirectory: scratch)
        defer { hub.kill() }
        let base = try await hub.waitUntilListening()

        let posted = try await E2E.postMessage(base, id: "route-1", from: "user-r", text: "where is my parcel")
        let conversation = try #require(posted.json?["conversationId"]?.stringValue)
        #expect(try await eventually {
            try await E2E.admin(.GET, base, "/v1/conversations/\(conversation)/routing").json?["phase"]?["state"]?.stringValue == "waiting"
        })

        let presence = try await E2E.admin(.POST, base, "/v1/agents/alice/presence", json: #"{"presence":"available"}"#)
        #expect(presence.status == 200)
        var offerID: String?
        #expect(try await eventually {
            offerID = try await E2E.admin(.GET, base, "/v1/conversations/\(conversation)/routing").json?["lastOffer"]?["offerId"]?.stringValue
            return offerID != nil
        })
        let accepted = try await E2E.admin(.POST, base, "/v1/offers/\(offerID!)/accept")
        #expect(accepted.status == 200, "\(hub.log)")
        #expect(try await E2E.admin(.GET, base, "/v1/conversations/\(conversation)").json?["assigneeId"]?.stringValue == "alice")
        var items: [JSONValue] = []
        if case .array(let list) = try await E2E.admin(.GET, base, "/v1/events?limit=1000").json?["items"] ?? .null { items = list }
        let kinds = items.compactMap { $0["kind"]?.stringValue }
        #expect(kinds.contains("routing.queued") && kinds.contains("offer.created") && kinds.contains("routing.assigned"))

        // A new queue appears in the rules file: the running hub picks it up.
        try scratch.write(
            "routing-rules/rules.yaml",
            """
            queues:
              - id: support
              - id: escalations
                priority: 50
            agents:
              - id: alice
                name: Alice
                queues: [support, escalations]
            """)
        #expect(try await eventually {
            try await E2E.admin(.GET, base, "/v1/routing/queues/escalations").status == 200
        }, "\(hub.log)")
        #expect(hub.log.contains("routing rules reloaded"))

        // A broken file is refused with its line; the running rules stay.
        try scratch.write("routing-rules/rules.yaml", "queues:\n  - id: support\n    strategy: fastest\n")
        #expect(try await eventually { hub.log.contains("routing rules not reloaded") })
        #expect(hub.log.contains("rules.yaml:3:15"))
        #expect(try await E2E.admin(.GET, base, "/v1/routing/queues/escalations").status == 200)

        hub.signal(SIGTERM)
        #expect(try await hub.waitForExit(timeout: .seconds(15)) == 0, "\(hub.log)")
    }
}
