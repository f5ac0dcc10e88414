import HubModel

/// A queue inside the router.
struct QueueState {
    var policy: QueuePolicy
    /// The distinct membership delays of its agents, ascending, starting with 0.
    var delays: [Int64]
    /// Agent slots that are members.
    var members: [Int32]
    /// Waiting and offered tasks by (enqueuedAt, sequence): queue length and longest wait.
    var present: PerMedium<SortedBag<PresentKey>>
    /// Available members able to take the medium (busy or not).
    var staffed: PerMedium<Int>
    /// Their capacity for the medium, and how much of it is in use: the servers of the
    /// estimated wait.
    var servers: PerMedium<Int> = PerMedium(0)
    var busy: PerMedium<Int> = PerMedium(0)
    var staffGeneration: PerMedium<UInt32>
    var unstaffedSince: PerMedium<Int64>
    var statistics: PerMedium<QueueStatistics>

    var agingEvery: Int64? { policy.aging.map { max(1, $0.every.wholeMilliseconds) } }
}

struct PresentKey: Comparable, Hashable {
    var enqueuedAt: Int64
    var sequence: Int64
    var slot: Int32

    static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.enqueuedAt != rhs.enqueuedAt ? lhs.enqueuedAt < rhs.enqueuedAt : lhs.sequence < rhs.sequence
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.enqueuedAt == rhs.enqueuedAt && lhs.sequence == rhs.sequence }

    func hash(into hasher: inout Hasher) { hasher.combine(sequence) }
}

/// Live figures for the estimated wait: arrivals per minute over the rate window, and a moving
/// average of handle time (assigned time plus wrap-up).
struct QueueStatistics {
    /// Arrival counts per minute, a ring indexed by minute number.
    var arrivals: [Int]
    var arrivalMinutes: [Int64]
    var handleTimeMilliseconds: Double
    var handledSamples: Int

    init(windowMinutes: Int, expectedHandleTime: Duration) {
        arrivals = Array(repeating: 0, count: max(1, windowMinutes))
        arrivalMinutes = Array(repeating: -1, count: max(1, windowMinutes))
        handleTimeMilliseconds = Double(expectedHandleTime.wholeMilliseconds)
        handledSamples = 0
    }

    mutating func recordArrival(at now: Int64) {
        let minute = now / 60_000
        let slot = Int(minute % Int64(arrivals.count))
        if arrivalMinutes[slot] != minute {
            arrivalMinutes[slot] = minute
            arrivals[slot] = 0
        }
        arrivals[slot] += 1
    }

    /// Arrivals per second over the window (or since `origin`, when that is shorter).
    func arrivalRate(at now: Int64, origin: Int64) -> Double {
        let minute = now / 60_000
        let oldest = minute - Int64(arrivals.count) + 1
        var count = 0
        for slot in arrivals.indices where arrivalMinutes[slot] >= oldest && arrivalMinutes[slot] <= minute { count += arrivals[slot] }
        let windowStart = max(oldest * 60_000, origin)
        let seconds = max(1, Double(now - windowStart) / 1000)
        return Double(count) / seconds
    }

    /// Exponential moving average; the first real samples weigh more so the configured prior
    /// fades quickly.
    mutating func recordHandleTime(_ milliseconds: Int64) {
        handledSamples += 1
        let weight = max(0.02, 1 / Double(handledSamples + 1))
        handleTimeMilliseconds += weight * (Double(milliseconds) - handleTimeMilliseconds)
    }
}
