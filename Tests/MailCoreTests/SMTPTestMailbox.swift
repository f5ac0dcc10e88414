import MailCore
import Synchronization

/// An in-memory `SMTPServerDelegate` for tests: knows some recipients, keeps what it receives,
/// answers with a chosen reply after an optional delay.
final class SMTPTestMailbox: SMTPServerDelegate {
    struct Stored: Sendable, Hashable {
        var message: [UInt8]
        var envelope: SMTPEnvelope
        var text: String { String(decoding: message, as: UTF8.self) }
    }

    private let known: Set<String>
    private let finalReply: SMTPReply
    private let delay: Duration
    private let state = Mutex<(stored: [Stored], checked: [String])>(([], []))

    init(known: Set<String> = ["support@hub.test", "sales@hub.test"], finalReply: SMTPReply = .ok("queued"), delay: Duration = .zero) {
        self.known = known
        self.finalReply = finalReply
        self.delay = delay
    }

    var stored: [Stored] { state.withLock { $0.stored } }
    var checked: [String] { state.withLock { $0.checked } }

    func checkRecipient(_ address: String, envelope: SMTPEnvelope) -> SMTPReply? {
        state.withLock { $0.checked.append(address) }
        return known.contains(address.lowercased()) ? nil : .unknownRecipient("<\(address)>: no such mailbox")
    }

    func receive(_ message: [UInt8], envelope: SMTPEnvelope) async -> SMTPReply {
        if delay > .zero { try? await Task.sleep(for: delay) }
        if finalReply.code == 250 {
            state.withLock { $0.stored.append(Stored(message: message, envelope: envelope)) }
        }
        return finalReply
    }
}
