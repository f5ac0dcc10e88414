import Foundation
import HubModel

/// Tickets' SLA clocks: state derived from the log by the SLA service, and their alerts.
public protocol SLAStore: Sendable {
    func slaTimers(of ticketID: Ticket.ID) async throws -> [SLATimer]
    /// Replaces a ticket's clocks with `timers` (no event: the log already holds what they follow).
    func replaceSLATimers(_ timers: [SLATimer], of ticketID: Ticket.ID) async throws
    /// Running clocks whose warning or breach is due at `date` and not yet recorded.
    func dueSLATimers(at date: Date, limit: Int) async throws -> [SLATimer]
    /// The earliest time a running clock's warning or breach falls due and is not yet recorded
    /// (nil when none will): when the SLA service has to look again.
    func nextSLATimerDue() async throws -> Date?
    /// Records a clock's warning or breach with its event, once: nothing when the clock changed
    /// since it was read (stopped, or due at another time) or the alert is recorded already. A
    /// breach adds `raisePriority` to the routing priority of the ticket's conversations that wait
    /// in a queue, in the same transaction.
    /// - Returns: whether it was recorded now.
    func recordSLAAlert(_ timer: SLATimer, breach: Bool, raisePriority: Int, at date: Date, actor: Actor) async throws -> Bool
}
