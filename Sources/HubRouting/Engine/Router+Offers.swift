import HubModel

extension Router {
    /// The agent takes the task: the reservation becomes the assignment, other offers of the
    /// task are rescinded.
    mutating func acceptOffer(_ offerSlot: Int32) {
        let state = offers[Int(offerSlot)]
        let slot = state.task
        let agent = state.agent
        closeOffer(offerSlot)
        agents[Int(agent)].openOffers.removeAll { $0 == offerSlot }
        agents[Int(agent)].assigned.append(slot)
        agents[Int(agent)].lastAssignedAt = now.milliseconds
        agents[Int(agent)].lastAssignedOn[state.medium] = now.milliseconds
        agents[Int(agent)].lastFreeAt = now.milliseconds
        agents[Int(agent)].consecutiveNoAnswer = 0
        agents[Int(agent)].counters.accepted += 1
        tasks[Int(slot)]!.offers.removeAll { $0 == offerSlot }
        for other in tasks[Int(slot)]!.offers { endOffer(other, reason: .lostRace, returnTask: false) }
        let task = tasks[Int(slot)]!
        tasks[Int(slot)]!.offers = []
        tasks[Int(slot)]!.phase = .assigned(agent: agent)
        tasks[Int(slot)]!.assignedAt = now.milliseconds
        queues[Int(task.queue)].present[task.medium].remove(PresentKey(enqueuedAt: task.enqueuedAt, sequence: task.sequence, slot: slot))
        output.append(.assigned(taskID: task.id, agentID: agents[Int(agent)].profile.id, offerID: state.offer.id))
        refreshAgent(agent)
        markDirty(agent: agent)
    }

    mutating func rejectOffer(_ offerSlot: Int32, reason: RejectReason) {
        let state = offers[Int(offerSlot)]
        exclude(state.agent, from: state.task)
        switch reason {
        case .declined:
            agents[Int(state.agent)].counters.declined += 1
            endOffer(offerSlot, reason: .declined)
            delayAgent(state.agent, until: (now + configuration.rejectDelay).milliseconds)
        case .busy:
            endOffer(offerSlot, reason: .busy)
            delayAgent(state.agent, until: (now + configuration.busyDelay).milliseconds)
        case .unreachable:
            endOffer(offerSlot, reason: .unreachable)
            delayAgent(state.agent, until: (now + configuration.unreachableDelay).milliseconds)
        case .noAnswer:
            missed(offerSlot, reason: .expired)
        }
    }

    /// Nobody answered: a no-answer delay, and after too many in a row the agent is set away.
    mutating func missed(_ offerSlot: Int32, reason: OfferEndReason) {
        let state = offers[Int(offerSlot)]
        let agent = state.agent
        exclude(agent, from: state.task)
        agents[Int(agent)].counters.missed += 1
        agents[Int(agent)].consecutiveNoAnswer += 1
        endOffer(offerSlot, reason: reason)
        delayAgent(agent, until: (now + configuration.noAnswerDelay).milliseconds)
        let limit = agents[Int(agent)].profile.maxNoAnswer ?? configuration.maxNoAnswer
        if limit > 0, agents[Int(agent)].consecutiveNoAnswer >= limit, agents[Int(agent)].presence == .available {
            let away = Presence.away(reason: "noAnswer")
            setPresence(agent, away)
            output.append(.presenceChanged(agentID: agents[Int(agent)].profile.id, presence: away))
        }
    }

    /// Ends an open offer without an assignment: the agent's reservation is released; the task
    /// waits again (with its age) unless other offers of it are still open or `returnTask` is
    /// false.
    mutating func endOffer(_ offerSlot: Int32, reason: OfferEndReason, returnTask: Bool = true) {
        let state = offers[Int(offerSlot)]
        guard state.open else { return }
        closeOffer(offerSlot)
        agents[Int(state.agent)].openOffers.removeAll { $0 == offerSlot }
        release(state.agent, state.medium, freshIdle: false)
        output.append(.offerEnded(offerID: state.offer.id, taskID: state.offer.taskID, agentID: state.offer.agentID, reason: reason))
        guard let task = tasks[Int(state.task)], task.sequence == state.taskSequence else { return }
        tasks[Int(state.task)]!.offers.removeAll { $0 == offerSlot }
        if returnTask, tasks[Int(state.task)]!.offers.isEmpty, task.phase == .offered {
            tasks[Int(state.task)]!.phase = .waiting
            regroup(state.task)
            markDirty(task: state.task)
        }
    }

    private mutating func closeOffer(_ offerSlot: Int32) {
        offers[Int(offerSlot)].open = false
        offerIndex[offers[Int(offerSlot)].offer.id] = nil
        freeOfferSlots.append(offerSlot)
    }

    /// The agent is not offered the task again in its current step.
    mutating func exclude(_ agent: Int32, from slot: Int32) {
        guard tasks[Int(slot)] != nil, !tasks[Int(slot)]!.exclusions.contains(agent) else { return }
        tasks[Int(slot)]!.exclusions.append(agent)
    }

    /// Progressive ringing: one more agent while the earlier ones keep ringing.
    mutating func ringNext(_ slot: Int32) {
        guard let task = tasks[Int(slot)], task.phase == .offered, task.offers.count < configuration.maxParallelOffers else { return }
        let ordered = orderedCandidates(slot, enough: 1 + configuration.explainAlternatives, wholeFirstBlock: false)
        guard let next = ordered.first else {
            timers.schedule(.progressiveRing(task: slot, sequence: task.sequence), at: now + queues[Int(task.queue)].policy.progressiveInterval)
            return
        }
        addOffer(slot, to: next, alternatives: Array(ordered.dropFirst().prefix(configuration.explainAlternatives)), considered: ordered.count)
        if let still = tasks[Int(slot)], still.phase == .offered {
            timers.schedule(.progressiveRing(task: slot, sequence: task.sequence), at: now + queues[Int(task.queue)].policy.progressiveInterval)
        }
    }

    /// An extra offer of an already offered task (progressive ringing).
    private mutating func addOffer(_ slot: Int32, to candidate: AgentCandidate, alternatives: [AgentCandidate], considered: Int) {
        // `offer` withdraws and marks offered; the task is already both, so it only adds.
        offer(slot, to: [candidate], cause: .parallel, alternatives: alternatives, considered: considered)
    }
}
