import ArgumentParser
import Foundation
import MailCore
import NIOCore
import NIOPosix
import Synchronization

/// MailCore's SMTP listener with a delegate that accepts every mail and stores nothing: the
/// ceiling of the hub's own listener, measured by `scripts/bench-mail` between Postfix's
/// `smtp-sink` and the hub. Serves until SIGTERM or SIGINT, then prints what it received.
///
/// With `--send-to host:port` it is the other way round: MailCore's SMTP client (the hub's
/// outbound path) sends `--messages` mails to a relay such as `smtp-sink`, `--concurrency` at a
/// time, with sessions kept between messages or (`--no-reuse`) a connection per message, and
/// prints the rate.
@main
struct SMTPBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub-smtp-bench", abstract: "MailCore's SMTP listener storing nothing, for smtp-source to measure.")

    @Option(help: "Address to listen on (host:port).")
    var listen = "127.0.0.1:2526"

    @Option(help: "Send to this relay (host:port) instead of listening.")
    var sendTo: String?

    @Option(help: "Mails to send (with --send-to).")
    var messages = 2_000

    @Option(help: "Sends at once (with --send-to).")
    var concurrency = 8

    @Option(help: "Size of each mail in bytes (with --send-to).")
    var size = 4_096

    @Flag(inversion: .prefixedNo, help: "Keep sessions open between messages (with --send-to).")
    var reuse = true

    @Option(help: "Event loop threads of the listener (0: NIO's shared group, one per core; the hub uses 1).")
    var threads = 1

    /// Accepts every recipient and every mail; counts them.
    final class CountingMailbox: SMTPServerDelegate {
        let received = Atomic<Int>(0)
        let octets = Atomic<Int>(0)

        func checkRecipient(_ address: String, envelope: SMTPEnvelope) -> SMTPReply? { nil }

        func receive(_ message: [UInt8], envelope: SMTPEnvelope) async -> SMTPReply {
            received.add(1, ordering: .relaxed)
            octets.add(message.count, ordering: .relaxed)
            return .ok("discarded")
        }

        /// Answers at once, on the event loop (the async form costs a task and two thread hops).
        func receive(_ message: [UInt8], envelope: SMTPEnvelope, completion: @escaping @Sendable (SMTPReply) -> Void) {
            received.add(1, ordering: .relaxed)
            octets.add(message.count, ordering: .relaxed)
            completion(.ok("discarded"))
        }
    }

    func run() async throws {
        if let sendTo { return try await send(to: sendTo) }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen is host:port")
        }
        let mailbox = CountingMailbox()
        let group: any EventLoopGroup = threads > 0 ? MultiThreadedEventLoopGroup(numberOfThreads: threads) : MultiThreadedEventLoopGroup.singleton
        let server = SMTPServer(
            configuration: SMTPServerConfiguration(host: String(listen[..<colon]), port: port, hostname: "bench.test"), delegate: mailbox,
            group: group)
        let address = try await server.start()
        FileHandle.standardOutput.write(Data("smtp listening on \(address)\n".utf8))
        // Wait for SIGTERM or SIGINT, then stop.
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        for await _ in signals { break }
        sources.forEach { $0.cancel() }
        await server.shutdown()
        print("received \(mailbox.received.load(ordering: .relaxed)) mails, \(mailbox.octets.load(ordering: .relaxed)) octets")
    }

    final class SendCounts: Sendable {
        let next = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
    }

    /// Sends the mails through `SMTPClient` and prints the rate.
    func send(to relayAddress: String) async throws {
        guard let colon = relayAddress.lastIndex(of: ":"), let port = Int(relayAddress[relayAddress.index(after: colon)...]) else {
            throw ValidationError("--send-to is host:port")
        }
        let relay = SMTPRelay(host: String(relayAddress[..<colon]), port: port, security: .none, heloName: "bench.test")
        let client = SMTPClient(reuseSessions: reuse)
        let header = "From: bench@bench.test\r\nTo: sink@sink.test\r\nSubject: outbound\r\nMessage-ID: <%d@bench.test>\r\n\r\n"
        let body = String(repeating: String(repeating: "x", count: 76) + "\r\n", count: max(1, size / 78))
        let counts = SendCounts()
        let total = messages
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    while true {
                        let number = counts.next.add(1, ordering: .relaxed).oldValue
                        guard number < total else { return }
                        let mail = Array((String(format: header, number) + body).utf8)
                        do {
                            _ = try await client.send(from: "bench@bench.test", to: ["sink@sink.test"], message: mail, via: relay)
                        } catch {
                            if counts.failed.add(1, ordering: .relaxed).oldValue == 0 { print("first failure: \(error)") }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        client.closeIdleSessions()
        let sent = messages - counts.failed.load(ordering: .relaxed)
        print(
            String(
                format: "sent %d of %d mails of %d bytes in %.2f s: %.0f mails/s (%d at once, sessions %@)", sent, messages, size, seconds,
                Double(sent) / seconds, concurrency, reuse ? "kept" : "one per message"))
    }
}
