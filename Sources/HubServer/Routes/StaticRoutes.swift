import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Files shipped in the package and served as they are, read once at start: the agents' web page
/// (`/inbox`: plain HTML, CSS and JavaScript, no CDN, no build step), the managers' dashboard
/// (`/dashboard`, the same way) and the OpenAPI document
/// (`/openapi.yaml`).
enum StaticRoutes {
    struct Asset: Sendable {
        var contentType: String
        var bytes: ByteBuffer
    }

    /// Path → (bundle folder, file name, content type).
    static let files: [(path: String, folder: String, name: String, type: String)] = [
        ("inbox", "Web", "inbox.html", "text/html; charset=utf-8"),
        ("inbox/inbox.js", "Web", "inbox.js", "text/javascript; charset=utf-8"),
        ("inbox/inbox.css", "Web", "inbox.css", "text/css; charset=utf-8"),
        ("dashboard", "Web", "dashboard.html", "text/html; charset=utf-8"),
        ("dashboard/dashboard.js", "Web", "dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard/dashboard.css", "Web", "dashboard.css", "text/css; charset=utf-8"),
        ("openapi.yaml", "OpenAPI", "openapi.yaml", "application/yaml; charset=utf-8"),
    ]

    static func add(to router: Router<HubRequestContext>, logger: Logger) {
        for file in files {
            let asset = load(folder: file.folder, name: file.name, type: file.type, logger: logger)
            router.get(RouterPath(file.path)) { _, _ in response(asset, name: file.name) }
        }
    }

    static func response(_ asset: Asset?, name: String) -> Response {
        guard let asset else {
            return Response(
                status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "\(name) is missing from this build")))
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

    static func load(folder: String, name: String, type: String, logger: Logger) -> Asset? {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard let url = Bundle.module.url(forResource: parts[0], withExtension: parts[1], subdirectory: folder),
            let data = try? Data(contentsOf: url)
        else {
            logger.error("a packaged file is missing", metadata: ["file": "\(folder)/\(name)"])
            return nil
        }
        return Asset(contentType: type, bytes: ByteBuffer(bytes: data))
    }
}
