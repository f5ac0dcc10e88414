import AsyncHTTPClient
import Foundation
import HubConfig
import HubModel
import Logging

/// The channel kinds this build ships: their configuration schemas, and how to make an adapter
/// for a configured account.
public enum ChannelCatalog {
    /// Every supported kind's schema, for the config loader.
    public static let schemas: [ChannelKindSchema] = [
        APIChannelOptions.schema, TwilioSMSOptions.schema, WeChatOptions.schema, WeComOptions.schema, MetaOptions.messengerSchema, MetaOptions.instagramSchema,
        TelegramOptions.schema, EmailOptions.schema, VoiceTrunkOptions.schema,
    ]

    /// The adapter for one account. `loadBlob` reads content kept in the hub's blob store (an
    /// e-mail reply's attachments).
    public static func adapter(
        for account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, rejections: WebhookRejections = WebhookRejections(),
        loadBlob: @escaping @Sendable (String) async throws -> [UInt8]? = { _ in nil }
    ) -> (any ChannelAdapter)? {
        var logger = logger
        logger[metadataKey: "component"] = "channel"
        switch account.kind {
        case .api: return APIChannelAdapter(account: account, httpClient: httpClient, logger: logger, rejections: rejections)
        case .sms: return TwilioSMSAdapter(account: account, httpClient: httpClient, logger: logger, rejections: rejections)
        case .wechat: return WeChatAdapter(account: account, httpClient: httpClient, logger: logger, rejections: rejections)
        case .messenger, .instagram: return MetaAdapter(account: account, httpClient: httpClient, logger: logger, rejections: rejections)
        case .telegram: return TelegramAdapter(account: account, httpClient: httpClient, logger: logger, rejections: rejections)
        case .wecom: return WeComAdapter(account: account, httpClient: httpClient, logger: logger, rejections: rejections)
        case .email: return EmailAdapter(account: account, httpClient: httpClient, logger: logger, loadBlob: loadBlob)
        case .voice, .webchat: return nil
        }
    }
}
