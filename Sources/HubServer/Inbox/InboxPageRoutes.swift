import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The agents' web page, `/inbox`: three files shipped in the package (no CDN, no build step),
/// read once at start. The page talks to the hub through the agent WebSocket and REST.
enum InboxPageRoutes {
    struct Asset: Sendable {
        var contentType: String
        var bytes: ByteBuffer
    }

    static func add(to router: Router<HubRequestContext>, logger: Logger) {
        let assets = load(logger: logger)
        let serve: @Sendable (String) -> Response = { name in
            guard let asset = assets[name] else {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "the inbox page is missing from this build (\(name))")))
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: asset.contentType, .cacheControl: "no-cache",
                    HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                    HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
                ],
                body: .init(byteBuffer: asset.bytes))
        }
        router.get("inbox") { _, _ in serve("inbox.html") }
        router.get("inbox/inbox.js") { _, _ in serve("inbox.js") }
        router.get("inbox/inbox.css") { _, _ in serve("inbox.css") }
    }

    static func load(logger: Logger) -> [String: Asset] {
        var assets: [String: Asset] = [:]
        let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
        for name in ["inbox.html", "inbox.js", "inbox.css"] {
            let parts = name.split(separator: ".")
            guard let url = Bundle.module.url(forResource: String(parts[0]), withExtension: String(parts[1]), subdirectory: "Web"),
                let data = try? Data(contentsOf: url)
            else {
                logger.error("inbox page file missing", metadata: ["file": "\(name)"])
                continue
            }
            assets[name] = Asset(contentType: types[String(parts[1])]!, bytes: ByteBuffer(bytes: data))
        }
        return assets
    }
}
