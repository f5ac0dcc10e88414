import SIPCore
import Testing

@testable import HubServer

/// The SIP element's transactions with their timers filed by slot: a tick sees only what is due.
@Suite struct TransactionTableTests {
    struct Timed: TimedTransaction {
        var nextDeadline: Int64?
    }

    static func key(_ branch: String) -> SIPTransactionKey { SIPTransactionKey(branch: "z9hG4bK" + branch, sentBy: "", method: "INVITE") }

    @Test("only the due transactions come out, each once, and again when their next deadline comes")
    func dueOnly() {
        var table = TransactionTable<Timed>()
        table[Self.key("a")] = Timed(nextDeadline: 1_000)
        table[Self.key("b")] = Timed(nextDeadline: 1_020)  // same slot as a, later in it
        table[Self.key("c")] = Timed(nextDeadline: 5_000)
        table[Self.key("d")] = Timed(nextDeadline: nil)  // no timer running
        #expect(table.due(at: 999).isEmpty)
        #expect(table.due(at: 1_000) == [Self.key("a")])
        // (Not fired and not stored back: a is not filed again, so it does not come out twice.)
        #expect(table.due(at: 1_010).isEmpty)
        #expect(table.due(at: 1_020) == [Self.key("b")])
        // Fired and stored back with its next deadline: due again then.
        table[Self.key("b")] = Timed(nextDeadline: 2_000)
        #expect(table.due(at: 1_999).isEmpty)
        #expect(table.due(at: 2_100) == [Self.key("b")])
        #expect(table.due(at: 10_000) == [Self.key("c")])
        #expect(table.count == 4)
    }

    @Test("a deadline that moved is honoured where it moved, and a removed transaction never comes out")
    func movedAndRemoved() {
        var table = TransactionTable<Timed>()
        table[Self.key("late")] = Timed(nextDeadline: 1_000)
        table[Self.key("late")] = Timed(nextDeadline: 3_000)  // moved later
        table[Self.key("early")] = Timed(nextDeadline: 3_000)
        table[Self.key("early")] = Timed(nextDeadline: 500)  // moved earlier
        table[Self.key("gone")] = Timed(nextDeadline: 600)
        table[Self.key("gone")] = nil
        table[Self.key("stopped")] = Timed(nextDeadline: 700)
        table[Self.key("stopped")] = Timed(nextDeadline: nil)
        #expect(table.due(at: 1_500) == [Self.key("early")])
        table[Self.key("early")] = nil
        #expect(table.due(at: 2_999).isEmpty)
        #expect(table.due(at: 3_000) == [Self.key("late")])
        #expect(table.count == 2)
    }

    @Test("a deadline in the past is due at the next look")
    func pastDeadline() {
        var table = TransactionTable<Timed>()
        table[Self.key("a")] = Timed(nextDeadline: 10_000)
        #expect(table.due(at: 5_000).isEmpty)
        table[Self.key("b")] = Timed(nextDeadline: 100)
        #expect(table.due(at: 5_001) == [Self.key("b")])
    }
}
