import Foundation
import HubModel
import HubStore

#if canImport(Glibc)
import Glibc
#endif

/// Customers' attachments as files named by the SHA-256 of their content (`blob:sha256:<hex>`):
/// the same picture sent twice is kept once, and a reference can never point at other content.
/// A file is written to a temporary name, synced, then renamed into place, so a crash leaves
/// either the whole file or none.
public struct BlobStore: Sendable {
    public let directory: URL

    /// The directory is created with the first blob.
    public init(directory: URL) {
        self.directory = directory
    }

    /// Stores `bytes`; returns their reference.
    public func put(_ bytes: [UInt8]) throws -> String {
        let reference = KeptContent.reference(of: bytes)
        let hex = String(reference.dropFirst(KeptContent.prefix.count))
        let folder = directory.appendingPathComponent(String(hex.prefix(2)))
        let target = folder.appendingPathComponent(hex)
        if FileManager.default.fileExists(atPath: target.path) { return reference }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(hex).\(UUID().uuidString)")
        try Self.writeSynced(bytes, to: temporary.path)
        if rename(temporary.path, target.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
        }
        try Self.sync(folder.path)
        return reference
    }

    /// The content of a reference, or nil when the hub has no such blob.
    public func get(_ reference: String) -> [UInt8]? {
        guard let url = path(of: reference) else { return nil }
        return FileManager.default.contents(atPath: url.path).map(Array.init)
    }

    /// The content of a reference from the files, else from the database (content committed with
    /// its message, `InboundEvent.contents`); nil when neither holds it.
    /// - Throws: when the database could not be read (nothing is known then).
    public func get(_ reference: String, orFrom store: any ConversationStore) async throws -> [UInt8]? {
        guard KeptContent.digest(of: reference) != nil else { return nil }
        if let bytes = get(reference) { return bytes }
        return try await store.content(reference)
    }

    /// The file of a well-formed reference (64 lower-case hex digits; nothing else reaches the disk).
    func path(of reference: String) -> URL? {
        guard let hex = KeptContent.digest(of: reference) else { return nil }
        return directory.appendingPathComponent(String(hex.prefix(2))).appendingPathComponent(String(hex))
    }

    /// Writes a new file and syncs it, with plain system calls (Foundation's file writing costs
    /// several times as much for small files).
    private static func writeSynced(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        var failed = false
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    return
                }
                offset += written
            }
        }
        if !failed, fsync(descriptor) != 0 { failed = true }
        close(descriptor)
        if failed {
            unlink(path)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
