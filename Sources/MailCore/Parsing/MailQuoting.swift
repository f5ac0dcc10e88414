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
        let all = lines(of: text)
        let interleaved = InterleavingIndex(all)
        var dropped = [Bool](repeating: false, count: all.count)
        var end = all.count
        var index = 0
        var sawContent = false
        scan: while index < all.count {
            let line = trimmed(all[index])
            if isHistoryMarker(line) || isOutlookHeader(all, at: index) {
                end = index
                // Outlook puts a rule of underscores above its header block.
                if index > 0, let previous = all[..<index].lastIndex(where: { !trimmed($0).isEmpty }) {
                    let rule = trimmed(all[previous])
                    if rule.count >= 8 && rule.allSatisfy({ $0 == "_" || $0 == "-" }) { end = previous }
                }
                break scan
            }
            if let count = attributionLength(all, at: index) {
                guard interleaved.answered(after: index + count) else {
                    end = index
                    break scan
                }
                for dropping in index..<(index + count) { dropped[dropping] = true }
                index += count
                continue scan
            }
            if sawContent && isSignatureDelimiter(all[index]) {
                end = index
                break scan
            }
            if !line.isEmpty { sawContent = true }
            index += 1
        }
        var lines = (0..<end).filter { !dropped[$0] }.map { all[$0] }
        // The trailing quoted block, a dangling attribution and phone signatures, from the end.
        while let last = lines.last {
            let line = trimmed(last)
            if line.isEmpty || isQuoted(line) || isPhoneSignature(line) {
                lines.removeLast()
            } else if attributionLength(lines, at: lines.count - 1) == 1 {
                lines.removeLast()
            } else if lines.count >= 2, attributionLength(lines, at: lines.count - 2) == 2 {
                lines.removeLast(2)
            } else {
                break
            }
        }
        lines.removeFirst(lines.firstIndex { !trimmed($0).isEmpty } ?? lines.count)
        let result = lines.joined(separator: "\n")
        return result.isEmpty ? text : result
    }

    /// The lines of `text`, split at "\n" with a "\r" before it dropped. (One pass over the
    /// bytes: splitting by Characters costs grapheme breaking on every byte of every mail.)
    static func lines(of text: String) -> [Substring] {
        let utf8 = text.utf8
        var lines: [Substring] = []
        var start = utf8.startIndex
        while let newline = utf8[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var end = newline
            if end > start, utf8[utf8.index(before: end)] == UInt8(ascii: "\r") { end = utf8.index(before: end) }
            lines.append(text[start..<end])
            start = utf8.index(after: newline)
        }
        lines.append(text[start...])
        return lines
    }

    /// The line without blanks (spaces, tabs, ideographic and no-break spaces) at either end,
    /// found by Unicode scalar.
    fileprivate static func trimmed(_ line: Substring) -> Substring {
        let isBlank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{3000}" || $0 == "\u{A0}" || $0 == "\r" || $0 == "\n" }
        let scalars = line.unicodeScalars
        guard let start = scalars.firstIndex(where: { !isBlank($0) }), let last = scalars.lastIndex(where: { !isBlank($0) }) else { return "" }
        return line[start..<scalars.index(after: last)]
    }

    fileprivate static func isSignatureDelimiter(_ line: Substring) -> Bool {
        line == "-- " || line == "--" || line == "-- \u{A0}"
    }

    /// `-----Original Message-----`, `------------------ 原始邮件 ------------------` and kin.
    private static func isHistoryMarker(_ line: Substring) -> Bool {
        guard line.utf8.starts(with: "--".utf8) || line.utf8.starts(with: "——".utf8) else { return false }
        let lower = line.lowercased()
        return lower.contains("original message") || lower.contains("原始邮件") || lower.contains("原始郵件")
            || lower.contains("ursprüngliche nachricht") || lower.contains("message d'origine")
    }

    /// An Outlook-style header block: a `From:` line with a `Sent:`/`Date:` line close below.
    private static func isOutlookHeader(_ lines: [Substring], at index: Int) -> Bool {
        // Every label below starts with one of these (after stars): most lines are out at once.
        guard let first = trimmed(lines[index]).unicodeScalars.first(where: { $0 != "*" }), "F发寄VD".unicodeScalars.contains(first) else {
            return false
        }
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
        if line.isEmpty || isQuoted(line) { return nil }
        if isAttribution(line) { return 1 }
        // Every attribution ends with a colon: only then is joining two lines worth it.
        if index + 1 < lines.count, let last = trimmed(lines[index + 1]).unicodeScalars.last, last == ":" || last == "：",
            Self.isShorter(line, than: 200)
        {
            let joined = line + " " + trimmed(lines[index + 1])
            if isAttribution(joined[...]), !isAttributionEnd(line) { return 2 }
        }
        return nil
    }

    /// `line.count < limit` without counting the Characters of a long line.
    static func isShorter(_ line: Substring, than limit: Int) -> Bool {
        line.utf8.count < limit || line.index(line.startIndex, offsetBy: limit, limitedBy: line.endIndex) == nil
    }

    private static func isAttribution(_ line: Substring) -> Bool {
        // Every form below ends with a colon: most lines are out at once.
        guard let last = line.unicodeScalars.last, last == ":" || last == "：" else { return false }
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

    /// Answers, in constant time per attribution, whether the quote after it is answered inline:
    /// the first non-blank line is quoted and a line of the customer's own (not a phone
    /// signature) follows before the signature delimiter. Built in one backward pass, so many
    /// attributions cost linear time.
    private struct InterleavingIndex {
        /// For each line, the index of the first non-blank line at or after it.
        private var nextNonBlank: [Int]
        /// For each line, whether an own line follows it before the next signature delimiter.
        private var ownLineBelow: [Bool]
        private let lines: [Substring]

        init(_ lines: [Substring]) {
            self.lines = lines
            nextNonBlank = [Int](repeating: lines.count, count: lines.count + 1)
            ownLineBelow = [Bool](repeating: false, count: lines.count + 1)
            var seen = false
            for index in stride(from: lines.count - 1, through: 0, by: -1) {
                ownLineBelow[index] = seen
                let text = MailQuoting.trimmed(lines[index])
                nextNonBlank[index] = text.isEmpty ? nextNonBlank[index + 1] : index
                if MailQuoting.isSignatureDelimiter(lines[index]) {
                    seen = false
                } else if !text.isEmpty && !MailQuoting.isQuoted(text) && !MailQuoting.isPhoneSignature(text) {
                    seen = true
                }
            }
        }

        func answered(after start: Int) -> Bool {
            guard start < lines.count else { return false }
            let first = nextNonBlank[start]
            guard first < lines.count, !MailQuoting.isSignatureDelimiter(lines[first]),
                MailQuoting.isQuoted(MailQuoting.trimmed(lines[first]))
            else { return false }
            return ownLineBelow[first]
        }
    }

    fileprivate static func isQuoted(_ line: Substring) -> Bool {
        line.utf8.first == UInt8(ascii: ">")
    }

    private static let phoneSignatures = [
        "Sent from my ", "Sent from Mail for ", "Sent from Outlook", "Get Outlook for ", "Sent from Yahoo Mail",
        "发自我的", "来自我的", "从我的iPhone发送", "从我的 iPhone 发送", "發自我的", "Envoyé de mon ", "Von meinem ",
    ]
    /// The first scalar of every phone signature: other lines are out without a comparison.
    private static let phoneSignatureStarts = Set(phoneSignatures.compactMap(\.unicodeScalars.first))

    fileprivate static func isPhoneSignature(_ line: Substring) -> Bool {
        guard let first = line.unicodeScalars.first, phoneSignatureStarts.contains(first) else { return false }
        return phoneSignatures.contains { line.hasPrefix($0) } && isShorter(line, than: 80)
    }
}

extension Substring {
    /// The line without Markdown-ish bold stars, which HTML-to-text conversions leave around labels.
    fileprivate func replacingStars() -> Substring {
        contains("*") ? Substring(filter { $0 != "*" }) : self
    }
}
