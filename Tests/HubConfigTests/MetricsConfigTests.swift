import Foundation
import HubConfig
import HubModel
import Testing

@Suite("Metrics configuration: counting and alerts")
struct MetricsConfigTests {
    @Test("a metrics section reads the short-abandon threshold and alerts on figures or on now; mistakes name their line")
    func configuration() throws {
        let rules = """
            queues:
              - id: support
            metrics:
              shortAbandon: 8s
              alertInterval: 30s
              keepMinutes: 90d
              alerts:
                - id: voice-sl
                  name: Voice service level under 80 %
                  figure: serviceLevel
                  channel: voice
                  window: 15m
                  below: 80%
                  minimum: 10
                  webhook: https://ops.example.com/hooks
                - id: support-queue
                  figure: queueLength
                  queue: support
                  above: 10
                - id: long-wait
                  figure: longestWaitSeconds
                  above: 2m
                - id: sms-delivery
                  figure: deliveryFailureRate
                  channel: sms
                  above: 0.05
            """
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": rules]).load()
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let metrics = try #require(result.configuration?.routing.metrics)
        #expect(metrics.shortAbandon == .seconds(8) && metrics.alertInterval == .seconds(30) && metrics.keepMinutes == .seconds(90 * 86_400))
        #expect(MetricsSettings().keepMinutes == .seconds(35 * 86_400))
        #expect(metrics.alerts.map(\.id) == ["voice-sl", "support-queue", "long-wait", "sms-delivery"])
        let sl = metrics.alerts[0]
        #expect(sl.measure == .figure(.serviceLevel) && sl.below == 0.8 && sl.above == nil && sl.channel == .voice)
        #expect(sl.window == .seconds(900) && sl.minimum == 10 && sl.webhook == "https://ops.example.com/hooks" && sl.location.line == 8)
        #expect(metrics.alerts[1].measure == .queueLength && metrics.alerts[1].above == 10 && metrics.alerts[1].queue == "support")
        #expect(metrics.alerts[2].measure == .longestWaitSeconds && metrics.alerts[2].above == 120)
        #expect(metrics.alerts[3].measure == .figure(.deliveryFailureRate) && metrics.alerts[3].above == 0.05)

        let cases: [(String, Int, String)] = [
            (rules.replacingOccurrences(of: "figure: serviceLevel", with: "figure: serviceLevle"), 10, "unknown figure 'serviceLevle'"),
            (rules.replacingOccurrences(of: "queue: support\n      above", with: "queue: suport\n      above"), 18, "unknown queue 'suport'"),
            (rules.replacingOccurrences(of: "      above: 0.05", with: "      above: 0.05\n      below: 0.01"), 23, "one threshold"),
            (rules.replacingOccurrences(of: "below: 80%", with: "below: lots"), 13, "expected a number"),
            (rules.replacingOccurrences(of: "below: 80%", with: "below: 80"), 13, "write 80% for a percentage"),
            (rules.replacingOccurrences(of: "above: 10\n", with: "above: 10%\n"), 19, "not a rate"),
            (rules.replacingOccurrences(of: "window: 15m", with: "window: 10s"), 12, "window is from 1m to 24h"),
            (rules.replacingOccurrences(of: "  queue: support\n      above: 10", with: "  queue: support\n      window: 5m\n      above: 10"), 19, "has no window"),
            (rules.replacingOccurrences(of: "webhook: https://ops.example.com/hooks", with: "webhook: ops.example.com"), 15, "http or https URL"),
            (rules.replacingOccurrences(of: "id: long-wait", with: "id: support-queue"), 20, "defined twice"),
            (rules.replacingOccurrences(of: "channel: sms", with: "channel: fax"), 25, "channel kind"),
            (rules.replacingOccurrences(of: "keepMinutes: 90d", with: "keepMinutes: 1d"), 6, "keepMinutes is at least 2d"),
        ]
        for (broken, line, message) in cases {
            let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": broken]).load()
            let error = result.errors.first { $0.description.contains(message) }
            #expect(error?.location.line == line, "\(message): \(result.errors.map(\.description))")
        }
    }
}
