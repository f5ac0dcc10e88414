import Foundation
import HubModel
import HubStore
import Synchronization
import Testing

@testable import HubEngine

/// Counts the transactions the committer asks for.
final class CountingIngestStore: IngestStore {
    let inner: any HubStore
    let batches = Mutex<[Int]>([])

    init(inner: any HubStore) { self.inner = inner }

    func ingest(_ commands: [IngestCommand]) async throws -> [Result<IngestReceipt, StoreError>] {
        batches.withLock { $0.append(commands.count) }
        return try await inner.ingest(commands)
    }

    func applyDeliveryStatus(_ update: DeliveryStatusUpdate, at date: Date) async throws -> Bool {
        try await inner.applyDeliveryStatus(update, at: date)
    }

    func applyConsent(_ consent: ConsentChange, handle: HandleAddress, channelAccountID: String, at date: Date) async throws -> Bool {
        try await inner.applyConsent(consent, handle: handle, channelAccountID: channelAccountID, at: date)
    }

    func applyRead(handle: HandleAddress, channelAccountID: String, upTo: Date, at date: Date) async throws -> Int {
        try await inner.applyRead(handle: handle, channelAccountID: channelAccountID, upTo: upTo, at: date)
    }
}

/// A store whose every transaction fails, as on a full disk.
struct FailingIngestStore: IngestStore {
    func ingest(_ commands: [IngestCommand]) async throws -> [Result<IngestReceipt, StoreError>] {
        throw StoreError(.unavailable, "disk I/O error")
    }

    func applyDeliveryStatus(_ update: DeliveryStatusUpdate, at date: Date) async throws -> Bool { false }

    func applyConsent(_ consent: ConsentChange, handle: HandleAddress, channelAccountID: String, at date: Date) async throws -> Bool { false }

    func applyRead(handle: HandleAddress, channelAccountID: String, upTo: Date, at date: Date) async throws -> Int { 0 }
}

@Suite("Group commit")
struct GroupCommitterTests {
    static func command(_ index: Int) -> IngestCommand {
        let event = InboundEvent(
            channelKind: .api, channelAccountID: "api-a", sender: InboundSender(address: "user-\(index % 10)"), providerMessageID: "m-\(index)",
            text: "message \(index)")
        return IngestCommand(event: event, sender: HandleAddress(kind: .api, scope: "api-a", address: "user-\(index % 10)"), receivedAt: Date())
    }

    @Test("concurrent commands share transactions, and every caller gets its own receipt")
    func batching() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hub-group-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Full durability: every commit waits for the disk, the case group commit exists for.
        let store = try SQLiteStore(configuration: .init(path: directory.appendingPathComponent("hub.sqlite").path, durability: .full))
        try await store.migrate()
        let counting = CountingIngestStore(inner: store)
        let committer = GroupCommitter(store: counting, maximumBatch: 64)
        let results = await withTaskGroup(of: (Int, Result<IngestReceipt, StoreError>).self) { group in
            for index in 0..<300 { group.addTask { (index, await committer.submit(Self.command(index))) } }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let receipts = try (0..<300).map { try results[$0]!.get() }
        #expect(Set(receipts.map(\.messageID)).count == 300)
        let batches = counting.batches.withLock { $0 }
        #expect(batches.reduce(0, +) == 300)
        #expect(batches.count < 300)
        #expect(batches.max()! > 1)
        #expect(batches.max()! <= 64)
        // Each caller got the receipt of its own message.
        for index in [0, 150, 299] {
            let message = try #require(try await store.message(receipts[index].messageID))
            #expect(message.providerMessageID == "m-\(index)")
        }
    }

    @Test("when the transaction fails, every waiting caller learns it, and later callers still get through")
    func failure() async throws {
        let committer = GroupCommitter(store: FailingIngestStore())
        let results = await withTaskGroup(of: Result<IngestReceipt, StoreError>.self) { group in
            for index in 0..<50 { group.addTask { await committer.submit(Self.command(index)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 50)
        for result in results {
            guard case .failure(let error) = result else {
                Issue.record("a failed transaction reported success")
                continue
            }
            #expect(error.code == .unavailable)
        }
    }
}
