import Foundation
import HubConfig
import HubModel
import Testing

@Suite("SLA configuration")
struct SLAConfigTests {
    @Test("an SLA section reads calendars with weekday ranges, holidays, make-up workdays and policies; mistakes name their line")
    func configuration() throws {
        let rules = """
            queues:
              - id: support
            sla:
              calendars:
                - id: office
                  timeZone: Asia/Shanghai
                  hours: { mon-fri: ["09:00-12:00", "13:30-18:00"], sat: closed }
                  holidays: [2026-10-01]
                  workdays: { 2026-10-10: "09:00-18:00" }
              policies:
                - id: vip
                  when: { tier: vip, priority: [high, urgent], queue: support }
                  calendar: office
                  firstResponse: 30m
                  resolution: 8h
                  warnBefore: 10m
                  raisePriority: 100
            """
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": rules]).load()
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let sla = try #require(result.configuration?.routing.sla)
        let office = try #require(sla.calendars["office"])
        #expect(office.hours(on: LocalDate(year: 2026, month: 12, day: 7)!) == [DailySpan(start: 540, end: 720)!, DailySpan(start: 810, end: 1080)!])
        #expect(office.hours(on: LocalDate(year: 2026, month: 10, day: 1)!).isEmpty)
        #expect(office.hours(on: LocalDate(year: 2026, month: 10, day: 10)!) == [DailySpan(start: 540, end: 1080)!])
        #expect(
            sla.policies == [
                SLAPolicy(
                    id: "vip", queues: ["support"], priorities: [.high, .urgent], tiers: [.vip], calendarID: "office",
                    targets: [.firstResponse: .seconds(1800), .resolution: .seconds(8 * 3600)], warnBefore: .seconds(600), raisePriority: 100)
            ])
        #expect(sla.policy(queueID: "support", priority: .high, tier: .vip)?.id == "vip")
        #expect(sla.policy(queueID: "support", priority: .normal, tier: .vip) == nil)

        for (broken, line, message) in [
            (rules.replacingOccurrences(of: "calendar: office", with: "calendar: ofice"), 13, "unknown calendar 'ofice'"),
            (rules.replacingOccurrences(of: "mon-fri", with: "mon-fry"), 7, "'mon-fry' is not a weekday"),
            (rules.replacingOccurrences(of: "13:30-18:00", with: "11:30-18:00"), 7, "these hours overlap"),
            (rules.replacingOccurrences(of: "queue: support", with: "queue: suport"), 12, "unknown queue 'suport'"),
            (rules.replacingOccurrences(of: "2026-10-01", with: "2026-02-30"), 8, "expected a date"),
            (rules.replacingOccurrences(of: "      firstResponse: 30m\n      resolution: 8h\n", with: ""), 11, "has no target"),
        ] {
            let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": broken]).load()
            let error = result.errors.first { $0.description.contains(message) }
            #expect(error?.location.line == line, "\(message): \(result.errors.map(\.description))")
        }
    }
}
