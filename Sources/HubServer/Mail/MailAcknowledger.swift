import Foundation
import HubChannels
import HubEngine
import HubModel
import HubStore
import MailCore
import Logging

/// Acknowledges a customer's new mail conversation with the account's `autoReply`, through the
/// outbox like every other message, following RFC 3834: never to automatic mail (auto-submitted,
/// bulk or list mail, bounces), marked `Auto-Submitted: auto-replied`, and at most once per
/// customer address per interval. The limit is kept by the outbox's idempotency keys: one key per
/// address and interval-long period, and the previous period's acknowledgement is checked for
/// its age, so even concurrent mails or a restart cannot send a second one within the interval.
struct MailAcknowledger: Sendable {
    let engine: Engine
    let accounts: [String: EmailOptions]
    let logger: Logger

    func acknowledge(_ mail: EmailReceiver.StoredMail) async {
        guard let options = accounts[mail.accountID], let reply = options.autoReply, mail.receipt.conversationCreated else { return }
        if let automatic = mail.automatic {
            logger.info("no acknowledgement to automatic mail", metadata: ["account": "\(mail.accountID)", "reason": "\(automatic.reason)"])
            return
        }
        let address = mail.sender.lowercased()
        // RFC 3834 answers the envelope's sender. Answering only when it is the From address
        // keeps a forged From from turning the hub into a sender of mail to strangers.
        guard mail.envelopeSender.lowercased() == address else {
            logger.info("no acknowledgement: the envelope sender is not the From address", metadata: ["account": "\(mail.accountID)"])
            return
        }
        let now = Date()
        let seconds = max(60, Double(reply.interval.components.seconds))
        let period = Int64(now.timeIntervalSince1970 / seconds)
        func key(_ period: Int64) -> String { "autoreply:\(mail.accountID):\(address):\(period)" }
        do {
            if try await engine.store.outboundReceipt(idempotencyKey: key(period)) != nil { return }
            if let previous = try await engine.store.outboundReceipt(idempotencyKey: key(period - 1)),
                now.timeIntervalSince(previous.message.createdAt) < seconds
            {
                return
            }
            var subject = mail.subject ?? ""
            if subject.count > 100 { subject = subject.prefix(100) + "…" }
            let text = reply.text.replacingOccurrences(of: "{subject}", with: subject)
            _ = try await engine.outbound.send(
                OutboundService.Request(
                    conversationID: mail.receipt.conversationID, author: .system,
                    content: OutboundContent(text: text, options: ["autoSubmitted": .string("auto-replied")]), idempotencyKey: key(period)),
                actor: .system)
        } catch {
            logger.error("acknowledgement not queued", metadata: ["account": "\(mail.accountID)", "error": "\(error)"])
        }
    }
}
