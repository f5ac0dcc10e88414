import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One load-generating connection: a blocking HTTP/1.1 keep-alive socket on its own thread,
/// doing as little as it can (no framework between it and the socket), so that on a small machine
/// the measurement is of the hub, not of the client. The same shape as `wrk`'s connections.
public final class KeepAliveSender: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let host: String
    let port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Sends requests for the indices `next` hands out until it passes `end`; returns each
    /// request's latency in milliseconds. With `due`, a request is not sent before its time and
    /// its latency counts from that time (open loop: a slow server cannot slow the load down and
    /// hide its own delay).
    public func run(
        next: TicketDispenser, end: Int, due: ((Int) -> ContinuousClock.Instant)? = nil, accepted: Int = 201, request: (Int) -> [UInt8]
    ) throws -> [Double] {
        let socket = try connect()
        defer { close(socket) }
        var latencies: [Double] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let index = next.take()
            guard index < end else { return latencies }
            let bytes = request(index)
            var start = ContinuousClock.now
            if let due = due?(index) {
                let wait = start.duration(to: due)
                if wait > .zero {
                    let (seconds, attoseconds) = wait.components
                    var time = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                    nanosleep(&time, nil)
                }
                start = due
            }
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    guard written > 0 else { throw Failure(description: "send failed: errno \(errno)") }
                    offset += written
                }
            }
            let status = try readResponse(socket, &buffer)
            let elapsed = ContinuousClock.now - start
            guard status == accepted else { throw Failure(description: "message \(index) got HTTP \(status)") }
            latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
    }

    private func connect() throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var noDelay: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw Failure(description: "connect to \(host):\(port): errno \(errno)")
        }
        return socket
    }

    /// Reads one response (head and Content-Length body) and returns its status code.
    private func readResponse(_ socket: Int32, _ buffer: inout [UInt8]) throws -> Int {
        var received = 0
        var headEnd: Int?
        var bodyLength = 0
        while true {
            if received == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let count = buffer.withUnsafeMutableBytes { raw in recv(socket, raw.baseAddress! + received, raw.count - received, 0) }
            guard count > 0 else { throw Failure(description: "connection closed by the hub") }
            received += count
            if headEnd == nil, let end = Self.find([13, 10, 13, 10], in: buffer, upTo: received) {
                headEnd = end + 4
                let head = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headEnd, received >= headEnd + bodyLength {
                // "HTTP/1.1 201 Created"
                let status = buffer[9..<12].reduce(0) { $0 * 10 + Int($1 - 48) }
                return status
            }
        }
    }

    private static func find(_ pattern: [UInt8], in buffer: [UInt8], upTo end: Int) -> Int? {
        guard end >= pattern.count else { return nil }
        for start in 0...(end - pattern.count) where buffer[start] == pattern[0] {
            if buffer[start..<(start + pattern.count)].elementsEqual(pattern) { return start }
        }
        return nil
    }
}

extension KeepAliveSender {
    /// Sends the requests numbered `range` from `connections` keep-alive connections, each on its
    /// own thread; returns every latency in milliseconds (see `run`).
    public static func load(
        connections: Int, port: UInt16, range: Range<Int>, due: (@Sendable (Int) -> ContinuousClock.Instant)? = nil, accepted: Int = 201,
        request: @escaping @Sendable (Int) -> [UInt8]
    ) async throws -> [Double] {
        let next = TicketDispenser(first: range.lowerBound)
        let results = Mutex<[Result<[Double], any Error>]>([])
        let senders = (0..<connections).map { _ in KeepAliveSender(host: "127.0.0.1", port: port) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for sender in senders {
                group.enter()
                Thread.detachNewThread {
                    let result = Result { try sender.run(next: next, end: range.upperBound, due: due, accepted: accepted, request: request) }
                    results.withLock { $0.append(result) }
                    group.leave()
                }
            }
            group.notify(queue: .global()) { continuation.resume() }
        }
        return try results.withLock { $0 }.flatMap { try $0.get() }
    }

    /// A `POST /webhooks/bench` request with the `api` channel's inbound token.
    public static func webhook(_ body: String) -> [UInt8] {
        post("/webhooks/bench", headers: ["Authorization: Bearer bench-token", "Content-Type: application/json"], body: Array(body.utf8))
    }

    /// An HTTP/1.1 POST to `target` with `headers` ("Name: value") and `body`.
    public static func post(_ target: String, headers: [String], body: [UInt8]) -> [UInt8] {
        var head = "POST \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for header in headers { head += header + "\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }
}
