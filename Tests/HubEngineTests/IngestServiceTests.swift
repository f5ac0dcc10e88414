import Foundation
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

@Suite("Ingest")
struct IngestServiceTests {
    @Test("two hundred concurrent messages are all stored, each exactly once")
    func groupCommit() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        defer { fixture.directory.remove() }
        let ingest = fixture.engine.ingest
        let receipts = try await withThrowingTaskGroup(of: IngestReceipt.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await ingest.ingest(
                        InboundEvent(
                            channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "user-\(index % 20)"),
                            providerMessageID: "m-\(index)", text: "message \(index)"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(receipts.count == 200)
        #expect(receipts.allSatisfy { !$0.duplicate })
        #expect(Set(receipts.map(\.messageID)).count == 200)
        #expect(Set(receipts.map(\.customerID)).count == 20)
        #expect(Set(receipts.map(\.conversationID)).count == 20)
        let events = try await fixture.engine.store.events(after: 0, limit: 10_000)
        #expect(events.filter { $0.kind == .messageReceived }.count == 200)
        #expect(events.filter { $0.kind == .customerCreated }.count == 20)
    }

    @Test("a batch is stored in order, in one go: a later message joins the conversation an earlier one started; a refused one costs only itself")
    func batch() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        defer { fixture.directory.remove() }
        func event(_ id: String, _ user: String, _ text: String) -> InboundEvent {
            InboundEvent(channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: user), providerMessageID: id, text: text)
        }
        let results = await fixture.engine.ingest.ingest([
            event("b-1", "user-1", "first"),
            event("b-2", "user-2", ""),  // neither text nor attachments: refused
            event("b-3", "user-1", "second"),
            event("b-1", "user-1", "first"),  // a retry within the batch
            InboundEvent(channelKind: .api, channelAccountID: "nowhere", sender: InboundSender(address: "user-3"), providerMessageID: "b-4", text: "x"),
        ])
        #expect(results.count == 5)
        let first = try results[0].get()
        let second = try results[2].get()
        #expect(!first.duplicate && first.conversationCreated && second.conversationID == first.conversationID && !second.conversationCreated)
        #expect(try results[3].get().duplicate && (try results[3].get().messageID) == first.messageID)
        guard case .failure(let refused) = results[1], case .failure(let unknown) = results[4] else {
            Issue.record("the refused events were stored")
            return
        }
        #expect(refused.code == .invalidEvent && unknown.code == .unknownAccount)
        let texts = try await fixture.engine.store.messages(in: first.conversationID, after: nil, limit: 10).map(\.text)
        #expect(texts == ["first", "second"])
    }

    @Test("the same provider message sent concurrently twenty times is stored once")
    func concurrentDuplicates() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        defer { fixture.directory.remove() }
        let ingest = fixture.engine.ingest
        let receipts = try await withThrowingTaskGroup(of: IngestReceipt.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await ingest.ingest(
                        InboundEvent(channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "u"), providerMessageID: "same", text: "x"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(receipts.filter { !$0.duplicate }.count == 1)
        #expect(Set(receipts.map(\.messageID)).count == 1)
        let events = try await fixture.engine.store.events(after: 0, limit: 100)
        #expect(events.filter { $0.kind == .messageReceived }.count == 1)
    }

    @Test("content a message carries commits with it; large content goes to the blob files; a retry stores it once")
    func contentsWithTheMessage() async throws {
        let blobs = try TemporaryDirectory()
        defer { blobs.remove() }
        let fixture = try await EngineFixture(
            accounts: [EngineFixture.account(outboundURL: nil)],
            configuration: EngineConfiguration(blobDirectory: blobs.url.path, maximumInlineContentBytes: 1024))
        defer { fixture.directory.remove() }
        let small = KeptContent(Array("From: a@example.test\r\n\r\nhello\r\n".utf8))
        let large = KeptContent([UInt8](repeating: 0x41, count: 4096))
        let event = InboundEvent(
            channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "u"), providerMessageID: "with-content", text: "x",
            metadata: ["original": .string(small.reference)], contents: [small, large])
        let first = try await fixture.engine.ingest.ingest(event)
        let again = try await fixture.engine.ingest.ingest(event)
        #expect(!first.duplicate && again.duplicate)
        // The small one is in the database (in the message's transaction), the large one a file.
        #expect(try await fixture.engine.store.content(small.reference) == small.bytes)
        #expect(try await fixture.engine.store.content(large.reference) == nil)
        let digest = try #require(KeptContent.digest(of: large.reference))
        let file = blobs.url.appendingPathComponent(String(digest.prefix(2))).appendingPathComponent(String(digest))
        #expect(FileManager.default.contents(atPath: file.path).map(Array.init) == large.bytes)
        // Both read back through the one look-up the routes use; nothing else does.
        #expect(try await fixture.engine.ingest.content(small.reference) == small.bytes)
        #expect(try await fixture.engine.ingest.content(large.reference) == large.bytes)
        #expect(try await fixture.engine.ingest.content(KeptContent([1, 2, 3]).reference) == nil)
        #expect(try await fixture.engine.ingest.content("blob:sha256:../../etc/passwd") == nil)
    }

    /// An event ingest must refuse, and the code it must refuse it with.
    struct Refusal: CustomTestStringConvertible, Sendable {
        var name: String
        var event: InboundEvent
        var code: IngestError.Code
        var testDescription: String { name }
    }

    static func event(
        account: String = "api-a", kind: ChannelKind = .api, sender: InboundSender = InboundSender(address: "u"), providerID: String = "p",
        text: String? = "hi", attachments: [HubModel.Attachment] = []
    ) -> InboundEvent {
        InboundEvent(channelKind: kind, channelAccountID: account, sender: sender, providerMessageID: providerID, text: text, attachments: attachments)
    }

    static let refusals: [Refusal] = [
        Refusal(name: "unknown account", event: event(account: "nope"), code: .unknownAccount),
        Refusal(name: "kind mismatch", event: event(kind: .sms), code: .invalidEvent),
        Refusal(name: "empty provider id", event: event(providerID: ""), code: .invalidEvent),
        Refusal(name: "huge provider id", event: event(providerID: String(repeating: "x", count: 600)), code: .invalidEvent),
        Refusal(name: "no text, no attachment", event: event(text: ""), code: .invalidEvent),
        Refusal(name: "text too long", event: event(text: String(repeating: "字", count: 65_537)), code: .invalidEvent),
        Refusal(name: "too many attachments", event: event(attachments: Array(repeating: HubModel.Attachment(reference: "https://x/y"), count: 21)), code: .invalidEvent),
        Refusal(name: "unusable sender", event: event(sender: InboundSender(address: "   ")), code: .invalidEvent),
        Refusal(name: "national number without region", event: event(sender: InboundSender(kind: .phone, address: "138 0013 8000")), code: .invalidEvent),
    ]

    @Test("unusable events are refused with a reason and store nothing", arguments: refusals)
    func refused(_ refusal: Refusal) async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(outboundURL: nil)])
        defer { fixture.directory.remove() }
        do {
            _ = try await fixture.engine.ingest.ingest(refusal.event)
            Issue.record("accepted")
        } catch {
            #expect(error.code == refusal.code)
            #expect(!error.message.isEmpty)
        }
        #expect(try await fixture.engine.store.lastEventSequence() == 0)
    }

    @Test("senders are normalized with the account's region and scope")
    func normalization() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(id: "bridge", outboundURL: nil, defaultRegion: "CN")])
        defer { fixture.directory.remove() }
        let a = try await fixture.engine.ingest.ingest(
            Self.event(account: "bridge", sender: InboundSender(kind: .phone, address: "138 0013 8000"), providerID: "1"))
        let b = try await fixture.engine.ingest.ingest(
            Self.event(account: "bridge", sender: InboundSender(kind: .phone, address: "+86 (138) 0013-8000"), providerID: "2"))
        #expect(a.customerID == b.customerID)
        let handles = try await fixture.engine.store.handles(of: a.customerID)
        #expect(handles.map(\.key) == [HandleAddress(kind: .phone, address: "+8613800138000")])
        let user = try await fixture.engine.ingest.ingest(Self.event(account: "bridge", sender: InboundSender(address: "u-1"), providerID: "3"))
        #expect(try await fixture.engine.store.handles(of: user.customerID).map(\.key) == [HandleAddress(kind: .api, scope: "bridge", address: "u-1")])
    }

    @Test("identity: link by raw address, look up, merge and unmerge through the service")
    func identityService() async throws {
        let fixture = try await EngineFixture(accounts: [EngineFixture.account(id: "bridge", outboundURL: nil, defaultRegion: "CN")])
        defer { fixture.directory.remove() }
        let identity = fixture.engine.identity
        let phone = try await fixture.engine.ingest.ingest(
            Self.event(account: "bridge", sender: InboundSender(kind: .phone, address: "13800138000"), providerID: "1"))
        let crm = try await identity.createCustomer(
            name: "Li Lei", tier: .vip, handles: [.init(kind: .email, address: "Li.Lei@Example.com")], actor: .admin)
        #expect(try await identity.customer(for: .init(kind: .email, address: "LI.LEI@example.com"))?.id == crm.id)
        let linked = try await identity.linkHandle(.init(kind: .phone, address: "0755 8888 1234", channelAccountID: "bridge"), to: crm.id, actor: .admin)
        #expect(linked.address == "+8675588881234")
        let merge = try await identity.merge(phone.customerID, into: crm.id, actor: .admin)
        #expect(try await identity.customer(for: .init(kind: .phone, address: "+8613800138000"))?.id == crm.id)
        #expect(try await fixture.engine.store.customer(crm.id)?.tier == .vip)
        _ = try await identity.unmerge(phone.customerID, actor: .admin)
        #expect(try await identity.customer(for: .init(kind: .phone, address: "+8613800138000"))?.id == phone.customerID)
        #expect(merge.survivorID == crm.id)
        await #expect(throws: StoreError.self) { try await identity.linkHandle(.init(kind: .email, address: "not an address"), to: crm.id, actor: .admin) }
    }
}
