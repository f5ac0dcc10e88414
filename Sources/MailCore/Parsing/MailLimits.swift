/// Bounds on the work `MailMessage.parse` does for one message, so hostile or broken mail costs
/// linear time and bounded memory.
public struct MailLimits: Sendable, Hashable {
    /// How deep multiparts (and `message/rfc822` parts) may nest; deeper parts are ignored.
    public var maximumDepth: Int
    /// How many MIME parts are read in the whole tree; later parts are ignored.
    public var maximumParts: Int
    /// How many bytes of one header section are kept; the rest is dropped.
    public var maximumHeaderBytes: Int
    /// How many header fields of one header section are kept; the rest are dropped.
    public var maximumHeaderCount: Int

    /// Creates limits; every value has a default suited to real-world mail.
    public init(
        maximumDepth: Int = 10, maximumParts: Int = 200,
        maximumHeaderBytes: Int = 256 * 1024, maximumHeaderCount: Int = 1000
    ) {
        self.maximumDepth = maximumDepth
        self.maximumParts = maximumParts
        self.maximumHeaderBytes = maximumHeaderBytes
        self.maximumHeaderCount = maximumHeaderCount
    }

    /// The defaults: depth 10, 200 parts, 256 KiB and 1000 fields per header section.
    public static let standard = MailLimits()
}
