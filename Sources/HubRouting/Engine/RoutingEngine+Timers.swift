import HubModel

extension RoutingEngine {
    /// Fires due timers in deadline order, each at its own instant, matching after each.
    mutating func fireTimers(until instant: RoutingInstant) {
        if origin == nil { origin = now.milliseconds }
        // Everything due at one instant fires before matching, so the decision at that instant
        // sees all of that instant's changes (an agent's delay ending and a step opening together),
        // whichever timer was set first.
        while let deadline = timers.nextDeadline, deadline <= instant {
            if deadline > now { now = deadline }
            // A step timer taken while firing (a step of no duration) is due in this instant.
            while true {
                flushPendingStepTimers()
                guard let entry = timers.popDue(at: now) else { break }
                fire(entry.payload)
            }
            match()
            // A step that began in this instant may end before `instant`.
            flushPendingStepTimers()
        }
        now = instant
    }

    /// Drops stale timers at the top so `nextDeadline` names a real deadline.
    mutating func discardStaleTimers() {
        while let top = timers.top, isStale(top.payload) { timers.removeTop() }
    }

    /// Whether the slot still holds the task of `sequence` (fields read in place: a copy of the
    /// task would retain every array in it).
    private func isLive(_ slot: Int32, _ sequence: Int64) -> Bool {
        Int(slot) < tasks.count && tasks[Int(slot)].alive && tasks[Int(slot)].sequence == sequence
    }

    private func isAssigned(_ slot: Int32) -> Bool {
        if case .assigned = tasks[Int(slot)].phase { return true }
        return false
    }

    func isStale(_ timer: RouterTimer) -> Bool {
        switch timer {
        case .offerExpiry(let offer, let number):
            return !(offers[Int(offer)].open && offers[Int(offer)].number == number)
        case .stepExpiry(let slot, let sequence, let generation):
            guard isLive(slot, sequence), !isAssigned(slot) else { return true }
            return tasks[Int(slot)].stepGeneration != generation
        case .delayReached(let slot, let sequence, let entry), .agingCap(let slot, let sequence, let entry):
            guard isLive(slot, sequence) else { return true }
            return tasks[Int(slot)].entry != entry || !tasks[Int(slot)].isWaiting
        case .waitedTooLong(let slot, let sequence, let entry, let rule), .noAgent(let slot, let sequence, let entry, let rule, _):
            guard isLive(slot, sequence), tasks[Int(slot)].entry == entry, !isAssigned(slot) else { return true }
            let queue = Int(tasks[Int(slot)].queue)
            guard rule < queues[queue].policy.overflow.count else { return true }
            if case .noAgent(_, _, _, _, let generation) = timer, queues[queue].staffGeneration[tasks[Int(slot)].medium] != generation { return true }
            return tasks[Int(slot)].firedOverflow & (1 << UInt64(rule)) != 0
        case .progressiveRing(let slot, let sequence, let generation):
            guard isLive(slot, sequence) else { return true }
            return tasks[Int(slot)].phase != .offered || tasks[Int(slot)].ringGeneration != generation
        case .timeToLive(let slot, let sequence):
            return !isLive(slot, sequence) || isAssigned(slot)
        case .agentReady(let agent, let generation):
            return agents[Int(agent)].readyGeneration != generation
        case .wrapUpEnd(let agent, let token):
            return !agents[Int(agent)].wrapUps.contains { $0.token == token }
        case .resumeExpiry(let key, let token):
            return abandoned[key]?.token != token
        }
    }

    private mutating func fire(_ timer: RouterTimer) {
        guard !isStale(timer) else { return }
        switch timer {
        case .offerExpiry(let offer, _):
            missed(offer, reason: .expired)
        case .stepExpiry(let slot, _, _):
            advanceStep(slot, reason: .expired)
        case .delayReached(let slot, _, _):
            regroup(slot)
            markDirty(task: slot)
        case .agingCap(let slot, _, _):
            regroup(slot)
        case .waitedTooLong(let slot, _, _, let rule), .noAgent(let slot, _, _, let rule, _):
            _ = fireOverflow(slot, rule)
        case .progressiveRing(let slot, _, _):
            ringNext(slot)
        case .timeToLive(let slot, _):
            let task = tasks[Int(slot)]
            for offer in task.offers { endOffer(offer, reason: .taskGone, returnTask: false) }
            leaveQueue(slot)
            output.append(.taskEnded(taskID: task.id, reason: .timeToLive))
            discard(slot)
        case .agentReady(let agent, _):
            refreshAgent(agent)
            markDirty(agent: agent)
        case .wrapUpEnd(let agent, let token):
            let taskID = agents[Int(agent)].wrapUps.first { $0.token == token }!.taskID
            endWrapUp(agent: agent, taskID: taskID)
        case .resumeExpiry(let key, _):
            abandoned[key] = nil
        }
    }
}
