import Foundation
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

@Suite("Attachments into the hub's store")
struct AttachmentFetcherTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 100)

    @Test("the first bytes decide: accepted types, executables refused, a declared image that is not one refused, a size limit")
    func mediaCheck() throws {
        #expect(try MediaCheck.check(Self.png, declared: "image/png", maximumBytes: 1000).get() == "image/png")
        #expect(try MediaCheck.check(Self.png, declared: nil, maximumBytes: 1000).get() == "image/png")
        #expect(try MediaCheck.check(Array("%PDF-1.7".utf8), declared: "application/octet-stream", maximumBytes: 1000).get() == "application/pdf")
        #expect(try MediaCheck.check(Array("#!AMR\n".utf8) + [1, 2], declared: "audio/amr", maximumBytes: 1000).get() == "audio/amr")
        #expect(try MediaCheck.check(Array("hello".utf8), declared: "text/plain; charset=utf-8", maximumBytes: 1000).get() == "text/plain")
        #expect(MediaCheck.check([0x4D, 0x5A, 0x90, 0], declared: "image/jpeg", maximumBytes: 1000).failureDescription?.contains("executable") == true)
        #expect(MediaCheck.check(Array("%PDF-1.7".utf8), declared: "image/jpeg", maximumBytes: 1000).failureDescription == "declared image/jpeg but the content is application/pdf")
        #expect(MediaCheck.check(Self.png, declared: "image/png", maximumBytes: 10).failureDescription == "larger than 10 bytes")
        #expect(MediaCheck.check(Array("<html>".utf8), declared: "text/html", maximumBytes: 1000).failureDescription == "type text/html is not accepted")
        #expect(MediaCheck.check([], declared: "image/png", maximumBytes: 1000).failureDescription == "empty")
        #expect(try MediaCheck.check(Self.png, declared: "image/jpeg", maximumBytes: 1000).get() == "image/png")
        let m4a: [UInt8] = [0, 0, 0, 0x20] + Array("ftypM4A ".utf8) + [0, 0]
        #expect(try MediaCheck.check(m4a, declared: "audio/mp4", maximumBytes: 1000).get() == "audio/mp4")
        #expect(try MediaCheck.check(m4a, declared: nil, maximumBytes: 1000).get() == "video/mp4")
        // A common image format must show its signature: a PNG that is not one is refused.
        #expect(MediaCheck.check([0xEF, 0xBF, 0xBD] + Self.png.dropFirst(), declared: "image/png", maximumBytes: 1000).failureDescription == "declared image/png but the content is not one")
    }

    @Test("blobs are named by their content, kept once, and only well-formed references reach the disk")
    func blobs() throws {
        let directory = try TemporaryDirectory("blobs")
        defer { directory.remove() }
        let blobs = BlobStore(directory: directory.url)
        let reference = try blobs.put(Self.png)
        #expect(reference.hasPrefix("blob:sha256:") && reference.count == 12 + 64)
        #expect(try blobs.put(Self.png) == reference)
        #expect(blobs.get(reference) == Self.png)
        #expect(blobs.get("blob:sha256:../../etc/passwd") == nil)
        #expect(blobs.get("blob:sha256:" + String(repeating: "0", count: 64)) == nil)
    }

    @Test("a customer's attachments are fetched, checked and stored; broken ones are refused with the reason; 503 is retried")
    func fetcher() async throws {
        let laterTries = Locked(0)
        let provider = FakeProvider { request, _ in
            switch request.path {
            case "/a.png": return FakeProvider.Reply(status: 200, headers: ["Content-Type": "image/png"], bytes: Self.png)
            case "/gone.jpg": return FakeProvider.Reply(status: 404)
            case "/huge.bin": return FakeProvider.Reply(status: 200, headers: ["Content-Type": "video/mp4"], body: String(repeating: "x", count: 3000))
            case "/evil.jpg": return FakeProvider.Reply(status: 200, headers: ["Content-Type": "image/jpeg"], body: "MZ\u{90}\u{0}this is a program")
            default:
                let tries = laterTries.withLock { count in
                    count += 1
                    return count
                }
                return tries < 3 ? FakeProvider.Reply(status: 503) : FakeProvider.Reply(status: 200, headers: ["Content-Type": "application/pdf"], body: "%PDF-1.7 invoice")
            }
        }
        try await provider.serve { base in
            let blobDirectory = try TemporaryDirectory("blobs")
            defer { blobDirectory.remove() }
            let fixture = try await EngineFixture(
                accounts: [EngineFixture.account(outboundURL: nil)],
                configuration: EngineConfiguration(blobDirectory: blobDirectory.url.path, maximumAttachmentBytes: 2048),
                attachments: AttachmentFetcher.Configuration(initialBackoff: .milliseconds(50), maximumBackoff: .milliseconds(100)))
            defer { fixture.directory.remove() }
            let receipt = try await fixture.engine.ingest.ingest(
                InboundEvent(
                    channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "user-1"), providerMessageID: "m-att",
                    text: "photos", attachments: ["/a.png", "/gone.jpg", "/huge.bin", "/evil.jpg", "/later.pdf"].map { Attachment(reference: base + $0) }))
            let store = fixture.engine.store
            let done = try await withRunningServices([fixture.engine.attachmentFetcher], logger: EngineFixture.quietLogger) {
                try await eventually(timeout: .seconds(20)) {
                    try await store.message(receipt.messageID)?.attachments.allSatisfy { $0.status != .pending } == true
                }
            }
            #expect(done)
            let attachments = try #require(try await store.message(receipt.messageID)).attachments
            #expect(attachments.map(\.status) == [.stored, .refused, .refused, .refused, .stored])
            #expect(attachments[0].contentType == "image/png")
            #expect(attachments[0].byteCount == Self.png.count)
            #expect(attachments[0].source == base + "/a.png")
            #expect(fixture.engine.attachmentFetcher.blobs.get(attachments[0].reference) == Self.png)
            #expect(attachments[1].problem?.contains("404") == true)
            #expect(attachments[2].problem?.contains("larger than 2048 bytes") == true)
            #expect(attachments[3].problem?.contains("executable") == true)
            #expect(attachments[4].contentType == "application/pdf")
            #expect(provider.requests.filter { $0.path == "/later.pdf" }.count >= 2, "the 503 was retried")
        }
    }
}

extension Result where Failure == MediaCheck.Refusal {
    var failureDescription: String? {
        if case .failure(let refusal) = self { return refusal.description }
        return nil
    }
}
