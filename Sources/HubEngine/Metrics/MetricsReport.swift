import Foundation
import HubModel
import HubStore

/// A report over a window: the figures per group, and what is going on now.
public struct MetricsReport: Sendable {
    public var from: Date
    public var to: Date
    public var grouping: MetricGrouping
    /// Sorted by period, channel, queue, agent.
    public var groups: [(group: MetricGroup, counters: MetricCounters)]
    public var now: MetricsNow
    /// Events of the log not counted yet (0 but while a large backlog is being counted).
    public var behind: Int64

    public init(
        from: Date, to: Date, grouping: MetricGrouping, groups: [(group: MetricGroup, counters: MetricCounters)], now: MetricsNow, behind: Int64
    ) {
        self.from = from
        self.to = to
        self.grouping = grouping
        self.groups = groups
        self.now = now
        self.behind = behind
    }
}

/// The figures of this moment.
public struct MetricsNow: Sendable, Hashable {
    public struct Queue: Sendable, Hashable {
        public var channel: String
        public var queue: String
        public var waiting: Int
        public var longestWaitSeconds: Double

        public init(channel: String, queue: String, waiting: Int, longestWaitSeconds: Double) {
            self.channel = channel
            self.queue = queue
            self.waiting = waiting
            self.longestWaitSeconds = longestWaitSeconds
        }
    }

    public struct Agents: Sendable, Hashable {
        public var medium: String
        /// idle, busy, wrapUp, away.
        public var state: String
        public var count: Int

        public init(medium: String, state: String, count: Int) {
            self.medium = medium
            self.state = state
            self.count = count
        }
    }

    public var at: Date
    /// Per channel and queue with someone waiting, sorted.
    public var queues: [Queue]
    /// Logged-in agents per medium and state, sorted.
    public var agents: [Agents]

    public init(at: Date, queues: [Queue], agents: [Agents]) {
        self.at = at
        self.queues = queues
        self.agents = agents
    }

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

/// What a supervisor's live stream shows: the queues and agents now, and today's figures per
/// channel (since 00:00 UTC).
public struct MetricsLive: Sendable {
    public var now: MetricsNow
    public var todayFrom: Date
    public var today: [(channel: String, counters: MetricCounters)]
}

extension MetricsService {
    /// The live figures, as of the log's end.
    public func live() async throws -> MetricsLive {
        try await freshen()
        let date = now()
        let midnight = MetricKey.minute(of: date) / 1440 * 1440
        let today = try await counted(fromMinute: midnight, toMinute: MetricKey.minute(of: date) + 1, grouping: .channel)
        let current = currentCounted
        return MetricsLive(
            now: MetricsNow.make(at: date, waiting: current.waiting, agents: current.agents),
            todayFrom: Date(timeIntervalSince1970: Double(midnight * 60)),
            today: today.sorted { $0.key < $1.key }.compactMap { key, counters in
                guard let channel = key.channel, !channel.isEmpty else { return nil }
                return (channel, counters)
            })
    }

    /// The figures over `from..<to` (widened to whole minutes; an end older than the figures kept
    /// per minute, to whole hours), grouped; the report says the window it covers.
    /// `figures`: the figures wanted (only their counts are read); nil for all.
    public func report(from: Date, to: Date, grouping: MetricGrouping, figures: [MetricFigure]? = nil) async throws -> MetricsReport {
        var fromMinute = MetricKey.minute(of: from)
        var toMinute = Int64((to.timeIntervalSince1970 / 60).rounded(.up))
        let horizon = minuteHorizon()
        if fromMinute < horizon { fromMinute = Int64((Double(fromMinute) / 60).rounded(.down)) * 60 }
        if toMinute < horizon { toMinute = Int64((Double(toMinute) / 60).rounded(.up)) * 60 }
        let behind = try await freshen()
        let fields = figures.map { figures in Array(Set(figures.flatMap(\.fields))) }
        let totals = try await counted(fromMinute: fromMinute, toMinute: toMinute, grouping: grouping, fields: fields)
        let current = currentCounted
        return MetricsReport(
            from: Date(timeIntervalSince1970: Double(fromMinute * 60)), to: Date(timeIntervalSince1970: Double(toMinute * 60)),
            grouping: grouping, groups: totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            now: MetricsNow.make(at: now(), waiting: current.waiting, agents: current.agents), behind: behind)
    }
}
