import Foundation
import HubModel

/// Reads the `sla:` section: business calendars and the policies that use them.
///
/// ```yaml
/// sla:
///   calendars:
///     - id: shanghai-office
///       timeZone: Asia/Shanghai
///       hours: { mon-fri: ["09:00-12:00", "13:30-18:00"], sat: "10:00-16:00" }
///       holidays: [2026-10-01, 2026-10-02]
///       workdays: { 2026-10-10: "09:00-18:00" }
///   policies:
///     - id: vip
///       when: { tier: [vip], priority: [high, urgent], queue: [support] }
///       calendar: shanghai-office
///       firstResponse: 30m
///       nextResponse: 1h
///       resolution: 8h
///       warnBefore: 10m
///       raisePriority: 100
/// ```
enum SLAReader {
    /// Weekday names, in Calendar's numbering (1 = Sunday).
    static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    static func read(_ node: ConfigNode) -> SLASettings? {
        guard let mapping = node.mapping(allowedKeys: ["calendars", "policies", "checkInterval"]) else { return nil }
        var settings = SLASettings()
        var failed = false
        for item in mapping["calendars"]?.list ?? [] {
            guard let calendar = readCalendar(item) else {
                failed = true
                continue
            }
            if settings.calendars[calendar.id] != nil {
                item.error("calendar '\(calendar.id)' is defined twice")
                failed = true
            }
            settings.calendars[calendar.id] = calendar
        }
        var ids: Set<String> = []
        for item in mapping["policies"]?.list ?? [] {
            guard let policy = readPolicy(item, calendars: settings.calendars) else {
                failed = true
                continue
            }
            if !ids.insert(policy.id).inserted {
                item.error("policy '\(policy.id)' is defined twice")
                failed = true
            }
            settings.policies.append(policy)
        }
        if let value = mapping["checkInterval"]?.duration { settings.checkInterval = value }
        return failed ? nil : settings
    }

    static func readCalendar(_ node: ConfigNode) -> BusinessCalendar? {
        guard let mapping = node.mapping(allowedKeys: ["id", "timeZone", "hours", "holidays", "workdays"]) else { return nil }
        guard let id = mapping.required("id").flatMap(ChannelAccountReader.readID) else { return nil }
        var timeZone = TimeZone(identifier: "UTC")!
        if let zoneNode = mapping.required("timeZone"), let name = zoneNode.string {
            guard let zone = TimeZone(identifier: name) else {
                zoneNode.error("unknown time zone '\(name)' (an IANA name such as Asia/Shanghai)")
                return nil
            }
            timeZone = zone
        } else {
            return nil
        }
        guard let hours = mapping.required("hours")?.mapping(allowedKeys: nil) else { return nil }
        var weekly: [Int: [DailySpan]] = [:]
        var failed = false
        for (key, value) in hours.entries {
            guard let days = weekdayRange(key) else {
                value.error("'\(key)' is not a weekday or a range of them (mon, tue, wed, thu, fri, sat, sun; mon-fri)")
                failed = true
                continue
            }
            guard let spans = spans(value) else {
                failed = true
                continue
            }
            for day in days {
                if weekly[day] != nil {
                    value.error("\(weekdays[day - 1]) has hours twice")
                    failed = true
                }
                weekly[day] = spans
            }
        }
        var holidays: Set<LocalDate> = []
        for item in mapping["holidays"]?.list ?? [] {
            guard let text = item.string, let date = LocalDate(parsing: text) else {
                item.error("expected a date such as 2026-10-01")
                failed = true
                continue
            }
            holidays.insert(date)
        }
        var workdays: [LocalDate: [DailySpan]] = [:]
        for (key, value) in mapping["workdays"]?.mapping(allowedKeys: nil)?.entries ?? [] {
            guard let date = LocalDate(parsing: key) else {
                value.error("'\(key)' is not a date such as 2026-10-10")
                failed = true
                continue
            }
            guard let spans = spans(value) else {
                failed = true
                continue
            }
            workdays[date] = spans
        }
        guard !failed else { return nil }
        if weekly.values.allSatisfy(\.isEmpty) && workdays.values.allSatisfy(\.isEmpty) {
            hours.owner.error("calendar '\(id)' is never open: give hours for at least one weekday")
            return nil
        }
        return BusinessCalendar(id: id, timeZone: timeZone, weekly: weekly, holidays: holidays, workdays: workdays)
    }

    /// `mon`, `mon-fri`, `sat-sun`: Calendar weekday numbers.
    static func weekdayRange(_ key: String) -> [Int]? {
        let parts = key.lowercased().split(separator: "-").map(String.init)
        guard (1...2).contains(parts.count), let first = weekdays.firstIndex(of: parts[0]) else { return nil }
        let last = parts.count == 2 ? weekdays.firstIndex(of: parts[1]) : first
        guard let last else { return nil }
        // mon-fri: 1...5; fri-mon wraps over the weekend.
        var days: [Int] = []
        var day = first
        while true {
            days.append(day + 1)
            if day == last { break }
            day = (day + 1) % 7
        }
        return days
    }

    /// `"09:00-18:00"`, a list of such spans, or `closed` / `[]`.
    static func spans(_ node: ConfigNode) -> [DailySpan]? {
        let texts: [(String, ConfigNode)]
        if node.isScalar {
            guard let text = node.string else { return nil }
            if text == "closed" { return [] }
            texts = [(text, node)]
        } else {
            guard let items = node.list else { return nil }
            texts = items.compactMap { item in item.string.map { ($0, item) } }
            guard texts.count == items.count else { return nil }
        }
        var spans: [DailySpan] = []
        for (text, item) in texts {
            guard let span = DailySpan(parsing: text) else {
                item.error("expected hours such as 09:00-18:00 (end after start, at most 24:00), found '\(text)'")
                return nil
            }
            spans.append(span)
        }
        guard let sorted = DailySpan.nonOverlapping(spans) else {
            node.error("these hours overlap")
            return nil
        }
        return sorted
    }

    static func readPolicy(_ node: ConfigNode, calendars: [String: BusinessCalendar]) -> SLAPolicy? {
        let metrics = [SLAMetric.firstResponse, .nextResponse, .resolution]
        guard
            let mapping = node.mapping(allowedKeys: ["id", "when", "calendar", "warnBefore", "raisePriority"] + metrics.map(\.rawValue))
        else { return nil }
        guard let id = mapping.required("id").flatMap(ChannelAccountReader.readID) else { return nil }
        var policy = SLAPolicy(id: id, targets: [:])
        if let when = mapping["when"]?.mapping(allowedKeys: ["queue", "priority", "tier"]) {
            if let queues = when["queue"]?.stringList { policy.queues = Set(queues) }
            if let node = when["priority"] {
                let items = node.isScalar ? [node] : (node.list ?? [])
                policy.priorities = Set(
                    items.compactMap { $0.oneOf(TicketPriority.allCases.map(\.rawValue), what: "ticket priority").flatMap(TicketPriority.init(rawValue:)) })
            }
            for key in ["queue", "priority", "tier"] {
                guard let node = when[key], !node.isScalar, node.list?.isEmpty == true else { continue }
                node.error("an empty list matches no ticket: leave \(key) out to match any")
                return nil
            }
            if let tiers = when["tier"]?.stringList { policy.tiers = Set(tiers.map(CustomerTier.init(rawValue:))) }
        }
        if let node = mapping["calendar"], let name = node.string {
            guard calendars[name] != nil || name == BusinessCalendar.always.id else {
                node.error("unknown calendar '\(name)'\(Suggestion.didYouMean(name, among: Array(calendars.keys))) (define it under sla.calendars, or use always)")
                return nil
            }
            policy.calendarID = name == BusinessCalendar.always.id ? nil : name
        }
        for metric in metrics {
            guard let node = mapping[metric.rawValue], let value = node.duration else { continue }
            guard value > .zero else {
                node.error("a target must be longer than zero")
                return nil
            }
            policy.targets[metric] = value
        }
        if policy.targets.isEmpty {
            node.error("policy '\(id)' has no target: give firstResponse, nextResponse and/or resolution")
            return nil
        }
        if let value = mapping["warnBefore"]?.duration { policy.warnBefore = value }
        if let value = mapping["raisePriority"]?.int(in: 0...10_000) { policy.raisePriority = value }
        return policy
    }
}
