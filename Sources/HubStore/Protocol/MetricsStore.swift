import Foundation
import HubModel

/// Where a count belongs: its minute (since 1970, UTC), channel kind, queue and agent ("" for
/// none).
public struct MetricKey: Sendable, Hashable {
    public var minute: Int64
    public var channel: String
    public var queue: String
    public var agent: String

    public init(minute: Int64, channel: String = "", queue: String = "", agent: String = "") {
        self.minute = minute
        self.channel = channel
        self.queue = queue
        self.agent = agent
    }

    /// The minute a date falls in.
    public static func minute(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / 60).rounded(.down)) }
}

/// What one page of the log changed: counts to add, projection state to keep (nil deletes a key),
/// and the log positions the projection goes from and to. Committed in one transaction, and only
/// if the stored position is still `from` (two projections on one store would count twice).
public struct MetricsCommit: Sendable {
    public var from: Int64
    public var position: Int64
    public var deltas: [MetricKey: MetricCounters]
    public var state: [String: String?]

    public init(from: Int64, position: Int64, deltas: [MetricKey: MetricCounters], state: [String: String?]) {
        self.from = from
        self.position = position
        self.deltas = deltas
        self.state = state
    }
}

/// How a report's counts are grouped.
public struct MetricGrouping: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let channel = MetricGrouping(rawValue: 1)
    public static let queue = MetricGrouping(rawValue: 2)
    public static let agent = MetricGrouping(rawValue: 4)
    public static let hour = MetricGrouping(rawValue: 8)
    public static let day = MetricGrouping(rawValue: 16)

    /// The minutes of the period a minute falls in (1 when not grouped by time).
    public var periodMinutes: Int64? { contains(.day) ? 1440 : contains(.hour) ? 60 : nil }
}

/// One group of a report; a nil member is not grouped on.
public struct MetricGroup: Sendable, Hashable, Comparable {
    public var channel: String?
    public var queue: String?
    public var agent: String?
    /// The first minute of the hour or day.
    public var period: Int64?

    public init(channel: String? = nil, queue: String? = nil, agent: String? = nil, period: Int64? = nil) {
        self.channel = channel
        self.queue = queue
        self.agent = agent
        self.period = period
    }

    /// The group a key falls in.
    public init(_ key: MetricKey, grouping: MetricGrouping) {
        self.init(
            channel: grouping.contains(.channel) ? key.channel : nil, queue: grouping.contains(.queue) ? key.queue : nil,
            agent: grouping.contains(.agent) ? key.agent : nil, period: grouping.periodMinutes.map { key.minute - Self.modulo(key.minute, $0) })
    }

    static func modulo(_ value: Int64, _ divisor: Int64) -> Int64 { ((value % divisor) + divisor) % divisor }

    public static func < (lhs: MetricGroup, rhs: MetricGroup) -> Bool {
        (lhs.period ?? 0, lhs.channel ?? "", lhs.queue ?? "", lhs.agent ?? "")
            < (rhs.period ?? 0, rhs.channel ?? "", rhs.queue ?? "", rhs.agent ?? "")
    }
}

/// The metrics projection's storage: counts per minute, hour and day (a report over any window
/// reads whole days and hours where it can, minutes only at its edges), and the projection's own
/// state with its log position.
public protocol MetricsStore: Sendable {
    /// The log position the projection has counted up to; nil before its first commit.
    func metricsPosition() async throws -> Int64?
    /// Every state entry the projection kept.
    func metricsState() async throws -> [String: String]
    /// Adds the counts, writes the state and the position, in one transaction.
    func commitMetrics(_ commit: MetricsCommit) async throws
    /// The sums over the minutes `from..<to`, grouped; only `fields` (the others read zero), or
    /// every field.
    func metricTotals(fromMinute: Int64, toMinute: Int64, grouping: MetricGrouping, fields: [MetricField]?) async throws -> [MetricGroup: MetricCounters]
    /// Raises (with `payload`) or clears the alert `id`, with its `alert.raised` or `alert.cleared`
    /// event, in one transaction; nothing when it is in that state already.
    /// - Returns: whether it changed.
    func recordAlert(_ id: String, raised: Bool, payload: JSONValue, at date: Date, actor: Actor) async throws -> Bool
    /// The alerts raised and not cleared, by id, with the payload they were raised with.
    func activeAlerts() async throws -> [String: JSONValue]
    /// Forgets every count and the state (the projection then recounts the whole log); the
    /// alerts raised stay raised.
    func resetMetrics() async throws
    /// Deletes the per-minute figures of minutes before `minute` (the hourly and daily ones
    /// stay); returns the rows deleted.
    func pruneMetricMinutes(before minute: Int64) async throws -> Int
}

extension MetricsStore {
    /// The sums of every field.
    public func metricTotals(fromMinute: Int64, toMinute: Int64, grouping: MetricGrouping) async throws -> [MetricGroup: MetricCounters] {
        try await metricTotals(fromMinute: fromMinute, toMinute: toMinute, grouping: grouping, fields: nil)
    }
}
