import Foundation
import HubModel

/// Reads the `metrics:` section: how figures are counted, and the alerts on them.
///
/// ```yaml
/// metrics:
///   shortAbandon: 5s
///   keepMinutes: 35d              # figures per minute kept this long; per hour and day always
///   alertInterval: 15s
///   alerts:
///     - id: voice-service-level
///       name: Voice service level under 80 % over 15 minutes
///       figure: serviceLevel          # any figure of docs/metrics.md, or queueLength, longestWaitSeconds
///       channel: voice
///       window: 15m
///       below: 80%                    # or a fraction (0.8); seconds for the *Seconds figures
///       minimum: 10                   # judged over at least 10 contacts
///       webhook: https://ops.example.com/hooks/contact-center
///     - id: support-queue-long
///       figure: queueLength
///       queue: support
///       above: 10
/// ```
enum MetricsReader {
    static let liveMeasures: [String: MetricAlert.Measure] = ["queueLength": .queueLength, "longestWaitSeconds": .longestWaitSeconds]

    static func read(_ node: ConfigNode) -> MetricsSettings? {
        guard let mapping = node.mapping(allowedKeys: ["shortAbandon", "keepClosed", "keepMinutes", "alertInterval", "alerts"]) else { return nil }
        var settings = MetricsSettings()
        var failed = false
        if let value = mapping["shortAbandon"]?.duration { settings.shortAbandon = value }
        if let value = mapping["keepClosed"]?.duration { settings.keepClosed = value }
        if let node = mapping["keepMinutes"], let value = node.duration {
            if value < .seconds(2 * 86_400) {
                node.error("keepMinutes is at least 2d (today's figures are read per minute)")
                failed = true
            }
            settings.keepMinutes = value
        }
        if let node = mapping["alertInterval"], let value = node.duration {
            if value < .seconds(1) {
                node.error("alertInterval is at least 1s")
                failed = true
            }
            settings.alertInterval = value
        }
        var ids: Set<String> = []
        for item in mapping["alerts"]?.list ?? [] {
            guard let alert = readAlert(item) else {
                failed = true
                continue
            }
            if !ids.insert(alert.id).inserted {
                item.error("alert '\(alert.id)' is defined twice")
                failed = true
            }
            settings.alerts.append(alert)
        }
        return failed ? nil : settings
    }

    static func readAlert(_ node: ConfigNode) -> MetricAlert? {
        guard
            let mapping = node.mapping(allowedKeys: ["id", "name", "figure", "window", "above", "below", "channel", "queue", "minimum", "webhook"])
        else { return nil }
        guard let id = mapping.required("id").flatMap(ChannelAccountReader.readID), let figureNode = mapping.required("figure"),
            let figureName = figureNode.string
        else { return nil }
        let names = MetricFigure.allCases.map(\.rawValue) + liveMeasures.keys.sorted()
        let measure: MetricAlert.Measure
        if let figure = MetricFigure(rawValue: figureName) {
            measure = .figure(figure)
        } else if let live = liveMeasures[figureName] {
            measure = live
        } else {
            figureNode.error("unknown figure '\(figureName)'\(Suggestion.didYouMean(figureName, among: names)) (see docs/metrics.md)")
            return nil
        }
        let isRatio = figureName.hasSuffix("Rate") || ["serviceLevel", "occupancy", "utilization"].contains(figureName)
        let above = mapping["above"].flatMap { threshold($0, figure: figureName, ratio: isRatio) }
        let below = mapping["below"].flatMap { threshold($0, figure: figureName, ratio: isRatio) }
        if mapping["above"] != nil, above == nil { return nil }
        if mapping["below"] != nil, below == nil { return nil }
        guard (above == nil) != (below == nil) else {
            node.error("an alert needs one threshold: above or below")
            return nil
        }
        var alert = MetricAlert(id: id, name: mapping["name"]?.string ?? id, measure: measure, above: above, below: below, location: node.location)
        if let windowNode = mapping["window"], let window = windowNode.duration {
            if case .figure = measure {
                guard window >= .seconds(60), window <= .seconds(86_400) else {
                    windowNode.error("window is from 1m to 24h")
                    return nil
                }
                alert.window = window
            } else {
                windowNode.error("\(figureName) is a figure of now: it has no window")
                return nil
            }
        }
        if let channelNode = mapping["channel"] {
            guard let kind = channelNode.oneOf(ChannelKind.allCases.map(\.rawValue), what: "channel kind").flatMap(ChannelKind.init(rawValue:)) else {
                return nil
            }
            alert.channel = kind
        }
        alert.queue = mapping["queue"]?.string
        if let minimumNode = mapping["minimum"] {
            guard let minimum = minimumNode.int(in: 1...1_000_000) else { return nil }
            alert.minimum = minimum
        }
        if let webhookNode = mapping["webhook"], let text = webhookNode.string {
            guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                webhookNode.error("webhook is an http or https URL, found '\(text)'")
                return nil
            }
            alert.webhook = text
        }
        return alert
    }

    /// `0.8`, `80%`, `120` (seconds or a count), `2m` for the figures in seconds. A rate is a
    /// fraction or a percentage: `80` for one is a mistake (did you mean 80%?).
    static func threshold(_ node: ConfigNode, figure: String, ratio: Bool) -> Double? {
        guard let text = node.string?.trimmingCharacters(in: .whitespaces) else {
            node.error("expected a number")
            return nil
        }
        if text.hasSuffix("%"), let percent = Double(text.dropLast()) {
            guard ratio else {
                node.error("\(figure) is not a rate: give a number, not a percentage")
                return nil
            }
            return percent / 100
        }
        if let value = Double(text) {
            if ratio, !(0...1).contains(value) {
                node.error("\(figure) is a rate from 0 to 1: write \(text)% for a percentage")
                return nil
            }
            return value
        }
        if figure.hasSuffix("Seconds"), let duration = node.duration {
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        node.error("expected a number such as 0.8, 80% or 120, found '\(text)'")
        return nil
    }
}
