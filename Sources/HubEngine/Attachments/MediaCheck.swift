import Foundation

/// Which attachments the hub keeps: a size limit, the kinds of content a contact center
/// receives, and a look at the first bytes, so that a file is what it claims to be (an
/// executable sent as "image/jpeg" is refused).
public enum MediaCheck {
    /// Content types accepted, by prefix.
    static let acceptedPrefixes = [
        "image/", "audio/", "video/", "text/plain", "text/csv", "application/pdf", "application/msword", "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.", "application/zip", "application/octet-stream",
    ]

    /// The type the first bytes show, when they show one.
    static func sniff(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<(offset + prefix.count)]) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if starts(Array("GIF8".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("%PDF".utf8)) { return "application/pdf" }
        if starts(Array("#!AMR".utf8)) { return "audio/amr" }
        if starts(Array("OggS".utf8)) { return "audio/ogg" }
        if starts(Array("ftyp".utf8), at: 4) { return "video/mp4" }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "application/zip" }
        if starts([0x4D, 0x5A]) { return "application/x-msdownload" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "application/x-executable" }
        return nil
    }

    /// The type to keep the content under, or why it is refused.
    public static func check(_ bytes: [UInt8], declared: String?, maximumBytes: Int) -> Result<String, Refusal> {
        guard bytes.count <= maximumBytes else { return .failure(Refusal("larger than \(maximumBytes) bytes")) }
        guard !bytes.isEmpty else { return .failure(Refusal("empty")) }
        let declaredType = declared.map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() }
        let sniffed = sniff(bytes)
        if let sniffed, sniffed.hasPrefix("application/x-") { return .failure(Refusal("an executable (\(sniffed))")) }
        let type = sniffed ?? declaredType ?? "application/octet-stream"
        guard acceptedPrefixes.contains(where: { type.hasPrefix($0) }) else { return .failure(Refusal("type \(type) is not accepted")) }
        // The common picture formats all start with a signature: one that does not is not one.
        if let declaredType, ["image/jpeg", "image/png", "image/gif", "image/webp"].contains(declaredType), sniffed == nil {
            return .failure(Refusal("declared \(declaredType) but the content is not one"))
        }
        // A declared image, audio or video must not be something else (Office files are zips).
        if let declaredType, let sniffed, let family = declaredType.split(separator: "/").first.map(String.init),
            ["image", "audio", "video"].contains(family)
        {
            // MP4 and Ogg are containers for sound and pictures alike: the declared type says which.
            if ["video/mp4", "audio/ogg"].contains(sniffed), family != "image" { return .success(declaredType) }
            guard sniffed.hasPrefix(family + "/") else { return .failure(Refusal("declared \(declaredType) but the content is \(sniffed)")) }
            // A picture is what its signature says; a sound keeps its declared subtype (audio/mpeg).
            return .success(family == "image" ? sniffed : declaredType)
        }
        return .success(type)
    }

    /// Why an attachment is not kept.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
