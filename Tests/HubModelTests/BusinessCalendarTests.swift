import Foundation
import Testing

@testable import HubModel

@Suite("Business calendars: SLA time counts only open hours, across weekends, holidays and DST")
struct BusinessCalendarTests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// Monday to Friday (weekdays 2...6), 09:00-18:00 Shanghai time.
    static let officeHours = BusinessCalendar(id: "cn", timeZone: shanghai, weekly: weekdays(["09:00-18:00"]))

    /// Monday to Friday 09:00-12:00 and 13:30-18:00 (3h + 4.5h = 7.5 hours a day), National Day 2026-10-01...07 off, Saturday
    /// 2026-10-10 a make-up working day 09:00-18:00, Friday 2026-12-25 closed.
    static let china = BusinessCalendar(
        id: "cn-lunch", timeZone: shanghai, weekly: weekdays(["13:30-18:00", "09:00-12:00"]),
        holidays: Set((1...7).map { LocalDate(year: 2026, month: 10, day: $0)! }),
        workdays: [LocalDate(parsing: "2026-10-10")!: [span("09:00-18:00")], LocalDate(parsing: "2026-12-25")!: []])

    /// Every day 01:00-04:00 New York time, which holds the DST changes of 2026-03-08 and 2026-11-01 (both Sundays).
    static let nights = BusinessCalendar(id: "ny-nights", timeZone: newYork, weekly: everyDay(["01:00-04:00"]))

    static func span(_ text: String) -> DailySpan { DailySpan(parsing: text)! }
    static func weekdays(_ spans: [String]) -> [Int: [DailySpan]] { Dictionary(uniqueKeysWithValues: (2...6).map { ($0, spans.map(span)) }) }
    static func everyDay(_ spans: [String]) -> [Int: [DailySpan]] { Dictionary(uniqueKeysWithValues: (1...7).map { ($0, spans.map(span)) }) }
    /// An instant written with its offset, "2026-12-04T17:00:00+08:00".
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("office hours: Friday evening rolls over the weekend, closed starts count from the opening, 18:00 stays 18:00")
    func officeHours() {
        let calendar = Self.officeHours
        // Friday 17:00 + 2h: 17:00-18:00 Friday (1h), Saturday and Sunday closed, Monday 09:00-10:00 (1h).
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-04T17:00:00+08:00")) == Self.at("2026-12-07T10:00:00+08:00"))
        // Saturday 10:00 + 3h: nothing before Monday 09:00, then 09:00-12:00.
        #expect(calendar.adding(3 * 3600, to: Self.at("2026-12-05T10:00:00+08:00")) == Self.at("2026-12-07T12:00:00+08:00"))
        // Monday 08:00 + 1h: counts from 09:00, so 10:00.
        #expect(calendar.adding(3600, to: Self.at("2026-12-07T08:00:00+08:00")) == Self.at("2026-12-07T10:00:00+08:00"))
        // Monday 16:00 + 2h lands exactly on the 18:00 close: 18:00, not Tuesday 09:00.
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-07T16:00:00+08:00")) == Self.at("2026-12-07T18:00:00+08:00"))
        // One second more is one second into Tuesday.
        #expect(calendar.adding(2 * 3600 + 1, to: Self.at("2026-12-07T16:00:00+08:00")) == Self.at("2026-12-08T09:00:01+08:00"))
        // Friday 09:00 + 9h is Friday 18:00; + 45h (five full days) is the next Friday 18:00.
        #expect(calendar.adding(9 * 3600, to: Self.at("2026-12-04T09:00:00+08:00")) == Self.at("2026-12-04T18:00:00+08:00"))
        #expect(calendar.adding(45 * 3600, to: Self.at("2026-12-07T09:00:00+08:00")) == Self.at("2026-12-11T18:00:00+08:00"))
    }

    @Test("zero business time: the start itself when open, else the next opening")
    func zeroAndNextOpening() {
        let calendar = Self.officeHours
        #expect(calendar.adding(0, to: Self.at("2026-12-07T10:00:00+08:00")) == Self.at("2026-12-07T10:00:00+08:00"))
        #expect(calendar.adding(0, to: Self.at("2026-12-05T10:00:00+08:00")) == Self.at("2026-12-07T09:00:00+08:00"))
        // 18:00 is already closed (a span excludes its end): Friday 18:00 opens next on Monday 09:00.
        #expect(calendar.nextOpening(after: Self.at("2026-12-04T18:00:00+08:00")) == Self.at("2026-12-07T09:00:00+08:00"))
        #expect(calendar.nextOpening(after: Self.at("2026-12-07T09:00:00+08:00")) == Self.at("2026-12-07T09:00:00+08:00"))
        // A negative duration counts as none.
        #expect(calendar.adding(-60, to: Self.at("2026-12-07T10:00:00+08:00")) == Self.at("2026-12-07T10:00:00+08:00"))
        #expect(calendar.adding(.infinity, to: Self.at("2026-12-07T10:00:00+08:00")) == nil)
    }

    @Test("open at: a span holds its start, not its end; weekends are closed")
    func isOpen() {
        let calendar = Self.officeHours
        #expect(calendar.isOpen(at: Self.at("2026-12-07T09:00:00+08:00")))
        #expect(calendar.isOpen(at: Self.at("2026-12-07T17:59:59+08:00")))
        #expect(!calendar.isOpen(at: Self.at("2026-12-07T18:00:00+08:00")))
        #expect(!calendar.isOpen(at: Self.at("2026-12-07T08:59:59+08:00")))
        #expect(!calendar.isOpen(at: Self.at("2026-12-05T12:00:00+08:00")))
        // Monday 01:00 UTC is Monday 09:00 in Shanghai.
        #expect(calendar.isOpen(at: Self.at("2026-12-07T01:00:00Z")))
    }

    @Test("a lunch break does not count")
    func lunchBreak() {
        let calendar = Self.china
        // Monday 11:00 + 2h: 11:00-12:00 (1h), lunch, 13:30-14:30 (1h).
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-07T11:00:00+08:00")) == Self.at("2026-12-07T14:30:00+08:00"))
        // 11:00 + 1h lands on 12:00, the end of the morning.
        #expect(calendar.adding(3600, to: Self.at("2026-12-07T11:00:00+08:00")) == Self.at("2026-12-07T12:00:00+08:00"))
        // During lunch nothing is open; the next opening is 13:30.
        #expect(!calendar.isOpen(at: Self.at("2026-12-07T12:30:00+08:00")))
        #expect(calendar.nextOpening(after: Self.at("2026-12-07T12:30:00+08:00")) == Self.at("2026-12-07T13:30:00+08:00"))
        // Spans come back sorted however they were given.
        #expect(calendar.weekly[2] == [Self.span("09:00-12:00"), Self.span("13:30-18:00")])
        #expect(calendar.weekly[1] == nil)
    }

    @Test("National Day is skipped, the make-up Saturday counts, a closed workday closes a Friday")
    func holidaysAndWorkdays() {
        let calendar = Self.china
        // Wednesday 2026-09-30 17:00 + 2h: 17:00-18:00 (1h), 10-01...10-07 holidays, Thursday 10-08 09:00-10:00 (1h).
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-09-30T17:00:00+08:00")) == Self.at("2026-10-08T10:00:00+08:00"))
        // Friday 10-09 17:00 + 2h: 17:00-18:00 (1h), Saturday 10-10 is a workday 09:00-18:00: 09:00-10:00 (1h).
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-10-09T17:00:00+08:00")) == Self.at("2026-10-10T10:00:00+08:00"))
        // The make-up Saturday has no lunch break: 11:00 + 2h is 13:00.
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-10-10T11:00:00+08:00")) == Self.at("2026-10-10T13:00:00+08:00"))
        #expect(!calendar.isOpen(at: Self.at("2026-10-05T10:00:00+08:00")))
        #expect(calendar.isOpen(at: Self.at("2026-10-10T12:30:00+08:00")))
        // Thursday 2026-12-24 17:00 + 2h: 17:00-18:00 (1h), Friday 12-25 closed, weekend, Monday 12-28 09:00-10:00 (1h).
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-24T17:00:00+08:00")) == Self.at("2026-12-28T10:00:00+08:00"))
        #expect(calendar.hours(on: LocalDate(parsing: "2026-12-25")!) == [])
        #expect(calendar.hours(on: LocalDate(parsing: "2026-10-03")!) == [])
        #expect(calendar.hours(on: LocalDate(parsing: "2026-10-10")!) == [Self.span("09:00-18:00")])
    }

    @Test("a workday wins over a holiday on the same date")
    func workdayOverHoliday() {
        let day = LocalDate(parsing: "2026-10-01")!
        let calendar = BusinessCalendar(
            id: "short", timeZone: Self.shanghai, weekly: Self.weekdays(["09:00-18:00"]), holidays: [day],
            workdays: [day: [Self.span("09:00-12:00")]])
        #expect(calendar.hours(on: day) == [Self.span("09:00-12:00")])
        // Thursday 10-01 11:00 + 2h: 11:00-12:00 (1h), Friday 10-02 09:00-10:00 (1h).
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-10-01T11:00:00+08:00")) == Self.at("2026-10-02T10:00:00+08:00"))
    }

    @Test("business seconds over a weekend and a holiday")
    func businessSeconds() {
        let office = Self.officeHours
        // Friday 12-04 12:00 to Monday 12-07 12:00: Friday 12:00-18:00 (6h) + Monday 09:00-12:00 (3h) = 9h.
        #expect(office.businessSeconds(from: Self.at("2026-12-04T12:00:00+08:00"), to: Self.at("2026-12-07T12:00:00+08:00")) == 9 * 3600)
        // A whole week Monday 00:00 to Monday 00:00: 5 x 9h = 45h.
        #expect(office.businessSeconds(from: Self.at("2026-12-07T00:00:00+08:00"), to: Self.at("2026-12-14T00:00:00+08:00")) == 45 * 3600)
        // Saturday to Sunday: nothing.
        #expect(office.businessSeconds(from: Self.at("2026-12-05T00:00:00+08:00"), to: Self.at("2026-12-06T23:59:59+08:00")) == 0)
        // Backwards or empty: 0.
        #expect(office.businessSeconds(from: Self.at("2026-12-07T12:00:00+08:00"), to: Self.at("2026-12-07T10:00:00+08:00")) == 0)
        #expect(office.businessSeconds(from: Self.at("2026-12-07T12:00:00+08:00"), to: Self.at("2026-12-07T12:00:00+08:00")) == 0)

        let china = Self.china
        // Wednesday 09-30 09:00 to Saturday 10-10 12:00: 09-30 (7.5h), 10-01...07 holidays (0), 10-08 (7.5h),
        // 10-09 (7.5h), 10-10 workday 09:00-12:00 (3h) = 25.5h = 91,800 s.
        #expect(china.businessSeconds(from: Self.at("2026-09-30T09:00:00+08:00"), to: Self.at("2026-10-10T12:00:00+08:00")) == 91_800)
        // Wednesday 09-30 00:00 to Monday 10-12 00:00: 09-30, 10-08, 10-09 (3 x 7.5h) + 10-10 (9h) = 31.5h = 113,400 s.
        #expect(china.businessSeconds(from: Self.at("2026-09-30T00:00:00+08:00"), to: Self.at("2026-10-12T00:00:00+08:00")) == 113_400)
        // Monday 11:30 to 14:00: 11:30-12:00 (30 min) + 13:30-14:00 (30 min) = 3,600 s.
        #expect(china.businessSeconds(from: Self.at("2026-12-07T11:30:00+08:00"), to: Self.at("2026-12-07T14:00:00+08:00")) == 3600)
    }

    @Test("business seconds undo adding, for fixed starts and durations")
    func roundTrip() {
        // Starts in open time, lunch, evenings, weekends, the holiday and the make-up Saturday; durations from none to
        // several weeks of business time. Whole seconds keep the arithmetic exact.
        let starts = [
            "2026-09-30T08:00:00+08:00", "2026-09-30T11:59:59+08:00", "2026-10-03T12:00:00+08:00", "2026-10-09T17:30:00+08:00",
            "2026-10-10T12:45:00+08:00", "2026-12-04T17:00:00+08:00", "2026-12-05T03:00:00+08:00", "2026-12-07T12:30:00+08:00",
            "2026-12-24T18:00:00+08:00", "2026-12-31T23:59:59+08:00",
        ].map(Self.at)
        let durations: [TimeInterval] = [0, 1, 59, 1800, 4 * 3600, 7.5 * 3600, 8 * 3600, 24 * 3600, 100 * 3600, 1_000 * 3600]
        for calendar in [Self.officeHours, Self.china, Self.nights, BusinessCalendar.always] {
            for start in starts {
                for seconds in durations {
                    let end = calendar.adding(seconds, to: start)
                    #expect(end.map { calendar.businessSeconds(from: start, to: $0) } == seconds, "\(calendar.id) \(start) + \(seconds)")
                    #expect(end.map { $0 >= start } == true)
                }
            }
        }
    }

    @Test("DST in New York: 01:00-04:00 is 2 real hours on 2026-03-08 and 4 on 2026-11-01")
    func daylightSaving() {
        let calendar = Self.nights
        // Saturday 03-07 is a normal day (EST, UTC-5): 01:00-04:00 = 06:00Z-09:00Z, 3h.
        #expect(calendar.businessSeconds(from: Self.at("2026-03-07T00:00:00-05:00"), to: Self.at("2026-03-07T12:00:00-05:00")) == 3 * 3600)
        // Spring forward, clocks jump 02:00 EST -> 03:00 EDT: 01:00 EST (06:00Z) to 04:00 EDT (08:00Z), 2h.
        #expect(calendar.businessSeconds(from: Self.at("2026-03-08T00:00:00-05:00"), to: Self.at("2026-03-08T12:00:00-04:00")) == 2 * 3600)
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-03-08T01:00:00-05:00")) == Self.at("2026-03-08T08:00:00Z"))
        // One second more goes to Monday 01:00 EDT (05:00Z) and one second into it.
        #expect(calendar.adding(2 * 3600 + 1, to: Self.at("2026-03-08T01:00:00-05:00")) == Self.at("2026-03-09T05:00:01Z"))
        // 03:30 EDT (07:30Z) is open, 04:00 EDT (08:00Z) is not.
        #expect(calendar.isOpen(at: Self.at("2026-03-08T07:30:00Z")))
        #expect(!calendar.isOpen(at: Self.at("2026-03-08T08:00:00Z")))

        // Fall back, 02:00 EDT -> 01:00 EST: 01:00 EDT (05:00Z) to 04:00 EST (09:00Z), 4h.
        #expect(calendar.businessSeconds(from: Self.at("2026-11-01T00:00:00-04:00"), to: Self.at("2026-11-01T12:00:00-05:00")) == 4 * 3600)
        // From 00:30 EDT, 4h of business time end at 04:00 EST (09:00Z); 3h at 03:00 EST (08:00Z).
        #expect(calendar.adding(4 * 3600, to: Self.at("2026-11-01T00:30:00-04:00")) == Self.at("2026-11-01T09:00:00Z"))
        #expect(calendar.adding(3 * 3600, to: Self.at("2026-11-01T00:30:00-04:00")) == Self.at("2026-11-01T08:00:00Z"))
        // The repeated hour is open both times: 01:30 EDT (05:30Z) and 01:30 EST (06:30Z).
        #expect(calendar.isOpen(at: Self.at("2026-11-01T05:30:00Z")))
        #expect(calendar.isOpen(at: Self.at("2026-11-01T06:30:00Z")))
        // Monday 11-02 is back to 3h (EST): 06:00Z-09:00Z.
        #expect(calendar.businessSeconds(from: Self.at("2026-11-02T00:00:00-05:00"), to: Self.at("2026-11-02T12:00:00-05:00")) == 3 * 3600)
        // The whole week of 11-01...11-07: 4h + 6 x 3h = 22h.
        #expect(calendar.businessSeconds(from: Self.at("2026-11-01T00:00:00-04:00"), to: Self.at("2026-11-08T00:00:00-05:00")) == 22 * 3600)
    }

    @Test("a span the spring-forward gap swallows whole is closed that day")
    func swallowedSpan() {
        // 02:00-03:00 does not exist in New York on 2026-03-08; the next day it is the usual hour (EDT, 06:00Z-07:00Z).
        let calendar = BusinessCalendar(id: "gap", timeZone: Self.newYork, weekly: Self.everyDay(["02:00-03:00"]))
        #expect(calendar.businessSeconds(from: Self.at("2026-03-08T00:00:00-05:00"), to: Self.at("2026-03-08T12:00:00-04:00")) == 0)
        #expect(calendar.businessSeconds(from: Self.at("2026-03-09T00:00:00-04:00"), to: Self.at("2026-03-09T12:00:00-04:00")) == 3600)
        #expect(calendar.nextOpening(after: Self.at("2026-03-08T00:00:00-05:00")) == Self.at("2026-03-09T06:00:00Z"))
    }

    @Test("a span ending at 24:00 runs on into the next day's span from 00:00")
    func acrossMidnight() {
        // Monday 18:00-24:00 and Tuesday 00:00-02:00, Shanghai.
        let calendar = BusinessCalendar(id: "late", timeZone: Self.shanghai, weekly: [2: [Self.span("18:00-24:00")], 3: [Self.span("00:00-02:00")]])
        // Monday 23:00 + 1h: Tuesday 00:00 (the end of Monday's span is the start of Tuesday's); + 2h: Tuesday 01:00.
        #expect(calendar.adding(3600, to: Self.at("2026-12-07T23:00:00+08:00")) == Self.at("2026-12-08T00:00:00+08:00"))
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-07T23:00:00+08:00")) == Self.at("2026-12-08T01:00:00+08:00"))
        #expect(calendar.isOpen(at: Self.at("2026-12-08T00:00:00+08:00")))
        #expect(calendar.isOpen(at: Self.at("2026-12-07T23:59:59+08:00")))
        #expect(!calendar.isOpen(at: Self.at("2026-12-08T02:00:00+08:00")))
        // Monday 12:00 to Wednesday 12:00: 6h + 2h = 8h.
        #expect(calendar.businessSeconds(from: Self.at("2026-12-07T12:00:00+08:00"), to: Self.at("2026-12-09T12:00:00+08:00")) == 8 * 3600)
    }

    @Test("always: business time is wall time")
    func always() {
        let calendar = BusinessCalendar.always
        #expect(calendar.id == "always")
        let start = Self.at("2026-03-08T01:30:00-05:00")
        // 3 days, 1 hour and half a second later, weekends and DST notwithstanding.
        #expect(calendar.adding(262_800.5, to: start) == start.addingTimeInterval(262_800.5))
        #expect(calendar.businessSeconds(from: start, to: start.addingTimeInterval(262_800.5)) == 262_800.5)
        #expect(calendar.adding(0, to: start) == start)
        #expect(calendar.isOpen(at: start))
        // The same around the clock in New York, holiday-free, is wall time across the spring-forward night as well:
        // 2026-03-08 00:00 EST (05:00Z) to 12:00 EDT (16:00Z) is 11 hours.
        let newYork = BusinessCalendar(id: "ny-24/7", timeZone: Self.newYork, weekly: Self.everyDay(["00:00-24:00"]))
        #expect(newYork.businessSeconds(from: Self.at("2026-03-08T05:00:00Z"), to: Self.at("2026-03-08T16:00:00Z")) == 11 * 3600)
        #expect(newYork.adding(11 * 3600, to: Self.at("2026-03-08T05:00:00Z")) == Self.at("2026-03-08T16:00:00Z"))
    }

    @Test("around the clock except a holiday: the days chain and the holiday is skipped")
    func aroundTheClockWithHoliday() {
        let calendar = BusinessCalendar(
            id: "24/7-cn", timeZone: Self.shanghai, weekly: Self.everyDay(["00:00-24:00"]), holidays: [LocalDate(parsing: "2026-10-01")!])
        // 09-29 12:00 + 36h: 09-29 12:00-24:00 (12h), 09-30 all day (24h): 10-01 00:00 is that end, not 10-02 00:00.
        #expect(calendar.adding(36 * 3600, to: Self.at("2026-09-29T12:00:00+08:00")) == Self.at("2026-10-01T00:00:00+08:00"))
        // One more hour jumps the holiday: 10-02 01:00.
        #expect(calendar.adding(37 * 3600, to: Self.at("2026-09-29T12:00:00+08:00")) == Self.at("2026-10-02T01:00:00+08:00"))
        // 09-30 00:00 to 10-03 00:00: 24h + 0 + 24h.
        #expect(calendar.businessSeconds(from: Self.at("2026-09-30T00:00:00+08:00"), to: Self.at("2026-10-03T00:00:00+08:00")) == 48 * 3600)
    }

    @Test("a calendar that never opens answers nil, quickly")
    func neverOpen() {
        let start = Self.at("2026-12-07T10:00:00+08:00")
        let never = BusinessCalendar(id: "never", timeZone: Self.shanghai, weekly: [:])
        let clock = ContinuousClock()
        let began = clock.now
        #expect(never.adding(3600, to: start) == nil)
        #expect(never.adding(0, to: start) == nil)
        #expect(never.nextOpening(after: start) == nil)
        #expect(never.businessSeconds(from: start, to: start.addingTimeInterval(10 * 365 * 86_400)) == 0)
        #expect(!never.isOpen(at: start))
        #expect(clock.now - began < .seconds(2))
        // Every weekday a holiday is the same: nothing for three years.
        let allClosed = BusinessCalendar(id: "closed", timeZone: Self.shanghai, weekly: Self.everyDay(["09:00-18:00"]).mapValues { _ in [] })
        #expect(allClosed.weekly.isEmpty)
        #expect(allClosed.adding(60, to: start) == nil)
    }

    @Test("closed time is searched for three years, no further")
    func searchLimit() {
        let start = Self.at("2026-12-07T10:00:00+08:00")
        // A lone working day about 2.5 years ahead is found; one about 3.5 years ahead is not.
        let near = BusinessCalendar(
            id: "near", timeZone: Self.shanghai, weekly: [:], workdays: [LocalDate(parsing: "2029-06-01")!: [Self.span("09:00-10:00")]])
        #expect(near.nextOpening(after: start) == Self.at("2029-06-01T09:00:00+08:00"))
        #expect(near.adding(1800, to: start) == Self.at("2029-06-01T09:30:00+08:00"))
        #expect(near.adding(3601, to: start) == nil)
        let far = BusinessCalendar(
            id: "far", timeZone: Self.shanghai, weekly: [:], workdays: [LocalDate(parsing: "2030-06-01")!: [Self.span("09:00-10:00")]])
        #expect(far.nextOpening(after: start) == nil)
    }

    @Test("daily spans: valid values, parsing, overlaps")
    func dailySpans() {
        #expect(DailySpan(start: 540, end: 1080) == Self.span("09:00-18:00"))
        #expect(DailySpan(parsing: "13:30-24:00").map { [$0.start, $0.end] } == [810, 1440])
        #expect(DailySpan(parsing: "9:00-12:00")?.description == "09:00-12:00")
        #expect(DailySpan.wholeDay.description == "00:00-24:00")
        #expect(DailySpan(start: 600, end: 600) == nil)
        #expect(DailySpan(start: -1, end: 60) == nil)
        #expect(DailySpan(start: 0, end: 1441) == nil)
        for text in ["18:00-09:00", "24:00-24:00", "09:60-10:00", "25:00-26:00", "09:00", "09:00-", "0900-1000", "09:0-10:00", "", "24:30-24:40"] {
            #expect(DailySpan(parsing: text) == nil, "\(text)")
        }
        // Touching is fine, overlapping is not; the result is sorted.
        #expect(
            DailySpan.nonOverlapping([Self.span("13:00-18:00"), Self.span("09:00-13:00")]) == [Self.span("09:00-13:00"), Self.span("13:00-18:00")])
        #expect(DailySpan.nonOverlapping([Self.span("09:00-13:00"), Self.span("12:00-18:00")]) == nil)
        #expect(DailySpan.nonOverlapping([]) == [])
        // The calendar itself joins overlapping and touching spans.
        let calendar = BusinessCalendar(
            id: "merged", timeZone: Self.shanghai,
            weekly: [2: [Self.span("12:00-18:00"), Self.span("09:00-13:00"), Self.span("18:00-19:00")], 9: [.wholeDay]])
        #expect(calendar.weekly == [2: [Self.span("09:00-19:00")]])
    }

    @Test("local dates: strict YYYY-MM-DD of real dates, weekdays, order")
    func localDates() {
        #expect(LocalDate(parsing: "2026-02-28") == LocalDate(year: 2026, month: 2, day: 28))
        #expect(LocalDate(parsing: "2026-02-28")?.description == "2026-02-28")
        #expect(LocalDate(parsing: "2024-02-29")?.description == "2024-02-29")
        #expect(LocalDate(parsing: "0001-01-01")?.description == "0001-01-01")
        let rejected = [
            "2026-02-30", "2026-2-3", "", "2026-13-01", "2026-00-10", "2026-04-31", "2100-02-29", "0000-01-01", "2026-01-01T", "2026/01/01",
            " 2026-01-01", "２０２６-01-01",
        ]
        for text in rejected {
            #expect(LocalDate(parsing: text) == nil, "\(text)")
        }
        #expect(LocalDate(year: 2026, month: 2, day: 29) == nil)
        // 2026-12-04 is a Friday (6), 2026-10-10 a Saturday (7), 2026-03-08 a Sunday (1).
        #expect(LocalDate(parsing: "2026-12-04")?.weekday == 6)
        #expect(LocalDate(parsing: "2026-10-10")?.weekday == 7)
        #expect(LocalDate(parsing: "2026-03-08")?.weekday == 1)
        #expect(LocalDate(parsing: "2026-10-01")! < LocalDate(parsing: "2026-10-02")!)
        #expect(LocalDate(parsing: "2025-12-31")! < LocalDate(parsing: "2026-01-01")!)
        // 2026-12-04 16:30 UTC is already Saturday 00:30 in Shanghai.
        #expect(LocalDate(containing: Self.at("2026-12-04T16:30:00Z"), in: Self.shanghai) == LocalDate(parsing: "2026-12-05"))
    }
}
