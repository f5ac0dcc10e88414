import HubConfig
import HubModel

/// The configured channel accounts and their adapters, by account id.
public struct ChannelDirectory: Sendable {
    public let accounts: [String: ChannelAccountConfig]
    public let adapters: [String: any ChannelAdapter]

    public init(accounts: [ChannelAccountConfig], adapters: [any ChannelAdapter]) {
        self.accounts = Dictionary(accounts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.adapters = Dictionary(adapters.map { ($0.accountID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func account(_ id: String) -> ChannelAccountConfig? { accounts[id] }
    public func adapter(_ id: String) -> (any ChannelAdapter)? { adapters[id] }
}
