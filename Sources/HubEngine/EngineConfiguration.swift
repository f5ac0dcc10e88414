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

    public init(defaultRegion: String? = nil, maximumTextLength: Int = 65_536, maximumAttachments: Int = 20, maximumIngestBatch: Int = 256) {
        self.defaultRegion = defaultRegion
        self.maximumTextLength = maximumTextLength
        self.maximumAttachments = maximumAttachments
        self.maximumIngestBatch = maximumIngestBatch
    }
}
