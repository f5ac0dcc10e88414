import ArgumentParser
import Foundation
import MailCore
import Synchronization

/// MailCore's SMTP listener with a delegate that accepts every mail and stores nothing: the
/// ceiling of the hub's own listener, measured by `scripts/bench-mail` between Postfix's
/// `smtp-sink` and the hub. Serves until SIGTERM or SIGINT, then prints what it received.
@main
struct SMTPBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub-smtp-bench", abstract: "MailCore's SMTP listener storing nothing, for smtp-source to measure.")

    @Option(help: "Address to listen on (host:port).")
    var listen = "127.0.0.1:2526"

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
    }

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen is host:port")
        }
        let mailbox = CountingMailbox()
        let server = SMTPServer(
            configuration: SMTPServerConfiguration(host: String(listen[..<colon]), port: port, hostname: "bench.test"), delegate: mailbox)
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
}
