import HubModel

extension RoutingEngine {
    /// The queue's strategy for the medium, read through the buffer's address (reading
    /// `queues[q].policy.strategy` may copy the whole queue state first).
    @inline(__always)
    func strategy(queue: Int32, _ medium: ChannelMedium) -> AgentStrategy {
        queues.withUnsafeBufferPointer { $0[Int(queue)].policy.strategy[medium] }
    }

    /// Adds a queue, or replaces the policy of an existing one, and re-resolves everything that
    /// depends on it.
    mutating func addOrReplaceQueue(_ policy: QueuePolicy) {
        let windowMinutes = max(1, Int((configuration.rateWindow.wholeMilliseconds + 59_999) / 60_000))
        // Every shared resolution may depend on the queue's old policy.
        plans.removeAll()
        planIndex = SlotTable()
        if let slot = queueIndex[policy.id] {
            queues[Int(slot)].policy = policy
            return
        }
        let slot = Int32(queues.count)
        queues.append(
            QueueState(
                policy: policy, times: QueueTimes(policy), plansShareable: QueueState.resolvesAlike(policy), delays: [0], members: [],
                present: PerMedium(PresentQueue()), staffed: PerMedium(0), staffGeneration: PerMedium(0),
                unstaffedSince: PerMedium(now.milliseconds),
                statistics: PerMedium(
                    voice: QueueStatistics(windowMinutes: windowMinutes, expectedHandleTime: policy.expectedHandleTime.voice),
                    messaging: QueueStatistics(windowMinutes: windowMinutes, expectedHandleTime: policy.expectedHandleTime.messaging),
                    email: QueueStatistics(windowMinutes: windowMinutes, expectedHandleTime: policy.expectedHandleTime.email))))
        queueIndex[policy.id] = slot
        for _ in 0..<3 {
            freeAgents.append(SortedBag())
            groupLists.addList()
            familySizes.append(0)
        }
    }

    /// A queue added or changed while running: agents naming it are re-resolved, and its waiting
    /// tasks are re-routed under the new policy (their age and step clocks stay).
    mutating func configureQueue(_ policy: QueuePolicy) {
        let isNew = queueIndex[policy.id] == nil
        addOrReplaceQueue(policy)
        let queue = queueIndex[policy.id]!
        if isNew {
            for agent in agents.indices where agents[agent].active && agents[agent].profile.memberships[policy.id] != nil {
                configureAgent(agents[agent].profile)
            }
            return
        }
        // The strategy may have changed: every member's keys in this queue.
        for agent in queues[Int(queue)].members { refreshAgent(agent) }
        for slot in tasks.indices {
            guard tasks[slot].alive, case let task = tasks[slot], task.queue == queue else { continue }
            if case .assigned = task.phase { continue }
            tasks[slot].steps = task.prependedSteps + policy.steps + task.addedSteps
            tasks[slot].stepIndex = min(task.stepIndex, tasks[slot].steps.count)
            tasks[slot].stepGeneration &+= 1
            // Overflow rules may be other rules now (their timers name rules by index): start
            // their bookkeeping over under the new policy.
            tasks[slot].entry &+= 1
            tasks[slot].firedOverflow = 0
            scheduleStepExpiry(Int32(slot))
            scheduleEntryTimers(Int32(slot))
            regroup(Int32(slot))
            if task.isWaiting { markDirty(task: Int32(slot)) }
        }
        for agent in queues[Int(queue)].members { markDirty(agent: agent) }
    }

    @inline(__always)
    func freeSetIndex(queue: Int32, medium: ChannelMedium) -> Int { Int(queue) * 3 + medium.index }

    /// Recomputes the membership delay levels of a queue from its members.
    mutating func recomputeDelays(_ queue: Int32) {
        var delays: Set<Int64> = [0]
        for agent in queues[Int(queue)].members {
            for membership in agents[Int(agent)].memberships where membership.queue == queue { delays.insert(membership.delay) }
        }
        queues[Int(queue)].delays = delays.sorted()
    }
}

extension ChannelMedium {
    /// 0, 1, 2: for arrays indexed by medium.
    var index: Int {
        switch self {
        case .voice: 0
        case .messaging: 1
        case .email: 2
        }
    }
}

/// The three media in `ChannelMedium.allCases` order, without building an array (hot loops).
struct MediaSequence: Sequence, IteratorProtocol {
    private var position = 0

    mutating func next() -> ChannelMedium? {
        defer { position += 1 }
        switch position {
        case 0: return .voice
        case 1: return .messaging
        case 2: return .email
        default: return nil
        }
    }
}
