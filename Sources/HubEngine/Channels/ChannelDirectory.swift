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

    /// The active accounts a message to `handle` can go out through, by id: those of the handle's
    /// kind, and for a provider-scoped id (a PSID, an openid) only those of its scope.
    public func accounts(reaching handle: Handle) -> [ChannelAccountConfig] {
        accounts.values.filter { account in
            account.isActive && account.kind.handleKind == handle.kind && (handle.scope.isEmpty || handle.scope == account.identityScope)
        }.sorted { $0.id < $1.id }
    }
}
