import Foundation
import HubChannels
import HubEngine
import HubStore
import Logging
import MailCore
import Synchronization

/// The hub's SMTP delegate: the e-mail receiver checks recipients from memory at RCPT; each mail
/// is committed to the spool before its 250 (with every other mail that arrived while the last
/// commit was being written, in one transaction), and `MailSpoolProcessor` threads it into the
/// conversation model afterwards. This is Postfix's split between `smtpd` and the queue manager:
/// the sender's responsibility ends at a durable commit of the mail as received, and parsing,
/// threading and routing do not hold up the SMTP session.
final class MailSpool: SMTPServerDelegate {
    struct Configuration: Sendable {
        /// Mails in the spool beyond which new mail gets `452 4.3.1` (senders retry later).
        var maximumWaiting = 100_000
        /// Mails in one spool transaction at most.
        var maximumBatch = 256
        /// Processing waits while mail keeps arriving: until the listener has been idle this
        /// long...
        var quietPeriod: Duration = .milliseconds(20)
        /// ...or the oldest waiting mail has waited this long. During a burst the listener gets
        /// the CPU first; no mail waits longer than this for processing unless the hub cannot
        /// keep up at all.
        var maximumDeferral: Duration = .seconds(10)
        /// Mails read from the spool and processed together.
        var processingBatch = 64
    }

    private struct Pending {
        let mail: NewSpooledMail
        let completion: @Sendable (SMTPReply) -> Void
    }

    private struct State {
        var pending: [Pending] = []
        var writing = false
        /// Mails in the spool, as far as this process knows (committed or being committed).
        var waiting = 0
    }

    let receiver: EmailReceiver
    let store: any MailSpoolStore
    let configuration: Configuration
    let logger: Logger
    /// Wakes the processor after each commit.
    let committed = WakeSignal()
    private let state = Mutex(State())
    private let clockOrigin = ContinuousClock.now
    /// When the last mail was committed, in nanoseconds since `clockOrigin` (0: never).
    private let lastCommit = Atomic<Int64>(0)

    init(receiver: EmailReceiver, store: any MailSpoolStore, configuration: Configuration = Configuration(), logger: Logger) {
        self.receiver = receiver
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    func checkRecipient(_ address: String, envelope: SMTPEnvelope) -> SMTPReply? {
        receiver.checkRecipient(address, envelope: envelope)
    }

    func receive(_ message: [UInt8], envelope: SMTPEnvelope) async -> SMTPReply {
        await withCheckedContinuation { continuation in
            receive(message, envelope: envelope) { continuation.resume(returning: $0) }
        }
    }

    func receive(_ message: [UInt8], envelope: SMTPEnvelope, completion: @escaping @Sendable (SMTPReply) -> Void) {
        let entry = Pending(
            mail: NewSpooledMail(
                receivedAt: Date(),
                envelope: SpooledEnvelope(
                    heloName: envelope.heloName, mailFrom: envelope.mailFrom, recipients: envelope.recipients,
                    remoteAddress: envelope.remoteAddress, remotePort: envelope.remotePort, usedTLS: envelope.usedTLS,
                    parameters: envelope.parameters),
                message: message),
            completion: completion)
        let maximumWaiting = configuration.maximumWaiting
        let maximumBatch = configuration.maximumBatch
        enum Next {
            case full
            case queued
            case write([Pending])
        }
        let next = state.withLock { state -> Next in
            guard state.waiting < maximumWaiting else { return .full }
            state.waiting += 1
            state.pending.append(entry)
            guard !state.writing else { return .queued }
            state.writing = true
            return .write(Self.take(&state.pending, maximumBatch))
        }
        switch next {
        case .full:
            logger.warning("mail refused: the spool is full", metadata: ["waiting": "\(maximumWaiting)"])
            completion(SMTPReply(code: 452, enhancedCode: "4.3.1", text: "Insufficient system storage, try again later"))
        case .queued:
            break
        case .write(let batch):
            write(batch)
        }
    }

    /// Commits `batch`, answers each sender, then writes what queued up meanwhile.
    private func write(_ batch: [Pending]) {
        store.spoolMails(batch.map(\.mail)) { [self] result in
            switch result {
            case .success(let ids):
                lastCommit.store(Int64((ContinuousClock.now - clockOrigin) / .nanoseconds(1)), ordering: .relaxed)
                committed.signal()
                for (entry, id) in zip(batch, ids) { entry.completion(.ok("OK queued as \(id)")) }
            case .failure(let error):
                logger.error("mail not spooled", metadata: ["error": "\(error)", "mails": "\(batch.count)"])
                state.withLock { $0.waiting -= batch.count }
                for entry in batch { entry.completion(.unavailable("cannot store the message now; try again later")) }
            }
            let maximumBatch = configuration.maximumBatch
            let next = state.withLock { state -> [Pending]? in
                guard !state.pending.isEmpty else {
                    state.writing = false
                    return nil
                }
                return Self.take(&state.pending, maximumBatch)
            }
            if let next { write(next) }
        }
    }

    private static func take(_ pending: inout [Pending], _ count: Int) -> [Pending] {
        guard pending.count > count else {
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        defer { pending.removeFirst(count) }
        return Array(pending.prefix(count))
    }

    /// The processor removed `count` mails from the spool.
    func processed(_ count: Int) {
        state.withLock { $0.waiting = max(0, $0.waiting - count) }
    }

    /// At the processor's start: the spool holds `count` mails (some left by an earlier run).
    func found(_ count: Int) {
        state.withLock { $0.waiting = max($0.waiting, count) }
    }

    /// How long processing should wait before taking mail that has waited since `oldest`, or nil
    /// to go ahead: while mail is still arriving (a commit within the quiet period) and the
    /// oldest mail has not waited `maximumDeferral` yet.
    func processingPause(oldest: Date, now: Date = Date()) -> Duration? {
        let last = lastCommit.load(ordering: .relaxed)
        guard last > 0 else { return nil }
        let sinceCommit = (ContinuousClock.now - clockOrigin) - .nanoseconds(last)
        guard sinceCommit < configuration.quietPeriod else { return nil }
        let waited = Duration.milliseconds(Int64(now.timeIntervalSince(oldest) * 1_000))
        guard waited < configuration.maximumDeferral else { return nil }
        return max(.milliseconds(1), min(configuration.quietPeriod - sinceCommit, configuration.maximumDeferral - waited))
    }
}

/// Threads spooled mail into the conversation model, oldest first, and removes it from the spool.
///
/// A batch of mails is processed in the order they arrived, and the customers' messages of the
/// whole batch are stored in one transaction (a follow-up never overtakes the mail it follows,
/// and one commit serves many mails). What the receiver would have refused at once (no sender,
/// no account left) is kept raw and logged: the sender already has its 250. A transient failure
/// (the store unavailable) leaves the mail in the spool for a later attempt, with a growing
/// delay; an accepted mail is never dropped. A crash between a mail's ingest and its removal
/// processes it again, and ingest stores it once (its provider id is its Message-ID, else its
/// content's hash).
struct MailSpoolProcessor: Sendable {
    let spool: MailSpool
    let logger: Logger

    func run() async {
        let spoolStore = spool.store
        if let summary = try? await spoolStore.mailSpoolSummary() {
            spool.found(summary.waiting)
            if summary.waiting > 0 {
                logger.info("mail waiting in the spool from before", metadata: ["mails": "\(summary.waiting)", "deferred": "\(summary.deferred)"])
            }
        }
        var batch: [SpooledMail] = []
        while !Task.isCancelled {
            if batch.isEmpty {
                do {
                    batch = try await spoolStore.spooledMails(dueAt: Date(), limit: spool.configuration.processingBatch)
                } catch {
                    logger.error("the spool could not be read", metadata: ["error": "\(error)"])
                    await spool.committed.wait(timeout: .seconds(1))
                    continue
                }
                if batch.isEmpty {
                    await spool.committed.wait(timeout: await idleWait())
                    continue
                }
            }
            if let pause = spool.processingPause(oldest: batch[0].receivedAt) {
                try? await Task.sleep(for: pause)
                continue
            }
            // A batch is finished even when the service is stopping: cancelled halfway, its
            // mails would be deferred as failed.
            let current = batch
            await Task { await process(current) }.value
            batch = []
        }
    }

    /// Until the next deferred mail is due (at most a minute).
    private func idleWait() async -> Duration {
        guard let next = try? await spool.store.mailSpoolSummary().nextAttemptAt else { return .seconds(60) }
        let seconds = min(60, max(0.05, next.timeIntervalSinceNow))
        return .milliseconds(Int64(seconds * 1_000))
    }

    /// What became of one mail.
    enum Outcome: Sendable {
        case done
        case retry(String)
    }

    /// Processes `batch` in order, the customers' messages of all its mails in one transaction
    /// (a later mail sees the conversation an earlier one started), then removes the finished
    /// mails in one more.
    func process(_ batch: [SpooledMail]) async {
        let replies = await spool.receiver.receive(batch: batch.map { ($0.message, Self.envelope($0)) })
        var finished: [Int64] = []
        for (mail, reply) in zip(batch, replies) {
            switch await outcome(mail, reply) {
            case .done: finished.append(mail.id)
            case .retry(let reason): await deferMail(mail, reason: reason)
            }
        }
        do {
            try await spool.store.removeSpooledMails(finished)
            spool.processed(finished.count)
        } catch {
            // They stay in the spool and are processed again; ingest stores each once.
            logger.error("processed mail not removed from the spool", metadata: ["error": "\(error)", "mails": "\(finished.count)"])
        }
    }

    static func envelope(_ mail: SpooledMail) -> SMTPEnvelope {
        SMTPEnvelope(
            heloName: mail.envelope.heloName, mailFrom: mail.envelope.mailFrom, recipients: mail.envelope.recipients,
            remoteAddress: mail.envelope.remoteAddress, remotePort: mail.envelope.remotePort, usedTLS: mail.envelope.usedTLS,
            parameters: mail.envelope.parameters)
    }

    /// What the receiver's answer means for a mail that was accepted already.
    func outcome(_ mail: SpooledMail, _ reply: SMTPReply) async -> Outcome {
        if reply.isPositive { return .done }
        if reply.isTransient { return .retry(reply.description) }
        // Refused after it was accepted: kept raw, so nothing accepted is lost.
        do {
            let reference = try await spool.receiver.keepOriginal(mail.message)
            logger.warning(
                "spooled mail not delivered to a conversation; its original is kept",
                metadata: ["spool": "\(mail.id)", "reason": "\(reply.description)", "raw": "\(reference)", "from": "\(mail.envelope.remoteAddress ?? "?")"])
            return .done
        } catch {
            return .retry("the original could not be kept: \(error)")
        }
    }

    func deferMail(_ mail: SpooledMail, reason: String) async {
        // 10 s, 20 s, 40 s... at most an hour between attempts; never given up.
        let delay = min(3_600, 10 * pow(2, Double(min(mail.attempts, 20))))
        logger.error(
            "spooled mail not processed; tried again later",
            metadata: ["spool": "\(mail.id)", "attempts": "\(mail.attempts + 1)", "retry_in_seconds": "\(Int(delay))", "reason": "\(reason)"])
        do {
            try await spool.store.deferSpooledMail(mail.id, until: Date().addingTimeInterval(delay), error: reason)
        } catch {
            logger.error("spooled mail's next attempt not recorded", metadata: ["spool": "\(mail.id)", "error": "\(error)"])
        }
    }
}
