import HubModel

/// Everything that happens to the router. Time passing is not an event: `RoutingEngine.advance(to:)`
/// fires what is due.
///
/// The rare cases with large payloads (a whole profile or policy) are boxed (`indirect`), so that
/// the frequent ones are small: the router's `switch` over an event copies it.
public enum RoutingEvent: Sendable, Hashable {
    case taskArrived(TaskRequest)
    /// A task that is already an agent's: restored after a restart, or given by a supervisor.
    /// It counts on the agent's capacity until it completes.
    indirect case taskAssigned(TaskRequest, agentID: String)
    case taskUpdated(TaskUpdate)
    /// The task ends without (further) work: the customer hung up or closed the chat while
    /// waiting (`abandoned`, resumable), or the hub withdrew it. For an assigned task it is the
    /// end of the work, as `taskCompleted`.
    case taskCancelled(taskID: String, reason: CancelReason)
    /// The agent finished the task; wrap-up follows.
    case taskCompleted(taskID: String)
    /// The task goes back to waiting, in another queue or for one agent.
    case taskTransferred(taskID: String, to: TransferTarget, keepAge: Bool)

    /// Adds or replaces an agent; presence and load survive a change.
    indirect case agentConfigured(AgentProfile)
    /// Removes an agent from routing (its offers are rescinded; assigned work stays counted
    /// until it ends).
    case agentRemoved(agentID: String)
    case agentPresence(agentID: String, Presence)
    /// The agent finished wrap-up early.
    case wrapUpEnded(agentID: String, taskID: String)

    case offerAccepted(offerID: String)
    case offerRejected(offerID: String, reason: RejectReason)

    /// Adds or replaces a queue (configuration reload); its waiting tasks are re-routed under
    /// the new policy.
    indirect case queueConfigured(QueuePolicy)
}

public enum CancelReason: String, Sendable, Hashable, Codable {
    /// The customer left (hung up, closed the chat): the wait can resume within the window.
    case abandoned
    /// The hub or an agent withdrew it (answered elsewhere, closed, merged).
    case withdrawn
}

public enum RejectReason: String, Sendable, Hashable, Codable {
    /// The agent declined.
    case declined
    /// The agent's device was busy (SIP 486): a busy delay, not a missed offer.
    case busy
    /// The agent's device could not be reached (not registered, 480/404).
    case unreachable
    /// The agent let it ring out (reported by the device before the router's timeout).
    case noAnswer
}

public enum TransferTarget: Sendable, Hashable {
    case queue(String)
    /// One agent first (for `within`), then the task's queue as usual.
    case agent(String, queue: String?, within: Duration)
}
