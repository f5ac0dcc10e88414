import Foundation
import HubModel
import Testing

@Suite("Conversation model")
struct ModelTests {
    @Test(
        "e-mail addresses are lower-cased and unwrapped",
        arguments: [
            ("Li.Lei@Example.COM", "li.lei@example.com"), ("  li@example.com ", "li@example.com"),
            ("Li Lei <LI@Example.com>", "li@example.com"), ("mailto:Support@Switchboard.Example", "support@switchboard.example"),
            ("张伟@例子.中国", "张伟@例子.中国"),
        ])
    func email(raw: String, expected: String) throws {
        #expect(try HandleAddress.normalize(kind: .email, raw: raw).address == expected)
    }

    @Test("bad e-mail addresses are refused", arguments: ["li.example.com", "li@", "@example.com", "a@b@c.com", "li@localhost", "a b@c.com", ""])
    func badEmail(raw: String) {
        #expect(throws: HandleAddressError.self) { try HandleAddress.normalize(kind: .email, raw: raw) }
    }

    @Test("provider ids are kept as given, scoped where the provider scopes them")
    func providerIDs() throws {
        let openid = try HandleAddress.normalize(kind: .wechat, raw: " oUpF8uMuAJO_M2pxb1Q9zNjWeS6o ", scope: "wx5823bf96d3bd56c7")
        #expect(openid == HandleAddress(kind: .wechat, scope: "wx5823bf96d3bd56c7", address: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
        #expect(openid.description == "wechat:wx5823bf96d3bd56c7/oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        // Telegram user ids are the same person in every bot: no scope.
        #expect(try HandleAddress.normalize(kind: .telegram, raw: "123456789", scope: "bot-a").scope == "")
        #expect(throws: HandleAddressError.missingScope(.messenger)) { try HandleAddress.normalize(kind: .messenger, raw: "1234") }
        #expect(throws: HandleAddressError.self) { try HandleAddress.normalize(kind: .api, raw: "a\nb", scope: "x") }
        #expect(throws: HandleAddressError.empty(.api)) { try HandleAddress.normalize(kind: .api, raw: "   ", scope: "x") }
    }

    @Test("phone numbers are normalized through the default region, and need one when national")
    func phones() throws {
        #expect(try HandleAddress.normalize(kind: .phone, raw: "138 0013 8000", defaultRegion: "CN").address == "+8613800138000")
        #expect(try HandleAddress.normalize(kind: .phone, raw: "+86 138-0013-8000").address == "+8613800138000")
        #expect(throws: HandleAddressError.self) { try HandleAddress.normalize(kind: .phone, raw: "138 0013 8000") }
    }

    @Test("voice and SMS share phone handles; chats and mails are their own media")
    func channelKinds() {
        #expect(ChannelKind.voice.handleKind == ChannelKind.sms.handleKind)
        #expect(ChannelKind.voice.medium == .voice)
        #expect(ChannelKind.email.medium == .email)
        #expect(ChannelKind.allCases.filter { $0.medium == .messaging }.count == 8)
    }

    @Test(
        "ticket numbers print as T-000123 and parse as customers quote them",
        arguments: [("T-000123", 123), ("t-123", 123), ("T000123", 123), ("#T-7", 7), (" T-1234567 ", 1_234_567)])
    func ticketNumbers(text: String, value: Int) {
        #expect(TicketNumber(parsing: text)?.rawValue == value)
    }

    @Test("ticket number format and rejects")
    func ticketNumberFormat() {
        #expect(TicketNumber(rawValue: 123).description == "T-000123")
        #expect(TicketNumber(rawValue: 1_234_567).description == "T-1234567")
        for text in ["123", "T-", "T-12a", "X-123", "T-0", "T--1", "T-1234567890123"] { #expect(TicketNumber(parsing: text) == nil, "\(text)") }
    }

    @Test("delivery status only moves forward")
    func deliveryStatus() {
        #expect(DeliveryStatus.queued.canAdvance(to: .sent))
        #expect(DeliveryStatus.sent.canAdvance(to: .delivered))
        #expect(DeliveryStatus.delivered.canAdvance(to: .read))
        #expect(DeliveryStatus.queued.canAdvance(to: .read))
        #expect(DeliveryStatus.sent.canAdvance(to: .failed))
        #expect(!DeliveryStatus.delivered.canAdvance(to: .sent))
        #expect(!DeliveryStatus.read.canAdvance(to: .delivered))
        #expect(!DeliveryStatus.delivered.canAdvance(to: .failed))
        #expect(!DeliveryStatus.sent.canAdvance(to: .queued))
        #expect(!DeliveryStatus.failed.canAdvance(to: .failed))
        #expect(DeliveryStatus.failed.canAdvance(to: .delivered))
    }

    @Test("a merge fills the survivor's gaps, and reverting it keeps later edits")
    func mergeProfiles() {
        let t0 = Date(timeIntervalSince1970: 0)
        let survivor = Customer(id: "cus_a", name: "Li Lei", tags: ["a"], createdAt: t0)
        let merged = Customer(id: "cus_b", name: "LL", tier: .vip, tags: ["b", "a"], locale: "zh-CN", ownerAgentID: "alice", createdAt: t0)
        let after = survivor.absorbing(merged, at: t0)
        #expect(after.name == "Li Lei")
        #expect(after.tier == .vip)
        #expect(after.tags == ["a", "b"])
        #expect(after.locale == "zh-CN")
        #expect(after.ownerAgentID == "alice")
        var edited = after
        edited.locale = "en"
        let reverted = edited.revertingMerge(before: survivor, after: after, at: t0)
        #expect(reverted.tier == .standard)
        #expect(reverted.tags == ["a"])
        #expect(reverted.locale == "en")
        #expect(reverted.ownerAgentID == nil)
    }

    @Test("message authors round-trip through JSON")
    func authors() throws {
        for author in [MessageAuthor.customer, .agent("alice"), .system, .integration("crm")] {
            let json = try JSONValue(encoding: author)
            #expect(try json.decode(as: MessageAuthor.self) == author)
        }
        #expect(MessageAuthor(kind: "agent", id: nil) == nil)
        #expect(Actor(parsing: "agent:alice") == .agent("alice"))
        #expect(Actor(parsing: "channel:api-demo")?.description == "channel:api-demo")
        #expect(Actor(parsing: "nobody") == nil)
    }
}

@Suite("Event payloads read on first use")
struct LazyEventPayloadTests {
    static let payload: JSONValue = .object([
        "conversation": .object(["id": .string("cnv_1"), "attributes": .object(["vip": .bool(true)]), "n": .int(3)]),
        "changes": .array([.string("status")]), "text": .string("您好 \"quoted\"\n"), "score": .double(0.5),
    ])

    static func event(payload: JSONValue? = nil, text: String? = nil) -> HubEvent {
        let refs = EventRefs(customerID: "cus_1", conversationID: "cnv_1")
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        if let text {
            return HubEvent(sequence: 7, kind: .conversationUpdated, occurredAt: date, actor: .system, refs: refs, payloadText: text)
        }
        return HubEvent(sequence: 7, kind: .conversationUpdated, occurredAt: date, actor: .system, refs: refs, payload: payload ?? .null)
    }

    @Test("an event made from its payload's text equals the one made from the value: same payload, hash and JSON")
    func sameAsValue() throws {
        let fromValue = Self.event(payload: Self.payload)
        let fromText = Self.event(text: JSONWriter.text(of: Self.payload))
        #expect(fromText.payload == Self.payload)
        #expect(fromText == fromValue)
        #expect(fromText.hashValue == fromValue.hashValue)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(fromText) == encoder.encode(fromValue))
        #expect(try JSONDecoder().decode(HubEvent.self, from: encoder.encode(fromText)) == fromValue)
    }

    @Test("copies share the one reading, read from many threads at once; a payload set replaces only the copy's")
    func copiesAndConcurrentReads() async {
        let event = Self.event(text: JSONWriter.text(of: Self.payload))
        let copies = Array(repeating: event, count: 64)
        let payloads = await withTaskGroup(of: JSONValue.self) { group in
            for copy in copies { group.addTask { copy.payload } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(payloads.count == 64 && payloads.allSatisfy { $0 == Self.payload })
        var changed = event
        changed.payload = .object(["other": .int(1)])
        #expect(changed.payload == .object(["other": .int(1)]))
        #expect(event.payload == Self.payload)
        #expect(changed != event)
    }

    @Test("an event is a value: changing a copy's fields (its box is shared until then) leaves the original as it was")
    func copiesAreValues() {
        let original = Self.event(text: JSONWriter.text(of: Self.payload))
        var copy = original
        copy.sequence = 8
        copy.refs.agentID = "agent7"
        copy.kind = .conversationCreated
        copy.actor = .agent("agent7")
        copy.occurredAt = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(original.sequence == 7 && original.refs.agentID == nil && original.kind == .conversationUpdated && original.actor == .system)
        #expect(original.occurredAt == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(copy.sequence == 8 && copy.refs.agentID == "agent7" && copy.kind == .conversationCreated && copy.actor == .agent("agent7"))
        #expect(copy.payload == Self.payload && copy != original)
        // A copy that changes nothing is equal, with the same hash; an array of copies changed in
        // place keeps each element's own value.
        let same = original
        #expect(same == original && same.hashValue == original.hashValue)
        var events = Array(repeating: original, count: 4)
        for index in events.indices { events[index].sequence = Int64(100 + index) }
        #expect(events.map(\.sequence) == [100, 101, 102, 103] && original.sequence == 7)
    }

    @Test("a payload may contain a key when the key is one of its members at any depth; never false for a member that is there")
    func mayContain() {
        let record = CallRecord(
            id: "call_1", conversationID: "cnv_1", direction: .inbound, from: "+8613800000000", to: "+861088886666", state: .ended,
            startedAt: Date(timeIntervalSince1970: 1_700_000_000), hangupCause: "he said \"hungUpBy\"", hungUpBy: .agent)
        var unanswered = record
        unanswered.hungUpBy = nil
        unanswered.hangupCause = nil
        for value in [record, unanswered] {
            let text = JSONWriter.text(of: value)
            let lazy = Self.event(text: text)
            let parsed = (try? JSONReader.parse(text)) ?? .null
            // Never a false "no": a member that is there is always a "may".
            for key in ["hungUpBy", "hangupCause", "id", "state", "endedAt", "agentId", "nothing", "hung"] {
                if parsed[key] != nil { #expect(lazy.payloadMayContain(key), "\(key) in \(text)") }
            }
            #expect(!lazy.payloadMayContain("nothing"))
            #expect(!lazy.payloadMayContain("hung"))
            // Without reading the payload: it is still text afterwards, and reads the same.
            #expect(lazy.payload == parsed)
        }
        #expect(!Self.event(text: JSONWriter.text(of: unanswered)).payloadMayContain("hungUpBy"))
        // Nested members count; an event made from its value may contain anything.
        #expect(Self.event(text: JSONWriter.text(of: Self.payload)).payloadMayContain("vip"))
        #expect(Self.event(payload: .object([:])).payloadMayContain("anything"))
    }

    @Test("text that is not JSON reads as an empty payload rather than failing the follower that reads it")
    func unreadableText() {
        #expect(Self.event(text: "{\"a\":").payload == .null)
    }
}

@Suite("Actors")
struct ActorTests {
    @Test(
        "an actor as stored is its description parsed back, for every kind and id (colons, none, empty, non-ASCII)",
        arguments: [nil, "", "alice", "api-demo", "a:b", ":x", "x:", "::", "张伟", "channel:voice"])
    func storedIsParsed(id: String?) {
        for kind in [Actor.Kind.system, .channel, .agent, .admin, .integration] {
            let actor = Actor(kind: kind, id: id)
            #expect(Actor(storing: actor) == Actor(parsing: actor.description), "\(actor.description)")
        }
    }
}
