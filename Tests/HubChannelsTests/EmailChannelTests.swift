import AsyncHTTPClient
import Foundation
@testable import HubChannels
import HubConfig
import HubModel
import HubTestSupport
import Logging
import MailCore
import Testing

@Suite("e-mail channel")
struct EmailChannelTests {
    static let options = EmailOptions(
        address: "support@hub.test", aliases: ["help@hub.test"], displayName: "Hub Support", relay: .init(host: "127.0.0.1", port: 2587, security: .none))

    static func account(active: Bool = true) -> ChannelAccountConfig {
        ChannelAccountConfig(
            id: "mail", kind: .email, name: "Support", enabled: active, options: options, location: ConfigLocation(file: "channels/mail.yaml", line: 1, column: 1))
    }

    static func receiver(_ sink: RecordingSink, active: Bool = true) -> EmailReceiver {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return EmailReceiver(accounts: [account(active: active)], sink: sink, logger: logger)
    }

    static let envelope = SMTPEnvelope(
        heloName: "mx.example.test", mailFrom: "li@example.test", recipients: ["support@hub.test"], remoteAddress: "127.0.0.1", usedTLS: false,
        parameters: [:])

    static func mail(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    @Test("plus-address tokens round-trip; others are the mailbox's")
    func addressing() {
        let conversation = Conversation.ID("cnv_01JXYZABCDEFGHJKMNPQRSTVWX")
        let reply = EmailAddressing.replyAddress("support@hub.test", conversation: conversation)
        #expect(reply == "support+c01jxyzabcdefghjkmnpqrstvwx@hub.test")
        #expect(EmailAddressing.split(reply).base == "support@hub.test")
        #expect(EmailAddressing.split(reply.uppercased()).tag == .conversation(conversation), "mail systems may fold case")
        let delivery = Delivery.ID("dlv_01JXYZABCDEFGHJKMNPQRSTVWX")
        #expect(EmailAddressing.split(EmailAddressing.bounceAddress("support@hub.test", delivery: delivery)).tag == .delivery(delivery))
        #expect(EmailAddressing.split("Support+Orders@Hub.Test") == ("support@hub.test", .other("orders")))
        #expect(EmailAddressing.split("support@hub.test").tag == .none)
    }

    @Test("subjects lose reply prefixes, and quoted ticket numbers are found")
    func subjects() {
        #expect(MailSubject.base("Re: RE: Fwd: 回复：退款进度") == "退款进度")
        #expect(MailSubject.reply(to: "答复: Invoice") == "Re: Invoice")
        #expect(MailSubject.ticketNumber(in: "Re: [T-000123] Refund") == TicketNumber(rawValue: 123))
        #expect(MailSubject.ticketNumber(in: "[urgent] about [T-42]") == TicketNumber(rawValue: 42))
        #expect(MailSubject.ticketNumber(in: "[urgent] no number") == nil)
    }

    @Test("recipients: the mailbox, its aliases and plus-addresses pass; others get 550 at RCPT; an inactive account 450")
    func recipients() {
        let receiver = Self.receiver(RecordingSink())
        #expect(receiver.checkRecipient("support@hub.test", envelope: Self.envelope) == nil)
        #expect(receiver.checkRecipient("HELP@hub.test", envelope: Self.envelope) == nil)
        #expect(receiver.checkRecipient("support+anything@hub.test", envelope: Self.envelope) == nil)
        #expect(receiver.checkRecipient("sales@hub.test", envelope: Self.envelope)?.code == 550)
        #expect(Self.receiver(RecordingSink(), active: false).checkRecipient("support@hub.test", envelope: Self.envelope)?.code == 450)
    }

    @Test("a mail becomes one inbound event with its thread hints, raw original and attachments kept first")
    func inbound() async throws {
        let sink = RecordingSink()
        let raw = Self.mail(
            """
            From: =?UTF-8?B?5p2O6Zu3?= <Li@Example.test>
            To: support@hub.test
            Subject: Re: [T-000007] =?UTF-8?B?6YCA5qy+?=
            Message-ID: <c3@example.test>
            In-Reply-To: <c2@example.test>
            References: <c1@example.test> <c2@example.test>
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/plain; charset=utf-8

            Thanks!

            On Tue, Dec 1, 2026 at 10:00 AM Hub Support <support@hub.test> wrote:
            > earlier text
            --b
            Content-Type: image/png; name="shot.png"
            Content-Disposition: attachment; filename="shot.png"
            Content-Transfer-Encoding: base64

            iVBORw0KGgo=
            --b--

            """)
        var envelope = Self.envelope
        envelope.recipients = ["support+c01jxyzabcdefghjkmnpqrstvwx@hub.test"]
        let reply = await Self.receiver(sink).receive(raw, envelope: envelope)
        #expect(reply.code == 250)
        let event = try #require(sink.events.first)
        #expect(sink.events.count == 1)
        #expect(event.channelKind == .email && event.channelAccountID == "mail")
        #expect(event.sender.address == "Li@example.test" && event.sender.displayName == "李雷")
        #expect(event.providerMessageID == "c3@example.test")
        #expect(event.text == "Thanks!")
        #expect(event.subject == "Re: [T-000007] 退款")
        #expect(event.threadKey == "c1@example.test")
        #expect(event.thread?.references == ["c2@example.test", "c1@example.test"])
        #expect(event.thread?.conversationID == Conversation.ID("cnv_01JXYZABCDEFGHJKMNPQRSTVWX"))
        #expect(event.thread?.ticketNumber == TicketNumber(rawValue: 7))
        let rawReference = try #require(event.metadata["raw"]?.stringValue)
        #expect(sink.kept(rawReference) == raw)
        let attachment = try #require(event.attachments.first)
        #expect(attachment.filename == "shot.png" && attachment.contentType == "image/png" && attachment.status == .stored)
        #expect(sink.kept(attachment.reference) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test("a mail without a Message-ID is identified by its content, not by the listener's Received header")
    func contentIdentity() async throws {
        let sink = RecordingSink()
        let body = "From: li@example.test\nTo: support@hub.test\nSubject: no id\n\nhello\n"
        for time in ["10:00:00", "10:05:00"] {
            let raw = Self.mail("Received: from mx.example.test ([127.0.0.1])\n\tby hub.test with ESMTP; Wed, 2 Dec 2026 \(time) +0000\n" + body)
            #expect(await Self.receiver(sink).receive(raw, envelope: Self.envelope).code == 250)
        }
        #expect(sink.events.count == 1, "the retry is recognized")
        #expect(sink.events.first?.providerMessageID.hasPrefix("sha256:") == true)
    }

    @Test("a relay's refusal ends the delivery only when it is about the message")
    func refusalStages() {
        func fault(_ stage: String, _ code: Int?) -> Bool {
            EmailAdapter.isMessageFault(
                SMTPSendError(isPermanent: code.map { $0 >= 500 } ?? true, reply: code.map { SMTPReply(code: $0, text: "x") }, stage: stage))
        }
        #expect(fault("rcpt", 550) && fault("message", 554) && fault("data", 554))
        #expect(fault("mail", 552) && fault("mail", nil), "too large for the relay")
        #expect(!fault("auth", 535) && !fault("mail", 553) && !fault("ehlo", 554) && !fault("greeting", 554), "the account's problem: retried")
        #expect(!fault("rcpt", 450) && !fault("message", 451))
    }

    @Test("automatic mail that is no bounce is stored, marked; the reply token wins over an alias for the same account")
    func automaticAndTokens() async throws {
        let sink = RecordingSink()
        let raw = Self.mail("From: postmaster@example.test\nTo: help@hub.test\nSubject: question\nMessage-ID: <p1@example.test>\n\nA person writing from postmaster.\n")
        var envelope = Self.envelope
        envelope.recipients = ["help@hub.test", "support+c01jxyzabcdefghjkmnpqrstvwx@hub.test"]
        #expect(await Self.receiver(sink).receive(raw, envelope: envelope).code == 250)
        let event = try #require(sink.events.first)
        #expect(sink.events.count == 1, "one account, one message")
        #expect(event.text == "A person writing from postmaster.")
        #expect(event.metadata["email"]?["autoSubmitted"]?.stringValue != nil)
        #expect(event.thread?.conversationID == Conversation.ID("cnv_01JXYZABCDEFGHJKMNPQRSTVWX"))
        #expect(sink.statuses.isEmpty)
    }

    @Test("the hub's own mail coming back is dropped; a store failure answers 451 so the sender retries")
    func loopsAndFailures() async {
        let sink = RecordingSink()
        let own = Self.mail("From: help@hub.test\nTo: support@hub.test\nSubject: loop\nMessage-ID: <l1@hub.test>\n\nagain\n")
        #expect(await Self.receiver(sink).receive(own, envelope: Self.envelope).code == 250)
        #expect(sink.events.isEmpty)
        let failing = RecordingSink(failure: IngestError(.unavailable, "disk full"))
        let mail = Self.mail("From: li@example.test\nTo: support@hub.test\nSubject: hi\nMessage-ID: <f1@example.test>\n\nhello\n")
        let reply = await Self.receiver(failing).receive(mail, envelope: Self.envelope)
        #expect(reply.code == 451)
    }

    @Test("a DSN marks the delivery it names failed, with the report attached; it is not a customer message")
    func bounce() async throws {
        let delivery = Delivery.ID("dlv_01JXYZABCDEFGHJKMNPQRSTVWX")
        let sink = RecordingSink(knownProviderIDs: ["msg_1@hub.test"])
        let dsn = Self.mail(
            """
            From: MAILER-DAEMON@mx.example.test
            To: support+b01jxyzabcdefghjkmnpqrstvwx@hub.test
            Subject: Undelivered Mail Returned to Sender
            Message-ID: <dsn1@mx.example.test>
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="B"

            --B
            Content-Type: text/plain

            The mail could not be delivered.
            --B
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.test

            Final-Recipient: rfc822; gone@example.test
            Action: failed
            Status: 5.1.1
            Diagnostic-Code: smtp; 550 5.1.1 User unknown
            --B
            Content-Type: text/rfc822-headers

            Message-ID: <msg_1@hub.test>
            --B--

            """)
        var envelope = Self.envelope
        envelope.mailFrom = ""
        envelope.recipients = [EmailAddressing.bounceAddress("support@hub.test", delivery: delivery)]
        #expect(await Self.receiver(sink).receive(dsn, envelope: envelope).code == 250)
        #expect(sink.events.isEmpty)
        let update = try #require(sink.statuses.first)
        #expect(update.deliveryID == delivery && update.providerMessageID == "msg_1@hub.test" && update.status == .failed)
        #expect(update.error?.contains("5.1.1") == true && update.error?.contains("User unknown") == true)
        #expect(update.report.flatMap(sink.kept) == dsn)
    }

    @Test("an outbound mail is threaded under the customer's and carries the reply token and no automatic marks")
    func compose() async throws {
        let adapter = EmailAdapter(account: Self.account(), httpClient: .shared, logger: Logger(label: "test"))
        let conversation = Conversation.ID("cnv_01JXYZABCDEFGHJKMNPQRSTVWX")
        let delivery = Delivery(
            id: "dlv_01JXYZABCDEFGHJKMNPQRSTVWY", idempotencyKey: "k", channelAccountID: "mail", channelKind: .email, messageID: "msg_01ABC",
            conversationID: conversation, orderingKey: nil, recipient: HandleAddress(kind: .email, scope: "", address: "li@example.test"),
            content: OutboundContent(
                text: "您好", inReplyTo: "c2@example.test",
                options: ["references": .array([.string("c1@example.test"), .string("c2@example.test")]), "threadSubject": .string("回复：退款")]),
            maxAttempts: 3, nextAttemptAt: Date(), createdAt: Date())
        let mail = try await adapter.compose(delivery)
        #expect(mail.messageID == "msg_01abc@hub.test")
        #expect(mail.subject == "Re: 退款")
        #expect(mail.inReplyTo == "c2@example.test" && mail.references == ["c1@example.test", "c2@example.test"])
        #expect(mail.replyTo.map(\.address) == ["support+c01jxyzabcdefghjkmnpqrstvwx@hub.test"])
        #expect(mail.from.address == "support@hub.test" && mail.from.displayName == "Hub Support")
        #expect(mail.autoSubmitted == nil)
    }
}
