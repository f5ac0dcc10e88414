import Foundation
import HubModel
import HubStore
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    static func temporaryPath() -> (URL, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hub-sqlite-\(UUID().uuidString)")
        return (directory, directory.appendingPathComponent("hub.sqlite").path)
    }

    @Test("the database is in WAL mode and migrations can run again")
    func walAndMigrations() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(configuration: .init(path: path))
        try await store.migrate()
        try await store.migrate()
        #expect(try await store.journalMode() == "wal")
    }

    @Test("a second process (or store) cannot open a database in use, and can once it is closed")
    func exclusiveLock() async throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        var first: SQLiteStore? = try SQLiteStore(configuration: .init(path: path))
        try await first!.migrate()
        _ = try await first!.ingest([Fixture.inbound(providerID: "m1")])
        #expect(throws: StoreError.self) { _ = try SQLiteStore(configuration: .init(path: path)) }
        first = nil
        let second = try SQLiteStore(configuration: .init(path: path, durability: .normal))
        try await second.migrate()
        #expect(try await second.eventKinds().last == "message.received")
    }
}
