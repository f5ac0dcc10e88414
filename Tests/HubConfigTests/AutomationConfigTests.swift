import Foundation
import HubConfig
import HubModel
import HubRouting
import Testing

@Suite("Automation configuration")
struct AutomationConfigTests {
    static let rules = """
        queues:
          - id: support
          - id: vip
        automations:
          - id: refund
            on: message.received
            when: "'退款' in task.text and task.channel == 'wechat'"
            do:
              createTicket: { subject: "退款：{text}", queue: support, priority: high }
              tag: [refund, money]
              notify: "new refund ticket {number}"
          - id: vip-first
            on: ticket.created
            when: "task.tier == 'vip'"
            do: { setPriority: urgent, assignQueue: vip }
        """

    @Test("automations read with their events, conditions and actions")
    func reads() throws {
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": Self.rules]).load()
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let automations = try #require(result.configuration?.routing.automations)
        #expect(automations.map(\.id) == ["refund", "vip-first"])
        #expect(automations[0].on == .messageReceived)
        #expect(automations[0].actions == AutomationActions(
            createTicket: TicketTemplate(subject: "退款：{text}", queueID: "support", priority: .high), tags: ["refund", "money"],
            notify: "new refund ticket {number}"))
        #expect(automations[1].actions == AutomationActions(setPriority: .urgent, assignQueue: "vip"))
        #expect(automations[1].when?.description.contains("task.tier") == true)
    }

    @Test(
        "mistakes name their line",
        arguments: [
            ("when: \"task.tier == 'vip'\"", "when: \"task.teir == 'vip'\"", 14, "'task.teir' is not known on ticket.created"),
            ("on: ticket.created", "on: ticket.creatd", 13, "unknown event 'ticket.creatd'"),
            ("assignQueue: vip }", "assignQueue: vp }", 15, "unknown queue 'vp'"),
            ("on: message.received", "on: ticket.updated", 7, "'task.text' is not known on ticket.updated"),
            ("do: { setPriority: urgent, assignQueue: vip }", "do: { createTicket: { subject: x } }", 15, "createTicket is for message.received"),
            ("      createTicket: { subject: \"退款：{text}\", queue: support, priority: high }\n", "      setPriority: high\n", 9, "add createTicket"),
            ("when: \"'退款' in task.text and", "when: \"'退款' in task.text and and", 7, "invalid expression"),
            ("new refund ticket {number}", "new refund ticket {numbr}", 11, "unknown placeholder {numbr}"),
            ("when: \"task.tier == 'vip'\"", "when: \"task.previousStatus == 'new'\"", 14, "'task.previousStatus' is not known on ticket.created"),
        ])
    func broken(_ original: String, _ replacement: String, _ line: Int, _ message: String) throws {
        let text = Self.rules.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.rules)
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": text]).load()
        let error = result.errors.first { $0.description.contains(message) }
        #expect(error?.location.line == line, "\(message): \(result.errors.map(\.description))")
    }
}
