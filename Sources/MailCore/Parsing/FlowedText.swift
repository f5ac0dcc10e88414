/// RFC 3676 `format=flowed` text (Thunderbird, Apple Mail): lines ending in a space continue on
/// the next line. Unflowing gives agents paragraphs instead of hard-wrapped 72-column lines.
enum FlowedText {
    /// `text` (lines separated by `\n`) with flowed lines joined. `deleteSpace` is `delsp=yes`:
    /// the trailing space was added by the sender and is removed when joining (§4.2).
    static func unflow(_ text: String, deleteSpace: Bool) -> String {
        var output = [String]()
        var paragraph = ""
        var paragraphDepth = -1
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        func emit(_ line: String) { output.append(line) }
        for line in lines {
            // Quote depth (§4.5), then space-stuffing (§4.4).
            let depth = line.prefix(while: { $0 == ">" }).count
            var content = line.dropFirst(depth)
            if content.first == " " { content = content.dropFirst() }
            let quote = depth > 0 ? String(repeating: ">", count: depth) + " " : ""
            // A paragraph in progress ends if the quote depth changes.
            if paragraphDepth >= 0 && depth != paragraphDepth {
                emit(paragraph)
                paragraph = ""
                paragraphDepth = -1
            }
            let isSignature = content == "-- "
            let flowed = !isSignature && content.last == " "
            if paragraphDepth < 0 { paragraph = quote }
            if flowed {
                paragraph += deleteSpace ? content.dropLast() : content
                paragraphDepth = depth
            } else {
                paragraph += content
                emit(paragraph)
                paragraph = ""
                paragraphDepth = -1
            }
        }
        if paragraphDepth >= 0 { emit(paragraph) }
        return output.joined(separator: "\n")
    }
}
