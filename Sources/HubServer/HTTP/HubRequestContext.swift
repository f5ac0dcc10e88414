import HubEngine
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every route. Bodies are collected explicitly, with the configured
/// limit, so the framework's own limit is only a backstop.
public struct HubRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<HubRequestContext>
    public let remoteAddress: SocketAddress?
    /// Who is asking, once `AuthMiddleware` has checked their token.
    public var viewer: Viewer?
    /// Why a WebSocket upgrade carried no usable token: the socket opens and says so, since a
    /// refused upgrade could only answer a bare 400.
    var authFailure: APIError?

    public init(source: Source) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { 64 * 1024 * 1024 }

    /// The viewer; `unauthorized` on a route outside `AuthMiddleware` (a programming error).
    public func requireViewer() throws -> Viewer {
        guard let viewer else { throw APIError(.unauthorized, code: "unauthorized", message: "log in first") }
        return viewer
    }
}
