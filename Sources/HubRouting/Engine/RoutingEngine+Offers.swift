import HubModel

extension RoutingEngine {
    /// The agent takes the task: the reservation becomes the assignment, other offers of the
    /// task are rescinded.
    mutating func acceptOffer(_ offerSlot: Int32) {
        let slot = offers[Int(offerSlot)].task
        let agent = offers[Int(offerSlot)].agent
        let medium = offers[Int(offerSlot)].medium
        closeOffer(offerSlot)
        agents[Int(agent)].openOffers.removeOnce(offerSlot)
        agents[Int(agent)].assigned.append(slot)
        agents[Int(agent)].lastAssignedAt = now.milliseconds
        agents[Int(agent)].lastAssignedOn[medium] = now.milliseconds
        agents[Int(agent)].lastFreeAt = now.milliseconds
        agents[Int(agent)].consecutiveNoAnswer = 0
        agents[Int(agent)].counters.accepted += 1
        tasks[Int(slot)].offers.removeOnce(offerSlot)
        for other in tasks[Int(slot)].offers { endOffer(other, reason: .lostRace, returnTask: false) }
        tasks[Int(slot)].offers.empty()
        tasks[Int(slot)].phase = .assigned(agent: agent)
        tasks[Int(slot)].assignedAt = now.milliseconds
        removePresent(slot)
        output.append(.assigned(taskID: tasks[Int(slot)].id, agentID: agents[Int(agent)].id, offerID: offers[Int(offerSlot)].id))
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
            output.append(.presenceChanged(agentID: agents[Int(agent)].id, presence: away))
        }
    }

    /// Ends an open offer without an assignment: the agent's reservation is released; the task
    /// waits again (with its age) unless other offers of it are still open or `returnTask` is
    /// false.
    mutating func endOffer(_ offerSlot: Int32, reason: OfferEndReason, returnTask: Bool = true) {
        guard offers[Int(offerSlot)].open else { return }
        let agent = offers[Int(offerSlot)].agent
        let slot = offers[Int(offerSlot)].task
        closeOffer(offerSlot)
        agents[Int(agent)].openOffers.removeOnce(offerSlot)
        release(agent, offers[Int(offerSlot)].medium, freshIdle: false)
        output.append(.offerEnded(offerID: offers[Int(offerSlot)].id, taskID: offers[Int(offerSlot)].taskID, agentID: agents[Int(agent)].id, reason: reason))
        guard tasks[Int(slot)].alive, tasks[Int(slot)].sequence == offers[Int(offerSlot)].taskSequence else { return }
        tasks[Int(slot)].offers.removeOnce(offerSlot)
        if returnTask, tasks[Int(slot)].offers.isEmpty, tasks[Int(slot)].phase == .offered {
            tasks[Int(slot)].phase = .waiting
            regroup(slot)
            markDirty(task: slot)
        }
    }

    private mutating func closeOffer(_ offerSlot: Int32) {
        offers[Int(offerSlot)].open = false
        offerIndex[offers[Int(offerSlot)].number] = nil
        freeOfferSlots.append(offerSlot)
    }

    /// The agent is not offered the task again in its current step.
    mutating func exclude(_ agent: Int32, from slot: Int32) {
        guard tasks[Int(slot)].alive, !tasks[Int(slot)].exclusions.contains(agent) else { return }
        tasks[Int(slot)].exclusions.append(agent)
        noteExclusion(slot)
    }

    /// Progressive ringing: one more agent while the earlier ones keep ringing.
    mutating func ringNext(_ slot: Int32) {
        guard tasks[Int(slot)].alive, case let task = tasks[Int(slot)], task.phase == .offered, task.offers.count < configuration.maxParallelOffers else { return }
        var ordered = takeCandidateBuffer()
        orderedCandidates(slot, enough: 1 + configuration.explainAlternatives, wholeFirstBlock: false, into: &ordered)
        let round = task.ringGeneration
        if !ordered.isEmpty {
            // `offer` withdraws and marks offered; the task is already both, so it only adds.
            offer(
                slot, to: ordered[..<1], cause: .parallel, alternatives: ordered[1..<min(ordered.count, 1 + configuration.explainAlternatives)],
                considered: ordered.count, startsRinging: false)
        }
        returnCandidateBuffer(ordered)
        if tasks[Int(slot)].alive, tasks[Int(slot)].sequence == task.sequence, tasks[Int(slot)].phase == .offered {
            timers.schedule(
                .progressiveRing(task: slot, sequence: task.sequence, generation: round), at: now + queues[Int(task.queue)].policy.progressiveInterval)
        }
    }
}
