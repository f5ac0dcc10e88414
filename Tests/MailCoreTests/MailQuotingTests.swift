import Testing

@testable import MailCore

@Suite("visible text")
struct MailQuotingTests {
    @Test("a bottom-quoted reply keeps only the new text")
    func bottomQuote() {
        let text = "Thanks, that works.\n\nOn Mon, 14 Dec 2026 at 10:00, Support <support@hub.test> wrote:\n> Please try again.\n> Regards\n"
        #expect(MailQuoting.visibleText(of: text) == "Thanks, that works.")
    }

    @Test("a Gmail attribution wrapped over two lines")
    func gmailTwoLines() {
        let text = "Yes.\n\nOn Mon, Dec 14, 2026 at 10:00 AM Support Team <support@hub.test>\nwrote:\n\n> Could you confirm?\n"
        #expect(MailQuoting.visibleText(of: text) == "Yes.")
    }

    @Test("Chinese attributions: 在 … 写道： and … 于 … 写道：")
    func chineseAttributions() {
        #expect(MailQuoting.visibleText(of: "收到，谢谢。\n\n在 2026年12月14日 10:00，客服 <support@hub.test> 写道：\n> 请确认。\n") == "收到，谢谢。")
        #expect(MailQuoting.visibleText(of: "好的\n\n客服 于 2026-12-14 10:00 写道：\n> 请确认。\n") == "好的")
    }

    @Test("-----Original Message----- and -----原始邮件----- cut the history")
    func originalMessage() {
        #expect(MailQuoting.visibleText(of: "See below.\n\n-----Original Message-----\nFrom: a\nSubject: b\n\nold text\n") == "See below.")
        #expect(MailQuoting.visibleText(of: "见下文。\n\n------------------ 原始邮件 ------------------\n发件人: a\n旧内容\n") == "见下文。")
    }

    @Test("Outlook header blocks, English and Chinese, with the underscore rule")
    func outlookBlocks() {
        let english = "Please refund.\n\n________________________________\nFrom: Support <support@hub.test>\nSent: Monday, December 14, 2026 10:00\nTo: Ann\nSubject: RE: Refund\n\nWe need more details.\n"
        #expect(MailQuoting.visibleText(of: english) == "Please refund.")
        let chinese = "请退款。\n\n发件人: 客服 <support@hub.test>\n发送时间: 2026年12月14日 10:00\n收件人: 安\n主题: 回复: 退款\n\n请提供更多信息。\n"
        #expect(MailQuoting.visibleText(of: chinese) == "请退款。")
    }

    @Test("the signature after \"-- \" and phone signatures go")
    func signatures() {
        #expect(MailQuoting.visibleText(of: "Hello.\n\n-- \nAnn Example\nACME\n") == "Hello.")
        #expect(MailQuoting.visibleText(of: "Hello.\n\nSent from my iPhone\n") == "Hello.")
        #expect(MailQuoting.visibleText(of: "你好。\n\n发自我的iPhone\n") == "你好。")
    }

    @Test("an interleaved reply keeps the answers and the questions they answer")
    func interleaved() {
        let text = "On Tue, 15 Dec 2026, Support <support@hub.test> wrote:\n> What is your order number?\nIt is 4711.\n> And your postcode?\n10115\n\n> Thanks.\n> The team\n"
        #expect(MailQuoting.visibleText(of: text) == "> What is your order number?\nIt is 4711.\n> And your postcode?\n10115")
    }

    @Test("text that is all quote is returned unchanged")
    func allQuoted() {
        let text = "> only a quote\n> nothing else\n"
        #expect(MailQuoting.visibleText(of: text) == text)
        #expect(MailQuoting.visibleText(of: nil) == nil)
    }

    @Test("ordinary text is left alone, CRLF included")
    func untouched() {
        #expect(MailQuoting.visibleText(of: "Line one\r\nLine two\r\n") == "Line one\nLine two")
        #expect(MailQuoting.visibleText(of: "From: here I write about Sent items") == "From: here I write about Sent items")
    }

    @Test("thousands of interleaved attributions cost linear time")
    func pathological() {
        let block = "On Mon, Support wrote:\n> question\nanswer\n\n"
        let text = String(repeating: block, count: 20_000)
        let start = ContinuousClock.now
        let visible = MailQuoting.visibleText(of: text)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(visible?.hasPrefix("> question\nanswer\n\n> question") == true)
        #expect(visible?.contains("wrote:") == false)
    }
}
