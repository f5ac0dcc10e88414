import Foundation
import HubConfig
import HubModel
import HubRouting
import Testing

@Suite("Routing rules: queue policies, rules, agents' routing profiles")
struct RoutingConfigTests {
    static let full = """
        skills: [billing, deescalation, lang-zh, lang-en]
        router:
          rejectDelay: 5s
          maxNoAnswer: 2
        queues:
          - id: support
            strategy: { voice: longestIdle, default: mostAvailable }
            offerTimeout: { voice: 15s, default: 45s }
            parallelOffers: 2
            aging: { every: 1m, max: 10 }
            requires:
              - { skill: "lang-${task.language}", level: 5 }
              - { skill: billing, level: 3, optional: true, dropOrder: 1 }
            steps:
              - name: owner
                agents: [task.ownerAgent]
                duration: { voice: 10s, messaging: 1m, email: 4h }
              - name: tier 1
                tierAtMost: 1
                expression: "agent.seniority >= 2"
                duration: 30s
                skipIfNoneFree: true
            wrapUp: { voice: 20s }
            maxWrapUp: 1m
            resumeWindow: 2m
            overflow:
              - name: long wait
                when: { waited: 5m }
                media: [voice]
                do: offerCallback
              - when: { queueLength: 30 }
                do: { requeue: overflow, keepAge: true }
              - when: { estimatedWait: 10m }
                do: { addSteps: [{ name: everyone, duration: forever }] }
            maxWait: 30m
          - id: overflow
            strategy: ringAll
        rules:
          - name: vip
            when: "task.tier == 'vip'"
            queue: overflow
            priority: +100
            steps: [{ name: vip tier 1, tierAtMost: 1, duration: 30s }]
          - name: angry
            when: "task.sentiment == 'angry'"
            priority: 50
            steps: [{ name: de-escalation, skills: { deescalation: 7 }, duration: 30s }]
            stop: true
        agents:
          - id: alice
            name: Alice
            skills: { billing: 5, lang-zh: 9 }
            queues:
              support: { tier: 1, position: 2 }
              overflow: { tier: 2, delay: 20s }
            capacity: { voice: 1, messaging: 4, email: 6 }
            attributes: { seniority: 3, languages: [zh, en] }
            capacityUnits: 120
            cost: { voice: 120, default: 30 }
            interruptibleBy: { email: [voice] }
            wrapUp: { voice: 10s }
            autoAccept: [email]
            maxNoAnswer: 5
        tickets:
          reopenWindow: 3d
          closeAfter: 4d
          statusReplies: false
          quietHours: { from: "21:00", to: "08:00", timeZone: Asia/Shanghai, channels: [sms, wechat] }
          csat: { scale: emoji, expireAfter: 2d, escalateTo: overflow, followUp: 90m, link: "https://support.example.com/csat/{token}" }
        """

    @Test("a full routing configuration reads into the router's policies, rules and profiles")
    func full() throws {
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": Self.full]).load()
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let routing = try #require(result.configuration?.routing)
        #expect(routing.router.rejectDelay == .seconds(5))
        #expect(routing.router.maxNoAnswer == 2)
        #expect(routing.router.noAnswerDelay == .seconds(10), "defaults stay")
        let quiet = QuietHours(start: 21 * 60, end: 8 * 60, timeZone: TimeZone(identifier: "Asia/Shanghai")!, channels: [.sms, .wechat])
        #expect(
            routing.tickets
                == TicketSettings(
                    reopenWindow: .seconds(3 * 86_400), closeAfter: .seconds(4 * 86_400), statusReplies: false, quietHours: quiet,
                    csat: CSATSettings(
                        scale: .emoji, expireAfter: .seconds(2 * 86_400), lowScore: 2, escalationQueue: "overflow", followUp: .seconds(90 * 60),
                        link: "https://support.example.com/csat/{token}")))
        // 23:30 in Shanghai (15:30 UTC) waits until 08:00 there (00:00 UTC); 12:00 there goes at once.
        let lateEvening = try #require(HubJSON.parseTimestamp("2026-12-03T15:30:00Z"))
        #expect(quiet.release(lateEvening, through: .sms) == HubJSON.parseTimestamp("2026-12-04T00:00:00Z"))
        #expect(quiet.release(lateEvening, through: .email) == lateEvening)
        let earlyMorning = try #require(HubJSON.parseTimestamp("2026-12-03T22:59:00Z"))  // 06:59 there
        #expect(quiet.release(earlyMorning, through: .wechat) == HubJSON.parseTimestamp("2026-12-04T00:00:00Z"))
        let noon = try #require(HubJSON.parseTimestamp("2026-12-04T04:00:00Z"))
        #expect(quiet.release(noon, through: .sms) == noon)
        let lunch = QuietHours(start: 12 * 60, end: 13 * 60, timeZone: TimeZone(identifier: "UTC")!)
        #expect(lunch.release(try #require(HubJSON.parseTimestamp("2026-12-04T12:10:00Z")), through: .sms) == HubJSON.parseTimestamp("2026-12-04T13:00:00Z"))

        let support = try #require(routing.queue("support")).policy
        #expect(support.strategy == PerMedium(voice: .longestIdle, messaging: .mostAvailable, email: .mostAvailable))
        #expect(support.offerTimeout == PerMedium(voice: .seconds(15), messaging: .seconds(45), email: .seconds(45)))
        #expect(support.parallelOffers == 2)
        #expect(support.aging == Aging(every: .seconds(60), max: 10))
        #expect(support.requirements == [
            SkillRequirement(skill: "lang-${task.language}", minLevel: 5),
            SkillRequirement(skill: "billing", minLevel: 3, optional: true, dropOrder: 1),
        ])
        #expect(support.steps.count == 2)
        #expect(support.steps[0].filter.agents == [.taskAttribute("ownerAgent")])
        #expect(support.steps[0].duration == PerMedium(voice: .seconds(10), messaging: .seconds(60), email: .seconds(14_400)))
        #expect(support.steps[1].filter.tierAtMost == 1)
        #expect(support.steps[1].filter.expression == (try AttributeExpression(parsing: "agent.seniority >= 2")))
        #expect(support.steps[1].skipIfNoneFree)
        #expect(support.wrapUp == PerMedium(voice: .seconds(20), messaging: .zero, email: .zero))
        #expect(support.maxWrapUp == .seconds(60))
        #expect(support.resumeWindow == .seconds(120))
        #expect(support.overflow == [
            OverflowRule(name: "long wait", trigger: .waited(.seconds(300)), media: [.voice], action: .offerCallback),
            OverflowRule(name: "overflow 2", trigger: .queueLength(atLeast: 30), action: .requeue(queue: "overflow", keepAge: true)),
            OverflowRule(
                name: "overflow 3", trigger: .estimatedWait(over: .seconds(600)),
                action: .addSteps([RoutingStep(name: "everyone", duration: nil)])),
            OverflowRule(name: "maxWait", trigger: .waited(.seconds(1800)), action: .cancel),
        ])
        #expect(try #require(routing.queue("overflow")).policy.strategy == PerMedium(.ringAll))

        #expect(routing.rules.rules.map(\.name) == ["vip", "angry"])
        #expect(routing.rules.rules[0].queue == "overflow" && routing.rules.rules[0].priority == 100)
        #expect(routing.rules.rules[1].steps[0].filter.skills == [SkillRequirement(skill: "deescalation", minLevel: 7)])
        #expect(routing.rules.rules[1].stop)

        let alice = try #require(routing.agents.first).profile
        #expect(alice.id == "alice")
        #expect(alice.skills == ["billing": 5, "lang-zh": 9])
        #expect(alice.memberships["support"] == RoutingMembership(tier: 1, position: 2))
        #expect(alice.memberships["overflow"] == RoutingMembership(tier: 2, position: 1, delay: .seconds(20)))
        #expect(alice.capacity == PerMedium(voice: 1, messaging: 4, email: 6))
        #expect(alice.attributes == ["seniority": .number(3), "languages": .list(["zh", "en"])])
        #expect(alice.capacityUnits == 120)
        #expect(alice.cost == PerMedium(voice: 120, messaging: 30, email: 30))
        #expect(alice.interruptibleBy.email == [.voice])
        #expect(alice.wrapUp.voice == .seconds(10) && alice.wrapUp.messaging == nil)
        #expect(alice.autoAccept == [.email])
        #expect(alice.maxNoAnswer == 5)
    }

    @Test("rules classify a task: first queue wins, priorities add, steps accumulate, stop ends it")
    func classification() throws {
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": Self.full]).load()
        let rules = try #require(result.configuration?.routing.rules)
        let request = TaskRequest(
            id: "t", channel: .voice, queue: "support",
            attributes: [TaskAttribute.tier: .string("vip"), TaskAttribute.sentiment: .string("angry")])
        let classified = rules.classify(request)
        #expect(classified.matched == ["vip", "angry"])
        #expect(classified.request.queue == "overflow")
        #expect(classified.request.priority == 150)
        #expect(classified.request.steps.map(\.name) == ["vip tier 1", "de-escalation"])
        let plain = rules.classify(TaskRequest(id: "u", channel: .sms, queue: "support"))
        #expect(plain.matched.isEmpty && plain.request == TaskRequest(id: "u", channel: .sms, queue: "support"))
    }

    static let brokenCases: [ConfigLoaderTests.BrokenCase] = [
        .init(
            name: "overflow into an unknown queue", rules: Self.full.replacingOccurrences(of: "requeue: overflow", with: "requeue: overflw"),
            file: "routing-rules/r.yaml", line: 32, column: 13, mentions: ["unknown queue 'overflw'", "did you mean 'overflow'"]),
        .init(
            name: "invalid expression", rules: Self.full.replacingOccurrences(of: "agent.seniority >= 2", with: "agent.seniority => 2"),
            file: "routing-rules/r.yaml", line: 20, column: 21, mentions: ["invalid expression", "character"]),
        .init(
            name: "rule into an unknown queue", rules: Self.full.replacingOccurrences(of: "queue: overflow\n", with: "queue: sales\n"),
            file: "routing-rules/r.yaml", line: 41, column: 12, mentions: ["unknown queue 'sales'"]),
        .init(
            name: "rule about agents", rules: Self.full.replacingOccurrences(of: "when: \"task.tier == 'vip'\"", with: "when: \"agent.tier == 1\""),
            file: "routing-rules/r.yaml", line: 40, column: 11, mentions: ["a rule's condition is about the task"]),
        .init(
            name: "undeclared skill in requires", rules: Self.full.replacingOccurrences(of: "{ skill: billing, level: 3", with: "{ skill: biling, level: 3"),
            file: "routing-rules/r.yaml", line: 12, column: 7, mentions: ["unknown skill 'biling'"]),
        .init(
            name: "unknown agent in a step", rules: Self.full.replacingOccurrences(of: "agents: [task.ownerAgent]", with: "agents: [task.ownerAgent, zoe]"),
            file: "routing-rules/r.yaml", line: 16, column: 17, mentions: ["unknown agent 'zoe'"]),
        .init(
            name: "two overflow conditions", rules: Self.full.replacingOccurrences(of: "when: { waited: 5m }", with: "when: { waited: 5m, queueLength: 3 }"),
            file: "routing-rules/r.yaml", line: 28, column: 15, mentions: ["give exactly one condition"]),
        .init(
            name: "unknown overflow action", rules: Self.full.replacingOccurrences(of: "do: offerCallback", with: "do: hangUp"),
            file: "routing-rules/r.yaml", line: 30, column: 13, mentions: ["unknown overflow action 'hangUp'"]),
        .init(
            name: "misspelt step key", rules: Self.full.replacingOccurrences(of: "tierAtMost: 1\n        expression", with: "tierAtmost: 1\n        expression"),
            file: "routing-rules/r.yaml", line: 19, column: 9, mentions: ["unknown key 'tierAtmost'", "did you mean 'tierAtMost'"]),
        .init(
            name: "bad per-medium key", rules: Self.full.replacingOccurrences(of: "offerTimeout: { voice: 15s, default: 45s }", with: "offerTimeout: { phone: 15s }"),
            file: "routing-rules/r.yaml", line: 8, column: 21, mentions: ["unknown key 'phone'"]),
        .init(
            name: "quiet hours without an end", rules: Self.full.replacingOccurrences(of: "to: \"08:00\", ", with: ""),
            file: "routing-rules/r.yaml", line: 68, column: 15, mentions: ["quietHours needs to"]),
        .init(
            name: "tickets closing inside their reopen window", rules: Self.full.replacingOccurrences(of: "closeAfter: 4d", with: "closeAfter: 1d"),
            file: "routing-rules/r.yaml", line: 66, column: 15, mentions: ["closeAfter (1d) is shorter than reopenWindow (3d)"]),
        .init(
            name: "a reopen window longer than the default closing", rules: Self.full.replacingOccurrences(of: "  closeAfter: 4d\n", with: "").replacingOccurrences(of: "reopenWindow: 3d", with: "reopenWindow: 30d"),
            file: "routing-rules/r.yaml", line: 65, column: 17, mentions: ["closeAfter (7d, the default) is shorter than reopenWindow (30d)"]),
        .init(
            name: "quiet hours in an unknown time zone", rules: Self.full.replacingOccurrences(of: "timeZone: Asia/Shanghai", with: "timeZone: Asia/Shangai"),
            file: "routing-rules/r.yaml", line: 68, column: 55, mentions: ["unknown time zone 'Asia/Shangai'"]),
        .init(
            name: "unknown ticket setting", rules: Self.full.replacingOccurrences(of: "statusReplies: false", with: "statusReply: false"),
            file: "routing-rules/r.yaml", line: 67, column: 3, mentions: ["unknown key 'statusReply'", "statusReplies"]),
        .init(
            name: "a survey link without its token", rules: Self.full.replacingOccurrences(of: "csat/{token}", with: "csat/"),
            file: "routing-rules/r.yaml", line: 69, column: 85, mentions: ["link must be an http(s) address with {token}"]),
        .init(
            name: "surveys escalated to an unknown queue", rules: Self.full.replacingOccurrences(of: "escalateTo: overflow", with: "escalateTo: supervisor"),
            file: "routing-rules/r.yaml", line: 69, column: 54, mentions: ["unknown queue 'supervisor'"]),
        .init(
            name: "a survey without the solved notification", rules: Self.full.replacingOccurrences(of: "  statusReplies: false\n", with: "  statusReplies: false\n  announce: [pending]\n"),
            file: "routing-rules/r.yaml", line: 70, column: 9, mentions: ["add solved to announce"]),
    ]

    @Test("mistakes in routing policies are reported with file, line and what is wrong", arguments: brokenCases)
    func broken(_ broken: ConfigLoaderTests.BrokenCase) throws {
        try ConfigLoaderTests().broken(broken)
    }
}
