import Foundation
import HubConfig
import HubModel
import Testing

@Suite("Ticket templates per channel kind")
struct TicketTemplateConfigTests {
    @Test("templates read per locale, and per channel kind and locale; an unknown kind or placeholder names its line")
    func perKind() throws {
        let rules = """
            queues:
              - id: support
            tickets:
              templates:
                solved:
                  en: "Ticket {number} is solved."
                  sms:
                    en: "{number} solved"
                    zh-CN: "{number}已解决"
            """
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": rules]).load()
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let tickets = try #require(result.configuration?.routing.tickets)
        #expect(tickets.template("solved", .en, channel: .sms) == "{number} solved")
        #expect(tickets.template("solved", .en, channel: .wechat) == "Ticket {number} is solved.")
        #expect(tickets.template("solved", .zhCN, channel: .sms) == "{number}已解决")
        #expect(tickets.template("solved", .zhCN, channel: .wechat) == nil)

        for (broken, line, message) in [
            (rules.replacingOccurrences(of: "    sms:", with: "    smss:"), 7, "unknown key 'smss'"),
            (rules.replacingOccurrences(of: "{number} solved", with: "{numbr} solved"), 8, "unknown placeholder {numbr}"),
        ] {
            let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": broken]).load()
            let error = result.errors.first { $0.description.contains(message) }
            #expect(error?.location.line == line, "\(message): \(result.errors.map(\.description))")
        }
    }
}
