import Crypto
import Foundation
import HubConfig
import HubModel
import Logging
import MailCore

/// What the hub's SMTP listener does with mail: accepts recipients that are one of the e-mail
/// accounts' mailboxes (or a plus-address of one), and turns each mail into the one model: one
/// inbound message per account addressed, threaded by its references, its reply-address token or
/// a quoted ticket number, with the raw message and every attachment committed in the same
/// transaction (large ones synced to the blob files first). The 250 goes out only after that
/// commit. Bounces (DSNs) are not customer
/// messages: they mark the outbound message they report on failed, with the report attached.
public struct EmailReceiver: SMTPServerDelegate {
    /// The accounts, by every address they receive at (lower-cased).
    let accounts: [String: Account]
    /// Every address of every e-mail account: mail from one of them is the hub's own (a loop).
    let ownAddresses: Set<String>
    let sink: any InboundSink
    let limits: Limits
    let logger: Logger
    /// Called after a customer's mail is stored (the engine may acknowledge it).
    let onStored: @Sendable (StoredMail) async -> Void

    /// One account the listener delivers to.
    public struct Account: Sendable {
        public var id: String
        public var options: EmailOptions
        public var isActive: Bool

        public init(id: String, options: EmailOptions, isActive: Bool) {
            self.id = id
            self.options = options
            self.isActive = isActive
        }
    }

    /// What is cut before ingest (the raw message keeps everything).
    public struct Limits: Sendable {
        public var maximumTextLength: Int
        public var maximumAttachments: Int

        public init(maximumTextLength: Int = 60_000, maximumAttachments: Int = 20) {
            self.maximumTextLength = maximumTextLength
            self.maximumAttachments = maximumAttachments
        }
    }

    /// A customer's mail, stored.
    public struct StoredMail: Sendable {
        public var accountID: String
        public var receipt: IngestReceipt
        public var sender: String
        /// The SMTP envelope's sender (RFC 3834 answers go there; "" for a null sender).
        public var envelopeSender: String
        public var subject: String?
        /// Why no automatic answer may go to this mail (RFC 3834), if one may not.
        public var automatic: AutoSubmission?
    }

    public init(
        accounts: [ChannelAccountConfig], sink: any InboundSink, limits: Limits = Limits(), logger: Logger,
        onStored: @escaping @Sendable (StoredMail) async -> Void = { _ in }
    ) {
        var byAddress: [String: Account] = [:]
        for account in accounts where account.kind == .email {
            guard let options = account.options as? EmailOptions else { continue }
            for address in options.addresses {
                byAddress[address] = byAddress[address] ?? Account(id: account.id, options: options, isActive: account.isActive)
            }
        }
        self.accounts = byAddress
        for account in accounts where account.kind == .email {
            guard let options = account.options as? EmailOptions else { continue }
            for address in options.addresses where byAddress[address]?.id != account.id {
                logger.warning(
                    "two e-mail accounts receive at one address; the first one gets its mail",
                    metadata: ["address": "\(address)", "account": "\(account.id)", "receiver": "\(byAddress[address]?.id ?? "?")"])
            }
        }
        self.ownAddresses = Set(byAddress.keys)
        self.sink = sink
        self.limits = limits
        self.logger = logger
        self.onStored = onStored
    }

    /// Whether any account receives mail (the listener is not started otherwise).
    public var isEmpty: Bool { accounts.isEmpty }

    /// Keeps a mail's original durably on its own (a mail accepted, then refused by `receive`:
    /// nothing accepted is lost) and returns its reference.
    public func keepOriginal(_ message: [UInt8]) async throws(IngestError) -> String {
        try await sink.keep(message)
    }

    // MARK: SMTP

    public func checkRecipient(_ address: String, envelope: SMTPEnvelope) -> SMTPReply? {
        let (base, _) = EmailAddressing.split(address)
        guard let account = accounts[base] else {
            logger.info("unknown recipient refused", metadata: ["remote": "\(envelope.remoteAddress ?? "?")"])
            return SMTPReply(code: 550, enhancedCode: "5.1.1", text: "no such mailbox here")
        }
        guard account.isActive else {
            return SMTPReply(code: 450, enhancedCode: "4.2.1", text: "mailbox temporarily unavailable")
        }
        return nil
    }

    public func receive(_ message: [UInt8], envelope: SMTPEnvelope) async -> SMTPReply {
        await receive(batch: [(message, envelope)])[0]
    }

    /// A transient failure to store: the sender tries again later.
    static let unavailable = SMTPReply(code: 451, enhancedCode: "4.3.0", text: "cannot store the message now; try again later")

    /// Processes several mails in order, their messages stored together (`InboundSink.ingest(_:)`
    /// with all of them: a later mail sees the conversation an earlier one started). One reply
    /// per mail, as `receive` would have answered it.
    public func receive(batch: [(message: [UInt8], envelope: SMTPEnvelope)]) async -> [SMTPReply] {
        // Parsing takes most of the time here: two workers at once (taking every other mail),
        // then the results in the mails' order.
        let workers = min(2, batch.count)
        let prepared = await withTaskGroup(of: [(Int, Prepared)].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var results: [(Int, Prepared)] = []
                    for index in stride(from: worker, to: batch.count, by: workers) {
                        results.append((index, await prepare(batch[index].message, envelope: batch[index].envelope)))
                    }
                    return results
                }
            }
            var ordered = [Prepared?](repeating: nil, count: batch.count)
            for await results in group {
                for (index, mail) in results { ordered[index] = mail }
            }
            return ordered.map { $0 ?? .answered(Self.unavailable) }
        }
        var events: [InboundEvent] = []
        for case .customerMail(let customerMail) in prepared { events += customerMail.events }
        let results = events.isEmpty ? [] : await sink.ingest(events)
        var next = results.startIndex
        var replies: [SMTPReply] = []
        for mail in prepared {
            switch mail {
            case .answered(let reply):
                replies.append(reply)
            case .customerMail(let customerMail):
                let end = min(results.endIndex, next + customerMail.events.count)
                replies.append(await finish(customerMail, results: Array(results[next..<end])))
                next = end
            }
        }
        return replies
    }

    /// What a mail becomes before its messages are stored: answered already (a bounce, a loop, a
    /// mail without a sender, each kept raw), or a customer's mail with one event per account.
    enum Prepared: Sendable {
        case answered(SMTPReply)
        case customerMail(CustomerMail)
    }

    struct CustomerMail: Sendable {
        var events: [InboundEvent]
        var accountIDs: [String]
        var sender: String
        var envelopeSender: String
        var subject: String?
        var automatic: AutoSubmission?
    }

    func prepare(_ message: [UInt8], envelope: SMTPEnvelope) async -> Prepared {
        let mail = MailMessage.parse(message)
        // One delivery per account, whatever aliases and tags the mail names it by.
        var targets: [(account: Account, recipient: String, tag: EmailAddressing.Tag)] = []
        for recipient in envelope.recipients {
            let (base, tag) = EmailAddressing.split(recipient)
            guard let account = accounts[base] else { continue }
            if let index = targets.firstIndex(where: { $0.account.id == account.id }) {
                // The same account named twice (an alias and a reply token): the token counts.
                if targets[index].tag == .none { targets[index].tag = tag }
                continue
            }
            targets.append((account, base, tag))
        }
        guard !targets.isEmpty else { return .answered(SMTPReply(code: 554, enhancedCode: "5.1.1", text: "no valid recipients")) }

        // A customer's mail keeps its original (and attachments) in the transaction of its
        // message; mail that is no customer's message (a bounce, a loop) is kept on its own.
        let original = KeptContent(message)
        let raw = original.reference
        func keepOriginal() async -> Bool {
            do {
                _ = try await sink.keep(message)
                return true
            } catch {
                logger.error("mail not stored", metadata: ["error": "\(error)"])
                return false
            }
        }
        let automatic = AutoSubmission.classify(headers: mail.headers, contentType: mail.contentType, envelopeSender: envelope.mailFrom)

        // A delivery status report, or a mailer's bounce to the address a delivery was sent from,
        // is about an outbound message, not from a customer. Anything else automatic (a human
        // writing from postmaster@, an out-of-office reply) is stored, marked as automatic.
        let isReport = mail.deliveryReport != nil && mail.contentType == "multipart/report"
        let toBounceAddress = targets.contains { if case .delivery = $0.tag { true } else { false } }
        if isReport || (toBounceAddress && automatic?.isBounce == true) {
            guard await keepOriginal() else { return .answered(Self.unavailable) }
            return .answered(await receiveBounce(mail, raw: raw, targets: targets))
        }
        let sender = mail.from.first ?? mail.sender ?? (envelope.mailFrom.isEmpty ? nil : MailAddress(displayName: nil, address: envelope.mailFrom))
        guard let sender, sender.address.contains("@") else {
            guard await keepOriginal() else { return .answered(Self.unavailable) }
            logger.notice("mail without a sender kept but not ingested", metadata: ["raw": "\(raw)"])
            return .answered(SMTPReply(code: 550, enhancedCode: "5.1.7", text: "the message has no sender address"))
        }
        if ownAddresses.contains(EmailAddressing.split(sender.address).base) {
            // The hub's own mail came back (a forwarding loop): kept raw, never a conversation.
            guard await keepOriginal() else { return .answered(Self.unavailable) }
            logger.warning("mail from the hub's own address dropped (loop)", metadata: ["raw": "\(raw)"])
            return .answered(SMTPReply(code: 250, enhancedCode: "2.0.0", text: "OK (loop: not delivered)"))
        }

        var attachments: [Attachment] = []
        var contents = [original]
        for part in mail.attachments.prefix(limits.maximumAttachments) {
            let content = KeptContent(part.bytes)
            contents.append(content)
            attachments.append(
                Attachment(
                    reference: content.reference, contentType: part.contentType, byteCount: part.bytes.count, filename: part.filename,
                    status: .stored))
        }
        var events: [InboundEvent] = []
        for (account, recipient, tag) in targets {
            var event = inboundEvent(
                mail, raw: raw, bytes: message, sender: sender, account: account, recipient: recipient, tag: tag, attachments: attachments,
                automatic: automatic)
            event.contents = contents
            events.append(event)
        }
        return .customerMail(
            CustomerMail(
                events: events, accountIDs: targets.map(\.account.id), sender: sender.address, envelopeSender: envelope.mailFrom,
                subject: mail.subject, automatic: automatic))
    }

    /// The reply for a customer's mail once its messages were stored (`results`, in the order of
    /// its events; a missing result is a message not stored): the first failure answers.
    func finish(_ mail: CustomerMail, results: [Result<IngestReceipt, IngestError>]) async -> SMTPReply {
        for (index, accountID) in mail.accountIDs.enumerated() {
            guard index < results.count else { return Self.unavailable }
            switch results[index] {
            case .success(let receipt):
                if !receipt.duplicate {
                    await onStored(
                        StoredMail(
                            accountID: accountID, receipt: receipt, sender: mail.sender, envelopeSender: mail.envelopeSender, subject: mail.subject,
                            automatic: mail.automatic))
                }
            case .failure(let error):
                logger.error("mail not ingested", metadata: ["account": "\(accountID)", "error": "\(error)"])
                switch error.code {
                case .unavailable: return Self.unavailable
                case .invalidEvent, .unknownAccount: return SMTPReply(code: 554, enhancedCode: "5.6.0", text: "message refused: \(error.message)")
                }
            }
        }
        return SMTPReply(code: 250, enhancedCode: "2.0.0", text: "OK stored")
    }

    // MARK: Building the event

    func inboundEvent(
        _ mail: MailMessage, raw: String, bytes: [UInt8], sender: MailAddress, account: Account, recipient: String, tag: EmailAddressing.Tag,
        attachments: [Attachment], automatic: AutoSubmission?
    ) -> InboundEvent {
        // The provider id is the Message-ID (a retry of the same mail is stored once); a mail
        // without one is identified by its content.
        let providerID = mail.messageID.flatMap { $0.isEmpty ? nil : String($0.prefix(500)) }
            ?? "sha256:" + SHA256.hash(data: Self.withoutTrace(bytes)).hexString
        // Replies name the newest message first: In-Reply-To, then References from the last.
        var references: [String] = []
        var seen = Set<String>()
        for id in mail.inReplyTo.prefix(10) + mail.references.suffix(100).reversed() where seen.insert(id).inserted { references.append(id) }
        var hints = ThreadHints(references: references)
        if case .conversation(let id) = tag { hints.conversationID = id }
        hints.ticketNumber = mail.subject.flatMap(MailSubject.ticketNumber(in:))
        // A new thread is keyed by its root: the first reference, or the mail itself.
        let threadKey = mail.references.first ?? mail.inReplyTo.first ?? providerID

        var text = mail.visibleText ?? mail.textBody ?? ""
        // What agents may see of the mail beyond its text goes under `email` (the inbox shows
        // those fields); the original's reference stays apart (served only to those who may see
        // contacts, audited).
        var details: [String: JSONValue] = [:]
        // (Counting Characters walks the whole text: only when its bytes could be too many.)
        if text.utf8.count > limits.maximumTextLength, text.count > limits.maximumTextLength {
            text = String(text.prefix(limits.maximumTextLength))
            details["truncated"] = .bool(true)
        }
        if attachments.isEmpty, !text.contains(where: { !$0.isWhitespace }) {
            text = mail.subject.map { $0.isEmpty ? "(empty message)" : $0 } ?? "(empty message)"
        }
        if let html = mail.htmlBody, html.utf8.count <= 256 * 1024 { details["html"] = .string(html) }
        if let full = mail.textBody, full != text, full.utf8.count <= limits.maximumTextLength || full.count <= limits.maximumTextLength { details["fullText"] = .string(full) }
        if mail.attachments.count > attachments.count { details["attachmentsOmitted"] = .int(Int64(mail.attachments.count - attachments.count)) }
        let cc = mail.cc.map(\.address)
        if !cc.isEmpty { details["cc"] = .array(cc.map { .string($0) }) }
        if let automatic { details["autoSubmitted"] = .string(automatic.reason) }
        if !mail.problems.isEmpty { details["problems"] = .array(mail.problems.prefix(20).map { .string($0) }) }
        var metadata: [String: JSONValue] = ["raw": .string(raw), "messageId": .string(providerID)]
        if !details.isEmpty { metadata["email"] = .object(details) }
        return InboundEvent(
            channelKind: .email, channelAccountID: account.id,
            sender: InboundSender(kind: .email, address: sender.address, displayName: sender.displayName), recipient: recipient,
            providerMessageID: providerID, occurredAt: mail.date, text: text, attachments: attachments, threadKey: threadKey, thread: hints,
            subject: mail.subject.map { String($0.prefix(998)) }, metadata: metadata)
    }

    /// The mail without the `Received:` header the listener put first (its time differs on
    /// every attempt), so that a retry of a mail without a Message-ID hashes the same.
    static func withoutTrace(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        guard bytes.starts(with: Array("Received:".utf8)) else { return bytes[...] }
        var index = 0
        while let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) {
            let next = newline + 1
            guard next < bytes.count else { return bytes[next...] }
            // A folded header continues on lines starting with a space or a tab.
            if bytes[next] != UInt8(ascii: " "), bytes[next] != UInt8(ascii: "\t") { return bytes[next...] }
            index = next
        }
        return bytes[...]
    }

    // MARK: Bounces

    /// A delivery status notification: the outbound message it names (by the envelope token the
    /// hub wrote, else by the original Message-ID) is marked failed, with the report attached. A
    /// delay notice changes nothing. A report about nothing the hub sent is kept raw and logged.
    func receiveBounce(_ mail: MailMessage, raw: String, targets: [(account: Account, recipient: String, tag: EmailAddressing.Tag)]) async -> SMTPReply {
        let report = mail.deliveryReport
        if let report, !report.isFailure {
            logger.info("delivery delay notice", metadata: ["raw": "\(raw)", "message": "\(report.originalMessageID ?? "?")"])
            return SMTPReply(code: 250, enhancedCode: "2.0.0", text: "OK")
        }
        let failed = report?.recipients.first(where: { $0.action?.lowercased() == "failed" || ($0.status?.hasPrefix("5") ?? false) })
        var reason = "bounced"
        if let failed {
            if let status = failed.status { reason += " \(status)" }
            if let diagnostic = failed.diagnosticCode { reason += ": \(String(diagnostic.prefix(300)))" }
        } else if let subject = mail.subject {
            reason += ": \(String(subject.prefix(200)))"
        }
        for (account, _, tag) in targets {
            var deliveryID: Delivery.ID?
            if case .delivery(let id) = tag { deliveryID = id }
            guard deliveryID != nil || report?.originalMessageID != nil else { continue }
            let update = DeliveryStatusUpdate(
                channelAccountID: account.id, providerMessageID: report?.originalMessageID ?? "", deliveryID: deliveryID, status: .failed,
                error: reason, occurredAt: Date(), report: raw)
            do {
                if try await sink.updateDeliveryStatus(update) {
                    logger.info("bounce recorded", metadata: ["account": "\(account.id)", "raw": "\(raw)"])
                    return SMTPReply(code: 250, enhancedCode: "2.0.0", text: "OK bounce recorded")
                }
            } catch {
                logger.error("bounce not recorded", metadata: ["account": "\(account.id)", "error": "\(error)"])
                return SMTPReply(code: 451, enhancedCode: "4.3.0", text: "cannot store the report now; try again later")
            }
        }
        logger.notice("bounce about no known message, kept raw", metadata: ["raw": "\(raw)"])
        return SMTPReply(code: 250, enhancedCode: "2.0.0", text: "OK")
    }
}
