import Foundation
import HubModel
import Testing

@Suite("Tickets: lifecycle rules and customers' questions")
struct TicketModelTests {
    @Test("the lifecycle: new only at birth, closed after solved and final, solved reopens")
    func transitions() {
        let all = TicketStatus.allCases
        for status in all { #expect(status.allows(status)) }
        for from in all where from != .new { #expect(!from.allows(.new)) }
        for to in all where to != .closed { #expect(!TicketStatus.closed.allows(to)) }
        for from in [TicketStatus.new, .open, .pending, .onHold] {
            #expect(!from.allows(.closed))
            #expect(from.allows(.solved))
        }
        #expect(TicketStatus.solved.allows(.closed))
        for to in [TicketStatus.open, .pending, .onHold] {
            #expect(TicketStatus.solved.allows(to))
            #expect(TicketStatus.new.allows(to))
        }
    }

    @Test(
        "ticket numbers as customers quote them, in short messages",
        arguments: [
            ("T-000123", 123), ("t123", 123), ("#T-42", 42), ("status of T-000007?", 7), ("工单T-000123进度", 123), ("T-000123 状态", 123),
            ("  T-9  ", 9), ("where is my ticket T-000031, please", 31),
        ])
    func numbers(text: String, number: Int) {
        #expect(TicketQuery.parse(text) == .number(TicketNumber(rawValue: number)))
    }

    @Test(
        "status words are the whole message, in English and Chinese",
        arguments: ["status", "Status?", "STATUS!", "my tickets", "ticket status", "状态", "工单进度？", "我的工单", "查询工单。", " 进度 "])
    func statusWords(text: String) {
        #expect(TicketQuery.parse(text) == .mine)
    }

    @Test(
        "everything else is for an agent",
        arguments: [
            "", "hello", "what is the status of my refund", "我的订单还没到", "AT-000123", "T-000123X", "T-0", "T-", "T-1234567890123",
            "My router model is RT-100, order 5", "T-000123 " + String(repeating: "please help me with this problem ", count: 3), "t-shirt size",
            "statuses", "状态不对，我要投诉", "T-000123" + String(repeating: " ", count: 2000),
        ])
    func notQueries(text: String) {
        #expect(TicketQuery.parse(text) == nil)
    }

    @Test("only a message that does nothing but ask is a whole question")
    func wholeQuestions() {
        for text in ["T-000123", "status of T-000007?", "工单T-000123进度", "T-000123 状态", "where is my ticket T-000031, please", "请问 T-12 的进度", "status"] {
            #expect(TicketQuery.isWholeQuestion(text), "\(text)")
        }
        for text in ["My T-800 vacuum stopped working", "Is terminal T2 open?", "my T-000001 order broke again", "hello", "T-000123 退款还没到账"] {
            #expect(!TicketQuery.isWholeQuestion(text), "\(text)")
        }
    }

    @Test("the reply language follows the customer's text")
    func locale() {
        #expect(CustomerLocale.guess(from: "工单进度") == .zhCN)
        #expect(CustomerLocale.guess(from: "T-000123 状态") == .zhCN)
        #expect(CustomerLocale.guess(from: "status") == .en)
        #expect(CustomerLocale.guess(from: "T-000123") == .en)
        #expect(CustomerLocale(tag: "zh-Hans-CN") == .zhCN)
        #expect(CustomerLocale(tag: "zh_TW") == .zhCN)
        #expect(CustomerLocale(tag: "en-GB") == .en)
        #expect(CustomerLocale(tag: "fr") == nil)
    }

    @Test("a merged ticket still reads, and an old payload without the new fields decodes")
    func codable() throws {
        let old = #"{"id":"tkt_1","number":"T-000001","subject":"s","status":"on-hold","priority":"normal","customerId":"cus_1","conversationIds":[],"createdAt":"2026-12-03T10:00:00.000Z","updatedAt":"2026-12-03T10:00:00.000Z"}"#
        let ticket = try HubJSON.makeDecoder().decode(Ticket.self, from: Data(old.utf8))
        #expect(ticket.status == .onHold)
        #expect(ticket.mergedIntoID == nil)
        #expect(ticket.channelAccountID == nil)
        #expect(ticket.isUnsolved)
    }
}
