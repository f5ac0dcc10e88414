import Foundation

/// The JSON conventions of the hub's wire formats: UTC ISO 8601 timestamps with milliseconds,
/// sorted keys (so stored payloads and signatures are reproducible).
public enum HubJSON {
    /// A new encoder with the hub's conventions.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        return encoder
    }

    /// A new decoder with the hub's conventions; timestamps may omit the fractional seconds.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO 8601 timestamp such as 2026-11-22T08:30:00Z, got \"\(text)\"")
            }
            return date
        }
        return decoder
    }

    /// Formats a date as `2026-11-22T08:30:00.123Z`.
    public static func formatTimestamp(_ date: Date) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        appendTimestamp(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `formatTimestamp(date)`'s bytes, appended (a JSON writer's own buffer: no string between).
    static func appendTimestamp(_ date: Date, to bytes: inout [UInt8]) {
        // Integer arithmetic throughout: it is exact (a double such as 1795000000.123 is really
        // ...0.12299999, which a formatter that truncates prints as .122) and it is on the hot
        // path of every event written.
        let milliseconds = date.millisecondsSince1970
        let (days, millisecondOfDay) = milliseconds.floorDivided(by: 86_400_000)
        let (year, month, day) = civilDate(daysSince1970: days)
        func append(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(48 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        append(year, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        append(month, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        append(day, digits: 2)
        bytes.append(UInt8(ascii: "T"))
        append(millisecondOfDay / 3_600_000, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(millisecondOfDay / 60_000 % 60, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(millisecondOfDay / 1000 % 60, digits: 2)
        bytes.append(UInt8(ascii: "."))
        append(millisecondOfDay % 1000, digits: 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The proleptic Gregorian date of a day number (days since 1970-01-01), for years 0...9999.
    /// Howard Hinnant's `civil_from_days`.
    static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Parses `2026-11-22T08:30:00Z`, `2026-11-22T08:30:00.123Z` or an offset form.
    public static func parseTimestamp(_ text: String) -> Date? {
        // The hub's own form first (every payload's dates are read by every follower of the log);
        // anything else, or anything odd in it, goes to Foundation's parser.
        if let milliseconds = canonicalMilliseconds(text) { return Date(millisecondsSince1970: milliseconds) }
        // Parsed dates are brought to the canonical millisecond value, so they compare equal to
        // dates that were never formatted.
        return ((try? withFractions.parse(text)) ?? (try? withoutFractions.parse(text)))?.truncatedToMilliseconds
    }

    /// Milliseconds since 1970 of `YYYY-MM-DDTHH:MM:SS.mmmZ` (what `formatTimestamp` writes) or
    /// `YYYY-MM-DDTHH:MM:SSZ`, every field in its range (no leap second); nil for anything else.
    static func canonicalMilliseconds(_ text: String) -> Int64? {
        text.utf8.withContiguousStorageIfAvailable { canonicalMilliseconds($0) } ?? nil
    }

    private static func canonicalMilliseconds(_ buffer: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard buffer.count == 24 || buffer.count == 20 else { return nil }
        func digits(_ at: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in at..<(at + count) {
                let byte = buffer[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        let fraction = buffer.count == 24
        guard buffer[4] == UInt8(ascii: "-"), buffer[7] == UInt8(ascii: "-"), buffer[10] == UInt8(ascii: "T"), buffer[13] == UInt8(ascii: ":"),
            buffer[16] == UInt8(ascii: ":"), buffer[buffer.count - 1] == UInt8(ascii: "Z"), !fraction || buffer[19] == UInt8(ascii: "."),
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2), let minute = digits(14, 2),
            let second = digits(17, 2), let millisecond = fraction ? digits(20, 3) : 0,
            (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month), hour < 24, minute < 60, second < 60
        else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date: Howard Hinnant's `days_from_civil`,
    /// the inverse of `civilDate(daysSince1970:)`.
    static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static let withFractions = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let withoutFractions = Date.ISO8601FormatStyle(timeZone: .gmt)
}

extension Int64 {
    /// Quotient and non-negative remainder.
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = self % divisor
        return remainder < 0 ? (self / divisor - 1, remainder + divisor) : (self / divisor, remainder)
    }
}

extension Date {
    /// This date at whole milliseconds: the precision the hub stores and sends, so a value read
    /// back from the store equals the value written.
    public var truncatedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }

    /// Milliseconds since 1970 (rounded to the nearest), the storage form of timestamps. Rounding,
    /// not truncation: a date parsed or computed as a whole number of milliseconds is often a hair
    /// below it as a double, and must map back to that same number.
    /// Dates beyond what 64 bits of milliseconds hold (a provider's absurd timestamp) saturate
    /// rather than trap.
    public var millisecondsSince1970: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite else { return 0 }
        if milliseconds >= 9.2e18 { return .max }
        if milliseconds <= -9.2e18 { return .min }
        return Int64(milliseconds)
    }

    /// The date `milliseconds` after 1970.
    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
