import Foundation
import HubModel
import HubStore
import Testing

@testable import HubEngine
@testable import HubRouting

/// An offer's event payload is written straight from its fields (`RoutingJSON.OfferPayload`):
/// the text must be the one the tree of JSON values it replaced wrote (`byValue` here), and the
/// API and the inbox (`RoutingJSON.offer`) show the value that text reads as.
@Suite("Offer payloads written directly")
struct OfferPayloadTests {
    /// The offer as it was written before: a tree of JSON values, keys sorted by the writer.
    static func byValue(_ offer: Offer) -> JSONValue {
        let explanation = offer.explanation
        return .object([
            "offerId": .string(offer.id), "conversationId": .string(offer.taskID), "agentId": .string(offer.agentID),
            "expiresAt": .string(HubJSON.formatTimestamp(offer.expiresAt.date)),
            "explanation": .object([
                "cause": .string(explanation.cause.rawValue), "queue": .string(explanation.queue), "step": .int(Int64(explanation.step)),
                "stepName": .string(explanation.stepName), "tier": explanation.tier.map { .int(Int64($0)) } ?? .null,
                "strategy": .string(explanation.strategy.rawValue), "strategyKey": .string(explanation.strategyKey.description),
                "effectivePriority": .double(explanation.effectivePriority), "waitedSeconds": .double(explanation.waited.secondsValueForJSON),
                "eligibleConsidered": .int(Int64(explanation.eligibleCount)),
                "alternatives": .array(
                    explanation.alternatives.map {
                        .object([
                            "agentId": .string($0.agentID), "step": .int(Int64($0.step)), "tier": $0.tier.map { .int(Int64($0)) } ?? .null,
                            "strategyKey": .string($0.strategyKey.description),
                        ])
                    }),
            ]),
        ])
    }

    static func randomKey(_ generator: inout some RandomNumberGenerator) -> StrategyKey {
        StrategyKey(
            strategy: AgentStrategy.allCases.randomElement(using: &generator)!, medium: ChannelMedium.allCases.randomElement(using: &generator)!,
            first: Int64.random(in: -1_000_000_000_000...2_000_000_000_000, using: &generator), second: Int64.random(in: -5...5, using: &generator),
            skillScore: Bool.random(using: &generator) ? Int.random(in: 0...40, using: &generator) : nil, load: Int.random(in: 0...5, using: &generator),
            capacity: Int.random(in: 0...5, using: &generator))
    }

    static func randomText(_ generator: inout some RandomNumberGenerator) -> String {
        let pieces = ["agent", "7", "\"", "\\", "é", "队列", "\n", " ", "-", "😀", "\u{1}"]
        return (0..<Int.random(in: 0...4, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    @Test("the same text as the tree of values, and the API's value reads the same, for 3,000 random offers")
    func sameTextAsTheValue() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let alternatives = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                OfferExplanation.Candidate(
                    agentID: Self.randomText(&generator), step: Int.random(in: 0...9, using: &generator),
                    tier: Bool.random(using: &generator) ? Int.random(in: 0...5, using: &generator) : nil, strategyKey: Self.randomKey(&generator))
            }
            let priorities: [Double] = [0, -3, 12.5, 1e-7, 1e21, Double.random(in: -100...100, using: &generator)]
            let explanation = OfferExplanation(
                cause: [.taskReady, .agentFree, .parallel].randomElement(using: &generator)!, queue: Self.randomText(&generator),
                step: Int.random(in: 0...9, using: &generator), stepName: Self.randomText(&generator),
                tier: Bool.random(using: &generator) ? Int.random(in: 0...5, using: &generator) : nil,
                strategy: AgentStrategy.allCases.randomElement(using: &generator)!, strategyKey: Self.randomKey(&generator),
                effectivePriority: priorities.randomElement(using: &generator)!,
                waited: .milliseconds(Int64.random(in: 0...10_000_000, using: &generator)), eligibleCount: Int.random(in: 0...200, using: &generator),
                alternatives: alternatives)
            let offer = Offer(
                id: Self.randomText(&generator), taskID: Self.randomText(&generator), agentID: Self.randomText(&generator),
                expiresAt: RoutingInstant(milliseconds: Int64.random(in: 0...4_000_000_000_000, using: &generator)), explanation: explanation)
            let direct = JSONWriter.writtenText(of: RoutingJSON.OfferPayload(offer))
            let byValue = JSONWriter.writtenText(of: Self.byValue(offer))
            #expect(direct.text == byValue.text)
            #expect(direct.readable == byValue.readable)
            #expect(JSONWriter.text(of: RoutingJSON.offer(offer)) == byValue.text)
        }
    }

    @Test("a routing record keeps its payload's text as written, and the store appends it so")
    func recordKeepsTheText() throws {
        let record = RoutingRecord(kind: .routingQueued, refs: EventRefs(), payload: .object(["queue": .string("sales"), "resumed": .bool(false)]))
        #expect(record.payload.text == #"{"queue":"sales","resumed":false}"#)
        #expect(record.payload.readable)
        // (Encoded, it is the value its text reads as.)
        #expect(
            try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(record.payload))
                == JSONValue.object(["queue": .string("sales"), "resumed": .bool(false)]))
    }
}
