import Foundation
import HubModel

extension RoutingEngine {
    /// The longest chain of overflow requeues one task may take (A → B → C ...), so that two
    /// queues overflowing into each other cannot loop.
    static var maxOverflowHops: Int { 8 }

    /// Arrival-time triggers of the task's queue, in order. Returns false when the task left the
    /// queue (ended or requeued).
    mutating func applyArrivalOverflow(_ slot: Int32) -> Bool {
        let queue = Int(tasks[Int(slot)].queue)
        let medium = tasks[Int(slot)].medium
        let rules = queues[queue].policy.overflow
        for (index, rule) in rules.enumerated() where rule.applies(to: medium) {
            let fires: Bool
            switch rule.trigger {
            case .queueLength(let count):
                fires = queues[queue].present[medium].count - 1 >= count
            case .estimatedWait(let limit):
                fires = estimatedWait(for: slot).map { $0 > limit } ?? true
            case .noAgentLoggedIn:
                fires = queues[queue].staffed[medium] == 0
            case .waited, .noAgentFor:
                fires = false
            }
            if fires, !fireOverflow(slot, index) { return false }
        }
        return true
    }

    /// Applies overflow rule `rule` of the task's queue. Returns false when the task left the
    /// queue.
    mutating func fireOverflow(_ slot: Int32, _ rule: Int) -> Bool {
        var task = tasks[Int(slot)]
        guard task.firedOverflow & (1 << UInt64(rule)) == 0 else { return true }
        task.firedOverflow |= 1 << UInt64(rule)
        tasks[Int(slot)] = task
        let overflow = queues[Int(task.queue)].policy.overflow[rule]
        if case .requeue(let target, _) = overflow.action, queueIndex[target] == nil || task.hops >= Self.maxOverflowHops { return true }
        output.append(.overflowed(taskID: task.id, rule: overflow.name, trigger: overflow.trigger, action: overflow.action))
        switch overflow.action {
        case .requeue(let target, let keepAge):
            let queue = queueIndex[target]!
            takeOutOfQueue(slot)
            tasks[Int(slot)].hops += 1
            tasks[Int(slot)].prependedSteps = []
            tasks[Int(slot)].addedSteps = []
            if !keepAge { tasks[Int(slot)].ageBase = now.milliseconds }
            enterQueue(slot, queue, resumed: false)
            return false
        case .addSteps(let steps):
            let wasPastLastStep = task.stepIndex >= task.steps.count
            tasks[Int(slot)].addedSteps += steps
            tasks[Int(slot)].steps = task.prependedSteps + queues[Int(task.queue)].policy.steps + tasks[Int(slot)].addedSteps
            if wasPastLastStep {
                tasks[Int(slot)].stepStartedAt = now.milliseconds
                tasks[Int(slot)].stepGeneration &+= 1
                scheduleStepExpiry(slot)
            }
            regroup(slot)
            markDirty(task: slot)
            return true
        case .raisePriority(let points):
            tasks[Int(slot)].priority += points
            regroup(slot)
            return true
        case .offerCallback, .ticket, .cancel:
            takeOutOfQueue(slot)
            output.append(.taskEnded(taskID: task.id, reason: .overflow(rule: overflow.name, action: overflow.action)))
            discard(slot)
            return false
        }
    }

    /// Rescinds the task's offers and takes it out of its queue.
    private mutating func takeOutOfQueue(_ slot: Int32) {
        for offer in tasks[Int(slot)].offers { endOffer(offer, reason: .taskGone, returnTask: false) }
        tasks[Int(slot)].offers = []
        leaveQueue(slot)
    }

    /// No available member takes the medium any more: waiting tasks start their no-agent clocks.
    mutating func queueBecameUnstaffed(_ queue: Int32, _ medium: ChannelMedium) {
        queues[Int(queue)].unstaffedSince[medium] = now.milliseconds
        queues[Int(queue)].staffGeneration[medium] &+= 1
        let rules = queues[Int(queue)].policy.overflow.enumerated().compactMap { index, rule -> (Int, Duration)? in
            guard rule.applies(to: medium), case .noAgentFor(let limit) = rule.trigger else { return nil }
            return (index, limit)
        }
        guard !rules.isEmpty else { return }
        let generation = queues[Int(queue)].staffGeneration[medium]
        for present in queues[Int(queue)].present[medium].elements {
            guard tasks[Int(present.slot)].alive, case let task = tasks[Int(present.slot)] else { continue }
            for (index, limit) in rules where task.firedOverflow & (1 << UInt64(index)) == 0 {
                let since = max(now.milliseconds, task.enqueuedAt)
                timers.schedule(
                    .noAgent(task: present.slot, sequence: task.sequence, entry: task.entry, rule: index, staffGeneration: generation),
                    at: RoutingInstant(milliseconds: since) + limit)
            }
        }
    }

    // MARK: Estimated wait

    /// The wait a task of this queue and medium can expect now (see `WaitEstimate`).
    func waitEstimate(queue slot: Int32, medium: ChannelMedium, excluding task: Int32? = nil) -> WaitEstimate {
        let q = Int(slot)
        let rate = queues[q].statistics[medium].arrivalRate(at: now.milliseconds, origin: origin ?? now.milliseconds)
        let handleSeconds = queues[q].statistics[medium].handleTimeMilliseconds / 1000
        let ahead = queues[q].present[medium].count - (task == nil ? 0 : 1)
        return WaitEstimate(
            arrivalsPerSecond: rate, handleTime: .milliseconds(Int64(handleSeconds * 1000)), servers: queues[q].servers[medium],
            busy: queues[q].busy[medium], waiting: ahead, serviceLevelThreshold: queues[q].policy.serviceLevel[medium].threshold)
    }

    /// The expected wait of a task that has just entered its queue; nil when nobody could
    /// serve it.
    func estimatedWait(for slot: Int32) -> Duration? {
        waitEstimate(queue: tasks[Int(slot)].queue, medium: tasks[Int(slot)].medium, excluding: slot).forNewArrival
    }
}

/// The expected wait in a queue from live figures: the arrival rate over the rate window, the
/// moving average of handle time, and the available agents' capacity (each chat slot counts as
/// a server).
public struct WaitEstimate: Sendable, Hashable {
    public var arrivalsPerSecond: Double
    public var handleTime: Duration
    /// Available agents' capacity for the medium.
    public var servers: Int
    /// Of which in use.
    public var busy: Int
    /// Tasks waiting (or being offered) ahead.
    public var waiting: Int
    public var serviceLevelThreshold: Duration

    /// Offered load in Erlangs (λ × handle time).
    public var offeredLoad: Double { arrivalsPerSecond * handleTime.secondsValue }

    /// Erlang C: the probability that an arrival waits, in steady state; nil when the load is at
    /// or above capacity (the queue grows without bound).
    public var probabilityOfWaiting: Double? {
        guard servers > 0, offeredLoad < Double(servers) else { return nil }
        return ErlangC.probabilityOfWaiting(servers: servers, load: offeredLoad)
    }

    /// Erlang C's average speed of answer.
    public var averageWait: Duration? {
        guard let c = probabilityOfWaiting else { return nil }
        return .milliseconds(Int64(ErlangC.averageWait(servers: servers, load: offeredLoad, handleTime: handleTime.secondsValue, probability: c) * 1000))
    }

    /// Erlang C's share answered within the queue's service-level threshold.
    public var serviceLevel: Double? {
        guard let c = probabilityOfWaiting else { return nil }
        return ErlangC.serviceLevel(
            servers: servers, load: offeredLoad, handleTime: handleTime.secondsValue, within: serviceLevelThreshold.secondsValue, probability: c)
    }

    /// The expected wait of a task arriving now, given who is ahead: with `q` tasks ahead and
    /// every server busy, an M/M/N queue serves it after `q + 1` departures, which come at rate
    /// N / handle time. nil when no agent is available.
    public var forNewArrival: Duration? {
        guard servers > 0 else { return nil }
        let departures = max(0, waiting + busy - servers + 1)
        return .milliseconds(Int64(Double(departures) * handleTime.secondsValue * 1000 / Double(servers)))
    }
}
