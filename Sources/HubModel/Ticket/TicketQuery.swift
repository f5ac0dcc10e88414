import Foundation

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
        // Ingest asks this of every message: a long one (an e-mail body) is ruled out by its byte
        // count before anything is copied or counted by character.
        guard text.utf8.count <= 1024 else { return nil }
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= maximumLength else { return nil }
        if let number = firstTicketNumber(in: trimmed) { return .number(number) }
        let folded = String(
            String.UnicodeScalarView(
                trimmed.lowercased().unicodeScalars.filter { !$0.properties.isWhitespace && !isPunctuation($0) }))
        return statusWords.contains(folded) ? .mine : nil
    }

    /// Words that may stand around a quoted number in a message that only asks about it
    /// ("status of T-000123?", "T-000123 进度", "where is my ticket T-31"); compared lower-cased.
    static let questionWords: Set<String> = [
        "status", "of", "ticket", "my", "what", "whats", "what's", "is", "the", "where", "please", "pls", "check", "about", "for",
        "any", "news", "update", "on", "hi", "hello", "状态", "进度", "工单", "查询", "查", "的", "我的", "请问", "你好", "狀態", "進度", "工單",
    ]

    /// Whether `text` does nothing but ask about tickets: a status word alone, or a ticket number
    /// with at most question words around it. Only such a message, when it starts a conversation,
    /// is answered without an agent; "My T-800 vacuum stopped" is for an agent.
    public static func isWholeQuestion(_ text: String) -> Bool {
        switch parse(text) {
        case nil: return false
        case .mine: return true
        case .number:
            var rest = text.trimmingWhitespace()
            if let range = numberRange(in: rest) { rest.removeSubrange(range) }
            // Split on spaces and punctuation; CJK question words are matched by removing them.
            var words = String(String.UnicodeScalarView(rest.lowercased().unicodeScalars.map { isPunctuation($0) ? " " : $0 }))
            for word in questionWords.sorted(by: { $0.count > $1.count }) where word.unicodeScalars.contains(where: { $0.value >= 0x3400 }) {
                words = words.replacingOccurrences(of: word, with: " ")
            }
            return words.split(whereSeparator: { $0.isWhitespace }).allSatisfy { questionWords.contains(String($0)) }
        }
    }

    /// Where the first standing ticket number is in `text` (see `firstTicketNumber`).
    static func numberRange(in text: String) -> Range<String.Index>? {
        firstStandingNumber(in: text)?.range
    }

    /// The first ticket number in `text` that stands on its own: "T" (or "t"), an optional "-",
    /// then 1 to 12 digits, with no letter or digit right before it or digit right after.
    static func firstTicketNumber(in text: String) -> TicketNumber? {
        firstStandingNumber(in: text)?.number
    }

    static func firstStandingNumber(in text: String) -> (number: TicketNumber, range: Range<String.Index>)? {
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        var previous: Unicode.Scalar?
        while index < scalars.endIndex {
            let scalar = scalars[index]
            defer {
                previous = scalar
                index = scalars.index(after: index)
            }
            guard scalar == "T" || scalar == "t", previous.map(isWordScalar) != true else { continue }
            var position = scalars.index(after: index)
            if position < scalars.endIndex, scalars[position] == "-" { position = scalars.index(after: position) }
            var value = 0
            var digits = 0
            while position < scalars.endIndex, let digit = asciiDigit(scalars[position]), digits < 13 {
                value = value * 10 + digit
                digits += 1
                position = scalars.index(after: position)
            }
            guard digits > 0, digits <= 12, value > 0 else { continue }
            if position < scalars.endIndex, isWordScalar(scalars[position]) { continue }
            return (TicketNumber(rawValue: value), index..<position)
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
