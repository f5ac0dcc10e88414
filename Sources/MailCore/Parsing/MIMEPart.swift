/// One MIME entity as read from bytes: its header fields, parsed Content-Type and
/// Content-Disposition, and its still-encoded body.
struct MIMEPart {
    var headers: MailHeaders
    var contentType: MIMEFieldValue
    var disposition: MIMEFieldValue?
    var transferEncoding: String?
    var body: ArraySlice<UInt8>

    /// The Content-ID without angle brackets.
    var contentID: String? {
        guard let raw = headers["Content-ID"] else { return nil }
        let id = Self.stripAngles(raw)
        return id.isEmpty ? nil : id
    }

    /// An id without blanks around it and without its angle brackets.
    static func stripAngles(_ raw: String) -> String {
        var id = raw.trimmingMailWhitespace()
        if id.hasPrefix("<") { id.removeFirst() }
        if id.hasSuffix(">") { id.removeLast() }
        return id.trimmingMailWhitespace()
    }

    /// The file name from the disposition's `filename` or the type's `name`, made safe.
    var filename: String? {
        MailAttachment.sanitizedFilename(disposition?["filename"] ?? contentType["name"])
    }
}
