import Foundation
import GRDB
import HubModel

extension SQLiteStore {
    /// The grains of the aggregate tables and the minutes each row spans.
    static let metricGrains: [(table: String, minutes: Int64)] = [("minute", 1), ("hour", 60), ("day", 1440)]

    /// The three sets of aggregate tables: by channel, queue and agent; rolled up without the
    /// agent; by agent alone. A report reads the smallest set that has its grouping.
    enum MetricTableSet: CaseIterable {
        case full, channelQueue, agent

        var prefix: String {
            switch self {
            case .full: "metric_"
            case .channelQueue: "metric_cq_"
            case .agent: "metric_a_"
            }
        }

        var keys: [String] {
            switch self {
            case .full: ["channel", "queue", "agent"]
            case .channelQueue: ["channel", "queue"]
            case .agent: ["agent"]
            }
        }

        /// A key as this set stores it.
        func project(_ key: MetricKey) -> MetricKey {
            switch self {
            case .full: key
            case .channelQueue: MetricKey(minute: key.minute, channel: key.channel, queue: key.queue)
            case .agent: MetricKey(minute: key.minute, agent: key.agent)
            }
        }

        /// Binds the key's columns of this set, in the order of `keys`.
        func bind(_ key: MetricKey, to row: inout SQLBinder) {
            switch self {
            case .full:
                row.bind(key.channel)
                row.bind(key.queue)
                row.bind(key.agent)
            case .channelQueue:
                row.bind(key.channel)
                row.bind(key.queue)
            case .agent:
                row.bind(key.agent)
            }
        }

        static func reading(_ grouping: MetricGrouping) -> MetricTableSet {
            if grouping.contains(.agent) { return grouping.contains(.channel) || grouping.contains(.queue) ? .full : .agent }
            return .channelQueue
        }
    }
    static let metricPositionKey = "position"

    public func metricsPosition() async throws -> Int64? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT value FROM metric_state WHERE key = ?", arguments: [Self.metricPositionKey])
                .flatMap { Int64($0) }
        }
    }

    public func metricsState() async throws -> [String: String] {
        try await read { db in
            var state: [String: String] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT key, value FROM metric_state WHERE key != ? AND key NOT LIKE 'alert:%'", arguments: [Self.metricPositionKey])
            while let row = try rows.next() { state[row[0]] = row[1] }
            return state
        }
    }

    public func commitMetrics(_ commit: MetricsCommit) async throws {
        try await write { db, _ in
            let stored = try String.fetchOne(db, sql: "SELECT value FROM metric_state WHERE key = ?", arguments: [Self.metricPositionKey])
                .flatMap { Int64($0) } ?? 0
            guard stored == commit.from else {
                throw StoreError.conflict("the metrics were counted to \(stored) meanwhile, not \(commit.from): another projection runs on this store")
            }
            let names = MetricField.allCases.map(\.description)
            for set in MetricTableSet.allCases {
                for grain in Self.metricGrains {
                    // Each minute's counts added to its minute, hour and day, in each set.
                    var merged: [MetricKey: MetricCounters] = [:]
                    for (key, counters) in commit.deltas where !counters.isZero {
                        var bucket = set.project(key)
                        bucket.minute -= MetricGroup.modulo(key.minute, grain.minutes)
                        merged[bucket, default: MetricCounters()].add(counters)
                    }
                    guard !merged.isEmpty else { continue }
                    let keys = set.keys.joined(separator: ", ")
                    let statement = try db.cachedStatement(
                        sql: """
                            INSERT INTO \(set.prefix + grain.table) (bucket, \(keys), \(names.joined(separator: ", ")))
                            VALUES (?, \(Array(repeating: "?", count: set.keys.count + names.count).joined(separator: ", ")))
                            ON CONFLICT (bucket, \(keys)) DO UPDATE SET
                            \(names.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", "))
                            """)
                    for (key, counters) in merged {
                        try statement.run { row in
                            row.bind(key.minute)
                            set.bind(key, to: &row)
                            for value in counters.values { row.bind(value) }
                        }
                    }
                }
            }
            let upsert = try db.cachedStatement(
                sql: "INSERT INTO metric_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            let delete = try db.cachedStatement(sql: "DELETE FROM metric_state WHERE key = ?")
            for (key, value) in commit.state {
                if let value { try upsert.execute(arguments: [key, value]) } else { try delete.execute(arguments: [key]) }
            }
            try upsert.execute(arguments: [Self.metricPositionKey, String(commit.position)])
        }
    }

    public func metricTotals(
        fromMinute: Int64, toMinute: Int64, grouping: MetricGrouping, fields wanted: [MetricField]?
    ) async throws -> [MetricGroup: MetricCounters] {
        let fields = wanted.map { wanted in MetricField.allCases.filter(wanted.contains) } ?? MetricField.allCases
        guard fromMinute < toMinute else { return [:] }
        let set = MetricTableSet.reading(grouping)
        let segments = Self.metricSegments(from: fromMinute, to: toMinute, coarsest: grouping.periodMinutes ?? 1440)
        return try await read { db in
            var totals: [MetricGroup: MetricCounters] = [:]
            // Never NULL, so that each column decodes on GRDB's fast path; COUNT(*) tells the one
            // row an ungrouped query returns over an empty span.
            let sums = "COUNT(*), " + fields.map { "COALESCE(SUM(\($0)), 0)" }.joined(separator: ", ")
            var keys: [String] = []
            if grouping.contains(.channel) { keys.append("channel") }
            if grouping.contains(.queue) { keys.append("queue") }
            if grouping.contains(.agent) { keys.append("agent") }
            let period = grouping.periodMinutes
            for segment in segments {
                var columns = keys
                if let period { columns.append("bucket - (bucket % \(period))") }
                let groupBy = columns.isEmpty ? "" : "GROUP BY " + columns.joined(separator: ", ")
                let select = (columns + [sums]).joined(separator: ", ")
                let rows = try Row.fetchCursor(
                    db.cachedStatement(sql: "SELECT \(select) FROM \(set.prefix + segment.table) WHERE bucket >= ? AND bucket < ? \(groupBy)"),
                    arguments: [segment.from, segment.to])
                while let row = try rows.next() {
                    var index = 0
                    var group = MetricGroup()
                    func next() -> String {
                        defer { index += 1 }
                        return row[index]
                    }
                    if grouping.contains(.channel) { group.channel = next() }
                    if grouping.contains(.queue) { group.queue = next() }
                    if grouping.contains(.agent) { group.agent = next() }
                    if period != nil {
                        group.period = row[index]
                        index += 1
                    }
                    let count: Int64 = row[index]
                    guard count > 0 else { continue }
                    var counters = totals[group] ?? MetricCounters()
                    for (offset, field) in fields.enumerated() {
                        let value: Int64 = row[index + 1 + offset]
                        counters[field] &+= value
                    }
                    totals[group] = counters
                }
            }
            return totals
        }
    }

    /// Splits `from..<to` into spans each table covers whole: days in the middle, hours next to
    /// them, minutes at the edges (no grain coarser than `coarsest`, so a report grouped by hour
    /// never reads a day's row).
    static func metricSegments(from: Int64, to: Int64, coarsest: Int64) -> [(table: String, from: Int64, to: Int64)] {
        var segments: [(table: String, from: Int64, to: Int64)] = []
        func split(_ from: Int64, _ to: Int64, grains: ArraySlice<(table: String, minutes: Int64)>) {
            guard from < to, let grain = grains.last else { return }
            let rest = grains.dropLast()
            guard grain.minutes > 1 else {
                segments.append((grain.table, from, to))
                return
            }
            let start = from + MetricGroup.modulo(-from, grain.minutes)
            let end = to - MetricGroup.modulo(to, grain.minutes)
            guard start < end else { return split(from, to, grains: rest) }
            segments.append((grain.table, start, end))
            split(from, start, grains: rest)
            split(end, to, grains: rest)
        }
        split(from, to, grains: metricGrains.filter { $0.minutes <= coarsest }[...])
        return segments
    }

    public func resetMetrics() async throws {
        try await write { db, _ in
            for set in MetricTableSet.allCases {
                for grain in Self.metricGrains { try db.execute(sql: "DELETE FROM \(set.prefix + grain.table)") }
            }
            try db.execute(sql: "DELETE FROM metric_state WHERE key NOT LIKE 'alert:%'")
        }
    }

    public func pruneMetricMinutes(before minute: Int64) async throws -> Int {
        try await write { db, _ in
            var deleted = 0
            for set in MetricTableSet.allCases {
                try db.execute(sql: "DELETE FROM \(set.prefix)minute WHERE bucket < ?", arguments: [minute])
                deleted += db.changesCount
            }
            return deleted
        }
    }

    public func recordAlert(_ id: String, raised: Bool, payload: JSONValue, at date: Date, actor: Actor) async throws -> Bool {
        try await write { db, events in
            let key = "alert:" + id
            let active = try String.fetchOne(db, sql: "SELECT value FROM metric_state WHERE key = ?", arguments: [key]) != nil
            guard active != raised else { return false }
            if raised {
                try db.execute(sql: "INSERT INTO metric_state (key, value) VALUES (?, ?)", arguments: [key, JSONWriter.text(of: payload)])
            } else {
                try db.execute(sql: "DELETE FROM metric_state WHERE key = ?", arguments: [key])
            }
            _ = try events.append(raised ? .alertRaised : .alertCleared, at: date, actor: actor, refs: EventRefs(), payload: payload)
            return true
        }
    }

    public func activeAlerts() async throws -> [String: JSONValue] {
        try await read { db in
            var alerts: [String: JSONValue] = [:]
            // A range of the primary key: the table also holds the state of every contact the
            // projection keeps (a row per conversation), and `LIKE` read all of them, every
            // second the alerts are judged.
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM metric_state WHERE key >= 'alert:' AND key < 'alert;'") {
                let key: String = row[0]
                alerts[String(key.dropFirst(6))] = try JSONReader.parse(row[1] as String)
            }
            return alerts
        }
    }
}
