import Foundation
import HubModel
import HubStore

/// A figure managers read, computed from the counts (docs/metrics.md defines each). Nil where
/// its denominator is zero: "no calls" is not "0 % answered".
public enum MetricFigure: String, CaseIterable, Sendable {
    case offered, handled, abandoned, shortAbandoned, withdrawn, overflowed, requeued
    case answerRate, averageSpeedOfAnswerSeconds, serviceLevel, averageAbandonSeconds
    case assignments, transfers, averageHandleSeconds, handleSeconds, wrapUpSeconds
    case offers, offersDeclined, offersMissed
    case firstResponses, averageFirstResponseSeconds
    case inboundMessages, outboundMessages, outboundSent, outboundDelivered, outboundFailed, outboundBounced, deliverySuccessRate
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
}

/// A report over a window: the figures per group, and what is going on now.
public struct MetricsReport: Sendable {
    public var from: Date
    public var to: Date
    public var grouping: MetricGrouping
    /// Sorted by period, channel, queue, agent.
    public var groups: [(group: MetricGroup, counters: MetricCounters)]
    public var now: MetricsNow
}

/// The figures of this moment.
public struct MetricsNow: Sendable, Hashable {
    public struct Queue: Sendable, Hashable {
        public var channel: String
        public var queue: String
        public var waiting: Int
        public var longestWaitSeconds: Double
    }

    public struct Agents: Sendable, Hashable {
        public var medium: String
        /// idle, busy, wrapUp, away.
        public var state: String
        public var count: Int
    }

    public var at: Date
    /// Per channel and queue with someone waiting, sorted.
    public var queues: [Queue]
    /// Logged-in agents per medium and state, sorted.
    public var agents: [Agents]

    static func make(at date: Date, waiting: [MetricsProjector.Waiting], agents: [MetricsProjector.AgentNow]) -> MetricsNow {
        var queues: [String: Queue] = [:]
        for item in waiting {
            let key = item.channel.rawValue + "\u{1}" + item.queue
            var queue = queues[key] ?? Queue(channel: item.channel.rawValue, queue: item.queue, waiting: 0, longestWaitSeconds: 0)
            queue.waiting += 1
            queue.longestWaitSeconds = max(queue.longestWaitSeconds, Double(MetricsProjector.milliseconds(from: item.since, to: date)) / 1000)
            queues[key] = queue
        }
        var counts: [String: Agents] = [:]
        for agent in agents where agent.presence != "offline" {
            for medium in ChannelMedium.allCases {
                let state =
                    agent.busy.contains(medium) ? "busy" : agent.wrapping > 0 ? "wrapUp" : agent.presence == "available" ? "idle" : "away"
                counts[medium.rawValue + "\u{1}" + state, default: Agents(medium: medium.rawValue, state: state, count: 0)].count += 1
            }
        }
        return MetricsNow(
            at: date, queues: queues.values.sorted { ($0.channel, $0.queue) < ($1.channel, $1.queue) },
            agents: counts.values.sorted { ($0.medium, $0.state) < ($1.medium, $1.state) })
    }
}

extension MetricsService {
    /// The figures over `from..<to` (widened to whole minutes), grouped.
    public func report(from: Date, to: Date, grouping: MetricGrouping) async throws -> MetricsReport {
        let fromMinute = MetricKey.minute(of: from)
        let toMinute = Int64((to.timeIntervalSince1970 / 60).rounded(.up))
        let totals = try await totals(fromMinute: fromMinute, toMinute: toMinute, grouping: grouping)
        let current = try await current()
        return MetricsReport(
            from: Date(timeIntervalSince1970: Double(fromMinute * 60)), to: Date(timeIntervalSince1970: Double(toMinute * 60)),
            grouping: grouping, groups: totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            now: MetricsNow.make(at: now(), waiting: current.waiting, agents: current.agents))
    }
}
