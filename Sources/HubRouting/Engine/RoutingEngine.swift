import HubModel

/// The skills/tier router: a pure, deterministic state machine. It takes events and the passing
/// of time on an injected clock and returns decisions; it has no storage, networking or clock of
/// its own, so the hub wraps it in an actor and the simulator drives it on a virtual clock.
///
/// After every event it matches until no waiting task and free eligible agent are left unpaired
/// (work conservation), touching only what the event changed: a task that became routable looks
/// for the best free agent in its open steps; an agent who became free looks at the heads of the
/// groups of waiting tasks that admit them. Both are ordered sets, so a decision costs O(log n)
/// in the number of tasks and agents, not a scan.
public struct RoutingEngine: Sendable {
    /// May be changed while running (the full-scan switch, delays); queues and agents change by events.
    public var configuration: RouterConfiguration
    /// The router's clock: the latest instant it was given.
    public internal(set) var now: RoutingInstant

    var queues: [QueueState] = []
    var queueIndex = SlotTable<String>()
    var agents: [AgentState] = []
    var agentIndex = SlotTable<String>()
    /// Task slots; a free slot is `alive == false` (emptied in place, see `TaskState.clear`).
    var tasks: [TaskState] = []
    /// Per task slot, what the serving order compares (kept apart so that comparisons copy no
    /// reference-counted fields).
    var urgencies: [Urgency] = []
    var taskIndex = SlotTable<String>()
    var freeTaskSlots: [Int32] = []
    var groups: [EligibilityGroup] = []
    var groupIndex = SlotTable<GroupKey>()
    /// Shared step resolutions (see `QueueState.plansShareable`); emptied when a queue changes.
    var plans: [TaskPlan] = []
    var planIndex = SlotTable<PlanKey>()
    /// Skill names seen in agents' profiles, numbered in order of first sight.
    var skillIDs = SlotTable<String>()
    /// Per group: its waiting tasks.
    var groupTasks: [GroupTasks] = []
    /// Per agent slot, per group: 0 not yet known, 1 admitted, 2 not admitted. By agent, so that
    /// the groups one agent looks at are checked in one array.
    var admission: [[UInt8]] = []
    /// Per agent slot: the same answers for the groups of its own queues, side by side (see
    /// `familyAnswerIndex`), so that a look at all its groups reads one or two cache lines
    /// instead of bytes scattered over its whole admission row. Empty until the agent first
    /// looks, and again after its profile changes.
    var familyAnswers: [[UInt8]] = []
    /// Per group: its place among the unpinned groups of its queue and medium, in order of
    /// creation (`familyWidth` or more: beyond the agents' family rows; pinned groups too).
    var groupFamilySlot: [UInt8] = []
    /// Per (queue, medium), same index as `groupLists`: unpinned groups created so far.
    var familySizes: [UInt8] = []
    /// Per agent slot: non-empty groups that name the agent.
    var pinnedGroups: [[Int32]] = []
    /// Free agents per (queue, medium): index `queue * 3 + medium`.
    var freeAgents: [SortedBag<AgentKey>] = []
    /// Non-empty, unpinned groups per (queue, medium), same index (kept apart from the queue
    /// state so that reading a list copies nothing else).
    var groupLists = GroupLists()
    var offers: [OfferState] = []
    /// Open offers by number (`offer-<number>`): integer keys hash cheaply.
    var offerIndex = SlotTable<Int64>()
    /// Per group: what the agent side reads on every look (see `GroupHead`).
    var groupHeads: [GroupHead] = []
    var freeOfferSlots: [Int32] = []
    var timers = DeadlineHeap<RouterTimer>()
    var abandoned: [String: AbandonedWait] = [:]
    var random: SplitMix64
    var nextSequence: Int64 = 0
    var nextOfferNumber: Int64 = 0
    var nextToken: UInt64 = 0
    var presenceVersion: UInt64 = 0
    /// Bumped when agents come or go, so that tasks resolve agent references again.
    var filterEpoch: UInt64 = 1
    var origin: Int64?
    /// Work to do before the event is finished.
    var dirtyAgents: [Int32] = []
    var dirtyAgentFlags: [Bool] = []
    var dirtyTasks: [Int32] = []
    /// Tasks whose grouping waits until an agent looks at the groups or the task finds nobody.
    var pendingGroups: [Int32] = []
    /// Step timers taken in this instant, not yet in `timers` (see `scheduleStepExpiry`).
    var pendingStepTimers: [PendingTimer] = []
    /// Agents whose places in the free sets are out of date.
    var staleAgents: [Int32] = []
    var staleAgentFlags: [Bool] = []
    var output: [RoutingDecision] = []
    /// Reused for the candidates of each decision (see `takeCandidateBuffer`).
    var candidateBuffer: [AgentCandidate] = []

    public init(configuration: RouterConfiguration = RouterConfiguration(), queues: [QueuePolicy] = [], agents: [AgentProfile] = [], now: RoutingInstant = .zero) {
        self.configuration = configuration
        self.now = now
        random = SplitMix64(seed: configuration.seed)
        for queue in queues { addOrReplaceQueue(queue) }
        for agent in agents { configureAgent(agent) }
        flushStaleAgents()
        output.removeAll()
    }

    /// Fires everything due up to `instant` (offer expiries, step openings, wrap-up ends...), in
    /// deadline order, and returns the decisions. An instant before the clock is treated as now.
    public mutating func advance(to instant: RoutingInstant) -> [RoutingDecision] {
        if instant > now { fireTimers(until: instant) }
        return takeOutput()
    }

    /// Applies `event` at the router's clock (call `advance(to:)` first) and returns the
    /// decisions. A refused event changes nothing.
    public mutating func apply(_ event: RoutingEvent) throws(RoutingError) -> [RoutingDecision] {
        // The slot the event is about (task, agent or offer), looked up once.
        let target = try validate(event)
        if origin == nil { origin = now.milliseconds }
        switch event {
        case .taskArrived(let request): arrive(request, queue: target!)
        case .taskAssigned(let request, _): assignDirectly(request, to: target!)
        case .taskUpdated(let update): updateTask(update)
        case .taskCancelled(_, let reason): cancelTask(slot: target!, reason: reason)
        case .taskCompleted: completeTask(slot: target!)
        case .taskTransferred(_, let destination, let keepAge): transferTask(slot: target!, to: destination, keepAge: keepAge)
        case .agentConfigured(let profile): configureAgent(profile)
        case .agentRemoved: removeAgent(target!)
        case .agentPresence(_, let presence): setPresence(target!, presence)
        case .wrapUpEnded(_, let taskID): endWrapUp(agent: target!, taskID: taskID)
        case .offerAccepted: acceptOffer(target!)
        case .offerRejected(_, let reason): rejectOffer(target!, reason: reason)
        case .queueConfigured(let policy): configureQueue(policy)
        }
        match()
        return takeOutput()
    }

    /// `advance(to: instant)` then `apply(event)`; the decisions of both. When the event is
    /// refused, the decisions of the advance are lost to the caller: services use the two calls.
    public mutating func handle(_ event: RoutingEvent, at instant: RoutingInstant) throws(RoutingError) -> [RoutingDecision] {
        var decisions = advance(to: instant)
        decisions += try apply(event)
        return decisions
    }

    /// The next instant at which something is due, if anything is scheduled.
    public var nextDeadline: RoutingInstant? {
        mutating get {
            discardStaleTimers()
            return timers.nextDeadline
        }
    }

    /// The slot of the open offer with this id.
    func openOffer(_ id: String) -> Int32? {
        guard id.hasPrefix("offer-"), let number = Int64(id.dropFirst(6)), let slot = offerIndex[number], offers[Int(slot)].open else {
            return nil
        }
        return slot
    }

    mutating func takeOutput() -> [RoutingDecision] {
        flushPendingGroups()
        flushStaleAgents()
        flushPendingStepTimers()
        // The caller gets the buffer; the next event starts a small new one (keeping the
        // capacity would copy it, since the caller holds it).
        let decisions = output
        output = []
        output.reserveCapacity(4)
        return decisions
    }

    /// Checks the event against the state; returns the slot it is about (the task's, the
    /// agent's or the offer's; for an arrival, the queue's), if any.
    private func validate(_ event: RoutingEvent) throws(RoutingError) -> Int32? {
        switch event {
        case .taskArrived(let request):
            guard taskIndex[request.id] == nil else { throw .duplicateTask(request.id) }
            guard let queue = queueIndex[request.queue] else { throw .unknownQueue(request.queue) }
            return queue
        case .taskAssigned(let request, let agent):
            guard taskIndex[request.id] == nil else { throw .duplicateTask(request.id) }
            guard queueIndex[request.queue] != nil else { throw .unknownQueue(request.queue) }
            guard let slot = agentIndex[agent], agents[Int(slot)].active else { throw .unknownAgent(agent) }
            return slot
        case .taskUpdated(let update):
            guard let slot = taskIndex[update.id] else { throw .unknownTask(update.id) }
            return slot
        case .taskCancelled(let id, _):
            guard let slot = taskIndex[id] else { throw .unknownTask(id) }
            return slot
        case .taskCompleted(let id):
            guard let slot = taskIndex[id] else { throw .unknownTask(id) }
            guard case .assigned = tasks[Int(slot)].phase else { throw .invalidState("task \(id) is not assigned to an agent") }
            return slot
        case .taskTransferred(let id, let target, _):
            guard let slot = taskIndex[id] else { throw .unknownTask(id) }
            switch target {
            case .queue(let queue):
                guard queueIndex[queue] != nil else { throw .unknownQueue(queue) }
            case .agent(let agent, let queue, _):
                guard let agentSlot = agentIndex[agent], agents[Int(agentSlot)].active else { throw .unknownAgent(agent) }
                if let queue, queueIndex[queue] == nil { throw .unknownQueue(queue) }
            }
            return slot
        case .agentConfigured, .queueConfigured:
            return nil
        case .agentRemoved(let id), .agentPresence(let id, _):
            guard let slot = agentIndex[id], agents[Int(slot)].active else { throw .unknownAgent(id) }
            return slot
        case .wrapUpEnded(let agentID, let taskID):
            guard let slot = agentIndex[agentID] else { throw .unknownAgent(agentID) }
            guard agents[Int(slot)].wrapUps.contains(where: { $0.taskID == taskID }) else {
                throw .invalidState("agent \(agentID) is not in wrap-up for task \(taskID)")
            }
            return slot
        case .offerAccepted(let id), .offerRejected(let id, _):
            guard let slot = openOffer(id) else { throw .unknownOffer(id) }
            return slot
        }
    }
}
