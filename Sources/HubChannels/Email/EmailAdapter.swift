import AsyncHTTPClient
import Foundation
import HubConfig
import HubModel
import Logging
import MailCore
import NIOCore

/// An `email` account's delivery: each outbound message becomes one RFC 5322 mail in UTF-8,
/// threaded under the customer's (In-Reply-To, References, the conversation's subject), with a
/// Reply-To that names the conversation and an envelope sender that names the delivery (so a
/// bounce finds its message), submitted to the account's relay. Mail arrives through the hub's
/// SMTP listener (`EmailReceiver`), not through webhooks.
public struct EmailAdapter: ChannelAdapter {
    public let account: ChannelAccountConfig
    let options: EmailOptions
    let client: SMTPClient
    let httpClient: HTTPClient
    /// Reads an attachment kept in the hub's blob store (`blob:` references).
    let loadBlob: @Sendable (String) async throws -> [UInt8]?
    let logger: Logger

    public var accountID: String { account.id }
    public var kind: ChannelKind { .email }

    public init(
        account: ChannelAccountConfig, httpClient: HTTPClient, logger: Logger, loadBlob: @escaping @Sendable (String) async throws -> [UInt8]? = { _ in nil }
    ) {
        self.account = account
        self.options = account.options as? EmailOptions ?? EmailOptions(address: "invalid@invalid.invalid", relay: .init(host: "localhost"))
        self.httpClient = httpClient
        self.loadBlob = loadBlob
        self.logger = logger
        self.client = SMTPClient(logger: logger)
    }

    public func handleWebhook(_ request: WebhookRequest, sink: any InboundSink) async -> WebhookResponse {
        .error(404, code: "not_found", message: "channel account '\(account.id)' receives e-mail over SMTP, not webhooks")
    }

    public func fetchAttachment(_ attachment: Attachment, maximumBytes: Int) async throws(DeliveryFailure) -> FetchedAttachment {
        throw .permanent("e-mail attachments are stored when the mail arrives; nothing to fetch")
    }

    public func deliver(_ delivery: Delivery) async throws(DeliveryFailure) -> DeliveryReceipt {
        if options.relay.username != nil, account.secrets["relayPassword"] == nil {
            throw .transient("channel account '\(account.id)' has a relay username but no relayPassword secret")
        }
        let mail = try await compose(delivery)
        let envelopeSender = EmailAddressing.bounceAddress(options.address, delivery: delivery.id)
        let bytes = MailComposer.compose(mail)
        do {
            let result = try await client.send(from: envelopeSender, to: [delivery.recipient.address], message: bytes, via: relay)
            logger.debug(
                "mail submitted",
                metadata: ["account": "\(account.id)", "delivery": "\(delivery.id)", "reply": "\(result.finalReply.code) \(result.finalReply.text)"])
            return DeliveryReceipt(providerMessageID: mail.messageID)
        } catch {
            // The customer's address is not in the reason: agents may see contacts masked.
            let reason = "the relay \(options.relay.host):\(options.relay.port) refused at \(error.stage)"
                + (error.reply.map { ": \($0.code) \($0.enhancedCode.map { $0 + " " } ?? "")\($0.text)" } ?? ": \(error)")
            throw Self.isMessageFault(error) ? .permanent(reason) : .transient(reason)
        }
    }

    /// Whether a refusal is about this message (its recipient, size or content), which no retry
    /// fixes, rather than about the account (refused credentials, a sender address the relay does
    /// not allow, no TLS): those are retried while an administrator fixes the configuration, so
    /// customers' replies are not lost to a typo.
    static func isMessageFault(_ error: SMTPSendError) -> Bool {
        guard error.isPermanent else { return false }
        switch error.stage {
        case "rcpt", "data", "message": return true
        // Checked before sending (SIZE, SMTPUTF8), or the relay's 552: the message is too large.
        case "mail": return error.reply == nil || error.reply?.code == 552
        default: return false
        }
    }

    /// The relay with the account's secret.
    var relay: SMTPRelay {
        var relay = SMTPRelay(host: options.relay.host, port: options.relay.port, heloName: options.relay.heloName ?? options.messageIDDomain)
        relay.security =
            switch options.relay.security {
            case .none: .none
            case .starttls: .startTLS
            case .starttlsIfAvailable: .startTLSIfAvailable
            case .tls: .tls
            }
        relay.username = options.relay.username
        relay.password = account.secrets["relayPassword"]?.value
        relay.certificateVerification = options.relay.verifyCertificate ? .full : .none
        return relay
    }

    /// The mail for a delivery. Its Message-ID derives from the message (or delivery) id, so a
    /// retry after a crash sends the same id and the customer's client shows one message.
    func compose(_ delivery: Delivery) async throws(DeliveryFailure) -> OutgoingMail {
        let content = delivery.content
        let local = (delivery.messageID?.rawValue ?? delivery.id.rawValue).lowercased()
        let messageID = "\(local)@\(options.messageIDDomain)"
        let references = content.options["references"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let subject: String
        if let given = content.subject, !given.isEmpty {
            subject = given
        } else if let thread = content.options["threadSubject"]?.stringValue, !thread.isEmpty {
            subject = MailSubject.reply(to: thread)
        } else {
            subject = "Message from \(options.displayName ?? account.name)"
        }
        var replyTo: [MailboxAddress] = []
        if let conversation = delivery.conversationID {
            replyTo = [MailboxAddress(displayName: options.displayName, address: EmailAddressing.replyAddress(options.address, conversation: conversation))]
        }
        var attachments: [OutgoingAttachment] = []
        for attachment in content.attachments {
            attachments.append(try await load(attachment))
        }
        return OutgoingMail(
            from: MailboxAddress(displayName: options.displayName ?? account.name, address: options.address),
            to: [MailboxAddress(displayName: nil, address: delivery.recipient.address)], replyTo: replyTo, subject: subject,
            text: content.text ?? "", messageID: messageID, inReplyTo: content.inReplyTo, references: references, date: Date(),
            autoSubmitted: content.options["autoSubmitted"]?.stringValue, attachments: attachments)
    }

    /// An attachment's bytes: from the hub's store, or downloaded from its URL.
    func load(_ attachment: Attachment) async throws(DeliveryFailure) -> OutgoingAttachment {
        let bytes: [UInt8]
        var contentType = attachment.contentType
        if attachment.isStored {
            let stored: [UInt8]?
            do {
                stored = try await loadBlob(attachment.reference)
            } catch {
                // The store failed to answer, which says nothing about the attachment: try again.
                throw .transient("the hub's store could not be read: \(error)")
            }
            guard let stored else {
                throw .permanent("attachment \(attachment.filename ?? attachment.reference) is not in the hub's store")
            }
            bytes = stored
        } else {
            let fetched = try await AttachmentDownload.get(
                attachment.reference, httpClient: httpClient, maximumBytes: 25 << 20, timeout: .seconds(60))
            bytes = fetched.bytes
            contentType = contentType ?? fetched.contentType
        }
        return OutgoingAttachment(
            filename: attachment.filename ?? "attachment", contentType: contentType ?? "application/octet-stream", bytes: bytes)
    }
}
