import Foundation

/// When a team works, in its own time zone: weekly hours, whole local days off and special working days. Ticket SLA
/// targets ("first response within 4 business hours") count only the time the calendar is open.
///
/// Hours are local wall-clock times, turned into instants by a Gregorian calendar in `timeZone`, so a span keeps its
/// local hours across daylight-saving changes: 01:00-04:00 is two real hours on a spring-forward day and four on a
/// fall-back day. A span ending at 24:00 and the next day's span starting at 00:00 are one stretch of open time.
/// Searches walk day by day and give up after `closedLimitDays` without any open time, so a calendar that never opens
/// answers nil instead of looping.
public struct BusinessCalendar: Sendable, Hashable {
    public let id: String
    public let timeZone: TimeZone
    /// Open hours by weekday, 1 = Sunday ... 7 = Saturday (Calendar's numbering), sorted with touching or overlapping
    /// spans merged; a weekday without an entry is closed.
    public let weekly: [Int: [DailySpan]]
    /// Whole local days closed (public holidays).
    public let holidays: Set<LocalDate>
    /// Days whose hours replace the weekly ones, such as the make-up working Saturdays of Chinese holidays (调休) or a
    /// short day; an empty list closes the day. A date listed here is open by these hours even if it is a holiday too.
    public let workdays: [LocalDate: [DailySpan]]
    /// Open around the clock with no exceptions: business time is wall time, no day walking needed.
    private let isAlwaysOpen: Bool

    /// How long a search for open time goes on before it concludes the calendar never opens (three years).
    public static let closedLimitDays = 1_096
    /// How far past its start `adding` looks at most (a century), so absurd durations end too.
    public static let horizonDays = 36_525

    /// Open around the clock every day, in UTC: business time equals wall time.
    public static let always = BusinessCalendar(
        id: "always", timeZone: TimeZone(identifier: "UTC")!, weekly: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [DailySpan.wholeDay]) }))

    /// Spans are sorted and overlapping or touching ones merged; weekly keys outside 1...7 and empty weekly days are
    /// dropped (a missing weekday is closed anyway).
    public init(id: String, timeZone: TimeZone, weekly: [Int: [DailySpan]], holidays: Set<LocalDate> = [], workdays: [LocalDate: [DailySpan]] = [:]) {
        self.id = id
        self.timeZone = timeZone
        var days: [Int: [DailySpan]] = [:]
        for (weekday, spans) in weekly where (1...7).contains(weekday) && !spans.isEmpty {
            days[weekday] = DailySpan.merged(spans)
        }
        self.weekly = days
        self.holidays = holidays
        self.workdays = workdays.mapValues(DailySpan.merged)
        self.isAlwaysOpen =
            (1...7).allSatisfy { days[$0] == [.wholeDay] } && holidays.isEmpty && self.workdays.values.allSatisfy { $0 == [.wholeDay] }
    }

    /// The hours of local day `day`: its workday entry if it has one, none on a holiday, else its weekday's.
    public func hours(on day: LocalDate) -> [DailySpan] {
        if let special = workdays[day] { return special }
        if holidays.contains(day) { return [] }
        return weekly[day.weekday] ?? []
    }

    /// Whether `date` falls in open time (a span includes its start, not its end).
    public func isOpen(at date: Date) -> Bool {
        if isAlwaysOpen { return true }
        let calendar = gregorian
        let today = LocalDate(containing: date, calendar: calendar).dayNumber
        for day in (today - 1)...today {
            for interval in openIntervals(on: LocalDate(dayNumber: day), calendar: calendar) where interval.start <= date && date < interval.end {
                return true
            }
        }
        return false
    }

    /// The first open instant at or after `date`: `date` itself when open. Nil when the calendar stays closed for
    /// `closedLimitDays`.
    public func nextOpening(after date: Date) -> Date? { adding(0, to: date) }

    /// The instant at which `seconds` of business time have passed since `start`. Closed time does not count, so a
    /// start in closed time counts from the next opening (and 0 seconds gives that opening); a target that lands on the
    /// end of a span is that end, not the next opening. Negative durations count as 0. Nil for a non-finite duration,
    /// when the calendar stays closed for `closedLimitDays`, or when the answer lies more than `horizonDays` ahead.
    public func adding(_ seconds: TimeInterval, to start: Date) -> Date? {
        guard seconds.isFinite else { return nil }
        var remaining = max(0, seconds)
        if isAlwaysOpen { return start.addingTimeInterval(remaining) }
        let calendar = gregorian
        // From the day before, in case a time-zone oddity puts part of yesterday's hours after local midnight.
        let first = LocalDate(containing: start, calendar: calendar).dayNumber - 1
        var cursor = start
        var lastOpen = first
        var day = first
        while day - lastOpen <= Self.closedLimitDays && day - first <= Self.horizonDays {
            for interval in openIntervals(on: LocalDate(dayNumber: day), calendar: calendar) where interval.end > cursor {
                lastOpen = day
                let from = max(interval.start, cursor)
                let available = interval.end.timeIntervalSince(from)
                if remaining < available { return from.addingTimeInterval(remaining) }
                if remaining == available { return interval.end }
                remaining -= available
                cursor = interval.end
            }
            day += 1
        }
        return nil
    }

    /// The business time between `start` and `end`: the open time in between (0 when `end` is not after `start`).
    /// It walks every local day in between.
    public func businessSeconds(from start: Date, to end: Date) -> TimeInterval {
        guard end > start else { return 0 }
        if isAlwaysOpen { return end.timeIntervalSince(start) }
        guard !weekly.isEmpty || workdays.values.contains(where: { !$0.isEmpty }) else { return 0 }
        let calendar = gregorian
        let first = LocalDate(containing: start, calendar: calendar).dayNumber - 1
        let last = LocalDate(containing: end, calendar: calendar).dayNumber
        var total: TimeInterval = 0
        for day in first...last {
            for interval in openIntervals(on: LocalDate(dayNumber: day), calendar: calendar) {
                let from = max(interval.start, start)
                let to = min(interval.end, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
        }
        return total
    }

    private var gregorian: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The open instants of local day `day`, in order and never overlapping. Wall times a daylight-saving change skips
    /// or repeats resolve as `calendar` resolves them (a repeated time is its first occurrence); a span the change
    /// swallows whole is dropped.
    private func openIntervals(on day: LocalDate, calendar: Calendar) -> [(start: Date, end: Date)] {
        let spans = hours(on: day)
        guard !spans.isEmpty else { return [] }
        var intervals: [(start: Date, end: Date)] = []
        var floor = Date.distantPast
        for span in spans {
            guard let spanStart = instant(of: day, minute: span.start, calendar: calendar),
                let spanEnd = instant(of: day, minute: span.end, calendar: calendar)
            else { continue }
            let start = max(spanStart, floor)
            guard spanEnd > start else { continue }
            intervals.append((start, spanEnd))
            floor = spanEnd
        }
        return intervals
    }

    /// The instant of local time `minute` (0...1440) on `day`; 1440 is the next day's midnight.
    private func instant(of day: LocalDate, minute: Int, calendar: Calendar) -> Date? {
        if minute >= 1440 { return instant(of: LocalDate(dayNumber: day.dayNumber + 1), minute: 0, calendar: calendar) }
        let components = DateComponents(year: day.year, month: day.month, day: day.day, hour: minute / 60, minute: minute % 60)
        return calendar.date(from: components)
    }
}

/// Open hours within one local day, in minutes after midnight: `start` included, `end` excluded, 1440 the end of the day.
public struct DailySpan: Sendable, Hashable, CustomStringConvertible {
    public let start: Int
    public let end: Int

    /// Nil unless 0 <= start < end <= 1440.
    public init?(start: Int, end: Int) {
        guard start >= 0, start < end, end <= 1440 else { return nil }
        self.start = start
        self.end = end
    }

    /// Reads "09:00-18:00" (hours of one or two digits, minutes of two; "24:00" only as the end).
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Self.minute(parts[0]), let end = Self.minute(parts[1]), start < 1440 else { return nil }
        self.init(start: start, end: end)
    }

    /// The whole day, 00:00-24:00.
    public static let wholeDay = DailySpan(start: 0, end: 1440)!

    /// "09:00-18:00".
    public var description: String { Self.clock(start) + "-" + Self.clock(end) }

    /// `spans` sorted by start, or nil when two of them overlap (touching, like 09:00-12:00 and 12:00-13:00, is fine):
    /// the check for a configured day.
    public static func nonOverlapping(_ spans: [DailySpan]) -> [DailySpan]? {
        let sorted = spans.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where later.start < earlier.end { return nil }
        return sorted
    }

    /// `spans` sorted, with overlapping or touching spans joined into one.
    static func merged(_ spans: [DailySpan]) -> [DailySpan] {
        var result: [DailySpan] = []
        for span in spans.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) {
            if let last = result.last, span.start <= last.end {
                result[result.count - 1] = DailySpan(start: last.start, end: max(last.end, span.end))!
            } else {
                result.append(span)
            }
        }
        return result
    }

    private static func minute(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), minute < 60, hour < 24 || (hour == 24 && minute == 0)
        else { return nil }
        return hour * 60 + minute
    }

    private static func clock(_ minute: Int) -> String {
        let hour = minute / 60
        let rest = minute % 60
        return (hour < 10 ? "0" : "") + String(hour) + ":" + (rest < 10 ? "0" : "") + String(rest)
    }
}

/// A day of the Gregorian calendar, as written in configuration ("2026-10-01"), with no time or zone.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil unless the date exists (year 1...9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads exactly "YYYY-MM-DD" of a date that exists: not "2026-2-3", not "2026-02-30".
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The local day `date` falls on in `timeZone`.
    public init(containing date: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.init(containing: date, calendar: calendar)
    }

    init(containing date: Date, calendar: Calendar) {
        let components = calendar.dateComponents([.year, .month, .day], from: date)
        self.year = components.year ?? 1970
        self.month = components.month ?? 1
        self.day = components.day ?? 1
    }

    /// The day `dayNumber` days after 1970-01-01 (civil-from-days, proleptic Gregorian).
    init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        self.year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        self.day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    }

    /// Days since 1970-01-01 (days-from-civil, proleptic Gregorian).
    var dayNumber: Int { Int(HubJSON.daysSince1970(year: Int64(year), month: Int64(month), day: Int64(day))) }

    /// 1 = Sunday ... 7 = Saturday, as Calendar numbers weekdays (1970-01-01 was a Thursday).
    public var weekday: Int {
        let offset = (dayNumber + 4) % 7
        return (offset < 0 ? offset + 7 : offset) + 1
    }

    /// "2026-10-01".
    public var description: String {
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2)
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day) }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
