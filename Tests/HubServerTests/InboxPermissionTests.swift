import Foundation
import HubModel
import HubServer
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Inbox over REST: logins, permissions, masking, audit")
struct InboxPermissionTests {
    static let rules = """
        queues:
          - id: support
          - id: billing
        agents:
          - id: alice
            name: Alice
            role: supervisor
            queues: [support]
          - id: bo
            name: Bo
            queues: [support]
          - id: carol
            name: Carol
            queues: [billing]
        """

    /// A customer known by phone, writing into `support`.
    static let phoneMessage = #"{"messageId":"p-1","from":{"id":"+8613800138000","kind":"phone","name":"李雷"},"text":"我的订单"}"#

    @Test("an agent reads the customers and conversations of the queues they serve, masked; others are not found")
    func permissions() async throws {
        let fixture = try await ServerFixture(rules: Self.rules)
        try await fixture.test { client in
            let (status, posted) = try await client.postMessage(Self.phoneMessage)
            #expect(status == .created)
            let customer = try #require(posted["customerId"]?.stringValue)
            let conversation = try #require(posted["conversationId"]?.stringValue)
            let bo = try await client.login("bo")
            let carol = try await client.login("carol")

            let (seen, profile) = try await client.agent(bo, .get, "/v1/customers/\(customer)")
            #expect(seen == .ok)
            let handle = try #require(profile["handles"]?.firstItem)
            #expect(handle["address"]?.stringValue == "+86138****8000")
            #expect(handle["masked"] == .bool(true))
            #expect(profile["canRevealContacts"] == .bool(false))
            let (detail, body) = try await client.agent(bo, .get, "/v1/conversations/\(conversation)?detail=true")
            #expect(detail == .ok)
            #expect(!"\(body)".contains("13800138000"))

            for uri in ["/v1/customers/\(customer)", "/v1/customers/\(customer)/timeline", "/v1/conversations/\(conversation)",
                "/v1/conversations/\(conversation)/messages"]
            {
                let (hidden, error) = try await client.agent(carol, .get, uri)
                #expect(hidden == .notFound, "\(uri)")
                #expect(error.errorCode == "not_found")
            }
            let (reply, _) = try await client.agent(carol, .post, "/v1/conversations/\(conversation)/messages", json: #"{"text":"hi"}"#)
            #expect(reply == .notFound)
            let (log, _) = try await client.agent(bo, .get, "/v1/events")
            #expect(log == .forbidden)
            let (lookup, _) = try await client.agent(bo, .get, "/v1/customers?handleKind=phone&address=13800138000")
            #expect(lookup == .forbidden)
        }
    }

    @Test("only those with the right reveal a contact, one at a time; every reveal and profile view is in the audit trail")
    func revealAndAudit() async throws {
        let fixture = try await ServerFixture(rules: Self.rules)
        try await fixture.test { client in
            let (_, posted) = try await client.postMessage(Self.phoneMessage)
            let customer = try #require(posted["customerId"]?.stringValue)
            let (_, profile) = try await client.admin(.get, "/v1/customers/\(customer)")
            let handle = try #require(profile["handles"]?.firstItem?["id"]?.stringValue)
            #expect(profile["handles"]?.firstItem?["address"]?.stringValue == "+8613800138000")
            let alice = try await client.login("alice")
            let bo = try await client.login("bo")

            let (refused, error) = try await client.agent(bo, .post, "/v1/customers/\(customer)/handles/\(handle)/reveal", json: #"{"reason":"call back"}"#)
            #expect(refused == .forbidden)
            #expect(error.errorCode == "forbidden")
            let (_, aliceView) = try await client.agent(alice, .get, "/v1/customers/\(customer)")
            #expect(aliceView["handles"]?.firstItem?["address"]?.stringValue == "+86138****8000")
            #expect(aliceView["canRevealContacts"] == .bool(true))
            let (revealed, address) = try await client.agent(alice, .post, "/v1/customers/\(customer)/handles/\(handle)/reveal", json: #"{"reason":"call back"}"#)
            #expect(revealed == .ok)
            #expect(address["address"]?.stringValue == "+8613800138000")

            let (_, log) = try await client.admin(.get, "/v1/events?limit=1000")
            let audit = log.items.filter { $0["kind"]?.stringValue?.hasPrefix("audit.") == true }
            let views = audit.filter { $0["kind"]?.stringValue == "audit.profile_viewed" }
            #expect(views.map(\.actorText) == ["admin", "agent:alice"])
            let reveals = audit.filter { $0["kind"]?.stringValue == "audit.contact_revealed" }
            #expect(reveals.count == 1)
            #expect(reveals.first?.actorText == "agent:alice")
            #expect(reveals.first?["payload"]?["reason"]?.stringValue == "call back")
            #expect(reveals.first?["payload"]?["handleId"]?.stringValue == handle)
        }
    }

    @Test("logging in: wrong passwords are refused alike, tokens end at logout, expired or unknown tokens get 401")
    func logins() async throws {
        let fixture = try await ServerFixture(rules: Self.rules)
        try await fixture.test { client in
            let token = try await client.login("bo")
            let (me, profile) = try await client.agent(token, .get, "/v1/auth/me")
            #expect(me == .ok)
            #expect(profile["id"]?.stringValue == "bo")
            #expect(profile["role"]?.stringValue == "agent")
            let (wrong, error) = try await client.execute(
                uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"login":"bo","password":"nope"}"#)
            ) { response in (response.status, try response.jsonValue()) }
            #expect(wrong == .unauthorized)
            #expect(error.errorCode == "unauthorized")
            let (out, _) = try await client.agent(token, .post, "/v1/auth/logout")
            #expect(out == .noContent)
            let (after, expired) = try await client.agent(token, .get, "/v1/auth/me")
            #expect(after == .unauthorized)
            #expect(expired.errorCode == "unauthorized")
            // Agents change their own password only with the current one; others' only as admins.
            let fresh = try await client.login("bo")
            let (noCurrent, _) = try await client.agent(fresh, .post, "/v1/agents/bo/password", json: #"{"password":"a brand new password"}"#)
            #expect(noCurrent == .unprocessableContent)
            let (other, _) = try await client.agent(fresh, .post, "/v1/agents/carol/password", json: #"{"password":"a brand new password"}"#)
            #expect(other == .forbidden)
        }
    }
}

extension JSONValue {
    /// An event's actor as "kind:id" (or "kind").
    var actorText: String {
        let kind = self["actor"]?["kind"]?.stringValue ?? "?"
        return self["actor"]?["id"]?.stringValue.map { "\(kind):\($0)" } ?? kind
    }

    var firstItem: JSONValue? {
        if case .array(let values) = self { return values.first }
        return nil
    }
}
