import Foundation
import HubModel

extension RoutingEngine {
    mutating func arrive(_ request: TaskRequest, queue: Int32) {
        let slot = makeTask(request, queue: queue)
        var resumed = false
        if let key = request.resumeKey, let wait = abandoned.removeValue(forKey: resumeSlotKey(queue: queue, key: key)),
            wait.expiresAt >= now.milliseconds
        {
            tasks[Int(slot)].ageBase = min(tasks[Int(slot)].ageBase, wait.ageBase)
            resumed = true
        }
        if let ttl = request.timeToLive {
            timers.schedule(.timeToLive(task: slot, sequence: tasks[Int(slot)].sequence), at: now + ttl)
        }
        enterQueue(slot, queue, resumed: resumed)
    }

    /// A task that is the agent's already: it takes the agent's capacity at once, without an offer.
    mutating func assignDirectly(_ request: TaskRequest, to agent: Int32) {
        let slot = makeTask(request, queue: queueIndex[request.queue]!)
        let now = now.milliseconds
        modifyTask(slot) { task in
            task.phase = .assigned(agent: agent)
            task.assignedAt = now
            task.entry &+= 1
        }
        updateUrgency(slot)
        agents[Int(agent)].assigned.append(slot)
        agents[Int(agent)].lastAssignedAt = now
        agents[Int(agent)].lastAssignedOn[request.channel.medium] = now
        reserve(agent, request.channel.medium)
        output.append(.assigned(taskID: request.id, agentID: agents[Int(agent)].id, offerID: nil))
        markDirty(agent: agent)
    }

    /// A new task slot for `request`, not yet in a queue.
    private mutating func makeTask(_ request: TaskRequest, queue: Int32) -> Int32 {
        let slot: Int32
        if let free = freeTaskSlots.popLast() {
            slot = free
        } else {
            slot = Int32(tasks.count)
            tasks.append(.dead)
        }
        let ageBase = min(request.ageBase?.milliseconds ?? now.milliseconds, now.milliseconds)
        nextSequence += 1
        let (sequence, now) = (nextSequence, now.milliseconds)
        modifyTask(slot) { $0.start(request, sequence: sequence, queue: queue, ageBase: ageBase, now: now) }
        taskIndex[request.id] = slot
        return slot
    }

    /// Puts a task (new, requeued or transferred) into a queue: steps from the start, the queue's
    /// arrival overflow checks, timers, groups.
    mutating func enterQueue(_ slot: Int32, _ queue: Int32, resumed: Bool) {
        let policy = queues[Int(queue)].policy
        let now = now.milliseconds
        modifyTask(slot) { task in
            task.queue = queue
            task.enqueuedAt = now
            task.steps = task.prependedSteps.isEmpty && task.addedSteps.isEmpty ? policy.steps : task.prependedSteps + policy.steps + task.addedSteps
            task.stepIndex = 0
            task.stepStartedAt = now
            task.stepGeneration &+= 1
            task.droppedThrough = 0
            task.exclusions = []
            task.demoted = []
            task.firedOverflow = 0
            task.entryCheckPending = true
            task.huntMemory = nil
            task.phase = .waiting
            task.capped = false
            task.entry &+= 1
        }
        let medium = tasks[Int(slot)].medium
        let sequence = tasks[Int(slot)].sequence
        tasks[Int(slot)].presentPosition = queues[Int(queue)].present[medium].append(PresentKey(enqueuedAt: now, sequence: sequence, slot: slot))
        queues[Int(queue)].statistics[medium].recordArrival(at: now)
        output.append(.queued(taskID: tasks[Int(slot)].id, queue: policy.id, resumed: resumed, estimatedWait: estimatedWait(for: slot)))

        guard applyArrivalOverflow(slot) else { return }
        scheduleEntryTimers(slot)
        skipStepsNobodyCanTake(slot)
        scheduleStepExpiry(slot)
        updateUrgency(slot)
        deferGrouping(slot)
        markDirty(task: slot)
    }

    /// A task that just entered a queue is routed before anything else reads the groups, and
    /// most find an agent at once when agents are free: grouping it would only be undone by the
    /// offer. So it is grouped when an agent is about to look at the groups, when it finds no
    /// agent, or at the end of the event, whichever comes first.
    mutating func deferGrouping(_ slot: Int32) {
        tasks[Int(slot)].groupPending = true
        pendingGroups.append(slot)
    }

    mutating func flushPendingGroups() {
        guard !pendingGroups.isEmpty else { return }
        for slot in pendingGroups where tasks[Int(slot)].groupPending { regroup(slot) }
        pendingGroups.removeAll(keepingCapacity: true)
    }

    /// Changes a task in place (binding it to a local would copy every field).
    mutating func modifyTask(_ slot: Int32, _ body: (inout TaskState) -> Void) { body(&tasks[Int(slot)]) }

    /// The timers of a task's stay in its queue, from its state now: overflow for waiting too
    /// long or without agents, membership delays not yet waited out, the aging cap. On entry, and
    /// again (after `entry` is bumped, which voids the old ones) when the queue is reconfigured.
    mutating func scheduleEntryTimers(_ slot: Int32) {
        let i = Int(slot)
        let queue = Int(tasks[i].queue)
        let medium = tasks[i].medium
        let sequence = tasks[i].sequence
        let entry = tasks[i].entry
        let enqueuedAt = tasks[i].enqueuedAt
        // The policy's fields read in place: a copy of the policy would retain each of its arrays.
        for (index, rule) in queues[queue].policy.overflow.enumerated() where rule.applies(to: medium) && tasks[i].firedOverflow & (1 << UInt64(index)) == 0 {
            switch rule.trigger {
            case .waited(let limit):
                timers.schedule(
                    .waitedTooLong(task: slot, sequence: sequence, entry: entry, rule: index), at: RoutingInstant(milliseconds: enqueuedAt) + limit)
            case .noAgentFor(let limit):
                if queues[queue].staffed[medium] == 0 {
                    let since = max(queues[queue].unstaffedSince[medium], enqueuedAt)
                    timers.schedule(
                        .noAgent(task: slot, sequence: sequence, entry: entry, rule: index, staffGeneration: queues[queue].staffGeneration[medium]),
                        at: RoutingInstant(milliseconds: since) + limit)
                }
            default: break
            }
        }
        for delay in queues[queue].delays where delay > 0 && enqueuedAt + delay > now.milliseconds {
            timers.schedule(.delayReached(task: slot, sequence: sequence, entry: entry), at: RoutingInstant(milliseconds: enqueuedAt + delay))
        }
        if let aging = queues[queue].policy.aging, let cap = aging.max {
            let capAt = tasks[i].ageBase + Int64(cap) * max(1, aging.every.wholeMilliseconds)
            if capAt > now.milliseconds { timers.schedule(.agingCap(task: slot, sequence: sequence, entry: entry), at: RoutingInstant(milliseconds: capAt)) }
        }
    }

    /// Takes a task out of its queue's sets (it stays in the router).
    mutating func leaveQueue(_ slot: Int32) {
        withdraw(slot)
        removePresent(slot)
    }

    /// Takes the task out of its queue's present tasks (waiting or offered), compacting them when
    /// removed entries have piled up behind a long-staying task.
    mutating func removePresent(_ slot: Int32) {
        let queue = Int(tasks[Int(slot)].queue)
        let medium = tasks[Int(slot)].medium
        queues[queue].present[medium].remove(at: tasks[Int(slot)].presentPosition, sequence: tasks[Int(slot)].sequence)
        guard queues[queue].present[medium].needsCompaction else { return }
        for (moved, position) in queues[queue].present[medium].compact() { tasks[Int(moved)].presentPosition = position }
    }

    /// Forgets a task that has left the router.
    mutating func discard(_ slot: Int32) {
        taskIndex[tasks[Int(slot)].id] = nil
        tasks[Int(slot)].clear()
        freeTaskSlots.append(slot)
    }

    mutating func updateTask(_ update: TaskUpdate) {
        let slot = taskIndex[update.id]!
        var task = tasks[Int(slot)]
        if let priority = update.priority { task.priority = priority }
        if let attributes = update.attributes { task.attributes = attributes }
        if let requirements = update.requirements { task.extraRequirements = requirements }
        if let steps = update.steps {
            task.prependedSteps = steps
            task.steps = steps + queues[Int(task.queue)].policy.steps + task.addedSteps
            task.stepIndex = min(task.stepIndex, task.steps.count)
            task.stepGeneration &+= 1
        }
        tasks[Int(slot)] = task
        if update.steps != nil { scheduleStepExpiry(slot) }
        if task.isWaiting {
            regroup(slot)
            markDirty(task: slot)
        }
    }

    mutating func cancelTask(slot: Int32, reason: CancelReason) {
        let task = tasks[Int(slot)]
        switch task.phase {
        case .assigned:
            completeTask(slot: slot)
            return
        case .offered:
            for offer in task.offers { endOffer(offer, reason: .taskGone, returnTask: false) }
        case .waiting:
            break
        }
        leaveQueue(slot)
        let window = queues[Int(task.queue)].policy.resumeWindow
        if reason == .abandoned, let key = task.resumeKey, window > .zero {
            nextToken &+= 1
            let slotKey = resumeSlotKey(queue: task.queue, key: key)
            abandoned[slotKey] = AbandonedWait(ageBase: task.ageBase, expiresAt: (now + window).milliseconds, token: nextToken)
            timers.schedule(.resumeExpiry(key: slotKey, token: nextToken), at: now + window)
        }
        output.append(.taskEnded(taskID: task.id, reason: .cancelled(reason)))
        discard(slot)
    }

    /// The agent finished: counters, handle-time statistics, and wrap-up holding the agent's slot.
    mutating func completeTask(slot: Int32) {
        guard case .assigned(let agent) = tasks[Int(slot)].phase else { return }
        let queue = Int(tasks[Int(slot)].queue)
        let medium = tasks[Int(slot)].medium
        agents[Int(agent)].assigned.removeOnce(slot)
        let handled = now.milliseconds - tasks[Int(slot)].assignedAt
        agents[Int(agent)].counters.handled += 1
        agents[Int(agent)].counters.handleMilliseconds += handled
        output.append(.completed(taskID: tasks[Int(slot)].id, agentID: agents[Int(agent)].id))
        var wrapMilliseconds = agents[Int(agent)].wrapUp[medium] ?? queues[queue].times.wrapUp[medium]
        if let cap = queues[queue].times.maxWrapUp { wrapMilliseconds = min(wrapMilliseconds, cap) }
        wrapMilliseconds = max(0, wrapMilliseconds)
        queues[queue].statistics[medium].recordHandleTime(handled + wrapMilliseconds)
        if wrapMilliseconds > 0 {
            nextToken &+= 1
            let until = now.milliseconds + wrapMilliseconds
            let id = tasks[Int(slot)].id
            agents[Int(agent)].wrapUps.append(AgentState.WrapUp(taskID: id, medium: medium, until: until, token: nextToken))
            timers.schedule(.wrapUpEnd(agent: agent, token: nextToken), at: RoutingInstant(milliseconds: until))
            output.append(.wrapUpStarted(agentID: agents[Int(agent)].id, taskID: id, until: RoutingInstant(milliseconds: until)))
            agents[Int(agent)].lastFreeAt = now.milliseconds
            refreshAgent(agent)
        } else {
            release(agent, medium, freshIdle: true)
        }
        discard(slot)
    }

    mutating func endWrapUp(agent: Int32, taskID: String) {
        guard let index = agents[Int(agent)].wrapUps.firstIndex(where: { $0.taskID == taskID }) else { return }
        let wrapUp = agents[Int(agent)].wrapUps.remove(at: index)
        output.append(.wrapUpEnded(agentID: agents[Int(agent)].id, taskID: taskID))
        release(agent, wrapUp.medium, freshIdle: true)
    }

    mutating func transferTask(slot: Int32, to target: TransferTarget, keepAge: Bool) {
        let task = tasks[Int(slot)]
        var previousAgent: Int32?
        switch task.phase {
        case .assigned(let agent):
            agents[Int(agent)].assigned.removeOnce(slot)
            agents[Int(agent)].counters.transferred += 1
            agents[Int(agent)].counters.handleMilliseconds += now.milliseconds - task.assignedAt
            release(agent, task.medium, freshIdle: true)
            previousAgent = agent
        case .offered:
            for offer in task.offers { endOffer(offer, reason: .taskGone, returnTask: false) }
            leaveQueue(slot)
        case .waiting:
            leaveQueue(slot)
        }
        let queue: Int32
        switch target {
        case .queue(let id):
            queue = queueIndex[id]!
            tasks[Int(slot)].prependedSteps = []
        case .agent(let id, let queueID, let within):
            queue = queueID.flatMap { queueIndex[$0] } ?? task.queue
            let step = RoutingStep(
                name: "transfer to \(id)", filter: AgentFilter(agents: [.agent(id)]), duration: within, skipIfNoneLoggedIn: false)
            tasks[Int(slot)].prependedSteps = [step]
            if agentIndex[id] == previousAgent { previousAgent = nil }
        }
        tasks[Int(slot)].addedSteps = []
        tasks[Int(slot)].hops = 0
        if !keepAge { tasks[Int(slot)].ageBase = now.milliseconds }
        enterQueue(slot, queue, resumed: false)
        // The agent who passed it on is not offered it back in its first step.
        if let previousAgent, tasks[Int(slot)].isWaiting {
            tasks[Int(slot)].exclusions = [previousAgent]
            noteExclusion(slot)
        }
    }

    func resumeSlotKey(queue: Int32, key: String) -> String { "\(queue)|\(key)" }

    mutating func markDirty(task slot: Int32) {
        if !dirtyTasks.contains(slot) { dirtyTasks.append(slot) }
    }

    // MARK: Steps

    /// The newest step expires (or is skipped): exclusions reset, optional skills of that step
    /// number dropped, the next step opens.
    mutating func advanceStep(_ slot: Int32, reason: StepAdvanceReason) {
        var task = tasks[Int(slot)]
        guard task.stepIndex < task.steps.count else { return }
        let ended = task.stepIndex + 1
        task.stepIndex += 1
        task.stepStartedAt = now.milliseconds
        task.stepGeneration &+= 1
        for agent in task.exclusions where !task.demoted.contains(agent) { task.demoted.append(agent) }
        task.exclusions = []
        task.entryCheckPending = true
        task.huntMemory = nil
        let dropped = (task.extraRequirements + queues[Int(task.queue)].policy.requirements)
            .filter { $0.optional && $0.dropOrder == ended }.map { resolveSkillName($0.skill, slot) ?? $0.skill }
        task.droppedThrough = ended
        tasks[Int(slot)] = task
        let name = task.stepIndex < task.steps.count ? task.steps[task.stepIndex].name : "queue"
        output.append(.stepAdvanced(taskID: task.id, step: task.stepIndex, name: name, reason: reason))
        if !dropped.isEmpty { output.append(.requirementsRelaxed(taskID: task.id, dropped: dropped)) }
        skipStepsNobodyCanTake(slot)
        scheduleStepExpiry(slot)
        regroup(slot)
        markDirty(task: slot)
    }

    /// Skips, one after the other, newest steps whose agents are all logged out.
    mutating func skipStepsNobodyCanTake(_ slot: Int32) {
        while tasks[Int(slot)].alive {
            let step = tasks[Int(slot)].stepIndex
            guard step < tasks[Int(slot)].steps.count, tasks[Int(slot)].steps[step].skipIfNoneLoggedIn else { return }
            let filter = resolvedFilters(slot)[step]
            if anyLoggedIn(filter, group: resolvedGroups(slot)[step], medium: tasks[Int(slot)].medium) { return }
            advanceStep(slot, reason: .noneLoggedIn)
        }
    }

    /// The timer of the task's current step. It takes its place in line now but enters the heap
    /// only at the end of the instant (`flushPendingStepTimers`), and only if the task still
    /// waits in that step: most tasks that arrive among free agents are assigned in the same
    /// event, and their timers would sit in the heap, stale, for the whole step's duration.
    mutating func scheduleStepExpiry(_ slot: Int32) {
        let i = Int(slot)
        let step = tasks[i].stepIndex
        guard step < tasks[i].steps.count, let duration = tasks[i].steps[step].duration[tasks[i].medium] else { return }
        pendingStepTimers.append(
            PendingTimer(
                timer: .stepExpiry(task: slot, sequence: tasks[i].sequence, generation: tasks[i].stepGeneration),
                deadline: RoutingInstant(milliseconds: tasks[i].stepStartedAt) + duration, order: timers.takeOrder()))
    }

    /// Schedules the step timers taken in this instant whose steps are still current; the rest
    /// would have been ignored when due.
    mutating func flushPendingStepTimers() {
        guard !pendingStepTimers.isEmpty else { return }
        for pending in pendingStepTimers where !isStale(pending.timer) {
            timers.schedule(pending.timer, at: pending.deadline, order: pending.order)
        }
        pendingStepTimers.removeAll(keepingCapacity: true)
    }

    // MARK: Priority and groups

    /// Priority before aging: the task's, its queue's, and its newest step's boost.
    func basePriority(_ task: TaskState) -> Int {
        let boost = task.stepIndex < task.steps.count ? task.steps[task.stepIndex].priorityBoost : 0
        return task.priority + queues[Int(task.queue)].policy.priority + boost
    }

    /// `basePriority` read field by field (no copy of the task).
    @inline(__always)
    func basePriority(slot: Int32) -> Int {
        let i = Int(slot)
        let step = tasks[i].stepIndex
        let boost = step < tasks[i].steps.count ? tasks[i].steps[step].priorityBoost : 0
        return tasks[i].priority + queues[Int(tasks[i].queue)].policy.priority + boost
    }

    /// The priority the serving order uses now, aging included.
    func effectivePriority(_ task: TaskState) -> Double {
        let base = Double(basePriority(task))
        guard let aging = queues[Int(task.queue)].policy.aging else { return base }
        let boost = Double(now.milliseconds - task.ageBase) / Double(max(1, aging.every.wholeMilliseconds))
        return base + min(boost, aging.max.map(Double.init) ?? .infinity)
    }

    @inline(__always)
    func key(_ slot: Int32) -> (TaskKey, capped: Bool) {
        let u = urgencies[Int(slot)]
        var primary = -u.base
        var capped = false
        if u.every > 0 {
            if u.cap >= 0, now.milliseconds - u.ageBase >= u.cap * u.every {
                primary = -(u.base + u.cap)
                capped = true
            } else {
                primary = u.ageBase - u.base * u.every
            }
        }
        return (TaskKey(primary: primary, ageBase: u.ageBase, sequence: u.sequence, slot: slot), capped)
    }

    /// The task's step filters, resolved (cached until something they depend on changes).
    mutating func resolvedFilters(_ slot: Int32) -> [ResolvedFilter] {
        if tasks[Int(slot)].resolvedEpoch != filterEpoch { resolveSteps(slot) }
        return tasks[Int(slot)].resolved
    }

    /// The group of each step filter at delay 0 (cached with the filters).
    mutating func resolvedGroups(_ slot: Int32) -> [Int32] {
        if tasks[Int(slot)].resolvedEpoch != filterEpoch { resolveSteps(slot) }
        return tasks[Int(slot)].resolvedGroups
    }

    private mutating func resolveSteps(_ slot: Int32) {
        let i = Int(slot)
        let (queue, medium, stepCount) = (tasks[i].queue, tasks[i].medium, tasks[i].steps.count)
        let epoch = filterEpoch
        // Tasks that resolve alike share one resolution.
        var planKey: PlanKey?
        if queues[Int(queue)].plansShareable, tasks[i].prependedSteps.isEmpty, tasks[i].addedSteps.isEmpty,
            tasks[i].extraRequirements.allSatisfy({ !$0.skill.utf8.contains(UInt8(ascii: "$")) })
        {
            let key = PlanKey(queue: queue, medium: medium, droppedThrough: tasks[i].droppedThrough, requirements: tasks[i].extraRequirements)
            if let plan = planIndex[key], plans[Int(plan)].epoch == epoch {
                let (filters, groups) = (plans[Int(plan)].filters, plans[Int(plan)].groups)
                modifyTask(slot) { task in
                    task.resolved = filters
                    task.resolvedGroups = groups
                    task.resolvedEpoch = epoch
                }
                return
            }
            planKey = key
        }
        var filters: [ResolvedFilter] = []
        filters.reserveCapacity(stepCount + 1)
        for step in 0..<stepCount { filters.append(resolve(tasks[i].steps[step].filter, slot: slot)) }
        filters.append(resolve(AgentFilter(), slot: slot))
        var groups: [Int32] = []
        groups.reserveCapacity(filters.count)
        for filter in filters { groups.append(group(for: GroupKey(queue: queue, medium: medium, delay: 0, filter: filter))) }
        if let planKey {
            let plan = TaskPlan(filters: filters, groups: groups, epoch: epoch)
            if let known = planIndex[planKey] {
                plans[Int(known)] = plan
            } else {
                // Bounded: distinct requirement sets are few, but nothing stops a client from
                // sending many.
                if plans.count >= 65_536 {
                    plans.removeAll()
                    planIndex = SlotTable()
                }
                planIndex[planKey] = Int32(plans.count)
                plans.append(plan)
            }
        }
        modifyTask(slot) { task in
            task.resolved = filters
            task.resolvedGroups = groups
            task.resolvedEpoch = epoch
        }
    }

    /// The groups a waiting task belongs in: one per open step (with the queue's open pool after
    /// the last) and per membership delay it has waited out.
    mutating func groupSlots(_ slot: Int32) -> SlotList {
        let resolved = resolvedFilters(slot)
        let cached = resolvedGroups(slot)
        let queue = tasks[Int(slot)].queue
        let medium = tasks[Int(slot)].medium
        let waited = now.milliseconds - tasks[Int(slot)].enqueuedAt
        let delays = queues[Int(queue)].delays
        var result = SlotList()
        for step in openSteps(slot) {
            if resolved[step].agents != nil || delays.count == 1 {
                if !result.contains(cached[step]) { result.append(cached[step]) }
                continue
            }
            for delay in delays where delay <= waited {
                let group = delay == 0 ? cached[step] : group(for: GroupKey(queue: queue, medium: medium, delay: delay, filter: resolved[step]))
                if !result.contains(group) { result.append(group) }
            }
        }
        return result
    }

    mutating func noteExclusion(_ slot: Int32) {
        guard Int(slot) < urgencies.count else { return }
        urgencies[Int(slot)].excludes = true
        refreshHeads(of: slot)
    }

    /// Refreshes the numbers the serving order compares.
    mutating func updateUrgency(_ slot: Int32) {
        while urgencies.count < tasks.count { urgencies.append(Urgency()) }
        let aging = queues[Int(tasks[Int(slot)].queue)].policy.aging
        urgencies[Int(slot)] = Urgency(
            base: Int64(basePriority(slot: slot)), ageBase: tasks[Int(slot)].ageBase, sequence: tasks[Int(slot)].sequence,
            every: aging.map { max(1, $0.every.wholeMilliseconds) } ?? 0, cap: aging?.max.map(Int64.init) ?? -1,
            excludes: !tasks[Int(slot)].exclusions.isEmpty)
    }

    /// Puts a waiting task in exactly the groups and with the key it should have now.
    mutating func regroup(_ slot: Int32) {
        if tasks[Int(slot)].alive {
            tasks[Int(slot)].groupPending = false
            updateUrgency(slot)
        }
        guard tasks[Int(slot)].isWaiting else {
            withdraw(slot)
            return
        }
        let (newKey, capped) = key(slot)
        let newGroups = groupSlots(slot)
        let oldKey = tasks[Int(slot)].key
        let oldCapped = tasks[Int(slot)].capped
        let oldGroups = tasks[Int(slot)].groups
        for group in oldGroups where oldKey != newKey || oldCapped != capped || !newGroups.contains(group) {
            removeFromGroup(group, key: oldKey!, capped: oldCapped)
        }
        for group in newGroups where oldKey != newKey || oldCapped != capped || !oldGroups.contains(group) {
            if capped { groupTasks[Int(group)].capped.insert(newKey) } else { groupTasks[Int(group)].aging.insert(newKey) }
            refreshHead(group)
            listGroup(group)
        }
        tasks[Int(slot)].groups = newGroups
        tasks[Int(slot)].key = newKey
        tasks[Int(slot)].capped = capped
        // The urgency may have changed without the key (exclusions cleared).
        refreshHeads(of: slot)
    }

    /// Copies the first task of each of the group's sets, with its urgency, into its head.
    mutating func refreshHead(_ group: Int32) {
        let g = Int(group)
        let aging = groupTasks[g].aging.first?.slot ?? -1
        let capped = groupTasks[g].capped.first?.slot ?? -1
        groupHeads[g].aging = aging
        groupHeads[g].capped = capped
        if aging >= 0 { groupHeads[g].agingUrgency = urgencies[Int(aging)] }
        if capped >= 0 { groupHeads[g].cappedUrgency = urgencies[Int(capped)] }
    }

    /// The task's urgency changed: the heads it is first in copy it again.
    mutating func refreshHeads(of slot: Int32) {
        guard tasks[Int(slot)].alive else { return }
        var position = 0
        while position < tasks[Int(slot)].groups.count {
            let group = tasks[Int(slot)].groups[position]
            position += 1
            if groupHeads[Int(group)].aging == slot || groupHeads[Int(group)].capped == slot { refreshHead(group) }
        }
    }

    /// Takes a task out of all its groups.
    mutating func withdraw(_ slot: Int32) {
        guard tasks[Int(slot)].alive, let key = tasks[Int(slot)].key else { return }
        let capped = tasks[Int(slot)].capped
        for group in tasks[Int(slot)].groups { removeFromGroup(group, key: key, capped: capped) }
        tasks[Int(slot)].groups = []
        tasks[Int(slot)].key = nil
    }

    private mutating func removeFromGroup(_ group: Int32, key: TaskKey, capped: Bool) {
        if capped { groupTasks[Int(group)].capped.remove(key) } else { groupTasks[Int(group)].aging.remove(key) }
        refreshHead(group)
        guard groupTasks[Int(group)].isEmpty, groups[Int(group)].listed else { return }
        groups[Int(group)].listed = false
        let groupKey = groups[Int(group)].key
        if let pinned = groupKey.filter.agents {
            for agent in pinned { pinnedGroups[Int(agent)].removeOnce(group) }
        } else {
            groupLists.remove(group, from: freeSetIndex(queue: groupKey.queue, medium: groupKey.medium))
        }
    }

    private mutating func listGroup(_ group: Int32) {
        guard !groups[Int(group)].listed else { return }
        groups[Int(group)].listed = true
        let groupKey = groups[Int(group)].key
        if let pinned = groupKey.filter.agents {
            for agent in pinned { pinnedGroups[Int(agent)].append(group) }
        } else {
            groupLists.append(group, to: freeSetIndex(queue: groupKey.queue, medium: groupKey.medium))
        }
    }

    mutating func group(for key: GroupKey) -> Int32 {
        if let existing = groupIndex[key] { return existing }
        let slot = Int32(groups.count)
        groups.append(EligibilityGroup(key: key))
        groupTasks.append(GroupTasks())
        groupHeads.append(GroupHead(queue: key.queue, medium: key.medium, delay: key.delay))
        if key.filter.agents == nil {
            let family = freeSetIndex(queue: key.queue, medium: key.medium)
            groupFamilySlot.append(familySizes[family])
            if familySizes[family] < .max { familySizes[family] += 1 }
        } else {
            groupFamilySlot.append(.max)
        }
        groupIndex[key] = slot
        return slot
    }

    // MARK: Filters

    /// A step filter with the task's values in: requirements merged in, agent references and
    /// `task.` paths resolved.
    func resolve(_ filter: AgentFilter, slot: Int32) -> ResolvedFilter {
        let i = Int(slot)
        // Few requirements: a small sorted array merges them faster than a dictionary.
        var levels: [SkillLevel] = []
        func add(_ requirement: SkillRequirement) {
            guard let skill = resolveSkillName(requirement.skill, slot) else { return }
            if let index = levels.firstIndex(where: { $0.skill == skill }) {
                levels[index].level = max(levels[index].level, requirement.minLevel)
            } else {
                levels.append(SkillLevel(skill: skill, level: requirement.minLevel, id: skillIDs[skill] ?? -1))
            }
        }
        for requirement in tasks[i].extraRequirements where !(requirement.optional && requirement.dropOrder <= tasks[i].droppedThrough) { add(requirement) }
        for requirement in queues[Int(tasks[i].queue)].policy.requirements where !(requirement.optional && requirement.dropOrder <= tasks[i].droppedThrough) {
            add(requirement)
        }
        for requirement in filter.skills { add(requirement) }
        if levels.count > 1 { levels.sort() }
        var pinned: [Int32]?
        if !filter.agents.isEmpty {
            var slots: [Int32] = []
            for reference in filter.agents {
                let id: String?
                switch reference {
                case .agent(let agent): id = agent
                case .taskAttribute(let name): id = tasks[i].attributes[name]?.text
                }
                if let id, let agent = agentIndex[id], agents[Int(agent)].active, !slots.contains(agent) { slots.append(agent) }
            }
            pinned = slots.sorted()
        }
        return ResolvedFilter(
            tierAtMost: filter.tierAtMost.map { Int32(clamping: $0) },
            skills: levels,
            agents: pinned,
            expression: filter.expression?.bindingTask { taskValue($0, slot) })
    }

    /// `lang-${task.language}` with the task's language; nil when the attribute is missing.
    func resolveSkillName(_ template: String, _ slot: Int32) -> String? {
        let bytes = template.utf8
        guard bytes.contains(UInt8(ascii: "$")) else { return template }
        var result = ""
        var index = bytes.startIndex
        var literalStart = index
        while index < bytes.endIndex {
            let next = bytes.index(after: index)
            guard bytes[index] == UInt8(ascii: "$"), next < bytes.endIndex, bytes[next] == UInt8(ascii: "{") else {
                index = next
                continue
            }
            result += String(template[literalStart..<index])
            let nameStart = bytes.index(after: next)
            guard let close = bytes[nameStart...].firstIndex(of: UInt8(ascii: "}")) else { return nil }
            let path = String(template[nameStart..<close])
            guard path.hasPrefix("task."), let value = taskValue(String(path.dropFirst(5)), slot) else { return nil }
            result += value.text
            index = bytes.index(after: close)
            literalStart = index
        }
        return result + String(template[literalStart...])
    }

    func taskValue(_ name: String, _ slot: Int32) -> AttributeValue? {
        let i = Int(slot)
        return switch name {
        case TaskAttribute.channel: .string(tasks[i].channel.rawValue)
        case "medium": .string(tasks[i].medium.rawValue)
        case "queue": .string(queues[Int(tasks[i].queue)].policy.id)
        case "priority": .number(Double(tasks[i].priority))
        default: tasks[i].attributes[name]
        }
    }

    /// Whether `agent` passes the group's filter (cached per group and agent).
    @inline(__always)
    mutating func admits(_ group: Int32, _ agent: Int32) -> Bool {
        if admission[Int(agent)].count > Int(group) {
            switch admission[Int(agent)][Int(group)] {
            case 1: return true
            case 2: return false
            default: break
            }
        }
        return learnAdmission(group, agent)
    }

    /// Checks the group's filter for the agent and caches the answer (apart from `admits`, so
    /// that the cached path stays small).
    @inline(never)
    private mutating func learnAdmission(_ group: Int32, _ agent: Int32) -> Bool {
        if admission[Int(agent)].count <= Int(group) {
            admission[Int(agent)].append(contentsOf: repeatElement(0, count: groups.count - admission[Int(agent)].count))
        }
        // The key read in place: a copy of the group would retain every array of its filter.
        let admitted = groups.withUnsafeBufferPointer { groups in
            passes(
                groups[Int(group)].key.filter, agent: agent, queue: groups[Int(group)].key.queue,
                delay: groups[Int(group)].key.filter.agents == nil ? groups[Int(group)].key.delay : nil)
        }
        admission[Int(agent)][Int(group)] = admitted ? 1 : 2
        return admitted
    }

    /// The filter check itself. `delay`: the membership delay the agent must have (nil: any).
    func passes(_ filter: ResolvedFilter, agent slot: Int32, queue: Int32, delay: Int64?) -> Bool {
        guard agents[Int(slot)].active else { return false }
        let membership = agents[Int(slot)].memberships.first { $0.queue == queue }
        if let pinned = filter.agents {
            guard pinned.contains(slot) else { return false }
        } else {
            guard let membership else { return false }
            if let delay, membership.delay != delay { return false }
        }
        if let tier = filter.tierAtMost {
            guard let membership, membership.tier <= tier else { return false }
        }
        for requirement in filter.skills {
            let level = requirement.id >= 0 ? skillLevel(slot, requirement.id) : agents[Int(slot)].profile.skills[requirement.skill] ?? 0
            if level < requirement.level { return false }
        }
        if let expression = filter.expression {
            let agent = agents[Int(slot)]
            return expression.holds { path in
                switch path.scope {
                case .task: return nil
                case .agent: return agentValue(path.name, agent, membership)
                }
            }
        }
        return true
    }

    /// The agent's level in an interned skill (0 without it): a binary search of a few numbers.
    @inline(__always)
    func skillLevel(_ slot: Int32, _ id: Int32) -> Int {
        agents.withUnsafeBufferPointer { agents in
            agents[Int(slot)].skillLevels.withUnsafeBufferPointer { levels in
                var low = 0
                var high = levels.count
                while low < high {
                    let mid = (low + high) / 2
                    if levels[mid].id < id { low = mid + 1 } else { high = mid }
                }
                return low < levels.count && levels[low].id == id ? levels[low].level : 0
            }
        }
    }

    func agentValue(_ name: String, _ agent: AgentState, _ membership: ResolvedMembership?) -> AttributeValue? {
        switch name {
        case "id": return .string(agent.profile.id)
        case "tier": return membership.map { .number(Double($0.tier)) }
        case "position": return membership.map { .number(Double($0.position)) }
        default:
            if name.hasPrefix("skills.") {
                return agent.profile.skills[String(name.dropFirst(7))].map { .number(Double($0)) } ?? .number(0)
            }
            return agent.profile.attributes[name]
        }
    }

    /// Whether some agent the filter admits is available (busy or not) and takes the medium:
    /// "no agent" means nobody logged in, not nobody free (FreeSWITCH gets this right; away
    /// agents do not count, which FreeSWITCH gets wrong).
    /// `group`: the filter's group at delay 0, which caches the answer.
    mutating func anyLoggedIn(_ filter: ResolvedFilter, group: Int32, medium: ChannelMedium) -> Bool {
        let queue = groupHeads[Int(group)].queue
        if let pinned = filter.agents {
            return pinned.contains {
                agents[Int($0)].presence == .available && agents[Int($0)].limits.capacity[medium] > 0
                    && passes(filter, agent: $0, queue: queue, delay: nil)
            }
        }
        guard queues[Int(queue)].staffed[medium] > 0 else { return false }
        if filter.admitsEveryMember { return true }
        if groups[Int(group)].loggedInVersion == presenceVersion { return groups[Int(group)].anyLoggedIn }
        let any = queues[Int(queue)].members.contains { member in
            agents[Int(member)].presence == .available && agents[Int(member)].limits.capacity[medium] > 0
                && passes(filter, agent: member, queue: queue, delay: nil)
        }
        groups[Int(group)].loggedInVersion = presenceVersion
        groups[Int(group)].anyLoggedIn = any
        return any
    }
}

extension OverflowRule {
    func applies(to medium: ChannelMedium) -> Bool { media?.contains(medium) ?? true }
}
