import HubModel
import Testing

@Suite("Survey scores in messages")
struct CSATScoreTests {
    @Test(
        "a message that is only a score gives it",
        arguments: [
            ("5", 5), (" 1 ", 1), ("４", 4), ("3分", 3), ("4 stars", 4), ("5/5", 5), ("2 out of 5", 2), ("5!", 5), ("4。", 4), ("⭐⭐⭐", 3),
            ("★", 1), ("😡", 1), ("😊", 4), ("👍", 4), ("😍", 5), ("😐", 3), ("5 颗星", 5),
        ])
    func scores(_ text: String, _ score: Int) {
        #expect(CSATScore.parse(text) == score)
    }

    @Test(
        "anything more is a message for an agent",
        arguments: ["", "0", "6", "10", "45", "3 days ago", "5 units please", "T-000005", "⭐⭐⭐⭐⭐⭐", "1.5", "5 stars!!! but the courier was late", "-1",
                    String(repeating: "5", count: 200)])
    func notScores(_ text: String) {
        #expect(CSATScore.parse(text) == nil)
    }
}
