import Foundation
import HTTPTypes
import HubModel
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A provider's HTTP endpoint for tests: a real HTTP server on a loopback port that records every
/// request and answers as the test scripts it.
public final class FakeProvider: Sendable {
    /// One request as the provider received it.
    public struct Received: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The body as JSON.
        public func json() throws -> JSONValue { try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(body)) }
    }

    /// What to answer.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        /// Wait this long before answering (a slow provider).
        public var delay: Duration
        /// A binary body, sent instead of `body` when set.
        public var bytes: [UInt8]?

        public init(status: Int, headers: [String: String] = [:], body: String = "", delay: Duration = .zero, bytes: [UInt8]? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.bytes = bytes
        }

        public static func ok(_ body: String = "{}") -> Reply { Reply(status: 200, headers: ["Content-Type": "application/json"], body: body) }
    }

    private let received = Mutex<[Received]>([])
    private let script: @Sendable (_ request: Received, _ index: Int) -> Reply

    /// - Parameter script: the answer to the `index`-th request (0-based).
    public init(script: @escaping @Sendable (_ request: Received, _ index: Int) -> Reply = { _, _ in .ok() }) {
        self.script = script
    }

    /// Every request so far, in arrival order.
    public var requests: [Received] { received.withLock { $0 } }

    /// Runs the server for the duration of `body`, which receives its base URL ("http://127.0.0.1:PORT").
    public func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: 16 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let entry = Received(
                method: request.method.rawValue, path: request.uri.path, headers: headers, body: Array(buffer.readableBytesView))
            let index = self.received.withLock { list in
                list.append(entry)
                return list.count - 1
            }
            let reply = self.script(entry, index)
            if reply.delay > .zero { try await Task.sleep(for: reply.delay) }
            var fields = HTTPFields()
            for (name, value) in reply.headers { fields[HTTPField.Name(name)!] = value }
            return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: reply.bytes.map { ByteBuffer(bytes: $0) } ?? ByteBuffer(string: reply.body)))
        }
        for path in ["/", "**"] {
            router.on(RouterPath(path), method: .post, use: handler)
            router.on(RouterPath(path), method: .get, use: handler)
        }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "fake-provider")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        return try await withRunningServices([app], logger: logger) {
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            return try await body("http://127.0.0.1:\(port)")
        }
    }
}

/// The failure of one delivery attempt against a provider (nil when it succeeded), for tests of
/// how adapters map providers' errors.
public func deliveryFailure(_ attempt: () async throws(DeliveryFailure) -> Void) async -> DeliveryFailure? {
    do throws(DeliveryFailure) {
        try await attempt()
        return nil
    } catch {
        return error
    }
}
