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
    /// Content received with a message (an e-mail's original, its attachments) up to this size
    /// is committed in the database with the message, in its group commit; larger content goes
    /// to the blob files, synced before the message is committed.
    public var maximumInlineContentBytes: Int

    public init(
        defaultRegion: String? = nil, maximumTextLength: Int = 65_536, maximumAttachments: Int = 20, maximumIngestBatch: Int = 256,
        blobDirectory: String? = nil, maximumAttachmentBytes: Int = 25 << 20, maximumInlineContentBytes: Int = 256 << 10
    ) {
        self.maximumInlineContentBytes = maximumInlineContentBytes
        self.blobDirectory = blobDirectory
        self.maximumAttachmentBytes = maximumAttachmentBytes
        self.defaultRegion = defaultRegion
        self.maximumTextLength = maximumTextLength
        self.maximumAttachments = maximumAttachments
        self.maximumIngestBatch = maximumIngestBatch
    }
}
