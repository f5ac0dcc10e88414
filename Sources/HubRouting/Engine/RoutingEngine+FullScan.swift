import HubModel

/// Decisions by brute force, from the definitions: every task against every agent. The indexed
/// engine must decide exactly as this does; the benchmark measures how much faster it is.
extension RoutingEngine {
    /// The first open step of the task that admits the agent, from the definition.
    func firstAdmittingStep(_ slot: Int32, agent: Int32) -> Int? {
        let task = tasks[Int(slot)]
        let waited = now.milliseconds - task.enqueuedAt
        let membership = agents[Int(agent)].memberships.first { $0.queue == task.queue }
        for step in openSteps(task) {
            let filter = stepFilter(slot, step)
            if filter.agents == nil {
                guard let membership, membership.delay <= waited else { continue }
            }
            if passes(filter, agent: agent, queue: task.queue, delay: nil) { return step }
        }
        return nil
    }

    mutating func bestTaskByScan(for agent: Int32) -> Int32? {
        var best: Int32?
        for index in tasks.indices {
            guard tasks[index].alive, case let task = tasks[index], task.isWaiting, isAssignable(agent, task.medium), !task.exclusions.contains(agent),
                firstAdmittingStep(Int32(index), agent: agent) != nil
            else { continue }
            if let current = best, !isMoreUrgent(Int32(index), than: current) { continue }
            best = Int32(index)
        }
        return best
    }

    func orderedCandidatesByScan(_ slot: Int32) -> [AgentCandidate] {
        let task = tasks[Int(slot)]
        let strategy = self.strategy(queue: task.queue, task.medium)
        var result: [AgentCandidate] = []
        for agent in agents.indices {
            let agent = Int32(agent)
            guard isCandidate(agent, slot, already: []), let step = firstAdmittingStep(slot, agent: agent) else { continue }
            let pinned = step < task.steps.count && !task.steps[step].filter.agents.isEmpty
            let membership = agents[Int(agent)].memberships.first { $0.queue == task.queue }
            let key = pinned || membership == nil ? pinnedKey(agent, queue: task.queue, medium: task.medium) : strategyKey(agent, membership!, task.medium, strategy)
            result.append(AgentCandidate(agent: agent, step: step, key: key))
        }
        return result.sorted { a, b in
            let aDemoted = task.demoted.contains(a.agent)
            let bDemoted = task.demoted.contains(b.agent)
            if aDemoted != bDemoted { return !aDemoted }
            return a.step != b.step ? a.step < b.step : a.key < b.key
        }
    }

    /// Queues and media whose count of present tasks (waiting or offered, kept incrementally)
    /// differs from a scan of the tasks, with the oldest entry time: after every event there must
    /// be none.
    public func presentMismatches() -> [String] {
        var scanned: [Int: (count: Int, oldest: Int64)] = [:]
        for task in tasks where task.alive {
            if case .assigned = task.phase { continue }
            let index = Int(task.queue) * 3 + task.medium.index
            let before = scanned[index] ?? (0, .max)
            scanned[index] = (before.count + 1, min(before.oldest, task.enqueuedAt))
        }
        var mismatches: [String] = []
        for queue in queues.indices {
            for medium in ChannelMedium.allCases {
                let expected = scanned[queue * 3 + medium.index]
                let present = queues[queue].present[medium]
                if present.count != (expected?.count ?? 0) || present.first?.enqueuedAt != expected?.oldest {
                    mismatches.append(
                        "\(queues[queue].policy.id)/\(medium.rawValue): \(present.count) present, oldest \(present.first?.enqueuedAt ?? -1); "
                            + "scan \(expected?.count ?? 0), oldest \(expected?.oldest ?? -1)")
                }
            }
        }
        return mismatches
    }

    /// Pairs of a waiting task and a free agent who could take it: after every event there must
    /// be none (work conservation).
    public func unmatchedPairs() -> [(taskID: String, agentID: String)] {
        var pairs: [(String, String)] = []
        for index in tasks.indices {
            guard tasks[index].alive, case let task = tasks[index], task.isWaiting else { continue }
            for agent in agents.indices where isCandidate(Int32(agent), Int32(index), already: []) {
                if firstAdmittingStep(Int32(index), agent: Int32(agent)) != nil { pairs.append((task.id, agents[agent].id)) }
            }
        }
        return pairs
    }
}
