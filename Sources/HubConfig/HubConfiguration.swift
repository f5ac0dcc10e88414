import Foundation
import HubModel

/// Everything the hub is configured with from files: channel accounts and routing rules.
public struct HubConfiguration: Sendable {
    public var channels: [ChannelAccountConfig]
    public var routing: RoutingRules

    public init(channels: [ChannelAccountConfig], routing: RoutingRules) {
        self.channels = channels
        self.routing = routing
    }

    /// The channel account with `id`.
    public func channel(_ id: String) -> ChannelAccountConfig? { channels.first { $0.id == id } }
}

/// The outcome of loading configuration: the configuration when there were no errors, and every
/// diagnostic (errors and warnings) in file order.
public struct ConfigLoadResult: Sendable {
    public var configuration: HubConfiguration?
    public var diagnostics: [ConfigDiagnostic]

    public var errors: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .warning } }
}
