import Foundation
import HubModel
import HubStore
import Logging
import ServiceLifecycle

/// The agents' live feed. One reader follows the event log for every connection and keeps the
/// recent events in memory, each with its audience worked out once; every connection pulls the
/// events meant for it from its own cursor. So each connection gets its events in log order,
/// exactly once, from wherever it resumes; a slow connection only falls behind itself (and, once
/// further behind than memory and `maximumReplay`, is told to resync) and never holds up the
/// others; and memory does not grow with the number of connections.
public actor InboxFeed {
    public struct Configuration: Sendable {
        /// Recent events kept in memory, shared by all connections.
        public var retained: Int
        /// A connection further behind than this many events is told to resync rather than
        /// replay (a long disconnect, a stalled client).
        public var maximumReplay: Int64
        /// Events per pull, at most.
        public var batchLimit: Int

        public init(retained: Int = 20_000, maximumReplay: Int64 = 100_000, batchLimit: Int = 200) {
            self.retained = retained
            self.maximumReplay = maximumReplay
            self.batchLimit = batchLimit
        }
    }

    /// What a pull returns.
    public enum Batch: Sendable, Equatable {
        /// Events for the subscriber, in order, and the sequence number read through (where a
        /// reconnecting client resumes from).
        case events([HubEvent], through: Int64)
        /// The subscriber fell too far behind: reload state, continue after `at`.
        case resync(at: Int64)
        /// The subscription ended.
        case ended
    }

    /// Who a subscription is for.
    public struct Audience: Sendable, Hashable {
        public var agentID: Agent.ID?
        /// Supervisors and admins: every agent's presence, offers and routing.
        public var seesAll: Bool

        public init(agentID: Agent.ID?, seesAll: Bool) {
            self.agentID = agentID
            self.seesAll = seesAll
        }
    }

    /// An event with who it is for, worked out once.
    struct Entry: Sendable {
        var event: HubEvent
        /// Agents it concerns (the event's agent, and for a conversation taken from an agent that
        /// agent too).
        var agents: [Agent.ID]
        /// An event an agent's screen shows (not the audit trail, not delivery internals).
        var forAgents: Bool
        /// An event of the floor that supervisors follow for every agent.
        var forSupervisors: Bool

        init(_ event: HubEvent) {
            self.event = event
            var agents: [Agent.ID] = []
            if let agent = event.refs.agentID { agents.append(agent) }
            if event.kind == .conversationUpdated {
                // The carried value when there is one; else the text, parsed only if it may name one.
                if let update = event.carried(ConversationUpdatedPayload.self) {
                    if let previous = update.previousAssigneeID { agents.append(previous) }
                } else if event.payloadMayContain("previousAssigneeId"), let previous = event.payload["previousAssigneeId"]?.stringValue {
                    agents.append(Agent.ID(previous))
                }
            }
            self.agents = agents
            let kind = event.kind.rawValue
            forAgents = !(kind.hasPrefix("audit.") || kind.hasPrefix("delivery.") || event.kind == .agentPasswordSet)
            forSupervisors =
                kind.hasPrefix("routing.") || kind.hasPrefix("offer.") || event.kind == .agentPresence || event.kind == .agentWrapUp
                || event.kind == .agentSession || event.kind == .agentConfigured || event.kind == .ticketUnnotified
                || event.kind == .csatAnswered || event.kind == .slaWarning || event.kind == .slaBreached
                || event.kind == .automationNotified || event.kind == .alertRaised || event.kind == .alertCleared
        }
    }

    private struct Subscriber {
        var audience: Audience
        var monitored: Set<Conversation.ID> = []
        /// The last sequence number examined for this subscriber.
        var cursor: Int64
        var waiter: CheckedContinuation<Batch, Never>?
    }

    private let store: any HubStore
    private let configuration: Configuration
    private let logger: Logger
    /// Events in (floor, head], oldest first.
    private var entries: [Entry] = []
    private var first = 0
    private var floor: Int64 = 0
    public private(set) var head: Int64 = 0
    private var started = false
    private var subscribers: [Int: Subscriber] = [:]
    private var nextID = 0
    private var byAgent: [Agent.ID: Set<Int>] = [:]
    private var supervisors: Set<Int> = []
    private var monitors: [Conversation.ID: Set<Int>] = [:]

    public init(store: any HubStore, configuration: Configuration = Configuration(), logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    public var subscriberCount: Int { subscribers.count }

    // MARK: Following the log

    /// Follows the event log until cancelled. A failed read is logged and tried again at the
    /// next commit; a read cut short by shutdown ends it quietly.
    public func run() async throws {
        let commits = store.eventCommits()
        try await start()
        try await pullLogged()
        for await _ in commits {
            try await pullLogged()
        }
        endAll()
    }

    private func pullLogged() async throws {
        do {
            try await pull()
        } catch {
            if Task.isCancelled { return }
            logger.error("feed read failed; retrying at the next commit", metadata: ["error": "\(error)"])
        }
    }

    /// Starts at the end of the log (what came before is read from the store on demand).
    func start() async throws {
        guard !started else { return }
        started = true
        head = try await store.lastEventSequence()
        floor = head
    }

    /// Reads what was committed since the last read and hands it out.
    func pull() async throws {
        while true {
            let events = try await store.events(after: head, limit: 500)
            guard !events.isEmpty else { return }
            distribute(events.map(Entry.init))
            if events.count < 500 { return }
        }
    }

    private func distribute(_ batch: [Entry]) {
        guard let last = batch.last else { return }
        let batchStart = batch[0].event.sequence
        entries.append(contentsOf: batch)
        head = last.event.sequence
        if entries.count - first > configuration.retained {
            first = entries.count - configuration.retained
            floor = entries[first].event.sequence - 1
            if first > configuration.retained {
                entries.removeFirst(first)
                first = 0
            }
        }
        var woken: Set<Int> = []
        for entry in batch {
            for agent in entry.agents where entry.forAgents { woken.formUnion(byAgent[agent] ?? []) }
            if entry.forSupervisors { woken.formUnion(supervisors) }
            if entry.forAgents, let conversation = entry.event.refs.conversationID, let ids = monitors[conversation] { woken.formUnion(ids) }
        }
        for id in woken {
            guard var subscriber = subscribers[id], let waiter = subscriber.waiter else { continue }
            // It was waiting: nothing before this batch was for it.
            subscriber.cursor = max(subscriber.cursor, batchStart - 1)
            subscriber.waiter = nil
            let found = scan(&subscriber)
            subscribers[id] = subscriber
            if found.isEmpty {
                subscribers[id]?.waiter = waiter
            } else {
                waiter.resume(returning: .events(found, through: subscriber.cursor))
            }
        }
    }

    // MARK: Subscriptions

    /// A new subscription, reading from `resumeFrom` (exclusive) or from now.
    public func subscribe(_ audience: Audience, resumeFrom: Int64? = nil, monitoring: [Conversation.ID] = []) async throws -> Int {
        try await start()
        let id = nextID
        nextID += 1
        let cursor = min(max(0, resumeFrom ?? head), head)
        subscribers[id] = Subscriber(audience: audience, cursor: cursor)
        if let agent = audience.agentID { byAgent[agent, default: []].insert(id) }
        if audience.seesAll { supervisors.insert(id) }
        for conversation in monitoring { monitor(id, conversation) }
        return id
    }

    public func unsubscribe(_ id: Int) {
        guard let subscriber = subscribers.removeValue(forKey: id) else { return }
        if let agent = subscriber.audience.agentID {
            byAgent[agent]?.remove(id)
            if byAgent[agent]?.isEmpty == true { byAgent[agent] = nil }
        }
        supervisors.remove(id)
        for conversation in subscriber.monitored { unmonitor(id, conversation) }
        subscriber.waiter?.resume(returning: .ended)
    }

    /// Also deliver a conversation's events (a supervisor monitoring it).
    public func monitor(_ id: Int, _ conversation: Conversation.ID) {
        guard subscribers[id] != nil else { return }
        subscribers[id]?.monitored.insert(conversation)
        monitors[conversation, default: []].insert(id)
    }

    public func unmonitor(_ id: Int, _ conversation: Conversation.ID) {
        subscribers[id]?.monitored.remove(conversation)
        monitors[conversation]?.remove(id)
        if monitors[conversation]?.isEmpty == true { monitors[conversation] = nil }
    }

    /// The next events for the subscriber; waits until there are some.
    public func next(_ id: Int) async -> Batch {
        while true {
            guard var subscriber = subscribers[id] else { return .ended }
            if subscriber.cursor < floor {
                if head - subscriber.cursor > configuration.maximumReplay {
                    subscribers[id]?.cursor = head
                    return .resync(at: head)
                }
                // Behind what memory holds: read the store.
                let after = subscriber.cursor
                let events: [HubEvent]
                do {
                    events = try await store.events(after: after, limit: 500)
                } catch {
                    logger.error("feed catch-up failed", metadata: ["error": "\(error)"])
                    subscribers[id]?.cursor = head
                    return .resync(at: head)
                }
                guard subscribers[id]?.cursor == after else { continue }
                let upTo = min(events.last?.sequence ?? floor, floor)
                let found = events.lazy.filter { $0.sequence <= upTo }.map(Entry.init).filter { Self.isFor(subscriber, $0) }
                    .map(\.event).prefix(configuration.batchLimit)
                let through = found.count == configuration.batchLimit ? found.last!.sequence : max(upTo, after)
                subscribers[id]?.cursor = through
                if !found.isEmpty { return .events(Array(found), through: through) }
                continue
            }
            let found = scan(&subscriber)
            if !found.isEmpty {
                subscribers[id] = subscriber
                return .events(found, through: subscriber.cursor)
            }
            subscribers[id] = subscriber
            return await withCheckedContinuation { continuation in
                subscribers[id]?.waiter = continuation
            }
        }
    }

    /// Collects the subscriber's events from memory after its cursor, advancing it.
    private func scan(_ subscriber: inout Subscriber) -> [HubEvent] {
        var found: [HubEvent] = []
        var index = position(after: subscriber.cursor)
        while index < entries.count {
            let entry = entries[index]
            subscriber.cursor = entry.event.sequence
            index += 1
            if Self.isFor(subscriber, entry) {
                found.append(entry.event)
                if found.count == configuration.batchLimit { return found }
            }
        }
        subscriber.cursor = max(subscriber.cursor, head)
        return found
    }

    /// The index of the first retained entry with a sequence number above `sequence`.
    private func position(after sequence: Int64) -> Int {
        var low = first
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].event.sequence <= sequence { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private static func isFor(_ subscriber: Subscriber, _ entry: Entry) -> Bool {
        if entry.forAgents, let agent = subscriber.audience.agentID, entry.agents.contains(agent) { return true }
        if entry.forSupervisors && subscriber.audience.seesAll { return true }
        if entry.forAgents, let conversation = entry.event.refs.conversationID, subscriber.monitored.contains(conversation) { return true }
        return false
    }

    private func endAll() {
        for id in Array(subscribers.keys) { unsubscribe(id) }
    }
}

/// Runs the feed in the hub's service group.
public struct InboxFeedRunner: Service {
    let feed: InboxFeed

    public init(_ feed: InboxFeed) { self.feed = feed }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await feed.run()
        }
    }
}
