import HubModel

/// A free agent a task could be offered to, in the order of preference.
struct AgentCandidate {
    var agent: Int32
    /// The first open step that admits the agent (`steps.count`: the open pool).
    var step: Int
    var key: AgentKey
}

extension RoutingEngine {
    /// Pairs waiting tasks with free agents until no eligible pair is left. Agents who became
    /// free go first (each takes the most urgent task it may take); then tasks whose pool grew
    /// look for the best free agent, most urgent first.
    mutating func match() {
        var cursor = 0
        while true {
            if cursor < dirtyAgents.count {
                let agent = dirtyAgents[cursor]
                cursor += 1
                dirtyAgentFlags[Int(agent)] = false
                // The agent looks at the groups: every waiting task must be in them.
                flushPendingGroups()
                fillAgent(agent)
                continue
            }
            dirtyAgents.removeAll(keepingCapacity: true)
            cursor = 0
            guard !dirtyTasks.isEmpty else {
                flushPendingGroups()
                return
            }
            var best = 0
            for index in 1..<dirtyTasks.count where isMoreUrgent(dirtyTasks[index], than: dirtyTasks[best]) { best = index }
            let slot = dirtyTasks.remove(at: best)
            routeTask(slot)
        }
    }

    // MARK: Agent side: the most urgent task for a free agent

    mutating func fillAgent(_ agent: Int32) {
        while let slot = configuration.fullScan ? bestTaskByScan(for: agent) : bestTask(for: agent) {
            var chosen = takeCandidateBuffer()
            chosen.append(explainAgentSide(slot, agent))
            offer(slot, to: chosen[...], cause: .agentFree, alternatives: chosen[1...], considered: 1)
            returnCandidateBuffer(chosen)
        }
    }

    /// The engine's reusable candidate list, empty: taken out while in use (so that `self` stays
    /// free to change) and given back after, so that decisions allocate no lists of their own.
    mutating func takeCandidateBuffer() -> [AgentCandidate] {
        var buffer: [AgentCandidate] = []
        swap(&buffer, &candidateBuffer)
        buffer.empty()
        return buffer
    }

    mutating func returnCandidateBuffer(_ buffer: consuming [AgentCandidate]) {
        candidateBuffer = buffer
    }

    /// The heads of the groups that admit the agent, compared: O(groups of the agent's queues),
    /// each a read of the group's head record.
    mutating func bestTask(for agent: Int32) -> Int32? {
        var best = Candidate()
        let a = Int(agent)
        let memberships = agents[a].memberships
        if familyAnswers[a].count != memberships.count * 3 * Self.familyWidth { prepareFamilyAnswers(agent, memberships: memberships.count) }
        for medium in MediaSequence() where isAssignable(agent, medium) {
            for (position, membership) in memberships.enumerated() {
                let list = freeSetIndex(queue: membership.queue, medium: medium)
                let row = Self.familyAnswerIndex(membership: position, medium: medium)
                // The list does not change while it is walked (only offers change lists).
                let count = groupLists.count(list)
                var index = 0
                while index < count {
                    let group = groupLists[list, index]
                    index += 1
                    // The agent's own answer first: its answers for its queues lie side by side,
                    // while every group's head is elsewhere (an admitted agent has the group's
                    // delay).
                    guard admits(group, agent, family: row), groupHeads[Int(group)].delay == membership.delay else { continue }
                    considerHead(of: group, for: agent, into: &best)
                }
            }
            var position = 0
            while position < pinnedGroups[a].count {
                let group = pinnedGroups[a][position]
                position += 1
                guard groupHeads[Int(group)].medium == medium, admits(group, agent) else { continue }
                considerHead(of: group, for: agent, into: &best)
            }
        }
        return best.slot >= 0 ? best.slot : nil
    }

    /// Places per (membership, medium) in an agent's family row; a queue and medium with more
    /// unpinned groups than this has the rest answered from the agent's admission row.
    static var familyWidth: Int { 16 }

    /// Where the answers for one of the agent's memberships and a medium begin in its family row.
    @inline(__always)
    static func familyAnswerIndex(membership position: Int, medium: ChannelMedium) -> Int { (position * 3 + medium.index) * familyWidth }

    /// A family row with nothing known, one block per membership and medium.
    @inline(never)
    private mutating func prepareFamilyAnswers(_ agent: Int32, memberships: Int) {
        familyAnswers[Int(agent)] = Array(repeating: 0, count: memberships * 3 * Self.familyWidth)
    }

    /// `admits(group, agent)` for a group of one of the agent's queues, through the agent's
    /// family row: `row` is `familyAnswerIndex` of the membership of the group's queue and the
    /// group's medium.
    @inline(__always)
    mutating func admits(_ group: Int32, _ agent: Int32, family row: Int) -> Bool {
        let slot = Int(groupFamilySlot[Int(group)])
        guard slot < Self.familyWidth else { return admits(group, agent) }
        switch familyAnswers[Int(agent)][row + slot] {
        case 1: return true
        case 2: return false
        default: return learnFamilyAnswer(group, agent, at: row + slot)
        }
    }

    @inline(never)
    private mutating func learnFamilyAnswer(_ group: Int32, _ agent: Int32, at index: Int) -> Bool {
        let admitted = admits(group, agent)
        familyAnswers[Int(agent)][index] = admitted ? 1 : 2
        return admitted
    }

    /// The most urgent task found so far, with its urgency (-1: none).
    struct Candidate {
        var slot: Int32 = -1
        var urgency = Urgency()

        @inline(__always)
        mutating func consider(_ slot: Int32, _ urgency: Urgency, now: Int64) {
            if self.slot >= 0, !RoutingEngine.isMoreUrgent(urgency, than: self.urgency, now: now) { return }
            self.slot = slot
            self.urgency = urgency
        }
    }

    /// Offers the group's most urgent task that has not excluded the agent to `best`. Usually
    /// the head record says it all; a head that some agent declined sends the look to the set.
    /// (`mutating` though it changes nothing: called with `self` by address, where a plain
    /// method would be handed a copy of the whole engine.)
    @inline(__always)
    mutating func considerHead(of group: Int32, for agent: Int32, into best: inout Candidate) {
        let g = Int(group)
        let now = now.milliseconds
        let aging = groupHeads[g].aging
        if aging >= 0 {
            if !groupHeads[g].agingUrgency.excludes {
                best.consider(aging, groupHeads[g].agingUrgency, now: now)
            } else if let slot = firstNotExcluding(groupTasks[g].aging, agent) {
                best.consider(slot, urgencies[Int(slot)], now: now)
            }
        }
        let capped = groupHeads[g].capped
        if capped >= 0 {
            if !groupHeads[g].cappedUrgency.excludes {
                best.consider(capped, groupHeads[g].cappedUrgency, now: now)
            } else if let slot = firstNotExcluding(groupTasks[g].capped, agent) {
                best.consider(slot, urgencies[Int(slot)], now: now)
            }
        }
    }

    /// The first task of `bag` that has not excluded the agent.
    @inline(never)
    private mutating func firstNotExcluding(_ bag: SortedBag<TaskKey>, _ agent: Int32) -> Int32? {
        // A closure that captured `self` would copy the whole engine on every call.
        tasks.withUnsafeBufferPointer { tasks in bag.first { !tasks[Int($0.slot)].exclusions.contains(agent) }?.slot }
    }

    /// The serving order: effective priority (exact, aging included), then age, then arrival.
    @inline(__always)
    func isMoreUrgent(_ a: Int32, than b: Int32) -> Bool {
        Self.isMoreUrgent(urgencies[Int(a)], than: urgencies[Int(b)], now: now.milliseconds)
    }

    @inline(__always)
    static func isMoreUrgent(_ x: Urgency, than y: Urgency, now: Int64) -> Bool {
        let (xn, xd) = fraction(x, now: now)
        let (yn, yd) = fraction(y, now: now)
        if xd == yd {
            if xn != yn { return xn > yn }
        } else {
            let left = Int128(xn) * Int128(yd)
            let right = Int128(yn) * Int128(xd)
            if left != right { return left > right }
        }
        if x.ageBase != y.ageBase { return x.ageBase < y.ageBase }
        return x.sequence < y.sequence
    }

    /// Effective priority as an exact fraction numerator / denominator.
    @inline(__always)
    func fraction(_ u: Urgency) -> (Int64, Int64) { Self.fraction(u, now: now.milliseconds) }

    @inline(__always)
    static func fraction(_ u: Urgency, now: Int64) -> (Int64, Int64) {
        guard u.every > 0 else { return (u.base, 1) }
        let waited = now - u.ageBase
        if u.cap >= 0, waited >= u.cap * u.every { return (u.base + u.cap, 1) }
        return (u.base * u.every + waited, u.every)
    }

    // MARK: Task side: the best free agents for a task

    mutating func routeTask(_ slot: Int32) {
        guard tasks[Int(slot)].isWaiting else { return }
        let queue = Int(tasks[Int(slot)].queue)
        let strategy = self.strategy(queue: Int32(queue), tasks[Int(slot)].medium)
        let want: Int
        switch strategy {
        case .ringAll: want = configuration.maxParallelOffers
        case .progressive: want = 1
        default: want = max(1, min(queues[queue].policy.parallelOffers, configuration.maxParallelOffers))
        }
        var ordered = takeCandidateBuffer()
        orderedCandidates(slot, enough: want + configuration.explainAlternatives + 1, wholeFirstBlock: strategy.needsWholeBlock, into: &ordered)
        let chosen = choose(&ordered, slot: slot, strategy: strategy, want: want)
        let pending = tasks[Int(slot)].entryCheckPending
        tasks[Int(slot)].entryCheckPending = false
        if chosen == 0 {
            // Nobody free: the task waits in its groups.
            if tasks[Int(slot)].groupPending { regroup(slot) }
            let step = tasks[Int(slot)].stepIndex
            if pending, step < tasks[Int(slot)].steps.count, tasks[Int(slot)].steps[step].skipIfNoneFree {
                advanceStep(slot, reason: .noneFree)
            }
        } else {
            offer(
                slot, to: ordered[..<chosen], cause: chosen > 1 ? .parallel : .taskReady,
                alternatives: ordered[chosen..<min(ordered.count, chosen + configuration.explainAlternatives)], considered: ordered.count)
        }
        returnCandidateBuffer(ordered)
    }

    /// Puts the agents to offer to first among the ordered candidates (reordering within the
    /// first block where the strategy picks within it); returns how many to offer to. The rest
    /// are the runners-up, in order.
    func choose(_ ordered: inout [AgentCandidate], slot: Int32, strategy: AgentStrategy, want: Int) -> Int {
        guard let first = ordered.first else { return 0 }
        // The order as it is (most strategies): no reordering within the first block.
        guard strategy.needsWholeBlock else { return min(want, ordered.count) }
        let blockEnd = ordered.firstIndex { $0.step != first.step || $0.key.tier != first.key.tier } ?? ordered.count
        switch strategy {
        case .ringAll:
            return min(want, blockEnd)
        case .bestSkill:
            let filter = stepFilter(slot, first.step)
            let block = Array(ordered[..<blockEnd])
            let scores = block.map { candidate in filter.skills.reduce(0) { $0 + (agents[Int(candidate.agent)].profile.skills[$1.skill] ?? 0) } }
            let order = block.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            for (position, index) in order.enumerated() { ordered[position] = block[index] }
        case .topDown:
            if let memory = tasks[Int(slot)].huntMemory, memory.tier == first.key.tier,
                let start = ordered[..<blockEnd].firstIndex(where: { $0.key.first > Int64(memory.position) })
            {
                ordered.replaceSubrange(..<blockEnd, with: Array(ordered[start..<blockEnd] + ordered[..<start]))
            }
        default:
            break
        }
        return min(want, ordered.count)
    }

    /// Free eligible agents in order of preference (step, tier, strategy key, agent), at least
    /// `enough` of them when there are, and the whole first (step, tier) block if asked, into
    /// `result` (empty on entry).
    mutating func orderedCandidates(_ slot: Int32, enough wanted: Int, wholeFirstBlock: Bool, into result: inout [AgentCandidate]) {
        flushStaleAgents()
        let enough = max(1, wanted)
        func isDone(_ found: [AgentCandidate]) -> Bool {
            guard found.count >= enough, let first = found.first else { return false }
            guard wholeFirstBlock, let last = found.last else { return true }
            return last.step != first.step || last.key.tier != first.key.tier
        }
        // Both ways yield a prefix of the same order; cut at the same point so that they decide
        // and explain identically: the shortest prefix that is done.
        func cut(_ all: inout [AgentCandidate]) {
            guard let first = all.first, all.count > enough else { return }
            var end = enough
            if wholeFirstBlock {
                while end <= all.count, all[end - 1].step == first.step && all[end - 1].key.tier == first.key.tier { end += 1 }
            }
            if end < all.count { all.removeSubrange(end...) }
        }
        if configuration.fullScan {
            result = orderedCandidatesByScan(slot)
            cut(&result)
            return
        }
        // The task's fields, not the task: a copy would retain every array in it.
        let i = Int(slot)
        let queue = tasks[i].queue
        let medium = tasks[i].medium
        let demoted = tasks[i].demoted
        let waited = now.milliseconds - tasks[i].enqueuedAt
        // Without membership delays in the queue every member's delay is 0.
        let delaysApply = queues[Int(queue)].delays.count > 1
        let resolved = resolvedFilters(slot)
        let resolvedGroups = resolvedGroups(slot)
        // Agents demoted by an earlier decline come last, in a second pass.
        for demotedPass in [false, true] {
            if demotedPass && (demoted.isEmpty || isDone(result)) { break }
            for step in openSteps(slot) {
                let filter = resolved[step]
                let stepStart = result.count
                if let pinned = filter.agents {
                    for agent in pinned
                    where demoted.contains(agent) == demotedPass && isCandidate(agent, slot, already: result) && admits(resolvedGroups[step], agent) {
                        result.append(AgentCandidate(agent: agent, step: step, key: pinnedKey(agent, queue: queue, medium: medium)))
                    }
                    result[stepStart...].sort { $0.key < $1.key }
                } else {
                    // The group at the task's own delay level is the step's cached one; other
                    // membership delays (rare) are looked up once each.
                    var otherDelays: [(delay: Int64, group: Int32)] = []
                    // The free set was brought up to date above: everyone in it may take the medium.
                    freeAgents[freeSetIndex(queue: queue, medium: medium)].forEach { key in
                        if let tier = filter.tierAtMost, key.tier > tier { return false }
                        let agent = key.agent
                        guard demoted.isEmpty || demoted.contains(agent) == demotedPass, isCandidate(agent, slot, already: result, known: true) else {
                            return true
                        }
                        let delay = delaysApply ? agents[Int(agent)].memberships.first { $0.queue == queue }?.delay ?? 0 : 0
                        guard delay <= waited else { return true }
                        let group: Int32
                        if delay == 0 {
                            group = resolvedGroups[step]
                        } else if let known = otherDelays.first(where: { $0.delay == delay }) {
                            group = known.group
                        } else {
                            group = self.group(for: GroupKey(queue: queue, medium: medium, delay: delay, filter: filter))
                            otherDelays.append((delay, group))
                        }
                        guard admits(group, agent) else { return true }
                        result.append(AgentCandidate(agent: agent, step: step, key: key))
                        return !isDone(result)
                    }
                }
                if isDone(result) { break }
            }
        }
        cut(&result)
    }

    /// The steps whose agents are eligible now, in preference order.
    @inline(__always)
    func openSteps(_ task: TaskState) -> OpenSteps {
        openSteps(stepIndex: task.stepIndex, count: task.steps.count, queue: task.queue)
    }

    @inline(__always)
    func openSteps(_ slot: Int32) -> OpenSteps {
        openSteps(stepIndex: tasks[Int(slot)].stepIndex, count: tasks[Int(slot)].steps.count, queue: tasks[Int(slot)].queue)
    }

    @inline(__always)
    private func openSteps(stepIndex: Int, count: Int, queue: Int32) -> OpenSteps {
        OpenSteps(
            steps: min(stepIndex + 1, count), pool: stepIndex >= count && (!queues[Int(queue)].policy.strict || count == 0) ? count : nil)
    }

    func stepFilter(_ slot: Int32, _ step: Int) -> ResolvedFilter {
        resolve(step < tasks[Int(slot)].steps.count ? tasks[Int(slot)].steps[step].filter : AgentFilter(), slot: slot)
    }

    /// Free for the task's medium, not excluded, not already ringing for it, not already listed.
    /// `known`: the agent comes from an up-to-date free set, so it may take the medium.
    @inline(__always)
    func isCandidate(_ agent: Int32, _ slot: Int32, already: borrowing [AgentCandidate], known: Bool = false) -> Bool {
        assert(!known || isAssignable(agent, tasks[Int(slot)].medium))
        guard known || isAssignable(agent, tasks[Int(slot)].medium), !tasks[Int(slot)].exclusions.contains(agent) else { return false }
        // An agent rings for the task only if the task has open offers.
        if !tasks[Int(slot)].offers.isEmpty, agents[Int(agent)].openOffers.contains(where: { offers[Int($0)].task == slot }) { return false }
        return !already.contains { $0.agent == agent }
    }

    /// The key of a named agent: its queue key if it is a member, else first of tier 0.
    func pinnedKey(_ agent: Int32, queue: Int32, medium: ChannelMedium) -> AgentKey {
        let strategy = self.strategy(queue: queue, medium)
        let membership =
            agents[Int(agent)].memberships.first { $0.queue == queue }
            ?? ResolvedMembership(queue: queue, tier: 0, position: 0, delay: 0)
        return strategyKey(agent, membership, medium, strategy)
    }

    // MARK: Offers

    /// Offers the task to the chosen agents (one, or several in parallel), reserving their
    /// capacity in the same step. An agent with auto-accept takes it at once.
    mutating func offer(
        _ slot: Int32, to chosen: ArraySlice<AgentCandidate>, cause: OfferExplanation.Cause, alternatives: ArraySlice<AgentCandidate>,
        considered: Int, startsRinging: Bool = true
    ) {
        withdraw(slot)
        tasks[Int(slot)].phase = .offered
        // Fields, not the whole task: a copy would retain every array in it.
        let task = (
            id: tasks[Int(slot)].id, queue: tasks[Int(slot)].queue, medium: tasks[Int(slot)].medium, sequence: tasks[Int(slot)].sequence,
            stepCount: tasks[Int(slot)].steps.count)
        let queueID = queues[Int(task.queue)].policy.id
        let strategy = self.strategy(queue: task.queue, task.medium)
        let expiresAt = RoutingInstant(milliseconds: now.milliseconds &+ queues[Int(task.queue)].times.offerTimeout[task.medium])
        // An agent who accepts at once takes it alone.
        let autoAccepting = chosen.firstIndex { agents[Int($0.agent)].limits.autoAccepts(task.medium) }
        let targets = autoAccepting.map { $0..<($0 + 1) } ?? chosen.indices
        let (numerator, denominator) = fraction(urgencies[Int(slot)])
        let effective = Double(numerator) / Double(denominator)
        let waited = now - RoutingInstant(milliseconds: tasks[Int(slot)].enqueuedAt)
        for index in targets {
            let candidate = chosen[index]
            nextOfferNumber += 1
            let offerSlot: Int32
            if let free = freeOfferSlots.popLast() {
                offerSlot = free
            } else {
                offerSlot = Int32(offers.count)
                offers.append(OfferState(offer: Offer(id: "", taskID: "", agentID: "", expiresAt: now, explanation: emptyExplanation), id: "", taskID: "", number: 0, task: 0, taskSequence: 0, agent: 0, medium: .voice, open: false))
            }
            let stepName = candidate.step < task.stepCount ? tasks[Int(slot)].steps[candidate.step].name : "queue"
            let explanation = OfferExplanation(
                cause: cause, queue: queueID, step: candidate.step, stepName: stepName,
                tier: candidate.key.tier > 0 ? Int(candidate.key.tier) : nil, strategy: strategy,
                strategyKey: keyText(candidate, slot), effectivePriority: effective, waited: waited, eligibleCount: considered,
                alternatives: alternatives.map {
                    OfferExplanation.Candidate(
                        agentID: agents[Int($0.agent)].id, step: $0.step, tier: $0.key.tier > 0 ? Int($0.key.tier) : nil,
                        strategyKey: keyText($0, slot))
                })
            let offerID = Self.offerID(nextOfferNumber)
            offers[Int(offerSlot)] = OfferState(
                offer: nil, id: offerID, taskID: task.id, number: nextOfferNumber, task: slot, taskSequence: task.sequence, agent: candidate.agent,
                medium: task.medium, open: true)
            let offer = Offer(id: offerID, taskID: task.id, agentID: agents[Int(candidate.agent)].id, expiresAt: expiresAt, explanation: explanation)
            // Kept while open, for those who read it again; an auto-accepted offer closes at once.
            if autoAccepting == nil { offers[Int(offerSlot)].offer = offer }
            offerIndex[nextOfferNumber] = offerSlot
            tasks[Int(slot)].offers.append(offerSlot)
            agents[Int(candidate.agent)].openOffers.append(offerSlot)
            agents[Int(candidate.agent)].counters.offered += 1
            if strategy == .random { agents[Int(candidate.agent)].randomKey = Int64(bitPattern: random.next() >> 1) }
            reserve(candidate.agent, task.medium)
            if let membership = agents[Int(candidate.agent)].memberships.first(where: { $0.queue == task.queue }) {
                tasks[Int(slot)].huntMemory = (membership.tier, membership.position)
            }
            output.append(.offered(consume offer))
            if autoAccepting != nil {
                acceptOffer(offerSlot)
            } else {
                timers.schedule(.offerExpiry(offer: offerSlot, number: nextOfferNumber), at: expiresAt)
            }
        }
        // Progressive ringing: a new round (whether the task or a freed agent started it) adds
        // one more agent every interval while the earlier ones ring.
        if strategy == .progressive, startsRinging, tasks[Int(slot)].alive, tasks[Int(slot)].phase == .offered {
            tasks[Int(slot)].ringGeneration &+= 1
            timers.schedule(
                .progressiveRing(task: slot, sequence: task.sequence, generation: tasks[Int(slot)].ringGeneration),
                at: now + queues[Int(task.queue)].policy.progressiveInterval)
        }
    }

    /// For a decision started by the agent: where the agent stands for the task.
    mutating func explainAgentSide(_ slot: Int32, _ agent: Int32) -> AgentCandidate {
        let queue = tasks[Int(slot)].queue
        let medium = tasks[Int(slot)].medium
        let strategy = self.strategy(queue: queue, medium)
        let position = agents[Int(agent)].memberships.firstIndex { $0.queue == queue }
        let membership = position.map { agents[Int(agent)].memberships[$0] }
        // Filled by the agent's look at its groups (it found the task through one of them).
        let row = position.map { Self.familyAnswerIndex(membership: $0, medium: medium) }
        let familyKnown = familyAnswers[Int(agent)].count == agents[Int(agent)].memberships.count * 3 * Self.familyWidth
        let waited = now.milliseconds - tasks[Int(slot)].enqueuedAt
        var step = tasks[Int(slot)].steps.count
        let resolved = resolvedFilters(slot)
        let groups = resolvedGroups(slot)
        for index in openSteps(slot) {
            let filter = resolved[index]
            let delay = filter.agents == nil ? membership?.delay : nil
            if let delay, delay > waited { continue }
            // Without a membership delay the step's group gives the answer, usually known
            // already (the agent found the task through it): in its family row, just read, or
            // its admission row. `passes` would read the agent's skills, which are rarely in
            // cache.
            let admitted: Bool
            if let row, delay == 0, familyKnown {
                admitted = admits(groups[index], agent, family: row)
            } else {
                admitted = (delay ?? 0) == 0 ? admits(groups[index], agent) : passes(filter, agent: agent, queue: queue, delay: delay)
            }
            if admitted {
                step = index
                break
            }
        }
        let key = membership.map { strategyKey(agent, $0, medium, strategy) } ?? pinnedKey(agent, queue: queue, medium: medium)
        return AgentCandidate(agent: agent, step: step, key: key)
    }

    /// `offer-<number>`, written without the general integer formatting, straight into the
    /// string's own storage (inline for up to 15 bytes: numbers below a billion).
    static func offerID(_ number: Int64) -> String {
        var digits = 1
        var rest = number.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let length = 6 + digits
        return String(unsafeUninitializedCapacity: length) { buffer in
            // "offer-" as one little-endian word of six bytes, then the digits from the right.
            let prefix: UInt64 = 0x2D_72_65_66_66_6F
            for index in 0..<6 { buffer[index] = UInt8(truncatingIfNeeded: prefix >> UInt64(8 * index)) }
            var value = number.magnitude
            var position = length
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                value /= 10
            } while value > 0
            return length
        }
    }

    func keyText(_ candidate: AgentCandidate, _ slot: Int32) -> StrategyKey {
        let medium = tasks[Int(slot)].medium
        let strategy = self.strategy(queue: tasks[Int(slot)].queue, medium)
        var score: Int?
        if strategy == .bestSkill {
            score = stepFilter(slot, candidate.step).skills.reduce(0) {
                $0 + (agents[Int(candidate.agent)].profile.skills[$1.skill] ?? 0)
            }
        }
        return StrategyKey(
            strategy: strategy, medium: medium, first: candidate.key.first, second: candidate.key.second, skillScore: score,
            load: agents[Int(candidate.agent)].load[medium], capacity: agents[Int(candidate.agent)].limits.capacity[medium])
    }

    private var emptyExplanation: OfferExplanation {
        OfferExplanation(
            cause: .taskReady, queue: "", step: 0, stepName: "", tier: nil, strategy: .longestIdle,
            strategyKey: StrategyKey(strategy: .longestIdle, medium: .voice, first: 0, second: 0, load: 0, capacity: 0), effectivePriority: 0,
            waited: .zero, eligibleCount: 0, alternatives: [])
    }
}

/// Open step indices in preference order, without allocating: `0..<steps`, then the queue's
/// open pool (`pool`) if it is open.
struct OpenSteps: Sequence, IteratorProtocol {
    let steps: Int
    let pool: Int?
    private var position = 0

    init(steps: Int, pool: Int?) {
        self.steps = steps
        self.pool = pool
    }

    mutating func next() -> Int? {
        defer { position += 1 }
        if position < steps { return position }
        if position == steps, let pool { return pool }
        return nil
    }
}

extension AgentStrategy {
    /// Strategies that pick within the whole best (step, tier) block rather than its first.
    var needsWholeBlock: Bool { self == .ringAll || self == .bestSkill || self == .topDown }
}
