import Foundation
import HubTestSupport
import NIOCore
import NIOPosix
@testable import SIPCore
import Synchronization
import Testing

/// The transport against a real peer: SIPp (Debian package `sip-tester`) sends over UDP and TCP;
/// a small element answers through `SIPRequestTriage` and with 200 to OPTIONS.
@Suite("SIP transport with SIPp", .serialized)
struct SIPTransportTests {
    static let sipp = ["/usr/bin/sipp", "/usr/local/bin/sipp"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// OPTIONS → 200; an unknown method → 501; a malformed request (Max-Forwards not a number)
    /// → 400; a CRLF keep-alive on the way (TCP).
    static let scenario = """
        <?xml version="1.0" encoding="ISO-8859-1" ?>
        <scenario name="keep-alive, unknown method, malformed request">
          <send retrans="500"><![CDATA[
        OPTIONS sip:hub@[remote_ip]:[remote_port] SIP/2.0
        Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
        From: <sip:probe@[local_ip]:[local_port]>;tag=[pid]probe[call_number]
        To: <sip:hub@[remote_ip]:[remote_port]>
        Call-ID: [call_id]
        CSeq: 1 OPTIONS
        Max-Forwards: 70
        Content-Length: 0

        ]]></send>
          <recv response="200" />
          <send retrans="500"><![CDATA[
        PUBLISH sip:hub@[remote_ip]:[remote_port] SIP/2.0
        Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
        From: <sip:probe@[local_ip]:[local_port]>;tag=[pid]probe[call_number]
        To: <sip:hub@[remote_ip]:[remote_port]>
        Call-ID: [call_id]
        CSeq: 2 PUBLISH
        Max-Forwards: 70
        Content-Length: 0

        ]]></send>
          <recv response="501" />
          <send retrans="500"><![CDATA[
        MESSAGE sip:hub@[remote_ip]:[remote_port] SIP/2.0
        Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
        From: <sip:probe@[local_ip]:[local_port]>;tag=[pid]probe[call_number]
        To: <sip:hub@[remote_ip]:[remote_port]>
        Call-ID: [call_id]
        CSeq: 3 MESSAGE
        Max-Forwards: seventy
        Content-Length: 0

        ]]></send>
          <recv response="400" />
        </scenario>
        """

    /// Serves `transport.inbound` until it ends: triage, OPTIONS answered, the rest 480.
    static func element(_ transport: SIPTransport, seen: @escaping @Sendable (SIPMessage) -> Void) -> Task<Void, Never> {
        Task {
            let triage = SIPRequestTriage(toTag: "hub")
            for await item in transport.inbound {
                switch item {
                case .message(let message, let peer):
                    seen(message)
                    switch triage.decide(message) {
                    case .respond(let response): try? transport.send(response, to: peer)
                    case .drop: break
                    case .proceed:
                        let status = message.method == "OPTIONS" ? 200 : 480
                        try? transport.send(message.response(status, toTag: "hub", headers: [("Allow", triage.allow)]), to: peer)
                    }
                case .malformed(let error, let peer):
                    if case .respond(let response) = triage.decide(error) { try? transport.send(response, to: peer) }
                }
            }
        }
    }

    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [SIPMessage] = []
        func add(_ message: SIPMessage) { lock.withLock { messages.append(message) } }
        var all: [SIPMessage] { lock.withLock { messages } }
    }

    @Test("SIPp over UDP and TCP: 200 to OPTIONS, 501 to an unknown method, 400 to a malformed request; Via stamped with received and rport",
        .enabled(if: sipp != nil), arguments: ["u1", "t1"])
    func sippExchange(_ transportMode: String) async throws {
        let transport = SIPTransport(configuration: SIPTransportConfiguration(host: "127.0.0.1", port: 0))
        let (udp, tcp) = try await transport.start()
        #expect(udp.port == tcp.port)
        let seen = Seen()
        let element = Self.element(transport) { seen.add($0) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sipp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scenario = directory.appendingPathComponent("scenario.xml")
        try Self.scenario.write(to: scenario, atomically: true, encoding: .utf8)

        let process = try ChildProcess(
            executable: try #require(Self.sipp),
            arguments: [
                "-sf", scenario.path, "-t", transportMode, "-i", "127.0.0.1", "-p", "0", "-m", "3", "-r", "10", "-timeout", "20s", "-timeout_error",
                "-trace_err", "-nostdin", "127.0.0.1:\(udp.port!)",
            ],
            workingDirectory: directory.path)
        // SIPp ends itself within its 20 s timeout; the minute is for a loaded machine.
        let status = try await process.waitForExit(timeout: .seconds(60))
        if status == nil { process.terminate() }
        let errors = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.hasSuffix("_errors.log") }
            .compactMap { try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) }.joined() ?? ""
        #expect(status == 0, "sipp failed: \(errors)")
        await transport.shutdown()
        await element.value

        let messages = seen.all
        // Three calls of three requests (retransmissions, if any, come on top).
        #expect(messages.filter { $0.method == "OPTIONS" }.count >= 3)
        #expect(messages.filter { $0.method == "PUBLISH" }.count >= 3)
        #expect(messages.filter { $0.method == "MESSAGE" }.count >= 3)
        // The top Via: rport filled with the source port (sipp sends from 127.0.0.1).
        let via = try #require(messages.first?.vias?.first)
        #expect(via.parameters[parameter: "rport"].flatMap(Int.init) != nil)
    }

    @Test("the UDP socket gets the receive buffer asked for, up to the system's cap; 0 keeps the system's default")
    func receiveBuffer() async throws {
        func sysctl(_ name: String) throws -> Int {
            try #require(Int(try String(contentsOfFile: "/proc/sys/net/core/\(name)", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let asked = 1 << 20
        let transport = SIPTransport(configuration: SIPTransportConfiguration(host: "127.0.0.1", port: 0, receiveBufferSize: asked))
        #expect(await transport.receiveBufferSize() == nil)
        _ = try await transport.start()
        #expect(await transport.receiveBufferSize() == min(asked, try sysctl("rmem_max")))
        await transport.shutdown()
        let plain = SIPTransport(configuration: SIPTransportConfiguration(host: "127.0.0.1", port: 0, receiveBufferSize: 0))
        _ = try await plain.start()
        #expect(await plain.receiveBufferSize() == (try sysctl("rmem_default")))
        await plain.shutdown()
    }

    @Test("a flood from one source is cut at the per-source rate; others still get through")
    func flood() async throws {
        let transport = SIPTransport(configuration: SIPTransportConfiguration(host: "127.0.0.1", port: 0, perSourceRate: 20))
        let start = ContinuousClock.now
        let received = try await Self.sendHundredOptions(to: transport)
        // The limit counts per second of the clock: a flood that took longer than a second (a
        // loaded machine) spans more windows, each admitting 20.
        let elapsed = ContinuousClock.now - start
        let windows = Int(elapsed.components.seconds) + 2
        #expect(received >= 20 && received <= min(100, 20 * windows), "\(received) of 100 admitted in \(elapsed)")
        #expect(transport.dropped.load(ordering: .relaxed) == 100 - received)
        if windows < 5 { #expect(received < 100, "nothing was cut") }
    }

    @Test("a trusted source (a configured trunk's address) is held to its own, higher rate, not the per-source one")
    func trustedSource() async throws {
        let transport = SIPTransport(
            configuration: SIPTransportConfiguration(host: "127.0.0.1", port: 0, perSourceRate: 20, isTrusted: { $0 == "127.0.0.1" }))
        let received = try await Self.sendHundredOptions(to: transport)
        #expect(received == 100)
        #expect(transport.dropped.load(ordering: .relaxed) == 0)
        // Trusted is not unlimited: a source address can be forged.
        let capped = SIPTransport(
            configuration: SIPTransportConfiguration(
                host: "127.0.0.1", port: 0, perSourceRate: 5, isTrusted: { $0 == "127.0.0.1" }, trustedSourceRate: 40))
        let start = ContinuousClock.now
        let admitted = try await Self.sendHundredOptions(to: capped)
        let windows = Int((ContinuousClock.now - start).components.seconds) + 2
        #expect(admitted >= 40 && admitted <= min(100, 40 * windows), "\(admitted) of 100 admitted")
        #expect(capped.dropped.load(ordering: .relaxed) == 100 - admitted)
        if windows < 3 { #expect(admitted < 100, "nothing was cut") }
        // Over TCP (not forgeable, never sent again) a trusted source has no limit.
        let overTCP = SIPTransport(
            configuration: SIPTransportConfiguration(
                host: "127.0.0.1", port: 0, perSourceRate: 5, isTrusted: { $0 == "127.0.0.1" }, trustedSourceRate: 40))
        #expect(try await Self.sendHundredOptions(to: overTCP, tcp: true) == 100)
        #expect(overTCP.dropped.load(ordering: .relaxed) == 0)
    }

    @Test("a burst of datagrams from three sockets, of any size up to the limit, is read whole, each with its own source; one byte over the limit is dropped")
    func burst() async throws {
        let limit = 3_000
        let transport = SIPTransport(configuration: SIPTransportConfiguration(host: "127.0.0.1", port: 0, maximumMessageSize: limit))
        let (udp, _) = try await transport.start()
        let seen = Seen()
        let element = Self.element(transport) { seen.add($0) }
        let senders = try (0..<3).map { _ in try UDPSendSocket.bound(host: "127.0.0.1", port: 0) }
        let ports = senders.map { sender in
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sender.channelDescriptor, $0, &length) } }
            return Int(UInt16(bigEndian: address.sin_port))
        }
        func datagram(_ index: Int, size: Int) -> [UInt8] {
            let head = "OPTIONS sip:hub@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKburst\(index);rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:hub@127.0.0.1>\r\nCall-ID: burst\(index)\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\n"
            // The body fills the datagram to `size` bytes (its Content-Length written to fit).
            var bodyLength = max(0, size - head.utf8.count - 24)
            while head.utf8.count + "Content-Length: \(bodyLength)\r\n\r\n".utf8.count + bodyLength < size { bodyLength += 1 }
            while bodyLength > 0, head.utf8.count + "Content-Length: \(bodyLength)\r\n\r\n".utf8.count + bodyLength > size { bodyLength -= 1 }
            return Array((head + "Content-Length: \(bodyLength)\r\n\r\n").utf8) + Array(repeating: UInt8(ascii: "0") + UInt8(index % 10), count: bodyLength)
        }
        var expected: [String: Int] = [:]
        var random = SystemRandomNumberGenerator()
        for index in 0..<60 {
            let size = index == 0 ? limit : Int.random(in: 300...limit, using: &random)
            let bytes = datagram(index, size: size)
            if case .sent = senders[index % 3].send(bytes, to: udp) { expected["burst\(index)"] = bytes.count }
        }
        // One byte over the limit: not taken in, and the ones after it still are.
        _ = senders[0].send(datagram(60, size: limit + 1), to: udp)
        _ = senders[1].send(datagram(61, size: 500), to: udp)
        expected["burst61"] = 500
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.all.count < expected.count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await transport.shutdown()
        await element.value
        let messages = seen.all
        #expect(messages.count == expected.count)
        #expect(!messages.contains { $0.callID == "burst60" })
        for message in messages {
            let callID = try #require(message.callID)
            let index = try #require(Int(callID.dropFirst("burst".count)))
            #expect(expected[callID] != nil, "\(callID)")
            // Whole: the body as sent, every byte the datagram's own.
            #expect(message.body == Array(repeating: UInt8(ascii: "0") + UInt8(index % 10), count: message.body.count), "\(callID)")
            #expect(message.headers.first("Content-Length") == "\(message.body.count)")
            // Each with its own source: the Via's rport stamped with the port it came from.
            #expect(message.topVia?.parameters.first { $0.name == "rport" }?.value == "\(ports[index % 3])", "\(callID)")
        }
    }

    /// Collects the datagrams a plain UDP socket receives, with their source addresses.
    final class Datagrams: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        private let lock = NSLock()
        private var received: [(SocketAddress, String)] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            lock.withLock { received.append((envelope.remoteAddress, String(buffer: envelope.data))) }
        }
        var all: [(SocketAddress, String)] { lock.withLock { received } }
        func wait(for count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while all.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        }
    }

    @Test("UDP sends from several tasks at once arrive whole and in each task's order, from the transport's address; a message that waits for the channel holds the ones after it; after shutdown a send throws")
    func sendsFromTheCaller() async throws {
        let transport = SIPTransport(configuration: SIPTransportConfiguration(host: "127.0.0.1", port: 0))
        let (udp, _) = try await transport.start()
        let datagrams = Datagrams()
        let receiver = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(datagrams) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let peer = SIPPeer(transport: .udp, address: try #require(receiver.localAddress))
        func message(_ sender: Int, _ index: Int) throws -> SIPMessage {
            try SIPParser().parse(
                sip("OPTIONS sip:phone@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:\(udp.port ?? 0);branch=z9hG4bK\(sender)x\(index)\nFrom: <sip:hub@h>;tag=1\nTo: <sip:phone@p>\nCall-ID: sender\(sender)\nCSeq: \(index + 1) OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n"),
                framing: .datagram)
        }
        func order(_ text: String) -> (sender: String, sequence: Int)? {
            guard let parsed = try? SIPParser().parse(Array(text.utf8), framing: .datagram), let callID = parsed.callID, let cseq = parsed.cseq else { return nil }
            return (callID, Int(cseq.number))
        }

        // One task: messages 40..<50 are taken by the channel as if the socket were full; those
        // sent while they wait follow them there; all arrive in the order sent.
        for index in 0..<120 {
            if index == 40 { transport.forcedThroughChannel.store(10, ordering: .relaxed) }
            try transport.send(try message(0, index), to: peer)
        }
        try await datagrams.wait(for: 120)
        #expect(datagrams.all.map { order($0.1)?.sequence ?? -1 } == Array(1...120))
        // (Forced sends not taken yet are those that found the channel busy and followed it.)
        let forcedLeft = transport.forcedThroughChannel.exchange(0, ordering: .relaxed)
        #expect(transport.sentThroughChannel.load(ordering: .relaxed) >= 10 - forcedLeft && forcedLeft < 10)
        #expect(datagrams.all.allSatisfy { $0.0 == udp }, "every message comes from the transport's bound address")

        // Four tasks at once, in rounds the receiver's buffer holds.
        for round in 0..<4 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 1...4 {
                    group.addTask {
                        for index in round * 50..<(round + 1) * 50 { try transport.send(try message(sender, index), to: peer) }
                    }
                }
                try await group.waitForAll()
            }
            try await datagrams.wait(for: 120 + 200 * (round + 1))
        }
        let received = datagrams.all.dropFirst(120)
        #expect(received.count == 800)
        for sender in 1...4 {
            let sequences = received.compactMap { order($0.1) }.filter { $0.sender == "sender\(sender)" }.map(\.sequence)
            #expect(sequences == Array(1...200), "sender \(sender)")
        }

        await transport.shutdown()
        #expect(throws: SIPTransportError.self) { try transport.send(try message(0, 999), to: peer) }
        try await receiver.close()
    }

    /// A raw UDP socket (or one TCP connection) sends 100 OPTIONS within a second; returns how
    /// many the element got.
    private static func sendHundredOptions(to transport: SIPTransport, tcp: Bool = false) async throws -> Int {
        let (udp, tcpAddress) = try await transport.start()
        let seen = Seen()
        let element = Self.element(transport) { seen.add($0) }
        let socket =
            tcp
            ? try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(to: tcpAddress).get()
            : try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        for index in 0..<100 {
            let text = sip("OPTIONS sip:hub@127.0.0.1 SIP/2.0\nVia: SIP/2.0/\(tcp ? "TCP" : "UDP") 127.0.0.1:9;branch=z9hG4bK\(index)\nFrom: <sip:a@b>;tag=1\nTo: <sip:hub@127.0.0.1>\nCall-ID: flood\(index)\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n")
            var buffer = socket.allocator.buffer(capacity: text.count)
            buffer.writeBytes(text)
            if tcp {
                try await socket.writeAndFlush(buffer)
            } else {
                try await socket.writeAndFlush(AddressedEnvelope(remoteAddress: udp, data: buffer))
            }
        }
        // Until every message is accounted for (taken in or dropped), at most 5 s.
        let deadline = ContinuousClock.now + .seconds(5)
        while seen.all.count + transport.dropped.load(ordering: .relaxed) < 100, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await socket.close()
        await transport.shutdown()
        await element.value
        return seen.all.count
    }
}
