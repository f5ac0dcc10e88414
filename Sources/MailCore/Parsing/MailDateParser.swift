import Foundation

/// RFC 5322 §3.3 dates, read tolerantly: optional day name, obsolete and military zones
/// (§4.3), two- and three-digit years (§4.3), missing seconds or zone, asctime order, stray
/// comments and commas. Works on bytes: no Foundation date formatter, no locale.
enum MailDateParser {
    /// The instant a Date header names, or nil when no day, month, year and time can be found.
    static func parse(_ raw: String) -> Date? {
        let bytes = Array(raw.utf8)
        var tokens = [ArraySlice<UInt8>]()
        var depth = 0
        var start: Int?
        for (index, byte) in bytes.enumerated() {
            if byte == 0x28 { depth += 1 }
            let separator = depth > 0 || MailBytes.isWhitespace(byte) || byte == 0x2C || byte == 0x29
            if byte == 0x29 && depth > 0 { depth -= 1 }
            if separator {
                if let tokenStart = start { tokens.append(bytes[tokenStart..<index]) }
                start = nil
            } else if start == nil {
                start = index
            }
            if tokens.count > 16 { return nil }
        }
        if let tokenStart = start { tokens.append(bytes[tokenStart...]) }

        var day: Int?
        var month: Int?
        var year: Int?
        var time: (hour: Int, minute: Int, second: Int)?
        var offset: Int?
        var numbers = [ArraySlice<UInt8>]()
        for token in tokens {
            if time == nil, token.contains(0x3A), let parsed = parseTime(token) {
                time = parsed.time
                if let zone = parsed.zone { offset = zone }
            } else if month == nil, let number = monthNumber(token) {
                month = number
            } else if !token.isEmpty, token.count <= 4, token.allSatisfy(isDigit) {
                numbers.append(token)
            } else if offset == nil, let first = token.first, first == 0x2B || first == 0x2D, let zone = numericZone(token) {
                offset = zone
            } else if offset == nil, let zone = namedZone(token) {
                offset = zone
            } else if month == nil, token.count > 4, let dashed = parseDashed(token) {
                (day, month, year) = dashed
            }
        }
        for number in numbers {
            guard let value = integer(number) else { continue }
            if day == nil && number.count <= 2 && value >= 1 && value <= 31 {
                day = value
            } else if year == nil && number.count >= 2 {
                year = fullYear(value, digits: number.count)
            }
        }
        guard let day, let month, let year, (1...31).contains(day), (1000...9999).contains(year) else { return nil }
        let (hour, minute, second) = time ?? (0, 0, 0)
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - (offset ?? 0)
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// The value of at most 7 decimal digits, or nil.
    private static func integer(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 7 else { return nil }
        var value = 0
        for byte in digits {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// RFC 5322 §4.3: two-digit years below 50 are 20xx, others 19xx; three-digit years add 1900.
    private static func fullYear(_ value: Int, digits: Int) -> Int {
        switch digits {
        case 2: return value < 50 ? 2000 + value : 1900 + value
        case 3: return 1900 + value
        default: return value
        }
    }

    /// "10:00:00", "10:00", "10:00:00+0800" (some mailers omit the blank before the zone).
    private static func parseTime(_ token: ArraySlice<UInt8>) -> (time: (hour: Int, minute: Int, second: Int), zone: Int?)? {
        var timePart = token
        var zone: Int?
        if let sign = token.firstIndex(where: { $0 == 0x2B || $0 == 0x2D }) {
            timePart = token[..<sign]
            zone = numericZone(token[sign...])
        }
        let pieces = timePart.split(separator: 0x3A, omittingEmptySubsequences: false)
        guard pieces.count == 2 || pieces.count == 3 else { return nil }
        var values = [Int]()
        for piece in pieces {
            let digits = piece.prefix(while: isDigit)
            guard digits.count <= 2, let value = integer(digits) else { return nil }
            values.append(value)
        }
        let second = values.count == 3 ? values[2] : 0
        guard values[0] <= 23, values[1] <= 59, second <= 60 else { return nil }
        return ((values[0], values[1], second), zone)
    }

    private static func numericZone(_ token: ArraySlice<UInt8>) -> Int? {
        guard let sign = token.first, sign == 0x2B || sign == 0x2D else { return nil }
        let digits = token.dropFirst().filter { $0 != 0x3A }[...]
        guard digits.count == 4 || digits.count == 2, let value = integer(digits) else { return nil }
        let hours = digits.count == 4 ? value / 100 : value
        let minutes = digits.count == 4 ? value % 100 : 0
        guard hours <= 23, minutes <= 59 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == 0x2D ? -seconds : seconds
    }

    private static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
    ]

    private static func namedZone(_ token: ArraySlice<UInt8>) -> Int? {
        guard !token.isEmpty, token.count <= 3 else { return nil }
        let name = String(decoding: token.map(MailBytes.lowercased), as: UTF8.self)
        if let hours = zones[name] { return hours * 3600 }
        // Military zones: RFC 5322 §4.3 says to treat them as -0000.
        if token.count == 1, let letter = token.first, (0x41...0x5A).contains(letter) || (0x61...0x7A).contains(letter) { return 0 }
        return nil
    }

    private static let months: [[UInt8]] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map { Array($0.utf8) }

    private static func monthNumber(_ token: ArraySlice<UInt8>) -> Int? {
        guard token.count >= 3, token.count <= 9 else { return nil }
        let prefix = token.prefix(3).map(MailBytes.lowercased)
        guard let index = months.firstIndex(of: prefix) else { return nil }
        return token.allSatisfy({ MailBytes.lowercased($0) >= 0x61 && MailBytes.lowercased($0) <= 0x7A }) ? index + 1 : nil
    }

    /// "2-Dec-2026" (some old mailers).
    private static func parseDashed(_ token: ArraySlice<UInt8>) -> (Int, Int, Int)? {
        let pieces = token.split(separator: 0x2D)
        guard pieces.count == 3, let day = integer(pieces[0]), let month = monthNumber(pieces[1]), let year = integer(pieces[2]) else {
            return nil
        }
        return (day, month, fullYear(year, digits: pieces[2].count))
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
