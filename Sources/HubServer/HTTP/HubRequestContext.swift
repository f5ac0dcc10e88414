import Hummingbird

/// The request context of every route. Bodies are collected explicitly, with the configured
/// limit, so the framework's own limit is only a backstop.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
