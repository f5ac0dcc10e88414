import HubModel

/// What a queue does when it cannot cope: a trigger and an action (Azure Job Router's exception
/// policy, OpenSIPS's dissuading thresholds, FreeSWITCH's max-wait exits, in one form).
public struct OverflowRule: Sendable, Hashable {
    public var name: String
    public var trigger: OverflowTrigger
    /// The media it applies to; nil: all.
    public var media: Set<ChannelMedium>?
    public var action: OverflowAction

    public init(name: String, trigger: OverflowTrigger, media: Set<ChannelMedium>? = nil, action: OverflowAction) {
        self.name = name
        self.trigger = trigger
        self.media = media
        self.action = action
    }
}

public enum OverflowTrigger: Sendable, Hashable, CustomStringConvertible {
    /// On arrival: at least this many tasks of the medium already wait in the queue.
    case queueLength(atLeast: Int)
    /// On arrival: the estimated wait (Erlang C over live figures) is above this.
    case estimatedWait(over: Duration)
    /// The task has waited this long in the queue.
    case waited(Duration)
    /// On arrival: no agent of the queue is logged in (away and offline agents do not count).
    case noAgentLoggedIn
    /// No agent of the queue has been logged in for this long during the task's wait
    /// (FreeSWITCH `max-wait-time-with-no-agent`).
    case noAgentFor(Duration)

    public var description: String {
        switch self {
        case .queueLength(let count): "queue length \(count)"
        case .estimatedWait(let limit): "estimated wait over \(limit.secondsValue)s"
        case .waited(let limit): "waited \(limit.secondsValue)s"
        case .noAgentLoggedIn: "no agent logged in"
        case .noAgentFor(let limit): "no agent logged in for \(limit.secondsValue)s"
        }
    }
}

public enum OverflowAction: Sendable, Hashable, CustomStringConvertible {
    /// Move to another queue; with `keepAge` the task keeps its place by age.
    case requeue(queue: String, keepAge: Bool)
    /// Widen: these steps open after the task's current ones.
    case addSteps([RoutingStep])
    case raisePriority(Int)
    /// Leave the queue; the hub offers the customer a callback.
    case offerCallback
    /// Leave the queue; the hub turns the contact into a ticket.
    case ticket
    /// Leave the queue; the hub ends the contact (a call hears the queue's goodbye).
    case cancel

    public var description: String {
        switch self {
        case .requeue(let queue, let keepAge): "requeue to \(queue)\(keepAge ? "" : " (age reset)")"
        case .addSteps(let steps): "add steps \(steps.map(\.name).joined(separator: ", "))"
        case .raisePriority(let points): "raise priority by \(points)"
        case .offerCallback: "offer a callback"
        case .ticket: "turn into a ticket"
        case .cancel: "cancel"
        }
    }

    /// Whether the task leaves the router.
    var removesTask: Bool {
        switch self {
        case .offerCallback, .ticket, .cancel: true
        case .requeue, .addSteps, .raisePriority: false
        }
    }
}
