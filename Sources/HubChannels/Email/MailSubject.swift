import HubModel

/// Subjects as mail clients write them: reply and forward prefixes in English and Chinese, and
/// the ticket number a customer quotes.
public enum MailSubject {
    /// Prefixes clients put before a subject when replying or forwarding, compared lower-cased.
    static let prefixes = ["re:", "re：", "aw:", "sv:", "fw:", "fwd:", "回复:", "回复：", "答复:", "答复：", "转发:", "转发：", "回覆:", "回覆："]

    /// The subject without its reply and forward prefixes ("Re: RE: Fwd: 回复：退款" → "退款").
    public static func base(_ subject: String) -> String {
        var rest = Substring(subject)
        while true {
            let trimmed = rest.drop(while: { $0 == " " || $0 == "\t" })
            let lowered = trimmed.prefix(4).lowercased()
            guard let prefix = prefixes.first(where: { lowered.hasPrefix($0) }) else { return String(trimmed) }
            rest = trimmed.dropFirst(prefix.count)
        }
    }

    /// The subject of a reply: "Re: " and the base subject.
    public static func reply(to subject: String) -> String { "Re: " + base(subject) }

    /// A ticket number quoted in brackets ("[T-000123]", "[#T-123]") anywhere in the subject.
    public static func ticketNumber(in subject: String) -> TicketNumber? {
        var rest = Substring(subject)
        while let open = rest.firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "]") else { return nil }
            let inside = after[..<close]
            if inside.count <= 16, inside.uppercased().contains("T"), let number = TicketNumber(parsing: String(inside)) { return number }
            rest = after[after.index(after: close)...]
        }
        return nil
    }
}
