import Foundation

/// What a simulation measured, per queue and channel and per agent. Work is counted when it
/// arrived within the measured window (after warm-up, before the end); it is followed until it
/// is answered, abandoned or overflowed, even after the end.
public struct SimulationReport: Sendable, Hashable, Codable {
    public var scenario: String
    public var seed: UInt64
    public var durationSeconds: Double
    public var warmupSeconds: Double
    public var queues: [QueueLine]
    public var agents: [AgentLine]
    /// Busy time over logged-in time, all agents.
    public var occupancy: Double?
    public var decisions: Int
    public var workConservationChecks: Int

    public struct QueueLine: Sendable, Hashable, Codable {
        public var queue: String
        public var channel: String
        public var offered: Int
        public var answered: Int
        public var abandoned: Int
        public var overflowed: Int
        public var serviceLevelSeconds: Double
        /// Answered within the threshold over answered plus abandoned.
        public var serviceLevel: Double?
        /// Mean wait of answered work, seconds.
        public var averageSpeedOfAnswer: Double?
        /// Share of answered work that waited at all.
        public var probabilityOfWaiting: Double?
        public var abandonRate: Double?
        public var averageHandleTime: Double?
        /// Handle time of answered work over the measured window: Erlangs.
        public var offeredLoad: Double?
        /// Handle time of this work over the logged-in time of the agents who can take it
        /// (members of the queue with capacity for the medium): the share of their time it took.
        public var occupancy: Double?
    }

    public struct AgentLine: Sendable, Hashable, Codable {
        public var agent: String
        public var handled: Int
        public var busySeconds: Double
        public var loggedSeconds: Double
        /// Busy over logged in (chats in parallel can take it above 1).
        public var occupancy: Double?
    }

    /// The report as JSON with sorted keys: the same run gives the same bytes.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The report as text tables.
    public var table: String {
        func number(_ value: Double?, _ digits: Int = 1) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0 * 100) } ?? "-" }
        var lines = [
            "scenario \(scenario), seed \(seed), \(number(durationSeconds, 0)) s simulated after \(number(warmupSeconds, 0)) s warm-up",
            "",
            "| queue | channel | offered | answered | abandoned | overflowed | service level | ASA (s) | P(wait) | abandon rate | AHT (s) | load (E) | occupancy |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for line in queues {
            lines.append(
                "| \(line.queue) | \(line.channel) | \(line.offered) | \(line.answered) | \(line.abandoned) | \(line.overflowed) | "
                    + "\(percent(line.serviceLevel)) in \(number(line.serviceLevelSeconds, 0)) s | \(number(line.averageSpeedOfAnswer, 2)) | "
                    + "\(percent(line.probabilityOfWaiting)) | \(percent(line.abandonRate)) | \(number(line.averageHandleTime)) | "
                    + "\(number(line.offeredLoad, 2)) | \(percent(line.occupancy)) |")
        }
        lines += ["", "| agent | handled | busy (s) | logged in (s) | occupancy |", "|---|---|---|---|---|"]
        for line in agents {
            lines.append(
                "| \(line.agent) | \(line.handled) | \(number(line.busySeconds, 0)) | \(number(line.loggedSeconds, 0)) | \(percent(line.occupancy)) |")
        }
        lines += ["", "occupancy, all agents: \(percent(occupancy)); router decisions: \(decisions)"]
        return lines.joined(separator: "\n")
    }
}
