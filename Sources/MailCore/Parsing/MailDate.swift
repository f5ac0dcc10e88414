import Foundation

/// RFC 5322 §3.3 dates, read tolerantly: optional day name, obsolete and military zones
/// (§4.3), two- and three-digit years (§4.3), missing seconds or zone, asctime order, stray
/// comments and commas.
enum MailDate {
    /// The instant a Date header names, or nil when no day, month, year and time can be found.
    static func parse(_ raw: String) -> Date? {
        var tokens = [Substring]()
        var depth = 0
        var tokenStart: String.Index?
        for index in raw.indices {
            let c = raw[index]
            if c == "(" { depth += 1 }
            let separator = depth > 0 || c == " " || c == "\t" || c == "," || c == "\r" || c == "\n" || c == "\r\n" || c == ")"
            if c == ")" && depth > 0 { depth -= 1 }
            if separator {
                if let start = tokenStart { tokens.append(raw[start..<index]) }
                tokenStart = nil
            } else if tokenStart == nil {
                tokenStart = index
            }
        }
        if let start = tokenStart { tokens.append(raw[start...]) }
        guard tokens.count <= 16 else { return nil }

        var day: Int?
        var month: Int?
        var year: Int?
        var time: (Int, Int, Int)?
        var offset: Int?
        var numbers = [Substring]()
        for token in tokens {
            if token.contains(":"), time == nil, let parsed = parseTime(token) {
                time = parsed.time
                if let zone = parsed.zone { offset = zone }
            } else if month == nil, let m = monthNumber(token) {
                month = m
            } else if token.allSatisfy(\.isASCIIDigit), !token.isEmpty, token.count <= 4 {
                numbers.append(token)
            } else if (token.hasPrefix("+") || token.hasPrefix("-")) && offset == nil, let zone = numericZone(token) {
                offset = zone
            } else if offset == nil, let zone = namedZone(token) {
                offset = zone
            } else if month == nil, token.count > 4, let dashed = parseDashed(token) {
                (day, month, year) = dashed
            }
        }
        for number in numbers {
            guard let value = Int(number) else { continue }
            if day == nil && number.count <= 2 && value >= 1 && value <= 31 {
                day = value
            } else if year == nil && number.count >= 2 {
                year = number.count <= 2 ? (value < 50 ? 2000 + value : 1900 + value) : (number.count == 3 ? 1900 + value : value)
            }
        }
        guard let day, let month, let year, (1...12).contains(month), (1...31).contains(day), (1000...9999).contains(year) else {
            return nil
        }
        let (hour, minute, second) = time ?? (0, 0, 0)
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - (offset ?? 0)
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func parseTime(_ token: Substring) -> (time: (Int, Int, Int), zone: Int?)? {
        // "10:00:00", "10:00", "10:00:00+0800" (some mailers omit the blank)
        var timePart = token
        var zone: Int?
        if let sign = token.firstIndex(where: { $0 == "+" || $0 == "-" }) {
            timePart = token[..<sign]
            zone = numericZone(token[sign...])
        }
        let pieces = timePart.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count == 2 || pieces.count == 3 else { return nil }
        var values = [Int]()
        for piece in pieces {
            let digits = piece.prefix(while: \.isASCIIDigit)
            guard !digits.isEmpty, digits.count <= 2, let value = Int(digits) else { return nil }
            values.append(value)
        }
        let second = values.count == 3 ? values[2] : 0
        guard values[0] <= 23, values[1] <= 59, second <= 60 else { return nil }
        return ((values[0], values[1], second), zone)
    }

    private static func numericZone(_ token: Substring) -> Int? {
        guard let sign = token.first, sign == "+" || sign == "-" else { return nil }
        let digits = token.dropFirst().filter { $0 != ":" }
        guard digits.count == 4 || digits.count == 2, digits.allSatisfy(\.isASCIIDigit), let value = Int(digits) else {
            return nil
        }
        let hours = digits.count == 4 ? value / 100 : value
        let minutes = digits.count == 4 ? value % 100 : 0
        guard hours <= 23, minutes <= 59 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == "-" ? -seconds : seconds
    }

    private static func namedZone(_ token: Substring) -> Int? {
        switch token.uppercased() {
        case "UT", "UTC", "GMT", "Z": return 0
        case "EST": return -5 * 3600
        case "EDT": return -4 * 3600
        case "CST": return -6 * 3600
        case "CDT": return -5 * 3600
        case "MST": return -7 * 3600
        case "MDT": return -6 * 3600
        case "PST": return -8 * 3600
        case "PDT": return -7 * 3600
        case let name where name.count == 1 && name.first?.isLetter == true:
            return 0  // military zones: RFC 5322 §4.3 says treat as -0000
        default: return nil
        }
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func monthNumber(_ token: Substring) -> Int? {
        guard token.count >= 3, token.allSatisfy(\.isLetter) else { return nil }
        let prefix = token.prefix(3).lowercased()
        guard let index = months.firstIndex(of: prefix) else { return nil }
        return index + 1
    }

    /// "2-Dec-2026" (some old mailers).
    private static func parseDashed(_ token: Substring) -> (Int, Int, Int)? {
        let pieces = token.split(separator: "-")
        guard pieces.count == 3, let day = Int(pieces[0]), let month = monthNumber(pieces[1]), let year = Int(pieces[2]) else {
            return nil
        }
        return (day, month, pieces[2].count == 2 ? (year < 50 ? 2000 + year : 1900 + year) : year)
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

extension Character {
    /// Whether this is one of the ASCII digits 0-9.
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
