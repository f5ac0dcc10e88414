/// Separates what a customer wrote from the history their mail client appended: quoted replies,
/// forwarded-history headers, signatures and "Sent from my phone" lines.
public enum MailQuoting {
    /// The customer's own text in `text`. Strips, from the first history marker on: an
    /// attribution line (`On … wrote:`, also wrapped over two lines as Gmail does, `在 … 写道：`,
    /// `… 于 … 写道：`), `-----Original Message-----` / `-----原始邮件-----`, an Outlook header block
    /// (`From:` … `Sent:`, `发件人:` … `发送时间:`); then the signature after `-- `, the trailing
    /// quoted block (`>` lines) and trailing phone signatures. An interleaved reply (answers
    /// between quoted lines) keeps its answers and the quotes they answer; only the attribution
    /// and the trailing quoted block go. Returns `text` itself when stripping would leave nothing.
    public static func visibleText(of text: String?) -> String? {
        guard let text else { return nil }
        // "\r\n" is one Character in Swift, so split on it as well as on "\n".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        var index = 0
        var sawContent = false
        scan: while index < lines.count {
            let line = trimmed(lines[index])
            if isHistoryMarker(line) || isOutlookHeader(lines, at: index) {
                var cut = index
                // Outlook puts a rule of underscores above its header block.
                if cut > 0, let previous = lines[..<cut].lastIndex(where: { !trimmed($0).isEmpty }),
                    trimmed(lines[previous]).allSatisfy({ $0 == "_" || $0 == "-" }), trimmed(lines[previous]).count >= 8
                {
                    cut = previous
                }
                lines.removeSubrange(cut...)
                break scan
            }
            if let count = attributionLength(lines, at: index) {
                if isInterleaved(lines, after: index + count) {
                    lines.removeSubrange(index..<(index + count))
                    continue scan
                }
                lines.removeSubrange(index...)
                break scan
            }
            if sawContent && isSignatureDelimiter(lines[index]) {
                lines.removeSubrange(index...)
                break scan
            }
            if !line.isEmpty { sawContent = true }
            index += 1
        }
        // The trailing quoted block, a dangling attribution and phone signatures, from the end.
        while let last = lines.last {
            let line = trimmed(last)
            if line.isEmpty || line.hasPrefix(">") || isPhoneSignature(line) {
                lines.removeLast()
            } else if lines.count >= 1, let count = attributionLength(lines, at: max(0, lines.count - 1)), count == 1 {
                lines.removeLast()
            } else if lines.count >= 2, attributionLength(lines, at: lines.count - 2) == 2 {
                lines.removeLast(2)
            } else {
                break
            }
        }
        while let first = lines.first, trimmed(first).isEmpty { lines.removeFirst() }
        let result = lines.joined(separator: "\n")
        return result.isEmpty ? text : result
    }

    private static func trimmed(_ line: Substring) -> Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{3000}" || $0 == "\u{A0}" || $0 == "\r" || $0 == "\r\n" }
        guard let start = line.firstIndex(where: { !isBlank($0) }) else { return "" }
        guard let end = line.lastIndex(where: { !isBlank($0) }) else { return "" }
        return line[start...end]
    }

    private static func isSignatureDelimiter(_ line: Substring) -> Bool {
        line == "-- " || line == "--" || line == "-- \u{A0}"
    }

    /// `-----Original Message-----`, `------------------ 原始邮件 ------------------` and kin.
    private static func isHistoryMarker(_ line: Substring) -> Bool {
        guard line.hasPrefix("--") || line.hasPrefix("——") else { return false }
        let lower = line.lowercased()
        return lower.contains("original message") || lower.contains("原始邮件") || lower.contains("原始郵件")
            || lower.contains("ursprüngliche nachricht") || lower.contains("message d'origine")
    }

    /// An Outlook-style header block: a `From:` line with a `Sent:`/`Date:` line close below.
    private static func isOutlookHeader(_ lines: [Substring], at index: Int) -> Bool {
        let line = trimmed(lines[index]).replacingStars()
        let fromLabels = ["From:", "发件人:", "发件人：", "寄件者:", "寄件者：", "Von:", "De :", "De:"]
        guard fromLabels.contains(where: { line.hasPrefix($0) }) else { return false }
        let sentLabels = ["Sent:", "Date:", "发送时间:", "发送时间：", "日期:", "日期：", "时间:", "时间：", "寄件日期:", "Gesendet:", "Envoyé :"]
        for next in lines[(index + 1)..<min(lines.count, index + 5)] {
            let candidate = trimmed(next).replacingStars()
            if sentLabels.contains(where: { candidate.hasPrefix($0) }) { return true }
        }
        return false
    }

    /// How many lines an attribution starting at `index` spans (1 or 2), or nil.
    private static func attributionLength(_ lines: [Substring], at index: Int) -> Int? {
        guard index < lines.count else { return nil }
        let line = trimmed(lines[index])
        if line.isEmpty || line.hasPrefix(">") { return nil }
        if isAttribution(line) { return 1 }
        if index + 1 < lines.count, line.count < 200 {
            let joined = line + " " + trimmed(lines[index + 1])
            if isAttribution(joined[...]), !isAttributionEnd(line) { return 2 }
        }
        return nil
    }

    private static func isAttribution(_ line: Substring) -> Bool {
        if line.hasPrefix("On ") && line.hasSuffix("wrote:") { return true }
        if line.hasSuffix("写道：") || line.hasSuffix("写道:") || line.hasSuffix("寫道：") || line.hasSuffix("寫道:") {
            return line.hasPrefix("在") || line.contains("于") || line.contains("於")
        }
        if line.hasPrefix("Le ") && (line.hasSuffix("a écrit :") || line.hasSuffix("a écrit:")) { return true }
        if line.hasPrefix("Am ") && line.hasSuffix(":") && line.contains("schrieb") { return true }
        return false
    }

    private static func isAttributionEnd(_ line: Substring) -> Bool {
        line.hasSuffix("wrote:") || line.hasSuffix("写道：") || line.hasSuffix("写道:")
    }

    /// Whether, after an attribution, the quote is answered inline: a line of the customer's own
    /// follows a quoted line (signatures and phone lines do not count).
    private static func isInterleaved(_ lines: [Substring], after start: Int) -> Bool {
        var sawQuote = false
        for line in lines[min(start, lines.count)...] {
            if isSignatureDelimiter(line) { return false }
            let text = trimmed(line)
            if text.isEmpty { continue }
            if text.hasPrefix(">") {
                sawQuote = true
            } else if sawQuote && !isPhoneSignature(text) {
                return true
            } else if !sawQuote {
                return false
            }
        }
        return false
    }

    private static func isPhoneSignature(_ line: Substring) -> Bool {
        let prefixes = ["Sent from my ", "Sent from Mail for ", "Sent from Outlook", "Get Outlook for ", "Sent from Yahoo Mail",
                        "发自我的", "来自我的", "从我的iPhone发送", "从我的 iPhone 发送", "發自我的", "Envoyé de mon ", "Von meinem "]
        return line.count < 80 && prefixes.contains { line.hasPrefix($0) }
    }
}

extension Substring {
    /// The line without Markdown-ish bold stars, which HTML-to-text conversions leave around labels.
    fileprivate func replacingStars() -> Substring {
        contains("*") ? Substring(filter { $0 != "*" }) : self
    }
}
