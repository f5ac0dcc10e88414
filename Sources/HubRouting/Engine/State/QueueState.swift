import HubModel

/// A queue inside the router.
struct QueueState {
    var policy: QueuePolicy {
        didSet {
            plansShareable = Self.resolvesAlike(policy)
            times = QueueTimes(policy)
        }
    }
    /// The policy's offer timeouts and wrap-up times in milliseconds (set with the policy): a
    /// `Duration` costs a 128-bit division to read.
    var times: QueueTimes
    /// Whether tasks of the queue with the same medium, requirements and dropped skills resolve
    /// its steps to the same filters (nothing in them reads a task's attributes), so that they
    /// can share one resolution (`TaskPlan`).
    var plansShareable = false
    /// The distinct membership delays of its agents, ascending, starting with 0.
    var delays: [Int64]
    /// Agent slots that are members.
    var members: [Int32]
    /// Waiting and offered tasks in the order they entered: queue length and longest wait.
    var present: PerMedium<PresentQueue>
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

    static func resolvesAlike(_ policy: QueuePolicy) -> Bool {
        func plain(_ requirement: SkillRequirement) -> Bool { !requirement.skill.utf8.contains(UInt8(ascii: "$")) }
        return policy.requirements.allSatisfy(plain)
            && policy.steps.allSatisfy { step in
                step.filter.expression == nil && step.filter.skills.allSatisfy(plain)
                    && step.filter.agents.allSatisfy { if case .agent = $0 { true } else { false } }
            }
    }
}

/// A queue policy's times in whole milliseconds.
struct QueueTimes {
    var offerTimeout: PerMedium<Int64>
    var wrapUp: PerMedium<Int64>
    var maxWrapUp: Int64?

    init(_ policy: QueuePolicy) {
        offerTimeout = PerMedium(
            voice: policy.offerTimeout.voice.wholeMilliseconds, messaging: policy.offerTimeout.messaging.wholeMilliseconds,
            email: policy.offerTimeout.email.wholeMilliseconds)
        wrapUp = PerMedium(
            voice: policy.wrapUp.voice.wholeMilliseconds, messaging: policy.wrapUp.messaging.wholeMilliseconds,
            email: policy.wrapUp.email.wholeMilliseconds)
        maxWrapUp = policy.maxWrapUp?.wholeMilliseconds
    }
}

/// A resolution of a queue's steps shared by the tasks that resolve alike.
struct TaskPlan {
    var filters: [ResolvedFilter]
    var groups: [Int32]
    /// The router's `filterEpoch` when resolved: agent references may have changed since.
    var epoch: UInt64
}

/// What a shareable resolution depends on besides the queue's policy.
struct PlanKey: Equatable {
    var queue: Int32
    var medium: ChannelMedium
    var droppedThrough: Int
    var requirements: [SkillRequirement]
}

extension PlanKey: SlotTableKey {
    static var placeholder: PlanKey { PlanKey(queue: -1, medium: .voice, droppedThrough: 0, requirements: []) }

    func slotHash(seed: UInt64) -> UInt64 {
        var hash = FNV1a(seed: seed)
        hash.add(UInt64(UInt32(bitPattern: queue)) | UInt64(medium.index) << 32)
        hash.add(UInt64(bitPattern: Int64(droppedThrough)))
        for requirement in requirements {
            hash.add(requirement.skill)
            hash.add(UInt64(bitPattern: Int64(requirement.minLevel)) ^ (requirement.optional ? 1 << 62 : 0))
            hash.add(UInt64(bitPattern: Int64(requirement.dropOrder)))
        }
        return hash.value
    }
}

/// A task present in a queue: when it entered, its arrival number, its slot. Ordered by entry
/// time, then arrival (the order `PresentQueue.elements` gives).
struct PresentKey: Comparable {
    var enqueuedAt: Int64
    var sequence: Int64
    var slot: Int32

    static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.enqueuedAt != rhs.enqueuedAt ? lhs.enqueuedAt < rhs.enqueuedAt : lhs.sequence < rhs.sequence
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.enqueuedAt == rhs.enqueuedAt && lhs.sequence == rhs.sequence }
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
