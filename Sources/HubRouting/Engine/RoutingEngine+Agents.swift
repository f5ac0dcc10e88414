import HubModel

extension RoutingEngine {
    /// Adds an agent or replaces its profile. Presence, load and counters stay.
    mutating func configureAgent(_ profile: AgentProfile) {
        let epochBefore = filterEpoch
        let slot: Int32
        if let existing = agentIndex[profile.id] {
            slot = existing
            removeStaffing(slot)
            agents[Int(slot)].profile = profile
            if !agents[Int(slot)].active { filterEpoch &+= 1 }
            agents[Int(slot)].active = true
            // Costs may have changed: the units in use follow from the load.
            agents[Int(slot)].unitsUsed = ChannelMedium.allCases.reduce(0) { $0 + agents[Int(slot)].load[$1] * profile.cost[$1] }
        } else {
            slot = Int32(agents.count)
            agents.append(
                AgentState(
                    active: true, presence: .offline, readyAt: 0, unitsUsed: 0, load: PerMedium(0), memberships: [], freeEntries: [], freeEntryCount: 0,
                    lastFreeAt: now.milliseconds, limits: AgentLimits(profile), openOffers: [], assigned: [], id: profile.id,
                    lastAssignedAt: now.milliseconds, lastAssignedOn: PerMedium(now.milliseconds), counters: AgentCounters(), wrapUp: AgentState.wrapUp(profile),
                    consecutiveNoAnswer: 0, randomKey: Int64(bitPattern: random.next() >> 1), readyGeneration: 0, wrapUps: [],
                    loginAt: now.milliseconds, profile: profile))
            agentIndex[profile.id] = slot
            filterEpoch &+= 1
            staleAgentFlags.append(false)
            pinnedGroups.append([])
            admission.append([])
            familyAnswers.append([])
            dirtyAgentFlags.append(false)
        }
        var levels: [SkillEntry] = []
        for (skill, level) in profile.skills {
            let id: Int32
            if let known = skillIDs[skill] {
                id = known
            } else {
                id = Int32(skillIDs.count)
                skillIDs[skill] = id
            }
            levels.append(SkillEntry(id: id, level: level))
        }
        agents[Int(slot)].skillLevels = levels.sorted { $0.id < $1.id }
        clearFreeEntries(slot)
        let oldDelays = Dictionary(agents[Int(slot)].memberships.map { ($0.queue, $0.delay) }, uniquingKeysWith: { a, _ in a })
        let before = Set(oldDelays.keys)
        agents[Int(slot)].memberships = profile.memberships.compactMap { queueID, membership in
            queueIndex[queueID].map {
                ResolvedMembership(
                    queue: $0, tier: Int32(clamping: membership.tier), position: Int32(clamping: membership.position),
                    delay: max(0, membership.delay.wholeMilliseconds))
            }
        }.sorted { $0.queue < $1.queue }
        let after = Set(agents[Int(slot)].memberships.map(\.queue))
        for queue in before.subtracting(after) { queues[Int(queue)].members.removeAll { $0 == slot } }
        for queue in after.subtracting(before) { queues[Int(queue)].members.append(slot) }
        let newDelays = Dictionary(agents[Int(slot)].memberships.map { ($0.queue, $0.delay) }, uniquingKeysWith: { a, _ in a })
        for queue in before.union(after).sorted() where oldDelays[queue] != newDelays[queue] {
            // A zero delay is always a level; only other delays change the queue's levels.
            if (oldDelays[queue] ?? 0) > 0 || (newDelays[queue] ?? 0) > 0 { queueDelaysChanged(queue) }
        }
        admission[Int(slot)].empty()
        familyAnswers[Int(slot)].empty()
        presenceVersion &+= 1
        addStaffing(slot)
        refreshAgent(slot)
        markDirty(agent: slot)
        if filterEpoch != epochBefore { agentsChanged() }
    }

    /// Agents came or went: tasks whose steps name agents resolve them again.
    mutating func agentsChanged() {
        for slot in tasks.indices where tasks[slot].isWaiting && tasks[slot].steps.contains(where: { !$0.filter.agents.isEmpty }) {
            regroup(Int32(slot))
            markDirty(task: Int32(slot))
        }
    }

    /// Takes an agent out of routing: offers rescinded, no new work; work in hand stays counted.
    mutating func removeAgent(_ slot: Int32) {
        setPresence(slot, .offline)
        removeStaffing(slot)
        agents[Int(slot)].active = false
        filterEpoch &+= 1
        for queue in agents[Int(slot)].memberships.map(\.queue) {
            queues[Int(queue)].members.removeAll { $0 == slot }
            queueDelaysChanged(queue)
        }
        agents[Int(slot)].memberships = []
        familyAnswers[Int(slot)].empty()
        refreshAgent(slot)
        agentsChanged()
    }

    mutating func setPresence(_ slot: Int32, _ presence: Presence) {
        let previous = agents[Int(slot)].presence
        guard previous != presence else { return }
        removeStaffing(slot)
        agents[Int(slot)].presence = presence
        presenceVersion &+= 1
        if presence == .available {
            if previous == .offline {
                // Counters are "since login" (FreeSWITCH resets them on Available).
                agents[Int(slot)].counters = AgentCounters()
                agents[Int(slot)].loginAt = now.milliseconds
            }
            agents[Int(slot)].consecutiveNoAnswer = 0
            // Back from a break or a login: fresh, not "idle for hours".
            agents[Int(slot)].lastFreeAt = now.milliseconds
        } else {
            for offer in agents[Int(slot)].openOffers { endOffer(offer, reason: .agentGone) }
        }
        addStaffing(slot)
        refreshAgent(slot)
        markDirty(agent: slot)
    }

    /// Whether the agent can be offered a task of `medium` now.
    @inline(__always)
    func isAssignable(_ slot: Int32, _ medium: ChannelMedium) -> Bool {
        // Through the buffer's address: reading `agents[index].field` may copy (and retain) the
        // whole agent first.
        let now = now.milliseconds
        return agents.withUnsafeBufferPointer { agents in
            let index = Int(slot)
            guard agents[index].active, agents[index].presence == .available, agents[index].readyAt <= now else { return false }
            let limits = agents[index].limits
            let capacity = limits.capacity[medium]
            let load = agents[index].load
            guard capacity > 0, load[medium] < capacity else { return false }
            if agents[index].unitsUsed + limits.cost[medium] <= limits.units { return true }
            // Over the units: only if every other medium in hand may be interrupted by this one.
            for other in MediaSequence() where load[other] > 0 {
                if other == medium || !limits.interrupts(other, by: medium) { return false }
            }
            return true
        }
    }

    /// Notes that the agent's state changed: its places in the free sets are brought up to date
    /// before the sets are next read (once, however many changes a decision makes).
    mutating func refreshAgent(_ slot: Int32) {
        guard !staleAgentFlags[Int(slot)] else { return }
        staleAgentFlags[Int(slot)] = true
        staleAgents.append(slot)
    }

    /// Brings every changed agent's places in the free sets up to date.
    mutating func flushStaleAgents() {
        guard !staleAgents.isEmpty else { return }
        for slot in staleAgents {
            staleAgentFlags[Int(slot)] = false
            updateFreeEntries(slot)
        }
        staleAgents.removeAll(keepingCapacity: true)
    }

    /// Puts the agent in, moves it within, or takes it out of the free sets of its queues.
    /// Entries sit at fixed places (membership × medium), so nothing is allocated and only
    /// changed keys touch the sets.
    private mutating func updateFreeEntries(_ slot: Int32) {
        let assignable = PerMedium(
            voice: isAssignable(slot, .voice), messaging: isAssignable(slot, .messaging), email: isAssignable(slot, .email))
        // A busy agent who was in no free set stays out: nothing else to read (the usual case
        // after an assignment).
        if !assignable.voice, !assignable.messaging, !assignable.email, agents[Int(slot)].freeEntryCount == 0 { return }
        let memberships = agents[Int(slot)].memberships
        if agents[Int(slot)].freeEntries.count != memberships.count * 3 {
            clearFreeEntries(slot)
            agents[Int(slot)].freeEntries = Array(repeating: nil, count: memberships.count * 3)
        }
        for medium in MediaSequence() {
            for (position, membership) in memberships.enumerated() {
                let index = position * 3 + medium.index
                let set = Int32(freeSetIndex(queue: membership.queue, medium: medium))
                let wanted = assignable[medium] ? strategyKey(slot, membership, medium, strategy(queue: membership.queue, medium)) : nil
                let current = agents[Int(slot)].freeEntries[index]
                if current?.key == wanted { continue }
                if let current {
                    freeAgents[Int(current.set)].remove(current.key)
                    agents[Int(slot)].freeEntryCount -= 1
                }
                if let wanted {
                    freeAgents[Int(set)].insert(wanted)
                    agents[Int(slot)].freeEntryCount += 1
                }
                agents[Int(slot)].freeEntries[index] = wanted.map { (set, $0) }
            }
        }
    }

    /// Takes the agent out of every free set.
    mutating func clearFreeEntries(_ slot: Int32) {
        for entry in agents[Int(slot)].freeEntries {
            if let entry { freeAgents[Int(entry.set)].remove(entry.key) }
        }
        agents[Int(slot)].freeEntries = []
        agents[Int(slot)].freeEntryCount = 0
    }

    /// The agent's place among free agents of a queue: tier, then the strategy's key.
    func strategyKey(_ slot: Int32, _ membership: ResolvedMembership, _ medium: ChannelMedium, _ strategy: AgentStrategy) -> AgentKey {
        let index = Int(slot)
        let capacity = Int64(max(1, agents[index].limits.capacity[medium]))
        let loads = agents[index].load
        let load = Int64(loads[medium])
        let position = Int64(membership.position)
        let (first, second): (Int64, Int64)
        switch strategy {
        case .longestIdle, .bestSkill: (first, second) = (agents[index].lastFreeAt, 0)
        case .mostAvailable: (first, second) = (-((capacity - load) * 1_000_000 / capacity), agents[index].lastAssignedAt)
        case .leastActive: (first, second) = (Int64(loads.voice + loads.messaging + loads.email), agents[index].lastAssignedAt)
        case .roundRobin: (first, second) = (agents[index].lastAssignedOn[medium], 0)
        case .fewestHandled: (first, second) = (Int64(agents[index].counters.handled), position)
        case .leastTalkTime: (first, second) = (agents[index].counters.handleMilliseconds, position)
        case .topDown, .linear, .ringAll, .progressive: (first, second) = (position, 0)
        case .fullLoad: (first, second) = (-(load * 1_000_000 / capacity), position)
        case .random: (first, second) = (agents[index].randomKey, 0)
        }
        return AgentKey(tier: membership.tier, first: first, second: second, agent: slot)
    }

    /// Takes one unit of `medium` from the agent: an offer or an assignment.
    mutating func reserve(_ slot: Int32, _ medium: ChannelMedium) {
        let before = agents[Int(slot)].load[medium]
        agents[Int(slot)].load[medium] += 1
        agents[Int(slot)].unitsUsed += agents[Int(slot)].limits.cost[medium]
        loadChanged(slot, medium, from: before)
        refreshAgent(slot)
    }

    /// Gives back one unit of `medium`.
    mutating func release(_ slot: Int32, _ medium: ChannelMedium, freshIdle: Bool) {
        let before = agents[Int(slot)].load[medium]
        agents[Int(slot)].load[medium] = max(0, before - 1)
        agents[Int(slot)].unitsUsed = max(0, agents[Int(slot)].unitsUsed - agents[Int(slot)].limits.cost[medium])
        loadChanged(slot, medium, from: before)
        if freshIdle { agents[Int(slot)].lastFreeAt = now.milliseconds }
        refreshAgent(slot)
        markDirty(agent: slot)
    }

    /// No offers for the agent before `instant`.
    mutating func delayAgent(_ slot: Int32, until instant: Int64) {
        guard instant > agents[Int(slot)].readyAt else { return }
        agents[Int(slot)].readyAt = instant
        agents[Int(slot)].readyGeneration &+= 1
        if instant > now.milliseconds {
            timers.schedule(.agentReady(agent: slot, generation: agents[Int(slot)].readyGeneration), at: RoutingInstant(milliseconds: instant))
        }
        refreshAgent(slot)
    }

    // MARK: Staffing: available members per queue and medium

    /// Whether the agent counts in its queues' staffing (and estimated-wait servers).
    private func isStaffing(_ slot: Int32) -> Bool { agents[Int(slot)].active && agents[Int(slot)].presence == .available }

    private mutating func loadChanged(_ slot: Int32, _ medium: ChannelMedium, from before: Int) {
        guard isStaffing(slot) else { return }
        let capacity = agents[Int(slot)].limits.capacity[medium]
        guard capacity > 0 else { return }
        let delta = min(capacity, agents[Int(slot)].load[medium]) - min(capacity, before)
        guard delta != 0 else { return }
        for membership in agents[Int(slot)].memberships { queues[Int(membership.queue)].busy[medium] += delta }
    }

    mutating func removeStaffing(_ slot: Int32) {
        guard isStaffing(slot) else { return }
        let agent = agents[Int(slot)]
        for membership in agent.memberships {
            for medium in ChannelMedium.allCases where agent.profile.capacity[medium] > 0 {
                let queue = Int(membership.queue)
                queues[queue].servers[medium] -= agent.profile.capacity[medium]
                queues[queue].busy[medium] -= min(agent.profile.capacity[medium], agent.load[medium])
                queues[queue].staffed[medium] -= 1
                if queues[queue].staffed[medium] == 0 { queueBecameUnstaffed(membership.queue, medium) }
            }
        }
    }

    mutating func addStaffing(_ slot: Int32) {
        guard isStaffing(slot) else { return }
        let agent = agents[Int(slot)]
        for membership in agent.memberships {
            for medium in ChannelMedium.allCases where agent.profile.capacity[medium] > 0 {
                let queue = Int(membership.queue)
                if queues[queue].staffed[medium] == 0 { queues[queue].staffGeneration[medium] &+= 1 }
                queues[queue].staffed[medium] += 1
                queues[queue].servers[medium] += agent.profile.capacity[medium]
                queues[queue].busy[medium] += min(agent.profile.capacity[medium], agent.load[medium])
            }
        }
    }

    /// Membership delays of a queue may have changed: waiting tasks get timers for new delays and
    /// are regrouped.
    mutating func queueDelaysChanged(_ queue: Int32) {
        let before = queues[Int(queue)].delays
        recomputeDelays(queue)
        let after = queues[Int(queue)].delays
        guard before != after else { return }
        for slot in tasks.indices {
            guard tasks[slot].alive, tasks[slot].queue == queue else { continue }
            if case .assigned = tasks[slot].phase { continue }
            // Waiting or offered: an offered task that waits again needs the new levels too.
            let task = tasks[slot]
            for delay in after where !before.contains(delay) && task.enqueuedAt + delay > now.milliseconds {
                timers.schedule(
                    .delayReached(task: Int32(slot), sequence: task.sequence, entry: task.entry),
                    at: RoutingInstant(milliseconds: task.enqueuedAt + delay))
            }
            if task.isWaiting {
                regroup(Int32(slot))
                markDirty(task: Int32(slot))
            }
        }
    }

    mutating func markDirty(agent slot: Int32) {
        guard !dirtyAgentFlags[Int(slot)] else { return }
        dirtyAgentFlags[Int(slot)] = true
        dirtyAgents.append(slot)
    }
}
