import Foundation
import HubConfig
import HubModel
import HubStore
import Logging
import ServiceLifecycle
import Synchronization

/// Runs tickets' SLA clocks from the event log, in business time, and raises warnings and breaches.
///
/// - A ticket gets the clocks of the first policy that matches its queue, priority and customer
///   tier; a change of queue or priority picks the policy again (time already used stays used).
/// - First response: from creation to the first agent reply (a public message in one of its
///   conversations, or a public comment). A ticket an agent opens is answered: they are talking to
///   the customer.
/// - Next response: from a customer message after the first response to the next agent reply.
/// - Resolution: from creation to solved; stopped while pending, going on from where it stopped
///   when the ticket reopens.
/// - Due: the ticket's own due time (an agent's, or a low satisfaction score's follow-up).
///
/// Everything it does for an event is a function of the clocks and the event (a clock starts only
/// if it is not running, stops only if it is), so a page read again after a crash changes nothing;
/// alerts are recorded once per clock and due time by the store.
public actor SLAService: LogFollower {
    static let readerName = "sla"
    static let actor = Actor(kind: .system, id: "sla")

    let store: any HubStore
    let now: @Sendable () -> Date
    let logger: Logger
    private let settingsCell: Mutex<SLASettings>
    var reader = LogReader(name: SLAService.readerName)
    private let wake = WakeSignal()
    /// The earliest warning or breach of a running clock not yet recorded, as of the last
    /// `check` (nil: none), or `.unknown` when clocks changed since. The service's loop checks
    /// only when it is unknown or has come, instead of querying the clocks at every commit.
    private var nextDue = NextDue.unknown

    /// Counts the service's changes to clocks, so that a `check` knows whether one came while it ran.
    private var clocksVersion = 0

    enum NextDue: Equatable {
        case unknown
        case at(Date?)

        var date: Date? {
            if case .at(let date) = self { return date }
            return nil
        }
    }

    init(store: any HubStore, settings: SLASettings, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = store
        self.settingsCell = Mutex(settings)
        self.now = now
        self.logger = logger
    }

    public nonisolated var settings: SLASettings { settingsCell.withLock { $0 } }

    /// New settings from a rules reload: they apply to clocks started or re-evaluated from now on.
    public func reload(_ settings: SLASettings) {
        settingsCell.withLock { $0 = settings }
        nextDue = .unknown
        wake.signal()
    }

    /// Follows the log and checks the clocks until cancelled.
    public func run() async throws {
        await wake.follow(store) {
            await self.step()
        } stop: {
            await self.savePosition()
        }
    }

    /// Reads the log, and records the alerts due if clocks changed or the next one has come.
    /// - Returns: how long to wait for the next one at most.
    func step() async -> Duration {
        let idle = settings.checkInterval
        do {
            try await read(saving: .periodically)
            let date = now()
            if case .at(let due) = nextDue, due.map({ $0 > date }) ?? true {
                return WakeSignal.sleep(until: due, now: date, idle: idle)
            }
            try await check()
            return WakeSignal.sleep(until: nextDue.date, now: now(), idle: idle)
        } catch is CancellationError {
        } catch {
            logger.error("SLA service step failed", metadata: ["error": "\(error)"])
        }
        return idle
    }

    /// Handles every event up to the log's end.
    public func catchUp() async throws {
        try await read(saving: .everyPage)
    }

    private func read(saving: LogReader.Saving) async throws {
        var reader = self.reader
        defer { self.reader = reader }
        try await reader.catchUp(store, saving: saving) { event in
            do {
                try await handle(event)
            } catch let error as StoreError where error.code != .unavailable {
                logger.warning("SLA service skipped an event", metadata: ["sequence": "\(event.sequence)", "error": "\(error)"])
            } catch is DecodingError {
                logger.warning("SLA service skipped an event it cannot read", metadata: ["sequence": "\(event.sequence)", "kind": "\(event.kind)"])
            }
        }
    }

    /// Records the warnings and breaches due now.
    public func check() async throws {
        let date = now()
        let settings = self.settings
        nextDue = .unknown
        let version = clocksVersion
        while true {
            let due = try await store.dueSLATimers(at: date, limit: 100)
            var recorded = 0
            for timer in due {
                let breach = timer.dueAt.map { $0 <= date } ?? false
                let policy = settings.policies.first { $0.id == timer.policyID }
                if try await store.recordSLAAlert(timer, breach: breach, raisePriority: breach ? policy?.raisePriority ?? 0 : 0, at: date, actor: Self.actor) {
                    recorded += 1
                    logger.notice(
                        breach ? "SLA target missed" : "SLA target close",
                        metadata: ["ticket": "\(timer.ticketID)", "metric": "\(timer.metric.rawValue)"])
                }
            }
            if due.count < 100 || recorded == 0 { break }
        }
        let next = try await store.nextSLATimerDue()
        // Clocks changed while this ran (the next due time read may predate them).
        if version == clocksVersion { nextDue = .at(next) }
    }

    // MARK: Events

    private func handle(_ event: HubEvent) async throws {
        guard event.actor != Self.actor else { return }
        let date = event.occurredAt
        switch event.kind {
        case .ticketCreated:
            let ticket = try event.payload.decode(as: Ticket.self)
            try await update(ticket, event: event) { timers in
                try await self.start(ticket, timers: &timers, at: date, answered: event.actor.kind == .agent)
            }
        case .ticketUpdated:
            let update = try event.payload.decode(as: TicketUpdatedPayload.self)
            try await self.update(update.ticket, event: event) { timers in
                try await self.changed(update, timers: &timers, at: date)
            }
        case .messageReceived:
            guard event.messageSummary?.direction == .inbound, let conversation = event.refs.conversationID,
                let customer = event.refs.customerID
            else { return }
            for ticket in try await store.tickets(linkedTo: conversation, of: customer) where ticket.status != .closed {
                try await update(ticket, event: event) { timers in self.customerWrote(ticket, timers: &timers, at: date) }
            }
        case .messageQueued:
            let message = try event.payload.decode(as: Message.self)
            guard case .agent = message.author else { return }
            for ticket in try await store.tickets(linkedTo: message.conversationID) {
                try await update(ticket, event: event) { timers in Self.answered(&timers, at: date) }
            }
        case .ticketCommented:
            let commented = try event.payload.decode(as: TicketCommentedPayload.self)
            guard commented.comment.visibility == .public, case .agent = commented.comment.author, let id = event.refs.ticketID,
                let ticket = try await store.ticket(id)
            else { return }
            try await update(ticket, event: event) { timers in Self.answered(&timers, at: date) }
        default:
            return
        }
    }

    /// Reads the ticket's clocks, lets `change` work on them, and saves them with the event's
    /// sequence number. An event at or before the clocks' sequence is applied already (the log
    /// read again after a crash): skipped, so that no time is counted twice.
    private func update(_ ticket: Ticket, event: HubEvent, _ change: (inout [SLATimer]) async throws -> Void) async throws {
        let before = try await store.slaTimers(of: ticket.id)
        if let applied = before.map(\.sequence).max(), applied >= event.sequence { return }
        var timers = before
        try await change(&timers)
        guard timers != before else { return }
        for index in timers.indices { timers[index].sequence = event.sequence }
        nextDue = .unknown
        clocksVersion &+= 1
        try await store.replaceSLATimers(timers.sorted { $0.metric.rawValue < $1.metric.rawValue }, of: ticket.id)
    }

    private func policy(for ticket: Ticket) async throws -> SLAPolicy? {
        let tier = try await store.customer(ticket.customerID)?.tier
        return settings.policy(queueID: ticket.queueID, priority: ticket.priority, tier: tier)
    }

    private func start(_ ticket: Ticket, timers: inout [SLATimer], at date: Date, answered: Bool) async throws {
        guard timers.isEmpty else { return }  // read again after a crash
        let policy = try await policy(for: ticket)
        if let policy {
            if let target = policy.targets[.firstResponse] {
                var timer = SLATimer(ticketID: ticket.id, metric: .firstResponse, policyID: policy.id, target: target.seconds)
                if answered { timer.fulfilledAt = date } else { timer.runningSince = date }
                timers.append(timer)
            }
            if let target = policy.targets[.resolution] {
                var timer = SLATimer(ticketID: ticket.id, metric: .resolution, policyID: policy.id, target: target.seconds)
                if ticket.status != .pending { timer.runningSince = date }
                timers.append(timer)
            }
        }
        if let due = ticket.dueAt {
            timers.append(SLATimer(ticketID: ticket.id, metric: .due, policyID: nil, target: due.timeIntervalSince(date), runningSince: date))
        }
        schedule(&timers, policy: policy)
    }

    private func changed(_ update: TicketUpdatedPayload, timers: inout [SLATimer], at date: Date) async throws {
        let ticket = update.ticket
        if update.changes.contains("status") {
            switch ticket.status {
            case .solved, .closed:
                for index in timers.indices where timers[index].fulfilledAt == nil {
                    Self.stop(&timers[index], at: date, calendar: calendar(timers[index]))
                    timers[index].fulfilledAt = date
                }
            case .pending:
                if let index = timers.firstIndex(where: { $0.metric == .resolution }) {
                    Self.stop(&timers[index], at: date, calendar: calendar(timers[index]))
                }
            case .new, .open, .onHold:
                // Reopened (from solved) or answered (from pending): resolution goes on where it
                // stopped. (A due time met by the solution stays met; a new one may be set.) A
                // reopened ticket waits for an agent's answer.
                for index in timers.indices where timers[index].metric == .resolution && timers[index].runningSince == nil {
                    timers[index].fulfilledAt = nil
                    timers[index].runningSince = date
                }
                if update.previousStatus == .solved {
                    startNextResponse(ticket, timers: &timers, at: date)
                }
            }
        }
        if update.changes.contains("dueAt") {
            timers.removeAll { $0.metric == .due }
            if let due = ticket.dueAt, ticket.isUnsolved {
                timers.append(SLATimer(ticketID: ticket.id, metric: .due, policyID: nil, target: due.timeIntervalSince(date), runningSince: date))
            }
        }
        let policy = try await policy(for: ticket)
        if update.changes.contains("priority") || update.changes.contains("queueID") {
            let current = timers.first { $0.metric != .due }?.policyID
            if current != policy?.id {
                // Another policy: its targets, the time already used kept (counted up to now in
                // the old policy's calendar, from now in the new one's). Of the metrics the ticket
                // had no clock for, resolution starts now; first response counts only from
                // creation, next response from the customer's next message. Alerts already
                // recorded stay recorded (a breach is not raised twice).
                var kept: [SLATimer] = timers.filter { $0.metric == .due }
                for metric in [SLAMetric.firstResponse, .nextResponse, .resolution] {
                    guard let target = policy?.targets[metric] else { continue }
                    if var timer = timers.first(where: { $0.metric == metric }) {
                        if timer.runningSince != nil {
                            Self.stop(&timer, at: date, calendar: calendar(timer))
                            timer.runningSince = date
                        }
                        timer.policyID = policy?.id
                        timer.target = target.seconds
                        kept.append(timer)
                    } else if metric == .resolution, ticket.isUnsolved {
                        kept.append(
                            SLATimer(ticketID: ticket.id, metric: metric, policyID: policy?.id, target: target.seconds, runningSince: ticket.status == .pending ? nil : date))
                    }
                }
                timers = kept
            }
        }
        schedule(&timers, policy: policy)
    }

    private func customerWrote(_ ticket: Ticket, timers: inout [SLATimer], at date: Date) {
        let first = timers.first { $0.metric == .firstResponse }
        guard first == nil || first?.fulfilledAt != nil else { return }  // the first response covers it
        // Solved at this point of the log (the clocks follow it in order, whatever the ticket is
        // now): a "thank you" awaits no answer. A reply that reopens it starts the clock then.
        // (A policy without a resolution target has no such clock: the ticket's status then.)
        if let resolution = timers.first(where: { $0.metric == .resolution }) {
            if resolution.fulfilledAt != nil { return }
        } else if !ticket.isUnsolved {
            return
        }
        startNextResponse(ticket, timers: &timers, at: date)
    }

    private func startNextResponse(_ ticket: Ticket, timers: inout [SLATimer], at date: Date) {
        let policyID = timers.first { $0.metric != .due }?.policyID
        guard let policy = settings.policies.first(where: { $0.id == policyID }), let target = policy.targets[.nextResponse] else { return }
        if let index = timers.firstIndex(where: { $0.metric == .nextResponse }) {
            guard timers[index].runningSince == nil else { return }  // already waiting for an answer
            timers[index] = SLATimer(ticketID: ticket.id, metric: .nextResponse, policyID: policy.id, target: target.seconds, runningSince: date)
        } else {
            timers.append(SLATimer(ticketID: ticket.id, metric: .nextResponse, policyID: policy.id, target: target.seconds, runningSince: date))
        }
        schedule(&timers, policy: policy)
    }

    /// An agent answered the customer: the response clocks that run stop, met.
    private static func answered(_ timers: inout [SLATimer], at date: Date) {
        for index in timers.indices where timers[index].runningSince != nil {
            guard timers[index].metric == .firstResponse || timers[index].metric == .nextResponse else { continue }
            timers[index].runningSince = nil
            timers[index].fulfilledAt = date
            timers[index].dueAt = nil
            timers[index].warnAt = nil
        }
    }

    /// Stops a running clock, keeping the business time it used.
    private static func stop(_ timer: inout SLATimer, at date: Date, calendar: BusinessCalendar) {
        guard let since = timer.runningSince else { return }
        timer.elapsed += calendar.businessSeconds(from: since, to: date)
        timer.runningSince = nil
        timer.dueAt = nil
        timer.warnAt = nil
    }

    private func calendar(_ timer: SLATimer) -> BusinessCalendar {
        guard timer.metric != .due else { return .always }
        return settings.calendar(of: settings.policies.first { $0.id == timer.policyID })
    }

    /// When each running clock is due and warns, in its policy's business time.
    private func schedule(_ timers: inout [SLATimer], policy: SLAPolicy?) {
        for index in timers.indices {
            guard let since = timers[index].runningSince else { continue }
            let timer = timers[index]
            let calendar = calendar(timer)
            let left = max(0, timer.target - timer.elapsed)
            let warnBefore = timer.metric == .due ? 0 : settings.policies.first { $0.id == timer.policyID }?.warnBefore.seconds ?? 0
            timers[index].dueAt = calendar.adding(left, to: since)
            timers[index].warnAt = warnBefore > 0 ? calendar.adding(max(0, left - warnBefore), to: since) : timers[index].dueAt
            if timers[index].dueAt == nil {
                logger.warning("an SLA calendar never opens: the clock has no due time", metadata: ["ticket": "\(timer.ticketID)", "policy": "\(timer.policyID ?? "")"])
            }
        }
    }
}

/// Runs the SLA service in the hub's service group.
public struct SLAServiceRunner: Service {
    let sla: SLAService

    public init(_ sla: SLAService) { self.sla = sla }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await sla.run()
        }
    }
}
