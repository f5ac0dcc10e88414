import Foundation
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Logging
import MailCore
import NIOCore
import Synchronization
import Testing

@testable import HubServer

/// The inbound mail spool: a mail is committed before its 250 and threaded afterwards, in
/// order, never lost (a transient failure retries it; a refusal keeps its original), and the
/// listener gets the CPU first while mail keeps arriving.
@Suite struct MailSpoolTests {
    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    static let account = ChannelAccountConfig(
        id: "mail", kind: .email, name: "Support", enabled: true,
        options: EmailOptions(address: "support@hub.test", relay: .init(host: "127.0.0.1", port: 2587, security: .none)),
        location: ConfigLocation(file: "channels/mail.yaml", line: 1, column: 1))

    static func envelope(from sender: String = "li@example.test") -> SMTPEnvelope {
        SMTPEnvelope(
            heloName: "mx.example.test", mailFrom: sender, recipients: ["support@hub.test"], remoteAddress: "127.0.0.1", remotePort: 40_000,
            usedTLS: true, parameters: ["BODY": "8BITMIME", "SMTPUTF8": ""])
    }

    static func mail(_ id: String, from sender: String = "li@example.test", inReplyTo: String? = nil, text: String = "Hello") -> [UInt8] {
        var headers = "From: \(sender)\r\nTo: support@hub.test\r\nSubject: Order\r\nMessage-ID: <\(id)>\r\n"
        if let inReplyTo { headers += "In-Reply-To: <\(inReplyTo)>\r\n" }
        return Array((headers + "\r\n\(text)\r\n").utf8)
    }

    static func store(in directory: TemporaryDirectory) async throws -> SQLiteStore {
        let store = try SQLiteStore(configuration: .init(path: directory.url.appendingPathComponent("hub.sqlite").path, durability: .normal))
        try await store.migrate()
        return store
    }

    static func spool(_ store: SQLiteStore, sink: any InboundSink, configure: (inout MailSpool.Configuration) -> Void = { _ in }) -> MailSpool {
        var configuration = MailSpool.Configuration()
        configure(&configuration)
        let receiver = EmailReceiver(accounts: [account], sink: sink, logger: logger)
        return MailSpool(receiver: receiver, store: store, configuration: configuration, logger: logger)
    }

    /// Hands `message` to the spool as the SMTP server does and waits for the reply.
    static func deliver(_ spool: MailSpool, _ message: [UInt8], envelope: SMTPEnvelope = envelope()) async -> SMTPReply {
        await withCheckedContinuation { continuation in
            spool.receive(message, envelope: envelope) { continuation.resume(returning: $0) }
        }
    }

    static func eventually(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("condition not met within 30 s")
    }

    @Test("the spool keeps each mail with its envelope, in order; deferred mail waits for its time")
    func storeRoundTrip() async throws {
        let directory = try TemporaryDirectory("mail-spool")
        defer { directory.remove() }
        let store = try await Self.store(in: directory)
        let received = Date(timeIntervalSince1970: 1_800_000_000)
        let envelope = SpooledEnvelope(
            heloName: "mx.example.test", mailFrom: "", recipients: ["support@hub.test", "help@hub.test"], remoteAddress: "::1", remotePort: 25,
            usedTLS: true, parameters: ["BODY": "8BITMIME", "SMTPUTF8": "", "SIZE": "1234"])
        let ids: [Int64] = try await withCheckedThrowingContinuation { continuation in
            store.spoolMails([
                NewSpooledMail(receivedAt: received, envelope: envelope, message: Self.mail("a@x")),
                NewSpooledMail(receivedAt: received.addingTimeInterval(1), envelope: envelope, message: [0, 255, 13, 10]),
            ]) { continuation.resume(with: $0) }
        }
        #expect(ids.count == 2 && ids[0] < ids[1])
        var due = try await store.spooledMails(dueAt: Date(), limit: 10)
        #expect(due.map(\.id) == ids)
        #expect(due[0].envelope == envelope && due[0].receivedAt == received && due[0].message == Self.mail("a@x") && due[0].attempts == 0)
        #expect(due[1].message == [0, 255, 13, 10], "bytes kept as they are")

        let later = Date().addingTimeInterval(3_600)
        try await store.deferSpooledMail(ids[0], until: later, error: "451 4.3.0 store unavailable")
        due = try await store.spooledMails(dueAt: Date(), limit: 10)
        #expect(due.map(\.id) == [ids[1]], "a deferred mail is not due before its time")
        let atItsTime = try await store.spooledMails(dueAt: later, limit: 10)
        #expect(atItsTime.first?.attempts == 1 && atItsTime.first?.lastError == "451 4.3.0 store unavailable")
        var summary = try await store.mailSpoolSummary()
        #expect(summary.waiting == 2 && summary.deferred == 1 && summary.oldestReceivedAt == received)
        #expect(summary.nextAttemptAt == Date(millisecondsSince1970: later.millisecondsSince1970))

        try await store.removeSpooledMails(ids)
        summary = try await store.mailSpoolSummary()
        #expect(summary == MailSpoolSummary(waiting: 0, deferred: 0, oldestReceivedAt: nil, nextAttemptAt: nil))
    }

    @Test("a real SMTP client gets its 250 once the mail is in the spool; the processor then makes it a message and empties the spool")
    func acceptedThenProcessed() async throws {
        let directory = try TemporaryDirectory("mail-spool")
        defer { directory.remove() }
        let store = try await Self.store(in: directory)
        let sink = RecordingSink()
        let spool = Self.spool(store, sink: sink)
        var configuration = SMTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.hostname = "hub.test"
        let server = SMTPServer(configuration: configuration, delegate: spool, logger: Self.logger)
        let address = try await server.start()
        let client = SMTPClient(reuseSessions: false)
        let result = try await client.send(
            from: "li@example.test", to: ["support@hub.test"], message: Self.mail("first@example.test"),
            via: SMTPRelay(host: "127.0.0.1", port: address.port ?? 0, security: .none, heloName: "mx.example.test"))
        #expect(result.finalReply.code == 250 && result.finalReply.text.hasPrefix("OK queued as "))
        // Acknowledged: committed in the spool, not yet a message (no processor runs yet).
        let spooled = try await store.spooledMails(dueAt: Date(), limit: 10)
        #expect(spooled.count == 1 && sink.events.isEmpty)
        #expect(result.finalReply.text == "OK queued as \(spooled[0].id)")
        #expect(spooled[0].envelope.mailFrom == "li@example.test" && spooled[0].envelope.recipients == ["support@hub.test"])
        #expect(spooled[0].message.starts(with: Array("Received: from mx.example.test".utf8)), "the listener's trace header first")
        await server.shutdown()

        let processor = Task { await MailSpoolProcessor(spool: spool, logger: Self.logger).run() }
        defer { processor.cancel() }
        try await Self.eventually { try await store.mailSpoolSummary().waiting == 0 }
        #expect(sink.events.map(\.providerMessageID) == ["first@example.test"])
        #expect(sink.events.first?.text == "Hello")
    }

    @Test("mail left in the spool by an earlier run is processed at start, in the order it arrived")
    func leftFromBefore() async throws {
        let directory = try TemporaryDirectory("mail-spool")
        defer { directory.remove() }
        let store = try await Self.store(in: directory)
        let sink = RecordingSink()
        let spool = Self.spool(store, sink: sink)
        for number in 1...5 {
            let reply = await Self.deliver(spool, Self.mail("m\(number)@example.test", from: "c\(number % 2)@example.test"))
            #expect(reply.code == 250)
        }
        // A new process: a new spool over the same store.
        let restarted = Self.spool(store, sink: sink)
        let processor = Task { await MailSpoolProcessor(spool: restarted, logger: Self.logger).run() }
        defer { processor.cancel() }
        try await Self.eventually { try await store.mailSpoolSummary().waiting == 0 }
        #expect(sink.events.map(\.providerMessageID) == (1...5).map { "m\($0)@example.test" })
    }

    @Test("a batch is stored in one go and in order: a reply in the same batch joins the conversation its original started")
    func batchOrder() async throws {
        let directory = try TemporaryDirectory("mail-spool")
        defer { directory.remove() }
        let store = try await Self.store(in: directory)
        let engine = Engine(store: store, channels: ChannelDirectory(accounts: [Self.account], adapters: []), logger: Self.logger)
        let spool = MailSpool(
            receiver: EmailReceiver(accounts: [Self.account], sink: engine.ingest, logger: Self.logger), store: store,
            configuration: MailSpool.Configuration(), logger: Self.logger)
        #expect(await Self.deliver(spool, Self.mail("root@example.test", text: "My order is late")).code == 250)
        #expect(await Self.deliver(spool, Self.mail("reply@example.test", inReplyTo: "root@example.test", text: "Any news?")).code == 250)
        #expect(await Self.deliver(spool, Self.mail("other@example.test", from: "wu@example.test", text: "Another question")).code == 250)
        let batch = try await store.spooledMails(dueAt: Date(), limit: 10)
        #expect(batch.count == 3)
        await MailSpoolProcessor(spool: spool, logger: Self.logger).process(batch)
        #expect(try await store.mailSpoolSummary().waiting == 0)

        let handle = try #require(try await store.handle(HandleAddress(kind: .email, scope: "", address: "li@example.test")))
        let conversations = try await store.conversations(of: handle.customerID, after: nil, limit: 10)
        #expect(conversations.count == 1, "the reply joined the conversation its original started")
        let texts = try await store.messages(in: conversations[0].id, after: nil, limit: 10).map(\.text)
        #expect(texts == ["My order is late", "Any news?"])
        let wu = try #require(try await store.handle(HandleAddress(kind: .email, scope: "", address: "wu@example.test")))
        #expect(try await store.conversations(of: wu.customerID, after: nil, limit: 10).count == 1)
    }

    @Test("a transient failure keeps the mail in the spool for a later attempt; a refusal keeps its original and removes it")
    func failures() async throws {
        let directory = try TemporaryDirectory("mail-spool")
        defer { directory.remove() }
        let store = try await Self.store(in: directory)
        let sink = SwitchableSink()
        let spool = Self.spool(store, sink: sink)
        let processor = MailSpoolProcessor(spool: spool, logger: Self.logger)

        sink.failure.withLock { $0 = IngestError(.unavailable, "database locked") }
        #expect(await Self.deliver(spool, Self.mail("flaky@example.test")).code == 250)
        await processor.process(try await store.spooledMails(dueAt: Date(), limit: 10))
        let deferred = try await store.mailSpoolSummary()
        #expect(deferred.waiting == 1 && deferred.deferred == 1)
        #expect(try await store.spooledMails(dueAt: Date(), limit: 10).isEmpty, "not due again at once")
        let retryAt = try #require(deferred.nextAttemptAt)
        #expect(retryAt > Date().addingTimeInterval(5) && retryAt < Date().addingTimeInterval(15), "first retry after about 10 s")

        sink.failure.withLock { $0 = nil }
        await processor.process(try await store.spooledMails(dueAt: retryAt, limit: 10))
        #expect(try await store.mailSpoolSummary().waiting == 0)
        #expect(sink.recorded.events.map(\.providerMessageID) == ["flaky@example.test"])

        // Refused by ingest after the sender had its 250: the original is kept, the mail leaves the spool.
        sink.failure.withLock { $0 = IngestError(.invalidEvent, "refused") }
        let refused = Self.mail("refused@example.test")
        #expect(await Self.deliver(spool, refused).code == 250)
        sink.keepWorks.withLock { $0 = true }
        await processor.process(try await store.spooledMails(dueAt: Date(), limit: 10))
        #expect(try await store.mailSpoolSummary().waiting == 0)
        #expect(sink.recorded.kept(KeptContent(refused).reference) != nil, "the original is kept")
    }

    @Test("a full spool answers 452 4.3.1 and takes mail again once it has room")
    func full() async throws {
        let directory = try TemporaryDirectory("mail-spool")
        defer { directory.remove() }
        let store = try await Self.store(in: directory)
        let sink = RecordingSink()
        let spool = Self.spool(store, sink: sink) { $0.maximumWaiting = 2 }
        #expect(await Self.deliver(spool, Self.mail("1@example.test")).code == 250)
        #expect(await Self.deliver(spool, Self.mail("2@example.test")).code == 250)
        let refused = await Self.deliver(spool, Self.mail("3@example.test"))
        #expect(refused.code == 452 && refused.enhancedCode == "4.3.1")
        await MailSpoolProcessor(spool: spool, logger: Self.logger).process(try await store.spooledMails(dueAt: Date(), limit: 10))
        #expect(await Self.deliver(spool, Self.mail("3@example.test")).code == 250)
        #expect(try await store.mailSpoolSummary().waiting == 1)
    }

    @Test("processing waits while mail keeps arriving, but never past the longest delay; with no mail arriving it goes ahead")
    func pause() async throws {
        let directory = try TemporaryDirectory("mail-spool")
        defer { directory.remove() }
        let store = try await Self.store(in: directory)
        let spool = Self.spool(store, sink: RecordingSink()) {
            $0.quietPeriod = .seconds(60)
            $0.maximumDeferral = .seconds(10)
        }
        let now = Date()
        #expect(spool.processingPause(oldest: now, now: now) == nil, "nothing arrived yet: no reason to wait")
        #expect(await Self.deliver(spool, Self.mail("1@example.test")).code == 250)
        let pause = try #require(spool.processingPause(oldest: now, now: now))
        #expect(pause > .seconds(9) && pause <= .seconds(10), "until the oldest mail has waited the longest delay")
        #expect(spool.processingPause(oldest: now.addingTimeInterval(-10), now: now) == nil, "the oldest mail waited long enough")

        let quick = Self.spool(store, sink: RecordingSink()) { $0.quietPeriod = .milliseconds(20) }
        #expect(await Self.deliver(quick, Self.mail("2@example.test")).code == 250)
        try await Task.sleep(for: .milliseconds(50))
        #expect(quick.processingPause(oldest: Date(), now: Date()) == nil, "the listener has been quiet long enough")
    }
}

/// A sink whose ingest fails while `failure` is set; `keep` works once `keepWorks` is set.
final class SwitchableSink: InboundSink {
    let recorded = RecordingSink()
    let failure = Mutex<IngestError?>(nil)
    let keepWorks = Mutex(true)

    func ingest(_ event: InboundEvent) async throws(IngestError) -> IngestReceipt {
        if let failure = failure.withLock({ $0 }) { throw failure }
        return try await recorded.ingest(event)
    }

    func ingest(_ event: InboundEvent, call: CallRecord) async throws(IngestError) -> IngestReceipt {
        try await ingest(event)
    }

    func updateDeliveryStatus(_ update: DeliveryStatusUpdate) async throws(IngestError) -> Bool {
        try await recorded.updateDeliveryStatus(update)
    }

    func updateConsent(_ update: ConsentUpdate) async throws(IngestError) -> Bool {
        try await recorded.updateConsent(update)
    }

    func markRead(_ receipt: ReadReceipt) async throws(IngestError) -> Int {
        try await recorded.markRead(receipt)
    }

    func keep(_ bytes: [UInt8]) async throws(IngestError) -> String {
        guard keepWorks.withLock({ $0 }) else { throw IngestError(.unavailable, "blob store down") }
        return try await recorded.keep(bytes)
    }
}
