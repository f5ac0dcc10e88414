/// The kinds of channel the hub speaks. Channel specifics stay inside adapters; the model knows
/// only the kind and normalized addresses.
public enum ChannelKind: String, Sendable, Hashable, Codable, CaseIterable, CodingKeyRepresentable {
    case voice
    case sms
    case email
    case wechat
    case wecom
    case messenger
    case instagram
    case telegram
    case webchat
    case api

    /// How work on this channel is handled by an agent: a call, a chat, or a mail.
    public var medium: ChannelMedium {
        switch self {
        case .voice: .voice
        case .email: .email
        case .sms, .wechat, .wecom, .messenger, .instagram, .telegram, .webchat, .api: .messaging
        }
    }

    /// The longest text the provider accepts in one outbound message (in characters), where it
    /// has a limit: SMS 1,600 (Twilio's Messages API, sent as up to ten concatenated segments),
    /// WeChat 2,048, Messenger 2,000, Instagram 1,000, Telegram 4,096. A longer reply is refused
    /// when the agent sends it, not after it failed at the provider.
    public var maximumOutboundTextLength: Int? {
        switch self {
        case .sms: 1_600
        case .wechat, .wecom: 2_048
        case .messenger: 2_000
        case .instagram: 1_000
        case .telegram: 4_096
        case .voice, .email, .webchat, .api: nil
        }
    }

    /// How long after the customer's last message the provider lets the business answer freely:
    /// WeChat's customer-service messages 48 hours, Messenger's and Instagram's standard window 24
    /// hours. Nil where there is no such rule.
    public var replyWindow: Duration? {
        switch self {
        case .wechat, .wecom: .seconds(48 * 3600)
        case .messenger, .instagram: .seconds(24 * 3600)
        case .voice, .sms, .email, .telegram, .webchat, .api: nil
        }
    }

    /// How many messages the business may send per customer message within the window: WeChat
    /// allows 5 (its current customer-service rules; WeCom 微信客服 the same). Nil: no count.
    public var repliesPerCustomerMessage: Int? {
        switch self {
        case .wechat, .wecom: 5
        default: nil
        }
    }

    /// After a customer's action that is not a message (a WeChat menu click), how long and how
    /// many messages the business may send: WeChat grants 3 within a minute.
    public var actionWindow: (duration: Duration, replies: Int)? {
        switch self {
        case .wechat: (.seconds(60), 3)
        default: nil
        }
    }

    /// The kind of handle that identifies a customer on this channel. Voice and SMS share phone
    /// handles, so a customer who calls and later texts from one number is one customer.
    /// Whether replies carry references to the messages they answer (e-mail's In-Reply-To and
    /// References), which the outbox then fills from the conversation.
    public var threadsReplies: Bool { self == .email }

    public var handleKind: HandleKind {
        switch self {
        case .voice, .sms: .phone
        case .email: .email
        case .wechat: .wechat
        case .wecom: .wecom
        case .messenger: .messenger
        case .instagram: .instagram
        case .telegram: .telegram
        case .webchat: .webchat
        case .api: .api
        }
    }
}

/// The three ways of working that capacity and service levels are counted in.
public enum ChannelMedium: String, Sendable, Hashable, Codable, CaseIterable, CodingKeyRepresentable {
    case voice
    case messaging
    case email
}
