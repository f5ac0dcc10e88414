import HubModel

/// A task inside the router. Indices (`queue`, agents in `exclusions`) are the router's dense
/// slots, not ids.
struct TaskState {
    enum Phase: Equatable {
        case waiting
        case offered
        case assigned(agent: Int32)
    }

    // Fields in the order the decision path reads them, so that the hot ones share cache lines
    // (a task's record is usually cold when an agent takes it); the request's collections last.

    /// False for a free slot.
    var alive = true
    var phase: Phase
    var queue: Int32
    var medium: ChannelMedium
    var channel: ChannelKind
    /// Arrival order: the last tie-breaker, so equal tasks replay in the same order. Unique, so
    /// timers and offers of an earlier task in the same slot are recognized and ignored.
    var sequence: Int64
    /// When the task entered its current queue: steps, delays and waiting limits count from here.
    var enqueuedAt: Int64
    var assignedAt: Int64
    /// Its place in the queue's `present` entries (see `PresentQueue.append`).
    var presentPosition: Int64 = -1
    var key: TaskKey?
    var capped: Bool
    /// The groups the task waits in, and its key in them.
    var groups: SlotList
    var offers: SlotList
    var id: String
    /// prependedSteps + the queue's steps + addedSteps.
    var steps: [RoutingStep] { didSet { resolvedEpoch = 0 } }
    /// The newest open step; `steps.count` once all have expired (the queue's open pool).
    var stepIndex: Int
    var resolvedEpoch: UInt64 = 0
    /// The step filters resolved for this task (one per step, then the open pool), valid while
    /// `resolvedEpoch` equals the router's `filterEpoch`; any change to what they depend on
    /// resets it.
    var resolved: [ResolvedFilter] = []
    /// The group of each resolved filter at membership delay 0.
    var resolvedGroups: [Int32] = []
    /// Agents who declined or missed this task in its current step.
    var exclusions: SlotList
    /// topDown: the (tier, position) last offered.
    var huntMemory: (tier: Int32, position: Int32)?
    /// The request's priority plus what rules and overflow added; the queue's priority and the
    /// step's boost come on top.
    var priority: Int
    var ageBase: Int64
    /// Entered a queue and not yet put in its groups: a task that finds an agent at once is never
    /// grouped (see `RoutingEngine.deferGrouping`).
    var groupPending = false
    var stepStartedAt: Int64
    /// Bumped whenever the step changes, so older step timers are ignored.
    var stepGeneration: UInt32
    /// Optional requirements with `dropOrder <= droppedThrough` no longer apply.
    var droppedThrough: Int { didSet { resolvedEpoch = 0 } }
    /// Agents who declined or missed it in an earlier step: eligible again, but only when no one
    /// else is free, so a declined task does not bounce straight back to the agent who declined.
    var demoted: SlotList
    /// Overflow rules of the current queue that already fired (bit per rule index).
    var firedOverflow: UInt64
    /// Whether the newest step was just entered and has not yet been tried (for skipIfNoneFree).
    var entryCheckPending: Bool
    /// Progressive ringing: bumped when a new round of ringing starts, so the timers of an
    /// earlier round (before a decline) are ignored.
    var ringGeneration: UInt32 = 0
    var resumeKey: String?
    var timeToLive: Duration?
    /// Requeues by overflow, to stop cycles between queues.
    var hops: Int
    /// Counts entries into a queue; timers of an earlier entry are ignored.
    var entry: UInt32
    var attributes: [String: AttributeValue] { didSet { resolvedEpoch = 0 } }
    var extraRequirements: [SkillRequirement] { didSet { resolvedEpoch = 0 } }
    var prependedSteps: [RoutingStep]
    var addedSteps: [RoutingStep]

    var isWaiting: Bool { alive && phase == .waiting }

    /// Empties a slot in place: the arrays keep their buffers for the slot's next task, so a
    /// task that comes and goes allocates and frees (almost) nothing.
    mutating func clear() {
        alive = false
        id = ""
        // Shared with the request or the queue's policy: dropped.
        attributes = [:]
        extraRequirements = []
        prependedSteps = []
        addedSteps = []
        steps = []
        // The task's own: emptied, buffers kept.
        exclusions.empty()
        demoted.empty()
        offers.empty()
        groups.empty()
        // Possibly shared with other tasks (a `TaskPlan`): dropped.
        resolved = []
        resolvedGroups = []
        resolvedEpoch = 0
        key = nil
        groupPending = false
        huntMemory = nil
        resumeKey = nil
        timeToLive = nil
    }

    /// Fills an empty slot (one that `clear()` emptied, or `dead`) with a new task, every field
    /// as a new task has it, reusing the slot's buffers.
    mutating func start(_ request: TaskRequest, sequence: Int64, queue: Int32, ageBase: Int64, now: Int64) {
        assert(!alive && extraRequirements.isEmpty && offers.isEmpty && groups.isEmpty && key == nil)
        id = request.id
        self.sequence = sequence
        channel = request.channel
        medium = request.channel.medium
        self.queue = queue
        priority = request.priority
        self.ageBase = ageBase
        enqueuedAt = now
        attributes = request.attributes
        extraRequirements = request.requirements
        prependedSteps = request.steps
        stepIndex = 0
        stepStartedAt = now
        stepGeneration = 0
        droppedThrough = 0
        phase = .waiting
        capped = false
        firedOverflow = 0
        entryCheckPending = true
        ringGeneration = 0
        huntMemory = nil
        resumeKey = request.resumeKey
        timeToLive = request.timeToLive
        assignedAt = 0
        hops = 0
        entry = 0
        resolvedEpoch = 0
        presentPosition = -1
        alive = true
    }

    /// What a free slot holds.
    static let dead: TaskState = {
        var task = TaskState(
            phase: .waiting, queue: 0, medium: .messaging, channel: .api, sequence: 0, enqueuedAt: 0, assignedAt: 0, key: nil, capped: false,
            groups: [], offers: [], id: "", steps: [], stepIndex: 0, exclusions: [], huntMemory: nil, priority: 0, ageBase: 0,
            stepStartedAt: 0, stepGeneration: 0, droppedThrough: 0, demoted: [], firedOverflow: 0, entryCheckPending: false, resumeKey: nil,
            timeToLive: nil, hops: 0, entry: 0, attributes: [:], extraRequirements: [], prependedSteps: [], addedSteps: [])
        task.alive = false
        return task
    }()
}

extension Array {
    /// Removes every element but keeps the buffer for the next ones; an empty array (which may
    /// be the shared empty singleton) is left alone, so this never allocates.
    mutating func empty() {
        if !isEmpty { removeAll(keepingCapacity: true) }
    }
}

extension Array where Element: Equatable {
    /// Removes `value`, which the array holds at most once, keeping the order of the rest
    /// (cheaper than `removeAll(where:)`, which rebuilds the array's tail).
    mutating func removeOnce(_ value: Element) {
        if let index = firstIndex(of: value) { remove(at: index) }
    }
}

/// The order of waiting tasks in a group: most urgent first, then oldest, then first arrived.
/// `primary` is negated priority (or, with aging, the aging-adjusted equivalent), so that the
/// natural ascending order is the serving order.
struct TaskKey: Comparable, Hashable {
    var primary: Int64
    var ageBase: Int64
    var sequence: Int64
    var slot: Int32

    static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.primary != rhs.primary { return lhs.primary < rhs.primary }
        if lhs.ageBase != rhs.ageBase { return lhs.ageBase < rhs.ageBase }
        return lhs.sequence < rhs.sequence
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.sequence == rhs.sequence && lhs.primary == rhs.primary && lhs.ageBase == rhs.ageBase }

    func hash(into hasher: inout Hasher) { hasher.combine(sequence) }
}

/// The serving order of one task, as plain numbers: effective priority is
/// `base + min(waited / every, cap)` (without aging: `base`), then age, then arrival.
struct Urgency {
    var base: Int64 = 0
    var ageBase: Int64 = 0
    var sequence: Int64 = 0
    /// Aging interval in milliseconds; 0: no aging.
    var every: Int64 = 0
    /// Aging cap in points; -1: none.
    var cap: Int64 = -1
    /// Whether the task may have excluded agents (false: it has none), so that a look at a
    /// group's head need not read the task itself.
    var excludes = false
}
