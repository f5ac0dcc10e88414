/// A file attached to an outgoing message, or embedded (inline, referenced as `cid:`) when it
/// has a content ID.
public struct OutgoingAttachment: Sendable, Hashable {
    /// The file name shown to the recipient; non-ASCII names are sent per RFC 2231.
    public var filename: String
    /// The media type, e.g. `application/pdf`.
    public var contentType: String
    /// The content.
    public var bytes: [UInt8]
    /// For inline parts (an image in the HTML): the Content-ID without angle brackets.
    public var contentID: String?

    /// Creates an attachment.
    public init(filename: String, contentType: String, bytes: [UInt8], contentID: String? = nil) {
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
        self.contentID = contentID
    }
}
