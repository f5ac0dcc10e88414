import Foundation

/// Settings of the engine that are not per channel account.
public struct EngineConfiguration: Sendable {
    /// ISO 3166 region for phone numbers written in national form, when the account has none.
    public var defaultRegion: String?
    /// Longest message text accepted, in characters.
    public var maximumTextLength: Int
    /// Most attachments on one message.
    public var maximumAttachments: Int
    /// Most commands written in one group-commit transaction.
    public var maximumIngestBatch: Int
    /// Where customers' attachments are kept (content-addressed files); nil keeps them in a
    /// temporary directory (tests).
    public var blobDirectory: String?
    /// The largest attachment the hub downloads and keeps; larger ones are refused.
    public var maximumAttachmentBytes: Int

    public init(
        defaultRegion: String? = nil, maximumTextLength: Int = 65_536, maximumAttachments: Int = 20, maximumIngestBatch: Int = 256,
        blobDirectory: String? = nil, maximumAttachmentBytes: Int = 25 << 20
    ) {
        self.blobDirectory = blobDirectory
        self.maximumAttachmentBytes = maximumAttachmentBytes
        self.defaultRegion = defaultRegion
        self.maximumTextLength = maximumTextLength
        self.maximumAttachments = maximumAttachments
        self.maximumIngestBatch = maximumIngestBatch
    }
}
