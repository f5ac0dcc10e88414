import NIOCore
@testable import SIPCore
import Synchronization
import Testing

/// The transport's inbound queue: arrival order from several producers, the buffer's limit, the
/// end (finish and cancellation), and a consumer on an actor.
@Suite("SIP inbound stream")
struct SIPInboundStreamTests {
    static let peer = SIPPeer(transport: .udp, address: try! SocketAddress(ipAddress: "127.0.0.1", port: 5060))

    /// Item `index` of producer `producer`: a malformed-request marker whose reason carries both.
    static func item(_ producer: Int, _ index: Int) -> SIPInbound {
        .malformed(SIPParseError("\(producer):\(index)"), from: peer)
    }

    static func label(_ item: SIPInbound) -> String {
        switch item {
        case .malformed(let error, _): error.reason
        case .message(let message, _): message.callID ?? "?"
        }
    }

    /// Collects a stream on an actor, as the SIP service does.
    actor Consumer {
        var seen: [String] = []
        func drain(_ stream: SIPInboundStream) async -> [String] {
            for await item in stream { seen.append(SIPInboundStreamTests.label(item)) }
            return seen
        }
    }

    @Test("four producers on other threads: every item, each producer's in its order, then the end")
    func producersInOrder() async throws {
        let stream = SIPInboundStream(limit: 100_000)
        let consumer = Consumer()
        let consuming = Task { await consumer.drain(stream) }
        let perProducer = 5_000
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<4 {
                group.addTask {
                    for index in 0..<perProducer {
                        #expect(stream.queue.yield(Self.item(producer, index)) == .enqueued)
                        if index % 500 == 0 { await Task.yield() }
                    }
                }
            }
        }
        stream.queue.finish()
        let seen = await consuming.value
        #expect(seen.count == 4 * perProducer)
        var next = [Int](repeating: 0, count: 4)
        for label in seen {
            let parts = label.split(separator: ":").compactMap { Int($0) }
            try #require(parts.count == 2)
            #expect(parts[1] == next[parts[0]], "producer \(parts[0]) out of order")
            next[parts[0]] = parts[1] + 1
        }
        #expect(next == [perProducer, perProducer, perProducer, perProducer])
        #expect(stream.queue.yield(Self.item(9, 0)) == .terminated)
    }

    @Test("at most the limit waits: one more is dropped; once taken, room again; what waits at the end is still handed out")
    func limitAndFinish() async {
        let stream = SIPInboundStream(limit: 3)
        for index in 0..<3 { #expect(stream.queue.yield(Self.item(0, index)) == .enqueued) }
        #expect(stream.queue.yield(Self.item(0, 3)) == .dropped)
        var iterator = stream.makeAsyncIterator()
        let first = await iterator.next()
        #expect(first.map(Self.label) == "0:0")
        // All three were taken at once: the queue has room for three more.
        for index in 4..<7 { #expect(stream.queue.yield(Self.item(0, index)) == .enqueued) }
        #expect(stream.queue.yield(Self.item(0, 7)) == .dropped)
        stream.queue.finish()
        #expect(stream.queue.yield(Self.item(0, 8)) == .terminated)
        var rest: [String] = []
        while let item = await iterator.next() { rest.append(Self.label(item)) }
        #expect(rest == ["0:1", "0:2", "0:4", "0:5", "0:6"])
        #expect(await iterator.next() == nil)
    }

    @Test("a consumer waiting with nothing to take is woken by the next item, and by the end")
    func waitingConsumer() async {
        let stream = SIPInboundStream(limit: 10)
        let consumer = Consumer()
        let consuming = Task { await consumer.drain(stream) }
        // Give the consumer time to wait; the item must still reach it.
        try? await Task.sleep(for: .milliseconds(50))
        #expect(stream.queue.yield(Self.item(1, 0)) == .enqueued)
        try? await Task.sleep(for: .milliseconds(50))
        #expect(stream.queue.yield(Self.item(1, 1)) == .enqueued)
        stream.queue.finish()
        #expect(await consuming.value == ["1:0", "1:1"])
    }

    @Test("cancelling the consumer ends its iteration, waiting or not, and the stream with it")
    func cancellation() async {
        let stream = SIPInboundStream(limit: 10)
        let consumer = Consumer()
        _ = stream.queue.yield(Self.item(2, 0))
        let consuming = Task { await consumer.drain(stream) }
        try? await Task.sleep(for: .milliseconds(50))
        consuming.cancel()
        #expect(await consuming.value == ["2:0"])
        #expect(stream.queue.yield(Self.item(2, 1)) == .terminated)

        // Cancelled before it ever waits.
        let other = SIPInboundStream(limit: 10)
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            var iterator = other.makeAsyncIterator()
            return await iterator.next()
        }
        #expect(await cancelled.value == nil)
    }
}

@Suite("SIP peer")
struct SIPPeerTests {
    @Test("a peer's IP text is NIO's: IPv4 addresses written from their bytes (every octet width, random ones), IPv6 through NIO")
    func ipText() throws {
        var addresses = ["0.0.0.0", "255.255.255.255", "127.0.0.1", "10.0.100.9", "192.168.1.10", "1.22.133.4"]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<3_000 { addresses.append((0..<4).map { _ in String(Int.random(in: 0...255, using: &random)) }.joined(separator: ".")) }
        for text in addresses {
            let address = try SocketAddress(ipAddress: text, port: 5060)
            let peer = SIPPeer(transport: .udp, address: address)
            #expect(peer.ipAddress == text)
            #expect(peer.ipAddress == address.ipAddress)
        }
        for text in ["::1", "2001:db8::5", "fe80::1:2:3:4"] {
            var peer = SIPPeer(transport: .tcp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5060), connection: 7)
            peer.address = try SocketAddress(ipAddress: text, port: 5061)
            #expect(peer.ipAddress == peer.address.ipAddress)
            #expect(peer.ipAddress == text)
        }
    }
}

