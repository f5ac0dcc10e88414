/// A file carried by a message: a `multipart/mixed` attachment, an inline image referenced by
/// `cid:`, or a forwarded message (`message/rfc822`, named `<subject>.eml`).
public struct MailAttachment: Sendable, Hashable {
    /// The file name from Content-Disposition `filename` (RFC 2231 continuations and charsets,
    /// RFC 2047 words inside quotes) or Content-Type `name`, with path separators removed.
    public var filename: String?
    /// The lower-cased `type/subtype`.
    public var contentType: String
    /// The Content-ID without its angle brackets, which `cid:` URLs in the HTML body refer to.
    public var contentID: String?
    /// Whether the part is meant to be shown inline (an image in the HTML body) rather than offered as a download.
    public var isInline: Bool
    /// The decoded content.
    public var bytes: [UInt8]

    /// Creates an attachment.
    public init(filename: String?, contentType: String, contentID: String?, isInline: Bool, bytes: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.contentID = contentID
        self.isInline = isInline
        self.bytes = bytes
    }

    /// A file name made safe to store: RFC 2047 words decoded, directories (`/`, `\`) and
    /// control characters removed, blanks trimmed, leading dots dropped; nil if nothing is left.
    static func sanitizedFilename(_ raw: String?) -> String? {
        guard var name = raw else { return nil }
        name = EncodedWords.decode(name)
        if let separator = name.lastIndex(where: { $0 == "/" || $0 == "\\" }) {
            name = String(name[name.index(after: separator)...])
        }
        name = String(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
        name = name.trimmingMailWhitespace()
        while name.hasPrefix(".") { name.removeFirst() }
        if name.utf8.count > 255 { name = String(name.prefix(200)) }
        return name.isEmpty ? nil : name
    }
}
