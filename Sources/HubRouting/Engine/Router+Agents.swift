import HubModel

extension Router {
    /// Adds an agent or replaces its profile. Presence, load and counters stay.
    mutating func configureAgent(_ profile: AgentProfile) {
        let slot: Int32
        if let existing = agentIndex[profile.id] {
            slot = existing
            removeStaffing(slot)
            agents[Int(slot)].profile = profile
            agents[Int(slot)].active = true
        } else {
            slot = Int32(agents.count)
            agents.append(
                AgentState(
                    profile: profile, active: true, presence: .offline, readyAt: 0, readyGeneration: 0, load: PerMedium(0), unitsUsed: 0,
                    openOffers: [], assigned: [], wrapUps: [], memberships: [], lastAssignedAt: now.milliseconds,
                    lastAssignedOn: PerMedium(now.milliseconds), lastFreeAt: now.milliseconds, loginAt: now.milliseconds,
                    consecutiveNoAnswer: 0, counters: AgentCounters(), randomKey: Int64(bitPattern: random.next() >> 1), freeEntries: []))
            agentIndex[profile.id] = slot
            pinnedGroups.append([])
            dirtyAgentFlags.append(false)
        }
        let before = Set(agents[Int(slot)].memberships.map(\.queue))
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
        for queue in before.union(after).sorted() { queueDelaysChanged(queue) }
        for group in groups.indices where groups[group].admission.count > Int(slot) { groups[group].admission[Int(slot)] = 0 }
        presenceVersion &+= 1
        addStaffing(slot)
        refreshAgent(slot)
        markDirty(agent: slot)
    }

    /// Takes an agent out of routing: offers rescinded, no new work; work in hand stays counted.
    mutating func removeAgent(_ slot: Int32) {
        setPresence(slot, .offline)
        removeStaffing(slot)
        agents[Int(slot)].active = false
        for queue in agents[Int(slot)].memberships.map(\.queue) {
            queues[Int(queue)].members.removeAll { $0 == slot }
            queueDelaysChanged(queue)
        }
        agents[Int(slot)].memberships = []
        refreshAgent(slot)
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
    func isAssignable(_ slot: Int32, _ medium: ChannelMedium) -> Bool {
        let agent = agents[Int(slot)]
        guard agent.active, agent.presence == .available, agent.readyAt <= now.milliseconds else { return false }
        let capacity = agent.profile.capacity[medium]
        guard capacity > 0, agent.load[medium] < capacity else { return false }
        if agent.unitsUsed + agent.profile.cost[medium] <= agent.profile.capacityUnits { return true }
        // Over the units: only if every other medium in hand may be interrupted by this one.
        for other in ChannelMedium.allCases where agent.load[other] > 0 {
            if other == medium || !agent.profile.interruptibleBy[other].contains(medium) { return false }
        }
        return true
    }

    /// Puts the agent in, moves it within, or takes it out of the free sets of its queues, after
    /// any change to its state.
    mutating func refreshAgent(_ slot: Int32) {
        var wanted: [(set: Int32, key: AgentKey)] = []
        for medium in ChannelMedium.allCases where isAssignable(slot, medium) {
            for membership in agents[Int(slot)].memberships {
                let strategy = queues[Int(membership.queue)].policy.strategy[medium]
                wanted.append((Int32(freeSetIndex(queue: membership.queue, medium: medium)), strategyKey(slot, membership, medium, strategy)))
            }
        }
        let current = agents[Int(slot)].freeEntries
        for entry in current where !wanted.contains(where: { $0.set == entry.set && $0.key == entry.key }) {
            freeAgents[Int(entry.set)].remove(entry.key)
        }
        for entry in wanted where !current.contains(where: { $0.set == entry.set && $0.key == entry.key }) {
            freeAgents[Int(entry.set)].insert(entry.key)
        }
        agents[Int(slot)].freeEntries = wanted
    }

    /// The agent's place among free agents of a queue: tier, then the strategy's key.
    func strategyKey(_ slot: Int32, _ membership: ResolvedMembership, _ medium: ChannelMedium, _ strategy: AgentStrategy) -> AgentKey {
        let agent = agents[Int(slot)]
        let capacity = Int64(max(1, agent.profile.capacity[medium]))
        let load = Int64(agent.load[medium])
        let position = Int64(membership.position)
        let (first, second): (Int64, Int64)
        switch strategy {
        case .longestIdle, .bestSkill: (first, second) = (agent.lastFreeAt, 0)
        case .mostAvailable: (first, second) = (-((capacity - load) * 1_000_000 / capacity), agent.lastAssignedAt)
        case .leastActive: (first, second) = (Int64(agent.load.voice + agent.load.messaging + agent.load.email), agent.lastAssignedAt)
        case .roundRobin: (first, second) = (agent.lastAssignedOn[medium], 0)
        case .fewestHandled: (first, second) = (Int64(agent.counters.handled), position)
        case .leastTalkTime: (first, second) = (agent.counters.handleMilliseconds, position)
        case .topDown, .linear, .ringAll, .progressive: (first, second) = (position, 0)
        case .fullLoad: (first, second) = (-(load * 1_000_000 / capacity), position)
        case .random: (first, second) = (agent.randomKey, 0)
        }
        return AgentKey(tier: membership.tier, first: first, second: second, agent: slot)
    }

    /// The strategy key in words, for explanations.
    func describeKey(_ slot: Int32, _ medium: ChannelMedium, _ strategy: AgentStrategy, skillScore: Int?) -> String {
        let agent = agents[Int(slot)]
        let load = agent.load[medium]
        let capacity = agent.profile.capacity[medium]
        switch strategy {
        case .longestIdle: return "idle since \(RoutingInstant(milliseconds: agent.lastFreeAt))"
        case .bestSkill: return "skill score \(skillScore ?? 0), idle since \(RoutingInstant(milliseconds: agent.lastFreeAt))"
        case .mostAvailable: return "\(capacity - load) of \(capacity) \(medium.rawValue) free"
        case .leastActive: return "\(agent.load.voice + agent.load.messaging + agent.load.email) open tasks"
        case .roundRobin: return "last assigned \(RoutingInstant(milliseconds: agent.lastAssignedOn[medium]))"
        case .fewestHandled: return "\(agent.counters.handled) handled since login"
        case .leastTalkTime: return "\(agent.counters.handleMilliseconds / 1000) s handled since login"
        case .topDown, .linear, .ringAll, .progressive:
            let position = agent.memberships.first.map { "\($0.position)" } ?? "?"
            return "position \(position)"
        case .fullLoad: return "\(load) of \(capacity) \(medium.rawValue) in hand"
        case .random: return "random draw"
        }
    }

    /// Takes one unit of `medium` from the agent: an offer or an assignment.
    mutating func reserve(_ slot: Int32, _ medium: ChannelMedium) {
        agents[Int(slot)].load[medium] += 1
        agents[Int(slot)].unitsUsed += agents[Int(slot)].profile.cost[medium]
        refreshAgent(slot)
    }

    /// Gives back one unit of `medium`.
    mutating func release(_ slot: Int32, _ medium: ChannelMedium, freshIdle: Bool) {
        agents[Int(slot)].load[medium] = max(0, agents[Int(slot)].load[medium] - 1)
        agents[Int(slot)].unitsUsed = max(0, agents[Int(slot)].unitsUsed - agents[Int(slot)].profile.cost[medium])
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

    private func staffingContribution(_ slot: Int32) -> [(Int32, ChannelMedium)] {
        let agent = agents[Int(slot)]
        guard agent.active, agent.presence == .available else { return [] }
        var result: [(Int32, ChannelMedium)] = []
        for membership in agent.memberships {
            for medium in ChannelMedium.allCases where agent.profile.capacity[medium] > 0 { result.append((membership.queue, medium)) }
        }
        return result
    }

    mutating func removeStaffing(_ slot: Int32) {
        for (queue, medium) in staffingContribution(slot) {
            queues[Int(queue)].staffed[medium] -= 1
            if queues[Int(queue)].staffed[medium] == 0 { queueBecameUnstaffed(queue, medium) }
        }
    }

    mutating func addStaffing(_ slot: Int32) {
        for (queue, medium) in staffingContribution(slot) {
            if queues[Int(queue)].staffed[medium] == 0 { queues[Int(queue)].staffGeneration[medium] &+= 1 }
            queues[Int(queue)].staffed[medium] += 1
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
            guard let task = tasks[slot], task.queue == queue, task.isWaiting else { continue }
            for delay in after where !before.contains(delay) && task.enqueuedAt + delay > now.milliseconds {
                timers.schedule(
                    .delayReached(task: Int32(slot), sequence: task.sequence, entry: task.entry),
                    at: RoutingInstant(milliseconds: task.enqueuedAt + delay))
            }
            regroup(Int32(slot))
            markDirty(task: Int32(slot))
        }
    }

    mutating func markDirty(agent slot: Int32) {
        guard !dirtyAgentFlags[Int(slot)] else { return }
        dirtyAgentFlags[Int(slot)] = true
        dirtyAgents.append(slot)
    }
}
