/// A customer's question about their tickets, recognized in a short message on any channel:
/// a ticket number as customers quote it ("T-000123", "#T123", "t-123 进度?") or a word that asks
/// for the status ("status", "my tickets", "状态", "工单进度").
///
/// Only short messages count (a long message that mentions a number is for an agent), and a
/// status word must be the whole message, so "what is the status of my refund" still reaches an
/// agent.
public enum TicketQuery: Sendable, Hashable {
    /// One ticket, by the number the customer quoted.
    case number(TicketNumber)
    /// The customer's tickets that are not closed.
    case mine

    /// Messages longer than this (in characters) are never read as a query.
    public static let maximumLength = 60

    /// The words that ask for the status, compared after lower-casing and dropping spaces and
    /// punctuation.
    static let statusWords: Set<String> = [
        "status", "ticketstatus", "mystatus", "checkstatus", "mytickets", "myticket", "ticket", "tickets", "statusplease",
        "状态", "工单状态", "查询状态", "查状态", "进度", "工单进度", "查询进度", "查进度", "我的工单", "查询工单", "查工单", "工单",
        "狀態", "進度", "工單", "我的工單", "查詢工單",
    ]

    /// The query in `text`, if it is one.
    public static func parse(_ text: String) -> TicketQuery? {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= maximumLength else { return nil }
        if let number = firstTicketNumber(in: trimmed) { return .number(number) }
        let folded = String(
            String.UnicodeScalarView(
                trimmed.lowercased().unicodeScalars.filter { !$0.properties.isWhitespace && !isPunctuation($0) }))
        return statusWords.contains(folded) ? .mine : nil
    }

    /// The first ticket number in `text` that stands on its own: "T" (or "t"), an optional "-",
    /// then 1 to 12 digits, with no letter or digit right before it or digit right after.
    static func firstTicketNumber(in text: String) -> TicketNumber? {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            defer { index += 1 }
            guard scalars[index] == "T" || scalars[index] == "t" else { continue }
            if index > 0, isWordScalar(scalars[index - 1]) { continue }
            var position = index + 1
            if position < scalars.count, scalars[position] == "-" { position += 1 }
            var value = 0
            var digits = 0
            while position < scalars.count, let digit = asciiDigit(scalars[position]), digits < 13 {
                value = value * 10 + digit
                digits += 1
                position += 1
            }
            guard digits > 0, digits <= 12, value > 0 else { continue }
            if position < scalars.count, isWordScalar(scalars[position]) { continue }
            return TicketNumber(rawValue: value)
        }
        return nil
    }

    static func asciiDigit(_ scalar: Unicode.Scalar) -> Int? {
        scalar.value >= 0x30 && scalar.value <= 0x39 ? Int(scalar.value - 0x30) : nil
    }

    /// ASCII letters and digits: what may not touch a ticket number (CJK text may: "工单T-000123进度").
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || asciiDigit(scalar) != nil)
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
            .otherPunctuation, .mathSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}

/// The language the hub answers a customer in, from the text they wrote: Chinese when it holds
/// Han characters, English otherwise.
public enum CustomerLocale: String, Sendable, Hashable, Codable, CaseIterable {
    case zhCN = "zh-CN"
    case en

    /// The locale of a language tag as profiles hold it: `zh`, `zh-CN`, `zh-Hans-CN` → zh-CN;
    /// `en`, `en-GB` → en; anything else nil.
    public init?(tag: String) {
        let language = tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init)
        switch language {
        case "zh": self = .zhCN
        case "en": self = .en
        default: return nil
        }
    }

    public static func guess(from text: String) -> CustomerLocale {
        text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) || (0x3400...0x4DBF).contains($0.value) } ? .zhCN : .en
    }
}
