/// Walks a MIME tree (RFC 2045/2046) and collects what a message shows: text and HTML bodies,
/// attachments, a delivery report, and the problems met on the way. Work is bounded by
/// `MailLimits`: parts past the part limit and multiparts past the depth limit are not read.
struct MIMETreeReader {
    let limits: MailLimits
    /// Recursion is capped whatever the limits say, so a huge `maximumDepth` cannot exhaust the stack.
    private let depthCap: Int

    private(set) var texts: [String] = []
    private(set) var htmlTexts: [String] = []
    private(set) var htmls: [String] = []
    private(set) var attachments: [MailAttachment] = []
    private(set) var deliveryStatus: (envelopeID: String?, recipients: [DeliveryReport.Recipient])?
    private(set) var returnedMessageID: String?
    private(set) var problems: [String] = []
    private(set) var partCount = 0
    private var problemSet = Set<String>()
    /// How many multipart/report parts enclose the part being read.
    private var insideReport = 0

    init(limits: MailLimits) {
        self.limits = limits
        depthCap = max(0, min(limits.maximumDepth, 64))
    }

    mutating func note(_ problem: String) {
        guard problems.count < 64, problemSet.insert(problem).inserted else { return }
        problems.append(problem)
    }

    /// Reads one entity's header section and classifies it; the body is not decoded yet.
    mutating func readPart(_ bytes: ArraySlice<UInt8>, defaultType: String) -> MIMEPart {
        partCount += 1
        let section = MailHeaderSection(bytes, limits: limits)
        for problem in section.problems { note(problem) }
        let rawTypeBytes = section.value("Content-Type")
        let provisional = MIMEFieldValue(rawTypeBytes.map { String(decoding: $0, as: UTF8.self) } ?? defaultType)
        var headerProblems = [String]()
        let headers = section.headers(fallbackCharset: provisional["charset"], problems: &headerProblems)
        for problem in headerProblems { note(problem) }
        // A raw 8-bit name= parameter is only readable once the header is decoded as text.
        let rawType = rawTypeBytes == nil ? nil : headers["Content-Type"]
        var contentType = rawTypeBytes.map { MailBytes.isASCII($0) } == false ? MIMEFieldValue(rawType ?? defaultType) : provisional
        if !Self.isValidType(contentType.value) {
            if let rawType { note("invalid Content-Type \"\(rawType.prefix(40))\"; read as \(defaultType)") }
            let parameters = contentType.parameters
            contentType = MIMEFieldValue(defaultType)
            if defaultType == "text/plain" { contentType.parameters["charset"] = parameters["charset"] }
        }
        return MIMEPart(
            headers: headers, contentType: contentType, disposition: headers["Content-Disposition"].map(MIMEFieldValue.init),
            transferEncoding: headers["Content-Transfer-Encoding"], body: bytes[section.bodyStart...])
    }

    private static func isValidType(_ type: String) -> Bool {
        guard let slash = type.firstIndex(of: "/") else { return false }
        return slash != type.startIndex && type.index(after: slash) != type.endIndex
    }

    /// Reads `part` and everything below it.
    mutating func walk(_ part: MIMEPart, depth: Int, inRelated: Bool) {
        let type = part.contentType.value
        if type.hasPrefix("multipart/") {
            walkMultipart(part, depth: depth)
        } else if type == "message/rfc822" || type == "message/global" {
            attachMessage(part)
        } else if type == "message/delivery-status" || type == "message/global-delivery-status" {
            if deliveryStatus == nil {
                let decoded = decodedBody(part)
                deliveryStatus = DeliveryReport.parseStatus(decoded, limits: limits)
            }
        } else if type == "text/rfc822-headers" || type == "message/global-headers" {
            let decoded = decodedBody(part)
            let section = MailHeaderSection(decoded[...], limits: limits)
            if returnedMessageID == nil, let id = section.value("Message-ID") {
                returnedMessageID = MailMessage.messageIDs(String(decoding: id, as: UTF8.self))?.first
            }
        } else {
            walkLeaf(part, inRelated: inRelated)
        }
    }

    private mutating func walkMultipart(_ part: MIMEPart, depth: Int) {
        guard depth < depthCap else {
            note("nesting deeper than \(limits.maximumDepth) levels; inner parts ignored")
            return
        }
        guard let boundary = part.contentType["boundary"]?.trimmingTrailingBlanks(), !boundary.isEmpty else {
            note("multipart without boundary; body read as text")
            walkLeaf(asText(part), inRelated: false)
            return
        }
        var body = part.body
        if let encoding = part.transferEncoding, ["base64", "quoted-printable"].contains(encoding.trimmingMailWhitespace().asciiLowercased()) {
            note("multipart with Content-Transfer-Encoding \(encoding); decoded first")
            body = TransferEncoding.decode(body, encoding: encoding).bytes[...]
        }
        let split = Self.split(body, boundary: Array(boundary.utf8), maximumParts: limits.maximumParts)
        guard split.found else {
            note("multipart boundary not found; body read as text")
            var text = asText(part)
            text.body = body
            walkLeaf(text, inRelated: false)
            return
        }
        if !split.closed { note("missing final boundary") }
        let subtype = part.contentType.value.dropFirst("multipart/".count)
        let childType = subtype == "digest" ? "message/rfc822" : "text/plain"
        var children = [MIMEPart]()
        children.reserveCapacity(split.parts.count)
        for bytes in split.parts {
            if partCount >= limits.maximumParts { break }
            children.append(readPart(bytes, defaultType: childType))
        }
        if split.parts.count > children.count { note("truncated at part limit (\(limits.maximumParts) parts)") }

        switch subtype {
        case "alternative":
            walkAlternative(children, depth: depth + 1)
        case "related":
            let start = part.contentType["start"].map { MIMEPart.stripAngles($0) }
            let rootIndex = start.flatMap { id in children.firstIndex { $0.contentID == id } } ?? 0
            for (index, child) in children.enumerated() {
                walk(child, depth: depth + 1, inRelated: index != rootIndex)
            }
        case "report":
            insideReport += 1
            for child in children { walk(child, depth: depth + 1, inRelated: false) }
            insideReport -= 1
        default:
            // mixed, signed, digest, parallel and unknown subtypes (RFC 2046 §5.1.7).
            for child in children { walk(child, depth: depth + 1, inRelated: false) }
        }
    }

    /// multipart/alternative: the text comes from the plain-text alternative (a text/plain part,
    /// or a multipart/mixed sent first as the plain version with its attachments), the HTML from
    /// the richest (last) HTML-bearing one; other alternatives are not shown. Attachments the
    /// HTML alternative repeats from the plain one are kept once.
    private mutating func walkAlternative(_ children: [MIMEPart], depth: Int) {
        let isHTMLBearing: (MIMEPart) -> Bool = { child in
            let type = child.contentType.value
            return (type == "text/html" && !Self.isAttachment(child)) || type == "multipart/related" || type == "multipart/mixed"
        }
        let htmlIndex = children.lastIndex(where: isHTMLBearing)
        let textIndex =
            children.firstIndex { $0.contentType.value == "text/plain" && !Self.isAttachment($0) }
            ?? children.firstIndex { $0.contentType.value == "multipart/mixed" }.flatMap { $0 == htmlIndex ? nil : $0 }
        let before = attachments.count
        if let textIndex { walk(children[textIndex], depth: depth, inRelated: false) }
        let afterText = attachments.count
        if let htmlIndex { walk(children[htmlIndex], depth: depth, inRelated: false) }
        if afterText > before && attachments.count > afterText {
            let fromText = attachments[before..<afterText]
            attachments = Array(attachments[..<afterText]) + attachments[afterText...].filter { !fromText.contains($0) }
        }
        if textIndex == nil && htmlIndex == nil, let last = children.last {
            walk(last, depth: depth, inRelated: false)
        }
    }

    private static func isAttachment(_ part: MIMEPart) -> Bool {
        part.disposition?.value == "attachment" || part.filename != nil
    }

    private func asText(_ part: MIMEPart) -> MIMEPart {
        var text = part
        text.contentType = MIMEFieldValue("text/plain")
        text.contentType.parameters["charset"] = part.contentType["charset"]
        return text
    }

    private mutating func walkLeaf(_ part: MIMEPart, inRelated: Bool) {
        let type = part.contentType.value
        let isBodyText = (type == "text/plain" || type == "text/html") && !Self.isAttachment(part)
            && !(inRelated && part.contentID != nil && type != "text/html")
        if isBodyText {
            let bytes = decodedBody(part)
            let isHTML = type == "text/html"
            let text = decodeText(bytes, charset: part.contentType["charset"], isHTML: isHTML)
            if isHTML {
                htmls.append(HTMLSanitizer.sanitize(text))
                htmlTexts.append(HTMLText.plainText(from: text))
            } else if part.contentType["format"]?.asciiLowercased() == "flowed" {
                let deleteSpace = part.contentType["delsp"]?.asciiLowercased() == "yes"
                texts.append(FlowedText.unflow(text, deleteSpace: deleteSpace))
            } else {
                texts.append(text)
            }
            return
        }
        let disposition = part.disposition?.value
        let contentID = part.contentID
        let isInline: Bool
        switch disposition {
        case "inline": isInline = true
        case "attachment": isInline = false
        default: isInline = inRelated || (contentID != nil && type.hasPrefix("image/"))
        }
        attachments.append(
            MailAttachment(filename: part.filename, contentType: type, contentID: contentID, isInline: isInline, bytes: decodedBody(part)))
    }

    /// A forwarded (or returned) message: kept whole as `<subject>.eml`; only its header
    /// section is read, so nesting costs nothing.
    private mutating func attachMessage(_ part: MIMEPart) {
        let bytes = decodedBody(part)
        let section = MailHeaderSection(bytes[...], limits: limits)
        var ignored = [String]()
        let inner = section.headers(fallbackCharset: nil, problems: &ignored)
        if returnedMessageID == nil, insideReport > 0, let id = inner["Message-ID"] {
            returnedMessageID = MailMessage.messageIDs(id)?.first
        }
        let subject = inner.decoded("Subject").flatMap { $0.isEmpty ? nil : $0 }
        let filename = MailAttachment.sanitizedFilename(subject.map { $0 + ".eml" }) ?? part.filename ?? "message.eml"
        attachments.append(
            MailAttachment(
                filename: filename, contentType: part.contentType.value, contentID: part.contentID,
                isInline: false, bytes: bytes))
    }

    private mutating func decodedBody(_ part: MIMEPart) -> [UInt8] {
        let (bytes, known) = TransferEncoding.decode(part.body, encoding: part.transferEncoding)
        if !known, let encoding = part.transferEncoding {
            note("unknown Content-Transfer-Encoding \(encoding.prefix(40)); body kept as is")
        }
        return bytes
    }

    private mutating func decodeText(_ bytes: [UInt8], charset declared: String?, isHTML: Bool) -> String {
        var charset = declared?.trimmingMailWhitespace()
        if charset?.isEmpty == true { charset = nil }
        if charset == nil && isHTML { charset = Self.metaCharset(bytes) }
        let label = charset?.asciiLowercased() ?? ""
        let wide = label.hasPrefix("utf-16") || label.hasPrefix("utf-32") || label.hasPrefix("ucs")
        let input = wide ? bytes : MailBytes.normalizingLineEndings(bytes)
        let (text, exact) = MailCharset.decode(input, charset: charset)
        if !exact {
            if charset == nil || MailCharset.resolve(charset) == .ascii {
                note("8-bit text without a charset; decoded as UTF-8, else GB18030")
            } else if !MailCharset.isKnown(charset) {
                note("undecodable charset \(label.prefix(40)), decoded as UTF-8 with replacement")
            } else {
                note("invalid bytes for charset \(label.prefix(40)); replaced with U+FFFD")
            }
        }
        return wide ? text.replacingCRLF() : text
    }

    /// The charset an HTML part declares in a `<meta>` tag within its first 2 KiB.
    private static func metaCharset(_ bytes: [UInt8]) -> String? {
        let head = bytes.prefix(2048)
        guard let found = MailBytes.firstRange(of: Array("charset=".utf8), in: head, ignoringCase: true) else { return nil }
        var i = found.upperBound
        while i < head.endIndex && (head[i] == 0x22 || head[i] == 0x27 || head[i] == MailBytes.space) { i += 1 }
        let start = i
        while i < head.endIndex, head[i] > 0x20, head[i] != 0x22, head[i] != 0x27, head[i] != 0x3E, head[i] != 0x3B, head[i] != 0x2F {
            i += 1
        }
        guard i > start, i - start <= 40 else { return nil }
        return String(decoding: head[start..<i], as: UTF8.self)
    }

    /// Splits a multipart body at its delimiter lines (RFC 2046 §5.1.1): a line starting with
    /// `--boundary`, optionally `--` for the last one, then only blanks. The line break before a
    /// delimiter belongs to it. The preamble and epilogue are dropped.
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8], maximumParts: Int)
        -> (parts: [ArraySlice<UInt8>], found: Bool, closed: Bool)
    {
        let delimiter = [0x2D, 0x2D] + boundary
        var parts = [ArraySlice<UInt8>]()
        var found = false
        var closed = false
        var partStart: Int?
        var i = body.startIndex
        while i < body.endIndex {
            let (content, next) = MailBytes.line(in: body, at: i)
            if content.count >= delimiter.count, body[content.lowerBound] == 0x2D,
                body[content.lowerBound..<(content.lowerBound + delimiter.count)].elementsEqual(delimiter)
            {
                var rest = content.lowerBound + delimiter.count
                let isClose = rest + 1 < content.upperBound && body[rest] == 0x2D && body[rest + 1] == 0x2D
                if isClose { rest += 2 }
                if body[rest..<content.upperBound].allSatisfy({ $0 == MailBytes.space || $0 == MailBytes.tab }) {
                    if let start = partStart {
                        parts.append(body[start..<Self.endBeforeLineBreak(body, start: start, lineStart: i)])
                    }
                    found = true
                    if isClose || parts.count > maximumParts {
                        closed = isClose
                        partStart = nil
                        break
                    }
                    partStart = next
                }
            }
            i = next
        }
        if let start = partStart, start <= body.endIndex { parts.append(body[start..<body.endIndex]) }
        return (parts, found, closed)
    }

    private static func endBeforeLineBreak(_ body: ArraySlice<UInt8>, start: Int, lineStart: Int) -> Int {
        var end = lineStart
        if end > start && body[end - 1] == MailBytes.lf { end -= 1 }
        if end > start && body[end - 1] == MailBytes.cr { end -= 1 }
        return end
    }
}

extension String {
    fileprivate func trimmingTrailingBlanks() -> String {
        var result = self
        while result.last == " " || result.last == "\t" { result.removeLast() }
        return result
    }

    fileprivate func replacingCRLF() -> String {
        guard utf8.contains(MailBytes.cr) else { return self }
        return String(decoding: MailBytes.normalizingLineEndings(Array(utf8)), as: UTF8.self)
    }
}
