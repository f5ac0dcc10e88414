import HubModel

/// Read-only views of the router's state, for the inbox, supervisors and the REST API.
extension RoutingEngine {
    public func queue(_ id: String) -> QueueSnapshot? {
        guard let slot = queueIndex[id] else { return nil }
        let queue = queues[Int(slot)]
        var waiting = PerMedium(0)
        var longest = PerMedium<Duration?>(nil)
        var free = PerMedium(0)
        var estimates: [ChannelMedium: WaitEstimate] = [:]
        for medium in ChannelMedium.allCases {
            waiting[medium] = queue.present[medium].count
            longest[medium] = queue.present[medium].first.map { now - RoutingInstant(milliseconds: $0.enqueuedAt) }
            free[medium] = freeAgents[freeSetIndex(queue: slot, medium: medium)].count
            estimates[medium] = waitEstimate(queue: slot, medium: medium)
        }
        return QueueSnapshot(
            id: id, waiting: waiting, longestWait: longest, staffed: queue.staffed, free: free,
            estimate: PerMedium(voice: estimates[.voice]!, messaging: estimates[.messaging]!, email: estimates[.email]!))
    }

    /// Every queue, by id.
    public var queueSnapshots: [QueueSnapshot] { queues.map(\.policy.id).sorted().compactMap { queue($0) } }

    public func agent(_ id: String) -> AgentSnapshot? {
        guard let slot = agentIndex[id] else { return nil }
        let agent = agents[Int(slot)]
        return AgentSnapshot(
            id: id, active: agent.active, presence: agent.presence, load: agent.load,
            assigned: agent.assigned.compactMap { (tasks[Int($0)].alive ? tasks[Int($0)].id : nil) }.sorted(),
            offers: agent.openOffers.map { offers[Int($0)].id }.sorted(),
            wrapUps: agent.wrapUps.map(\.taskID),
            readyAt: agent.readyAt > now.milliseconds ? RoutingInstant(milliseconds: agent.readyAt) : nil,
            loginAt: RoutingInstant(milliseconds: agent.loginAt), counters: agent.counters)
    }

    /// Every agent, by id.
    public var agentSnapshots: [AgentSnapshot] { agents.map(\.id).sorted().compactMap { agent($0) } }

    public func task(_ id: String) -> TaskSnapshot? {
        guard let slot = taskIndex[id], tasks[Int(slot)].alive, case let task = tasks[Int(slot)] else { return nil }
        let phase: TaskSnapshot.Phase
        switch task.phase {
        case .waiting: phase = .waiting
        case .offered: phase = .offered(task.offers.map { offers[Int($0)].id }.sorted())
        case .assigned(let agent): phase = .assigned(agents[Int(agent)].id)
        }
        return TaskSnapshot(
            id: id, queue: queues[Int(task.queue)].policy.id, channel: task.channel, phase: phase, step: task.stepIndex,
            stepName: task.stepIndex < task.steps.count ? task.steps[task.stepIndex].name : "queue",
            effectivePriority: effectivePriority(task), ageBase: RoutingInstant(milliseconds: task.ageBase),
            enqueuedAt: RoutingInstant(milliseconds: task.enqueuedAt),
            excludedAgents: task.exclusions.map { agents[Int($0)].id }.sorted())
    }

    /// Whether the task is in the router (waiting, offered or assigned).
    public func contains(task id: String) -> Bool { taskIndex[id] != nil }

    /// An open offer.
    public func offer(_ id: String) -> Offer? {
        openOffer(id).flatMap { offers[Int($0)].offer }
    }

    /// Tasks in the router (waiting, offered or assigned).
    public var taskCount: Int { taskIndex.count }

    /// Tasks waiting or being offered, over all queues.
    public var waitingCount: Int {
        var count = 0
        for queue in queues { count += queue.present.voice.count + queue.present.messaging.count + queue.present.email.count }
        return count
    }

    /// The wait a task of `medium` entering `queue` now can expect.
    public func estimate(queue id: String, medium: ChannelMedium) -> WaitEstimate? {
        queueIndex[id].map { waitEstimate(queue: $0, medium: medium) }
    }
}

public struct QueueSnapshot: Sendable, Hashable {
    public var id: String
    /// Waiting or being offered, per medium.
    public var waiting: PerMedium<Int>
    public var longestWait: PerMedium<Duration?>
    /// Available members per medium.
    public var staffed: PerMedium<Int>
    /// Of which free to take a task of the medium now.
    public var free: PerMedium<Int>
    public var estimate: PerMedium<WaitEstimate>
}

public struct AgentSnapshot: Sendable, Hashable {
    public var id: String
    public var active: Bool
    public var presence: Presence
    /// Offered, assigned and wrapping tasks per medium.
    public var load: PerMedium<Int>
    public var assigned: [String]
    public var offers: [String]
    public var wrapUps: [String]
    /// Set while a reject, no-answer or busy delay runs.
    public var readyAt: RoutingInstant?
    public var loginAt: RoutingInstant
    public var counters: AgentCounters
}

public struct TaskSnapshot: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        case waiting
        case offered([String])
        case assigned(String)
    }

    public var id: String
    public var queue: String
    public var channel: ChannelKind
    public var phase: Phase
    public var step: Int
    public var stepName: String
    public var effectivePriority: Double
    public var ageBase: RoutingInstant
    public var enqueuedAt: RoutingInstant
    public var excludedAgents: [String]
}
