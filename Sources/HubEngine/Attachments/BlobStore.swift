import Crypto
import Foundation

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
        let hex = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let folder = directory.appendingPathComponent(String(hex.prefix(2)))
        let target = folder.appendingPathComponent(hex)
        if FileManager.default.fileExists(atPath: target.path) { return "blob:sha256:" + hex }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(hex).\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(bytes)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        try Self.sync(temporary.path)
        if rename(temporary.path, target.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
        }
        try Self.sync(folder.path)
        return "blob:sha256:" + hex
    }

    /// The content of a reference, or nil when the hub has no such blob.
    public func get(_ reference: String) -> [UInt8]? {
        guard let url = path(of: reference) else { return nil }
        return FileManager.default.contents(atPath: url.path).map(Array.init)
    }

    /// The file of a well-formed reference (64 lower-case hex digits; nothing else reaches the disk).
    func path(of reference: String) -> URL? {
        guard reference.hasPrefix("blob:sha256:") else { return nil }
        let hex = reference.dropFirst("blob:sha256:".count)
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return directory.appendingPathComponent(String(hex.prefix(2))).appendingPathComponent(String(hex))
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
