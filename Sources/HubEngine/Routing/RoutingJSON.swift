import Foundation
import HubModel
import HubRouting

/// RoutingEngine values as JSON, for event payloads and the API.
public enum RoutingJSON {
    public static func presence(_ presence: Presence) -> JSONValue {
        switch presence {
        case .offline: .object(["state": .string("offline")])
        case .available: .object(["state": .string("available")])
        case .away(let reason): .object(["state": .string("away"), "reason": .string(reason)])
        }
    }

    /// An offer as the API and the inbox show it: the value its event's payload reads as
    /// (`OfferPayload`, the one place that spells an offer out).
    public static func offer(_ offer: Offer) -> JSONValue {
        // (The writer's text of finite numbers always reads back; a router's priorities and
        // waits are finite.)
        (try? JSONReader.parse(JSONWriter.text(of: OfferPayload(offer)))) ?? .null
    }

    /// An offer's JSON, written straight from its fields: every offer is an event, and building
    /// its object of objects first (a dictionary per object, its keys hashed, then sorted) cost
    /// more than writing it. Keys in UTF-8 order, as every object of the hub's JSON.
    public struct OfferPayload: JSONWritable {
        public let offer: Offer

        public init(_ offer: Offer) { self.offer = offer }

        public func writeJSON(to writer: inout JSONWriter) {
            writer.beginObject()
            writer.key("agentId")
            writer.string(offer.agentID)
            writer.key("conversationId")
            writer.string(offer.taskID)
            writer.key("expiresAt")
            writer.date(offer.expiresAt.date)
            writer.key("explanation")
            let explanation = offer.explanation
            writer.beginObject()
            writer.key("alternatives")
            writer.beginArray()
            for candidate in explanation.alternatives {
                writer.beginObject()
                writer.key("agentId")
                writer.string(candidate.agentID)
                writer.key("step")
                writer.int(Int64(candidate.step))
                writer.key("strategyKey")
                writer.string(candidate.strategyKey.description)
                writer.key("tier")
                if let tier = candidate.tier { writer.int(Int64(tier)) } else { writer.null() }
                writer.endObject()
            }
            writer.endArray()
            writer.key("cause")
            writer.string(explanation.cause.rawValue)
            writer.key("effectivePriority")
            writer.double(explanation.effectivePriority)
            writer.key("eligibleConsidered")
            writer.int(Int64(explanation.eligibleCount))
            writer.key("queue")
            writer.string(explanation.queue)
            writer.key("step")
            writer.int(Int64(explanation.step))
            writer.key("stepName")
            writer.string(explanation.stepName)
            writer.key("strategy")
            writer.string(explanation.strategy.rawValue)
            writer.key("strategyKey")
            writer.string(explanation.strategyKey.description)
            writer.key("tier")
            if let tier = explanation.tier { writer.int(Int64(tier)) } else { writer.null() }
            writer.key("waitedSeconds")
            writer.double(explanation.waited.secondsValueForJSON)
            writer.endObject()
            writer.key("offerId")
            writer.string(offer.id)
            writer.endObject()
        }
    }

    public static func action(_ action: OverflowAction) -> JSONValue {
        switch action {
        case .requeue(let queue, let keepAge): .object(["requeue": .string(queue), "keepAge": .bool(keepAge)])
        case .addSteps(let steps): .object(["addSteps": .array(steps.map { .string($0.name) })])
        case .raisePriority(let points): .object(["raisePriority": .int(Int64(points))])
        case .offerCallback: .string("offerCallback")
        case .ticket: .string("ticket")
        case .cancel: .string("cancel")
        }
    }

    public static func reason(_ reason: TaskEndReason) -> JSONValue {
        switch reason {
        case .cancelled(let why): .object(["cancelled": .string(why.rawValue)])
        case .refused(let why): .object(["refused": .string(why)])
        case .overflow(let rule, let action): .object(["overflow": .string(rule), "action": Self.action(action)])
        case .timeToLive: .string("timeToLive")
        }
    }

    static func perMedium(_ value: PerMedium<Int>) -> JSONValue {
        .object(["voice": .int(Int64(value.voice)), "messaging": .int(Int64(value.messaging)), "email": .int(Int64(value.email))])
    }

    public static func queue(_ queue: QueueSnapshot) -> JSONValue {
        var media: [String: JSONValue] = [:]
        for medium in ChannelMedium.allCases {
            let estimate = queue.estimate[medium]
            media[medium.rawValue] = .object([
                "waiting": .int(Int64(queue.waiting[medium])),
                "longestWaitSeconds": queue.longestWait[medium].map { .double($0.secondsValueForJSON) } ?? .null,
                "staffed": .int(Int64(queue.staffed[medium])), "free": .int(Int64(queue.free[medium])),
                "estimate": .object([
                    "arrivalsPerHour": .double((estimate.arrivalsPerSecond * 3600 * 1000).rounded() / 1000),
                    "handleTimeSeconds": .double(estimate.handleTime.secondsValueForJSON), "servers": .int(Int64(estimate.servers)),
                    "busy": .int(Int64(estimate.busy)), "offeredLoad": .double((estimate.offeredLoad * 1000).rounded() / 1000),
                    "probabilityOfWaiting": estimate.probabilityOfWaiting.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null,
                    "averageWaitSeconds": estimate.averageWait.map { .double($0.secondsValueForJSON) } ?? .null,
                    "serviceLevel": estimate.serviceLevel.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null,
                    "forNewArrivalSeconds": estimate.forNewArrival.map { .double($0.secondsValueForJSON) } ?? .null,
                ]),
            ])
        }
        return .object(["id": .string(queue.id), "media": .object(media)])
    }

    /// An agent's routing state; `voiceReachable` says whether its phone can be called (false
    /// while the SIP element knows of no registered phone and no static contact).
    public static func agent(_ agent: AgentSnapshot, voiceReachable: Bool = true) -> JSONValue {
        .object([
            "id": .string(agent.id), "active": .bool(agent.active), "presence": presence(agent.presence), "load": perMedium(agent.load),
            "voiceReachable": .bool(voiceReachable),
            "assigned": .array(agent.assigned.map { .string($0) }), "offers": .array(agent.offers.map { .string($0) }),
            "wrapUps": .array(agent.wrapUps.map { .string($0) }),
            "readyAt": agent.readyAt.map { .string(HubJSON.formatTimestamp($0.date)) } ?? .null,
            "loginAt": .string(HubJSON.formatTimestamp(agent.loginAt.date)),
            "sinceLogin": .object([
                "offered": .int(Int64(agent.counters.offered)), "accepted": .int(Int64(agent.counters.accepted)),
                "declined": .int(Int64(agent.counters.declined)), "missed": .int(Int64(agent.counters.missed)),
                "handled": .int(Int64(agent.counters.handled)), "transferred": .int(Int64(agent.counters.transferred)),
                "handleSeconds": .double(Double(agent.counters.handleMilliseconds) / 1000),
            ]),
        ])
    }

    public static func task(_ task: TaskSnapshot, lastOffer: Offer?) -> JSONValue {
        let phase: JSONValue
        switch task.phase {
        case .waiting: phase = .object(["state": .string("waiting")])
        case .offered(let offers): phase = .object(["state": .string("offered"), "offers": .array(offers.map { .string($0) })])
        case .assigned(let agent): phase = .object(["state": .string("assigned"), "agentId": .string(agent)])
        }
        return .object([
            "conversationId": .string(task.id), "queue": .string(task.queue), "channel": .string(task.channel.rawValue), "phase": phase,
            "step": .int(Int64(task.step)), "stepName": .string(task.stepName), "effectivePriority": .double(task.effectivePriority),
            "ageBase": .string(HubJSON.formatTimestamp(task.ageBase.date)), "enqueuedAt": .string(HubJSON.formatTimestamp(task.enqueuedAt.date)),
            "excludedAgents": .array(task.excludedAgents.map { .string($0) }), "lastOffer": lastOffer.map(offer) ?? .null,
        ])
    }
}

extension Duration {
    /// Seconds with millisecond precision.
    var secondsValueForJSON: Double {
        let (seconds, attoseconds) = components
        return (Double(seconds) * 1000 + Double(attoseconds / 1_000_000_000_000_000)) / 1000
    }
}
