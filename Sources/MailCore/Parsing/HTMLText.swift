/// Plain text from mail HTML for the text shown to agents when a message has no text/plain
/// part: tags stripped, entities decoded, whitespace collapsed as a browser would, line breaks
/// kept for `<br>` and block elements, and `<blockquote>` content prefixed with `> ` so quoted
/// history can be recognised like in plain-text mail.
enum HTMLText {
    private static let blockElements: Set<String> = [
        "p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre", "blockquote", "section",
        "article", "header", "footer", "center", "address", "dl", "dt", "dd", "tbody", "thead",
    ]

    static func plainText(from html: String) -> String {
        var tokenizer = HTMLTokenizer(html)
        var builder = Builder()
        var skipDepth = 0
        var preDepth = 0
        while let token = tokenizer.next() {
            switch token {
            case .rawText:
                continue
            case .text(let range):
                guard skipDepth == 0 else { continue }
                builder.append(HTMLEntities.decode(tokenizer.string(range)), preformatted: preDepth > 0)
            case .startTag(let name, _, let selfClosing):
                if HTMLSanitizer.droppedElements.contains(name) {
                    if !selfClosing && name != "embed" { skipDepth += 1 }
                    continue
                }
                guard skipDepth == 0 else { continue }
                switch name {
                case "br": builder.newline(force: true)
                case "li":
                    builder.newline(force: false)
                    builder.append("- ", preformatted: true)
                case "td", "th": builder.append(" ", preformatted: false)
                case "blockquote":
                    builder.newline(force: false)
                    builder.quoteDepth += 1
                case "pre":
                    builder.newline(force: false)
                    preDepth += 1
                case "p":
                    builder.paragraph()
                default:
                    if blockElements.contains(name) { builder.newline(force: false) }
                }
            case .endTag(let name):
                if HTMLSanitizer.droppedElements.contains(name) {
                    if skipDepth > 0 { skipDepth -= 1 }
                    continue
                }
                guard skipDepth == 0 else { continue }
                switch name {
                case "blockquote":
                    builder.newline(force: false)
                    if builder.quoteDepth > 0 { builder.quoteDepth -= 1 }
                case "pre":
                    builder.newline(force: false)
                    if preDepth > 0 { preDepth -= 1 }
                case "p":
                    builder.paragraph()
                default:
                    if blockElements.contains(name) { builder.newline(force: false) }
                }
            }
        }
        return builder.finish()
    }

    private struct Builder {
        var lines: [String] = []
        var current = ""
        var currentDepth = 0
        var quoteDepth = 0
        var pendingSpace = false

        mutating func append(_ text: String, preformatted: Bool) {
            if preformatted {
                let pieces = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                for (index, piece) in pieces.enumerated() {
                    if index > 0 { newline(force: true) }
                    write(String(piece.filter { $0 != "\r" }))
                }
                return
            }
            for scalar in text.unicodeScalars {
                if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}" {
                    if !current.isEmpty { pendingSpace = true }
                } else {
                    if pendingSpace {
                        current.unicodeScalars.append(" ")
                        pendingSpace = false
                    }
                    if current.isEmpty { currentDepth = quoteDepth }
                    current.unicodeScalars.append(scalar == "\u{A0}" ? " " : scalar)
                }
            }
        }

        private mutating func write(_ text: String) {
            if current.isEmpty { currentDepth = quoteDepth }
            if pendingSpace {
                current += " "
                pendingSpace = false
            }
            current += text
        }

        mutating func newline(force: Bool) {
            pendingSpace = false
            if current.isEmpty && !force { return }
            if current.isEmpty { currentDepth = quoteDepth }
            lines.append(String(repeating: "> ", count: min(currentDepth, 8)) + current)
            current = ""
        }

        mutating func paragraph() {
            newline(force: false)
            if let last = lines.last, !last.isEmpty {
                lines.append(String(repeating: ">", count: min(quoteDepth, 8)))
            }
        }

        mutating func finish() -> String {
            newline(force: false)
            var result = [String]()
            var blankRun = 0
            for line in lines {
                var trimmed = line
                while trimmed.last == " " { trimmed.removeLast() }
                let isBlank = trimmed.isEmpty || trimmed.allSatisfy { $0 == ">" }
                blankRun = isBlank ? blankRun + 1 : 0
                if blankRun <= 1 { result.append(trimmed) }
            }
            while let first = result.first, first.isEmpty { result.removeFirst() }
            while let last = result.last, last.isEmpty || last.allSatisfy({ $0 == ">" }) { result.removeLast() }
            return result.joined(separator: "\n")
        }
    }
}
