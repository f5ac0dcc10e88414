import Foundation

/// One figure the metrics projection counts, as a column of the aggregate tables. Durations are
/// sums in milliseconds. docs/metrics.md defines each; new figures are appended (a migration adds
/// their columns), never renumbered.
public enum MetricField: Int, CaseIterable, Sendable, CustomStringConvertible {
    // Contacts (a conversation's visit to the queues, from entry to an agent or to leaving).
    case offered, handled, handledInThreshold, abandoned, shortAbandoned, withdrawn, overflowed, requeued
    case waitMs, abandonWaitMs
    // Agents' work on contacts.
    case assignments, transfers, handleCount, handleMs, wrapMs, offers, offersDeclined, offersMissed
    case firstResponses, firstResponseMs
    // Messages.
    case inboundMessages, outboundMessages, outboundSent, outboundDelivered, outboundFailed, outboundBounced, inboundRejected
    // Tickets.
    case ticketsCreated, ticketsResolved, resolutionMs, firstContactResolved, ticketsReopened
    case csatSent, csatAnswered, csatScoreSum, csatSatisfied, slaWarnings, slaBreaches
    // Agents' time.
    case idleMs, busyMs, awayMs

    /// The column's name.
    public var description: String {
        switch self {
        case .offered: "offered"
        case .handled: "handled"
        case .handledInThreshold: "handledInThreshold"
        case .abandoned: "abandoned"
        case .shortAbandoned: "shortAbandoned"
        case .withdrawn: "withdrawn"
        case .overflowed: "overflowed"
        case .requeued: "requeued"
        case .waitMs: "waitMs"
        case .abandonWaitMs: "abandonWaitMs"
        case .assignments: "assignments"
        case .transfers: "transfers"
        case .handleCount: "handleCount"
        case .handleMs: "handleMs"
        case .wrapMs: "wrapMs"
        case .offers: "offers"
        case .offersDeclined: "offersDeclined"
        case .offersMissed: "offersMissed"
        case .firstResponses: "firstResponses"
        case .firstResponseMs: "firstResponseMs"
        case .inboundMessages: "inboundMessages"
        case .outboundMessages: "outboundMessages"
        case .outboundSent: "outboundSent"
        case .outboundDelivered: "outboundDelivered"
        case .outboundFailed: "outboundFailed"
        case .outboundBounced: "outboundBounced"
        case .inboundRejected: "inboundRejected"
        case .ticketsCreated: "ticketsCreated"
        case .ticketsResolved: "ticketsResolved"
        case .resolutionMs: "resolutionMs"
        case .firstContactResolved: "firstContactResolved"
        case .ticketsReopened: "ticketsReopened"
        case .csatSent: "csatSent"
        case .csatAnswered: "csatAnswered"
        case .csatScoreSum: "csatScoreSum"
        case .csatSatisfied: "csatSatisfied"
        case .slaWarnings: "slaWarnings"
        case .slaBreaches: "slaBreaches"
        case .idleMs: "idleMs"
        case .busyMs: "busyMs"
        case .awayMs: "awayMs"
        }
    }
}

/// A value per `MetricField`.
public struct MetricCounters: Sendable, Hashable {
    public private(set) var values: [Int64]

    public init() { values = Array(repeating: 0, count: MetricField.allCases.count) }

    /// From stored columns in `MetricField` order (missing ones are zero).
    public init(values: [Int64]) {
        self.init()
        for (index, value) in values.prefix(self.values.count).enumerated() { self.values[index] = value }
    }

    public subscript(field: MetricField) -> Int64 {
        get { values[field.rawValue] }
        set { values[field.rawValue] = newValue }
    }

    public mutating func add(_ other: MetricCounters) {
        for index in values.indices { values[index] &+= other.values[index] }
    }

    public mutating func subtract(_ other: MetricCounters) {
        for index in values.indices { values[index] &-= other.values[index] }
    }

    public var isZero: Bool { values.allSatisfy { $0 == 0 } }
}

/// A figure managers read, computed from the counts (docs/metrics.md defines each). Nil where
/// its denominator is zero: "no calls" is not "0 % answered".
public enum MetricFigure: String, CaseIterable, Sendable {
    case offered, handled, abandoned, shortAbandoned, withdrawn, overflowed, requeued
    case answerRate, averageSpeedOfAnswerSeconds, serviceLevel, averageAbandonSeconds
    case assignments, transfers, averageHandleSeconds, handleSeconds, wrapUpSeconds
    case offers, offersDeclined, offersMissed
    case firstResponses, averageFirstResponseSeconds
    case inboundMessages, outboundMessages, outboundSent, outboundDelivered, outboundFailed, outboundBounced, deliverySuccessRate, deliveryFailureRate
    case inboundRejected
    case ticketsCreated, ticketsResolved, averageResolutionSeconds, firstContactResolved, firstContactResolutionRate, ticketsReopened
    case csatSent, csatAnswered, csatAverage, csatResponseRate, csatSatisfiedRate
    case slaWarnings, slaBreaches
    case idleSeconds, busySeconds, awaySeconds, loggedInSeconds, occupancy, utilization

    public func value(_ c: MetricCounters) -> Double? {
        func ratio(_ numerator: Int64, _ denominator: Int64) -> Double? {
            denominator > 0 ? (Double(numerator) / Double(denominator) * 10_000).rounded() / 10_000 : nil
        }
        func seconds(_ milliseconds: Int64) -> Double { Double(milliseconds) / 1000 }
        func average(_ milliseconds: Int64, _ count: Int64) -> Double? {
            count > 0 ? (Double(milliseconds) / Double(count)).rounded() / 1000 : nil
        }
        switch self {
        case .offered: return Double(c[.offered])
        case .handled: return Double(c[.handled])
        case .abandoned: return Double(c[.abandoned])
        case .shortAbandoned: return Double(c[.shortAbandoned])
        case .withdrawn: return Double(c[.withdrawn])
        case .overflowed: return Double(c[.overflowed])
        case .requeued: return Double(c[.requeued])
        case .answerRate: return ratio(c[.handled], c[.handled] + c[.abandoned])
        case .averageSpeedOfAnswerSeconds: return average(c[.waitMs], c[.handled])
        case .serviceLevel: return ratio(c[.handledInThreshold], c[.handled] + c[.abandoned] - c[.shortAbandoned])
        case .averageAbandonSeconds: return average(c[.abandonWaitMs], c[.abandoned])
        case .assignments: return Double(c[.assignments])
        case .transfers: return Double(c[.transfers])
        case .averageHandleSeconds: return average(c[.handleMs] + c[.wrapMs], c[.handleCount])
        case .handleSeconds: return seconds(c[.handleMs])
        case .wrapUpSeconds: return seconds(c[.wrapMs])
        case .offers: return Double(c[.offers])
        case .offersDeclined: return Double(c[.offersDeclined])
        case .offersMissed: return Double(c[.offersMissed])
        case .firstResponses: return Double(c[.firstResponses])
        case .averageFirstResponseSeconds: return average(c[.firstResponseMs], c[.firstResponses])
        case .inboundMessages: return Double(c[.inboundMessages])
        case .outboundMessages: return Double(c[.outboundMessages])
        case .outboundSent: return Double(c[.outboundSent])
        case .outboundDelivered: return Double(c[.outboundDelivered])
        case .outboundFailed: return Double(c[.outboundFailed])
        case .outboundBounced: return Double(c[.outboundBounced])
        case .deliverySuccessRate:
            return ratio(c[.outboundSent] - c[.outboundBounced], c[.outboundSent] + c[.outboundFailed] - c[.outboundBounced])
        case .deliveryFailureRate: return ratio(c[.outboundFailed], c[.outboundSent] + c[.outboundFailed] - c[.outboundBounced])
        case .inboundRejected: return Double(c[.inboundRejected])
        case .ticketsCreated: return Double(c[.ticketsCreated])
        case .ticketsResolved: return Double(c[.ticketsResolved])
        case .averageResolutionSeconds: return average(c[.resolutionMs], c[.ticketsResolved])
        case .firstContactResolved: return Double(c[.firstContactResolved])
        case .firstContactResolutionRate: return ratio(c[.firstContactResolved], c[.ticketsResolved])
        case .ticketsReopened: return Double(c[.ticketsReopened])
        case .csatSent: return Double(c[.csatSent])
        case .csatAnswered: return Double(c[.csatAnswered])
        case .csatAverage: return c[.csatAnswered] > 0 ? (Double(c[.csatScoreSum]) / Double(c[.csatAnswered]) * 100).rounded() / 100 : nil
        case .csatResponseRate: return ratio(c[.csatAnswered], c[.csatSent])
        case .csatSatisfiedRate: return ratio(c[.csatSatisfied], c[.csatAnswered])
        case .slaWarnings: return Double(c[.slaWarnings])
        case .slaBreaches: return Double(c[.slaBreaches])
        case .idleSeconds: return seconds(c[.idleMs])
        case .busySeconds: return seconds(c[.busyMs])
        case .awaySeconds: return seconds(c[.awayMs])
        case .loggedInSeconds: return seconds(c[.idleMs] + c[.busyMs] + c[.awayMs])
        case .occupancy: return ratio(c[.busyMs], c[.busyMs] + c[.idleMs])
        case .utilization: return ratio(c[.busyMs], c[.busyMs] + c[.idleMs] + c[.awayMs])
        }
    }

    /// What a rate or an average is taken over (an alert's `minimum` applies to it): contacts,
    /// pieces of work, messages, tickets, answers, or seconds of agents' time; for a count, the count.
    public func sample(_ c: MetricCounters) -> Int64 {
        switch self {
        case .answerRate: c[.handled] + c[.abandoned]
        case .averageSpeedOfAnswerSeconds: c[.handled]
        case .serviceLevel: c[.handled] + c[.abandoned] - c[.shortAbandoned]
        case .averageAbandonSeconds: c[.abandoned]
        case .averageHandleSeconds: c[.handleCount]
        case .averageFirstResponseSeconds: c[.firstResponses]
        case .deliverySuccessRate, .deliveryFailureRate: c[.outboundSent] + c[.outboundFailed] - c[.outboundBounced]
        case .averageResolutionSeconds, .firstContactResolutionRate: c[.ticketsResolved]
        case .csatAverage, .csatSatisfiedRate: c[.csatAnswered]
        case .csatResponseRate: c[.csatSent]
        case .occupancy: (c[.busyMs] + c[.idleMs]) / 1000
        case .utilization: (c[.busyMs] + c[.idleMs] + c[.awayMs]) / 1000
        default: Int64(value(c) ?? 0)
        }
    }

    /// The counts the figure is computed from (a report asked for a few figures reads only these).
    public var fields: [MetricField] {
        switch self {
        case .answerRate: [.handled, .abandoned]
        case .averageSpeedOfAnswerSeconds: [.waitMs, .handled]
        case .serviceLevel: [.handledInThreshold, .handled, .abandoned, .shortAbandoned]
        case .averageAbandonSeconds: [.abandonWaitMs, .abandoned]
        case .averageHandleSeconds: [.handleMs, .wrapMs, .handleCount]
        case .handleSeconds: [.handleMs]
        case .wrapUpSeconds: [.wrapMs]
        case .averageFirstResponseSeconds: [.firstResponseMs, .firstResponses]
        case .deliverySuccessRate, .deliveryFailureRate: [.outboundSent, .outboundFailed, .outboundBounced]
        case .averageResolutionSeconds: [.resolutionMs, .ticketsResolved]
        case .firstContactResolutionRate: [.firstContactResolved, .ticketsResolved]
        case .csatAverage: [.csatScoreSum, .csatAnswered]
        case .csatResponseRate: [.csatAnswered, .csatSent]
        case .csatSatisfiedRate: [.csatSatisfied, .csatAnswered]
        case .idleSeconds: [.idleMs]
        case .busySeconds: [.busyMs]
        case .awaySeconds: [.awayMs]
        case .loggedInSeconds, .occupancy, .utilization: [.idleMs, .busyMs, .awayMs]
        default: MetricField.allCases.filter { $0.description == rawValue }
        }
    }
}
