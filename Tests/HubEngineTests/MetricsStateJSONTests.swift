import Foundation
import HubModel
import Testing

@testable import HubEngine

/// The projection's state rows (a contact, an agent's clock) are written directly, not by
/// `JSONEncoder`: the bytes must be the encoder's, and read back by `JSONDecoder` as they were.
@Suite("Metrics projection state written directly")
struct MetricsStateJSONTests {
    static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func randomDate(_ generator: inout some RandomNumberGenerator) -> Date {
        // Whole seconds, milliseconds and arbitrary fractions, before and after 2001.
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: Date(timeIntervalSinceReferenceDate: Double(Int.random(in: -1_000_000_000...1_000_000_000, using: &generator)))
        case 1: Date(millisecondsSince1970: Int64.random(in: 0..<4_000_000_000_000, using: &generator))
        default: Date(timeIntervalSince1970: Double.random(in: 0..<4_000_000_000, using: &generator))
        }
    }

    @Test("a contact is JSONEncoder's bytes with every field present or absent, and decodes equal")
    func contacts() throws {
        var generator = SystemRandomNumberGenerator()
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &generator) ? value : nil }
        let phases: [MetricsProjector.Contact.Phase] = [.none, .waiting, .assigned]
        for _ in 0..<500 {
            var contact = MetricsProjector.Contact(channel: ChannelKind.allCases.randomElement(using: &generator)!)
            contact.queue = maybe("support \"vip\"")
            contact.phase = phases.randomElement(using: &generator)!
            contact.agent = maybe("agent\(Int.random(in: 1...300, using: &generator))")
            contact.enteredAt = maybe(Self.randomDate(&generator))
            contact.queuedAt = maybe(Self.randomDate(&generator))
            contact.hungUpBy = maybe(["customer", "agent", "system"].randomElement(using: &generator)!)
            contact.assignedAt = maybe(Self.randomDate(&generator))
            contact.handled = Bool.random(using: &generator)
            contact.responded = Bool.random(using: &generator)
            contact.firstInboundAt = maybe(Self.randomDate(&generator))
            contact.leftByCustomer = Bool.random(using: &generator)
            contact.assignedByHand = maybe("超级 agent")
            contact.overflowing = Bool.random(using: &generator)
            contact.closedAt = maybe(Self.randomDate(&generator))
            let text = JSONWriter.text(of: contact)
            #expect(text == (try Self.encoded(contact)))
            #expect(try JSONDecoder().decode(MetricsProjector.Contact.self, from: Data(text.utf8)) == contact)
        }
    }

    @Test("an agent's clock is JSONEncoder's bytes, with its assignments and wrap-ups, and decodes equal")
    func agentClocks() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var clock = MetricsProjector.AgentClock(since: Self.randomDate(&generator))
            clock.presence = ["offline", "available", "away", "午休"].randomElement(using: &generator)!
            // One assignment at most for the byte comparison (a set's order is its own); more below.
            if Bool.random(using: &generator) { clock.assigned = ["cnv_\(round)"] }
            for index in 0..<Int.random(in: 0...4, using: &generator) {
                clock.wrapping["cnv_\(Int.random(in: 0...1_000, using: &generator))_\(index)"] = Self.randomDate(&generator)
            }
            let text = JSONWriter.text(of: clock)
            #expect(text == (try Self.encoded(clock)))
            #expect(try JSONDecoder().decode(MetricsProjector.AgentClock.self, from: Data(text.utf8)) == clock)
        }
        var busy = MetricsProjector.AgentClock(presence: "available", since: Date(timeIntervalSince1970: 1_800_000_000.5))
        busy.assigned = Set((0..<20).map { "cnv_\($0)" })
        #expect(try JSONDecoder().decode(MetricsProjector.AgentClock.self, from: Data(JSONWriter.text(of: busy).utf8)) == busy)
    }
}
