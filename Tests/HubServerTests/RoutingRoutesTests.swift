import Foundation
import HTTPTypes
import HubEngine
import HubModel
import HubServer
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("HTTP: the router's API")
struct RoutingRoutesTests {
    @Test("presence, the offer with its explanation, acceptance, completion and the queue live, over REST")
    func routingOverREST() async throws {
        let fixture = try await ServerFixture()
        let routing = fixture.server.engine.routing
        try await fixture.test { client in
            try await routing.settle()
            let (_, stored) = try await client.postMessage(#"{"messageId":"r-1","from":{"id":"user-9"},"text":"help"}"#)
            let conversation = try #require(stored["conversationId"]?.stringValue)
            try await routing.settle()

            let (queues, queueList) = try await client.admin(.get, "/v1/routing/queues")
            #expect(queues == .ok)
            #expect(queueList.items.first?["media"]?["messaging"]?["waiting"] == .int(1))

            let (waitingStatus, waiting) = try await client.admin(.get, "/v1/conversations/\(conversation)/routing")
            #expect(waitingStatus == .ok)
            #expect(waiting["phase"]?["state"]?.stringValue == "waiting")

            let (presence, agent) = try await client.admin(.post, "/v1/agents/alice/presence", json: #"{"presence":"available"}"#)
            #expect(presence == .ok)
            #expect(agent["presence"]?["state"]?.stringValue == "available")

            let (_, offered) = try await client.admin(.get, "/v1/conversations/\(conversation)/routing")
            #expect(offered["phase"]?["state"]?.stringValue == "offered")
            let offerID = try #require(offered["lastOffer"]?["offerId"]?.stringValue)
            let (offerStatus, offer) = try await client.admin(.get, "/v1/offers/\(offerID)")
            #expect(offerStatus == .ok)
            #expect(offer["agentId"]?.stringValue == "alice")
            #expect(offer["explanation"]?["queue"]?.stringValue == "support")
            #expect(offer["explanation"]?["strategy"]?.stringValue == "mostAvailable")
            #expect(offer["explanation"]?["strategyKey"]?.stringValue == "3 of 3 messaging free")

            let (accepted, _) = try await client.admin(.post, "/v1/offers/\(offerID)/accept")
            #expect(accepted == .ok)
            let (_, assigned) = try await client.admin(.get, "/v1/conversations/\(conversation)")
            #expect(assigned["assigneeId"]?.stringValue == "alice")
            let (again, conflict) = try await client.admin(.post, "/v1/offers/\(offerID)/accept")
            #expect(again == .notFound, "an offer is accepted once")
            #expect(conflict.errorCode == "not_found")

            let (completed, _) = try await client.admin(.post, "/v1/conversations/\(conversation)/complete")
            #expect(completed == .ok)
            let (_, after) = try await client.admin(.get, "/v1/agents/alice/routing")
            #expect(after["sinceLogin"]?["handled"] == .int(1))
            #expect(after["load"]?["messaging"] == .int(0))
        }
    }

    @Test("bad routing requests get a 4xx with a JSON error")
    func badRequests() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await fixture.server.engine.routing.settle()
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
                (.post, "/v1/agents/alice/presence", #"{"presence":"napping"}"#, .unprocessableContent, "invalid_request"),
                (.post, "/v1/agents/zed/presence", #"{"presence":"available"}"#, .notFound, "not_found"),
                (.post, "/v1/agents/alice/presence", #"{"presence":"#, .badRequest, "invalid_json"),
                (.get, "/v1/offers/offer-1", nil, .notFound, "not_found"),
                (.post, "/v1/offers/offer-1/reject", #"{"reason":"bored"}"#, .unprocessableContent, "invalid_request"),
                (.post, "/v1/conversations/cnv_x/complete", nil, .notFound, "not_found"),
                (.post, "/v1/conversations/cnv_x/transfer", #"{}"#, .unprocessableContent, "invalid_request"),
                (.get, "/v1/routing/queues/nope", nil, .notFound, "not_found"),
            ]
            for (method, uri, body, status, code) in cases {
                let (got, error) = try await client.admin(method, uri, json: body)
                #expect(got == status, "\(method) \(uri)")
                #expect(error.errorCode == code, "\(method) \(uri)")
            }
        }
    }
}
