/// Reduces mail HTML to a safe whitelist for showing to agents: formatting, lists, tables,
/// links to http/https/mailto and images from `cid:` or `data:image/`. Scripts, styles, frames,
/// objects, event-handler attributes and `javascript:` URLs are removed; unknown elements are
/// dropped but their text kept; the output's tags are balanced.
enum HTMLSanitizer {
    static let allowedElements: Set<String> = [
        "p", "br", "div", "span", "b", "strong", "i", "em", "u", "a", "ul", "ol", "li", "blockquote", "pre", "code",
        "table", "tr", "td", "th", "thead", "tbody", "h1", "h2", "h3", "h4", "h5", "h6", "img", "hr",
    ]
    static let voidElements: Set<String> = ["br", "img", "hr"]
    /// Elements dropped together with everything inside them.
    static let droppedElements: Set<String> = ["head", "svg", "math", "object", "embed", "applet", "template", "frameset", "select"]

    static func sanitize(_ html: String) -> String {
        var tokenizer = HTMLTokenizer(html)
        var out = ""
        out.reserveCapacity(html.utf8.count)
        var open = [String]()
        var skipDepth = 0
        while let token = tokenizer.next() {
            switch token {
            case .rawText:
                continue
            case .text(let range):
                guard skipDepth == 0 else { continue }
                let text = tokenizer.string(range)
                out += text == "<" ? "&lt;" : text.replacingGreaterThan()
            case .startTag(let name, let attributes, let selfClosing):
                if droppedElements.contains(name) {
                    if !selfClosing && name != "embed" { skipDepth += 1 }
                    continue
                }
                guard skipDepth == 0, allowedElements.contains(name) else { continue }
                if !voidElements.contains(name) {
                    guard open.count < 256 else { continue }
                    open.append(name)
                }
                out += "<" + name + allowedAttributes(of: name, attributes) + ">"
            case .endTag(let name):
                if droppedElements.contains(name) {
                    if skipDepth > 0 { skipDepth -= 1 }
                    continue
                }
                guard skipDepth == 0, !voidElements.contains(name), let position = open.lastIndex(of: name) else { continue }
                for element in open[position...].reversed() { out += "</" + element + ">" }
                open.removeSubrange(position...)
            }
        }
        for element in open.reversed() { out += "</" + element + ">" }
        return out
    }

    private static func allowedAttributes(of element: String, _ attributes: [(name: String, value: String)]) -> String {
        var out = ""
        for (name, rawValue) in attributes {
            let value = HTMLEntities.decode(rawValue)
            switch (element, name) {
            case ("a", "href"):
                guard isAllowedLink(value) else { continue }
                out += " href=\"\(HTMLEntities.escape(value.trimmingMailWhitespace()))\" rel=\"noopener noreferrer nofollow\""
            case ("img", "src"):
                guard isAllowedImage(value) else { continue }
                out += " src=\"\(HTMLEntities.escape(value.trimmingMailWhitespace()))\""
            case ("img", "alt"), ("a", "title"), ("img", "title"):
                out += " \(name)=\"\(HTMLEntities.escape(value))\""
            case ("img", "width"), ("img", "height"), ("td", "colspan"), ("td", "rowspan"), ("th", "colspan"), ("th", "rowspan"):
                guard !value.isEmpty, value.utf8.count <= 5, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { continue }
                out += " \(name)=\"\(value)\""
            default:
                continue
            }
        }
        return out
    }

    /// The scheme with control characters and blanks removed (browsers ignore them, which is
    /// how `java\tscript:` slips past naive filters).
    private static func scheme(_ url: String) -> String {
        let cleaned = url.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }
        var scheme = ""
        for scalar in cleaned {
            if scalar == ":" { return scheme.asciiLowercased() }
            scheme.unicodeScalars.append(scalar)
            if scheme.unicodeScalars.count > 16 { break }
        }
        return ""
    }

    static func isAllowedLink(_ url: String) -> Bool {
        ["http", "https", "mailto"].contains(scheme(url))
    }

    static func isAllowedImage(_ url: String) -> Bool {
        switch scheme(url) {
        case "cid": return true
        case "data":
            let lower = String(url.unicodeScalars.filter { $0.value > 0x20 }).asciiLowercased()
            return lower.hasPrefix("data:image/") && !lower.hasPrefix("data:image/svg")
        default: return false
        }
    }
}

extension String {
    /// The text with `>` escaped (a stray `<` arrives as its own token).
    fileprivate func replacingGreaterThan() -> String {
        guard utf8.contains(0x3E) else { return self }
        return split(separator: ">", omittingEmptySubsequences: false).joined(separator: "&gt;")
    }
}
