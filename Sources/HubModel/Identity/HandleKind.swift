/// What a handle's address is: a phone number, an e-mail address, or a provider's user id.
public enum HandleKind: String, Sendable, Hashable, Codable, CaseIterable {
    case phone
    case email
    /// WeChat Official Account `openid` (scoped to one app id).
    case wechat
    /// WeCom `external_userid` (scoped to one corp).
    case wecom
    /// Messenger page-scoped id (PSID).
    case messenger
    /// Instagram-scoped id (IGSID).
    case instagram
    /// Telegram user id (global across bots).
    case telegram
    /// A web-chat visitor id.
    case webchat
    /// An integrator's own user id on an `api` channel account.
    case api
    /// A SIP URI that is not a phone number.
    case sip

    /// Whether an address of this kind means the same person everywhere. Provider ids that are
    /// issued per app, page or integration are not: they need a scope.
    public var isGlobal: Bool {
        switch self {
        case .phone, .email, .telegram, .sip: true
        case .wechat, .wecom, .messenger, .instagram, .webchat, .api: false
        }
    }
}
