/// A WeChat push document: `<xml>` with child elements whose content is text or CDATA.
///
/// WeChat's XML is flat and small, so a general XML library would be all cost: FoundationXML
/// brings libxml2, and a general parser brings DTDs and external entities, the XXE surface that
/// WeChat's own SDKs had to patch in 2018. This parser accepts only what WeChat sends: no
/// DOCTYPE, no entity declarations, no attributes, no processing instructions except a leading
/// `<?xml …?>`, the five predefined entities and numeric character references, and it stops at
/// configurable size, depth and element-count limits.
///
/// A value is a view of one element in the parsed document; `child(_:)` returns another view of
/// the same storage, so walking the tree does not copy it.
public struct WeChatXML: Sendable {
    /// The bounds that keep a hostile document from costing memory or stack.
    public struct Limits: Sendable, Equatable {
        /// The largest input accepted, in bytes.
        public var maxBytes: Int
        /// How many levels of elements may nest inside `<xml>`. WeChat's deepest push, the
        /// `pic_sysphoto` menu event (`SendPicsInfo/PicList/item/PicMd5Sum`), needs 4.
        public var maxDepth: Int
        /// The most elements, `<xml>` included, in one document.
        public var maxElements: Int

        /// The defaults fit every documented push with room to spare.
        public init(maxBytes: Int = 256 * 1024, maxDepth: Int = 4, maxElements: Int = 200) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxElements = maxElements
        }
    }

    /// One element. Children form a singly linked list of indexes into `nodes`.
    struct Node: Sendable {
        var name: String
        /// The decoded content of an element without child elements; `nil` for a container.
        var text: String?
        var firstChild = -1
        var lastChild = -1
        var nextSibling = -1
    }

    let nodes: [Node]
    let index: Int

    /// Parses a UTF-8 document.
    public init(_ bytes: [UInt8], limits: Limits = Limits()) throws(WeChatXMLError) {
        var parser = WeChatXMLParser(bytes: bytes, limits: limits)
        self.nodes = try parser.parseDocument()
        self.index = 0
    }

    /// Parses a document held as a `String`.
    public init(_ string: String, limits: Limits = Limits()) throws(WeChatXMLError) {
        // Checked before copying, so an oversized body is refused without a second allocation.
        guard string.utf8.count <= limits.maxBytes else {
            throw WeChatXMLError(.tooLarge, at: limits.maxBytes)
        }
        try self.init(Array(string.utf8), limits: limits)
    }

    private init(nodes: [Node], index: Int) {
        self.nodes = nodes
        self.index = index
    }

    /// The element's name: `xml` for the document itself.
    public var name: String { nodes[index].name }

    /// The element's text (entities decoded, CDATA sections joined, nothing trimmed), or `nil`
    /// when the element holds child elements instead.
    public var text: String? { nodes[index].text }

    /// The text of the first child element called `name`, or `nil` if there is none or it is a
    /// container.
    public subscript(name: String) -> String? { child(name)?.text }

    /// The first child element called `name`, such as `ScanCodeInfo` or `SendLocationInfo`.
    public func child(_ name: String) -> WeChatXML? {
        childIndexes.first { nodes[$0].name == name }.map { WeChatXML(nodes: nodes, index: $0) }
    }

    /// Every child element called `name`, in document order (`item` lists repeat a name).
    public func children(_ name: String) -> [WeChatXML] {
        childIndexes.filter { nodes[$0].name == name }.map { WeChatXML(nodes: nodes, index: $0) }
    }

    /// The names of the child elements in document order, for logging pushes we do not model.
    public var childNames: [String] { childIndexes.map { nodes[$0].name } }

    private var childIndexes: [Int] {
        var result: [Int] = []
        var next = nodes[index].firstChild
        while next >= 0 {
            result.append(next)
            next = nodes[next].nextSibling
        }
        return result
    }
}

/// Why a document was refused, and the byte offset where the parser noticed.
public struct WeChatXMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule the document broke.
    public enum Reason: String, Sendable, Equatable {
        case tooLarge = "document exceeds the size limit"
        case doctype = "DOCTYPE is not accepted"
        case entityDeclaration = "entity declarations are not accepted"
        case processingInstruction = "processing instructions are not accepted"
        case unsupportedMarkup = "markup declarations are not accepted"
        case missingRoot = "no root element"
        case rootNotXML = "the root element must be <xml>"
        case invalidName = "invalid element name"
        case attributes = "attributes are not accepted"
        case mismatchedEndTag = "end tag does not match the open element"
        case unexpectedEnd = "unexpected end of document"
        case tooDeep = "elements nest deeper than the limit"
        case tooManyElements = "more elements than the limit"
        case mixedContent = "text mixed with child elements"
        case undefinedEntity = "undefined entity"
        case invalidCharacterReference = "invalid character reference"
        case invalidUTF8 = "text is not valid UTF-8"
        case trailingContent = "content after the root element"
    }

    /// The rule the document broke.
    public let reason: Reason
    /// The byte offset into the input.
    public let position: Int

    init(_ reason: Reason, at position: Int) {
        self.reason = reason
        self.position = position
    }

    /// "WeChat XML error at byte N: reason", for logs.
    public var description: String { "WeChat XML error at byte \(position): \(reason.rawValue)" }
}

// MARK: - Writing

extension WeChatXML {
    /// One element of a document to render: CDATA text, escaped character data, or children.
    public struct Field: Sendable {
        enum Content: Sendable {
            case cdata(String)
            case text(String)
            case children([Field])
        }

        let name: String
        let content: Content

        /// `<name><![CDATA[value]]></name>`, the form WeChat uses for strings.
        public static func cdata(_ name: String, _ value: String) -> Field {
            Field(name: name, content: .cdata(value))
        }

        /// `<name>value</name>` with `&`, `<` and `>` escaped: the form WeChat uses for numbers
        /// and timestamps (`CreateTime`, `TimeStamp`).
        public static func text(_ name: String, _ value: String) -> Field {
            Field(name: name, content: .text(value))
        }

        /// `<name>value</name>` for an integer such as `CreateTime`.
        public static func integer(_ name: String, _ value: Int) -> Field {
            Field(name: name, content: .text(String(value)))
        }

        /// `<name>…</name>` around child elements, as in `<Image><MediaId>…</MediaId></Image>`.
        public static func element(_ name: String, _ children: [Field]) -> Field {
            Field(name: name, content: .children(children))
        }
    }

    /// Renders `<xml>…</xml>` around `fields`, in order.
    public static func render(_ fields: [Field]) -> String {
        var out = "<xml>"
        for field in fields { append(field, to: &out) }
        return out + "</xml>"
    }

    /// Renders `<xml>…</xml>` with every value as CDATA, the common case for passive replies.
    public static func render(_ fields: [(String, String)]) -> String {
        render(fields.map { Field.cdata($0.0, $0.1) })
    }

    private static func append(_ field: Field, to out: inout String) {
        assert(WeChatXMLParser.isName(Array(field.name.utf8)), "invalid XML element name \(field.name)")
        out += "<\(field.name)>"
        switch field.content {
        case .cdata(let value):
            // A CDATA section cannot contain "]]>", so end the section between "]]" and ">".
            out += "<![CDATA[" + value.replacing("]]>", with: "]]]]><![CDATA[>") + "]]>"
        case .text(let value):
            out += value.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
        case .children(let children):
            for child in children { append(child, to: &out) }
        }
        out += "</\(field.name)>"
    }
}

// MARK: - Parsing

/// The recursive-descent parser behind `WeChatXML.init`. Recursion is bounded by `maxDepth`,
/// every index is checked against the input length, and text accumulates in one reused buffer.
struct WeChatXMLParser {
    private let bytes: [UInt8]
    private let limits: WeChatXML.Limits
    private var position = 0
    private var nodes: [WeChatXML.Node] = []
    /// Text of the elements being parsed, innermost on top; each element pops its own part.
    private var text: [UInt8] = []

    init(bytes: [UInt8], limits: WeChatXML.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Parses the prolog, the `<xml>` root and the trailing whitespace; returns the elements.
    mutating func parseDocument() throws(WeChatXMLError) -> [WeChatXML.Node] {
        guard bytes.count <= limits.maxBytes else { throw WeChatXMLError(.tooLarge, at: limits.maxBytes) }
        if hasPrefix(Self.byteOrderMark) { position += Self.byteOrderMark.count }
        skipWhitespace()
        if hasPrefix(Self.declarationOpen) { try skipDeclaration() }
        try skipMisc()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "<") else { throw error(.missingRoot) }
        try parseElement(parent: -1, depth: 0)
        try skipMisc()
        guard position == bytes.count else { throw error(.trailingContent) }
        return nodes
    }

    // MARK: Elements

    /// Parses `<name>content</name>` or `<name/>` starting at `<`.
    private mutating func parseElement(parent: Int, depth: Int) throws(WeChatXMLError) {
        let start = position
        position += 1
        let nameRange = try readName()
        let name = String(decoding: bytes[nameRange], as: UTF8.self)
        guard depth > 0 || name == "xml" else { throw WeChatXMLError(.rootNotXML, at: start) }
        guard depth <= limits.maxDepth else { throw WeChatXMLError(.tooDeep, at: start) }
        guard nodes.count < limits.maxElements else { throw WeChatXMLError(.tooManyElements, at: start) }
        skipWhitespace()
        let isEmpty = hasPrefix(Self.emptyClose)
        if isEmpty {
            position += 2
        } else if position < bytes.count, bytes[position] == UInt8(ascii: ">") {
            position += 1
        } else {
            throw error(position < bytes.count ? .attributes : .unexpectedEnd)
        }
        let index = nodes.count
        nodes.append(WeChatXML.Node(name: name, text: isEmpty ? "" : nil))
        link(index, to: parent)
        if !isEmpty { try parseContent(of: index, nameRange: nameRange, depth: depth) }
    }

    /// Appends `index` to the children of `parent` in O(1).
    private mutating func link(_ index: Int, to parent: Int) {
        guard parent >= 0 else { return }
        if nodes[parent].lastChild >= 0 {
            nodes[nodes[parent].lastChild].nextSibling = index
        } else {
            nodes[parent].firstChild = index
        }
        nodes[parent].lastChild = index
    }

    /// Parses an element's content up to and including its end tag.
    ///
    /// Content is either text (with CDATA sections and references) or child elements separated
    /// by whitespace; mixing the two is refused, because no WeChat push does it and accepting it
    /// would leave "the value" of such an element ambiguous.
    private mutating func parseContent(of index: Int, nameRange: Range<Int>, depth: Int) throws(WeChatXMLError) {
        let contentStart = position
        let base = text.count
        defer { text.removeSubrange(base...) }
        var hasChildren = false
        var hasText = false
        while true {
            guard position < bytes.count else { throw error(.unexpectedEnd) }
            switch bytes[position] {
            case UInt8(ascii: "<"):
                if hasPrefix(Self.endOpen) {
                    try readEndTag(matching: nameRange)
                    return try finish(index, hasChildren: hasChildren, from: base, contentStart: contentStart)
                } else if hasPrefix(Self.cdataOpen) {
                    try readCDATA()
                    hasText = true
                } else if hasPrefix(Self.commentOpen) {
                    try skipComment()
                } else if hasPrefix(Self.markupOpen) || hasPrefix(Self.piOpen) {
                    throw rejectMarkup()
                } else {
                    hasChildren = true
                    try parseElement(parent: index, depth: depth + 1)
                }
            case UInt8(ascii: "&"):
                try readReference()
                hasText = true
            default:
                hasText = readCharacterData() || hasText
            }
            guard !(hasChildren && hasText) else { throw error(.mixedContent) }
        }
    }

    /// Stores the accumulated text of a leaf element, which must be valid UTF-8.
    private mutating func finish(
        _ index: Int, hasChildren: Bool, from base: Int, contentStart: Int
    ) throws(WeChatXMLError) {
        guard !hasChildren else { return }
        guard let value = String(validating: text[base...], as: UTF8.self) else {
            throw WeChatXMLError(.invalidUTF8, at: contentStart)
        }
        nodes[index].text = value
    }

    /// Reads `</name>` (optional whitespace before `>`); the name must match the open element.
    private mutating func readEndTag(matching nameRange: Range<Int>) throws(WeChatXMLError) {
        position += 2
        let start = position
        let endName = try readName()
        guard bytes[endName].elementsEqual(bytes[nameRange]) else { throw WeChatXMLError(.mismatchedEndTag, at: start) }
        skipWhitespace()
        guard position < bytes.count else { throw error(.unexpectedEnd) }
        guard bytes[position] == UInt8(ascii: ">") else { throw error(.mismatchedEndTag) }
        position += 1
    }

    /// Reads an XML name restricted to ASCII, which covers every element WeChat sends.
    private mutating func readName() throws(WeChatXMLError) -> Range<Int> {
        let start = position
        guard position < bytes.count else { throw error(.unexpectedEnd) }
        guard Self.isNameStart(bytes[position]) else { throw error(.invalidName) }
        position += 1
        while position < bytes.count, Self.isNameByte(bytes[position]) { position += 1 }
        return start..<position
    }

    // MARK: Text

    /// Appends a run of plain character data; returns whether it held anything but whitespace.
    private mutating func readCharacterData() -> Bool {
        let start = position
        var significant = false
        while position < bytes.count, bytes[position] != UInt8(ascii: "<"), bytes[position] != UInt8(ascii: "&") {
            significant = significant || !Self.isWhitespace(bytes[position])
            position += 1
        }
        text.append(contentsOf: bytes[start..<position])
        return significant
    }

    /// Appends the raw content of `<![CDATA[…]]>`: no entity decoding inside.
    private mutating func readCDATA() throws(WeChatXMLError) {
        position += Self.cdataOpen.count
        guard let end = find(Self.cdataClose) else { throw error(.unexpectedEnd) }
        text.append(contentsOf: bytes[position..<end])
        position = end + Self.cdataClose.count
    }

    /// Decodes `&lt;`, `&gt;`, `&amp;`, `&apos;`, `&quot;`, `&#NNN;` or `&#xHHH;`.
    private mutating func readReference() throws(WeChatXMLError) {
        let start = position
        // The longest valid reference, "&#x0010FFFF;" with a few leading zeros, fits in 16 bytes.
        let limit = min(bytes.count, position + 16)
        guard let semicolon = bytes[(position + 1)..<limit].firstIndex(of: UInt8(ascii: ";")) else {
            throw WeChatXMLError(.undefinedEntity, at: start)
        }
        let body = bytes[(position + 1)..<semicolon]
        position = semicolon + 1
        if body.first == UInt8(ascii: "#") {
            guard let scalar = Self.characterReference(body.dropFirst()) else {
                throw WeChatXMLError(.invalidCharacterReference, at: start)
            }
            text.append(contentsOf: Character(scalar).utf8)
        } else if let byte = Self.predefinedEntities.first(where: { $0.name.elementsEqual(body) })?.byte {
            text.append(byte)
        } else {
            throw WeChatXMLError(.undefinedEntity, at: start)
        }
    }

    /// The scalar of a numeric reference body (`65` or `x41`), or `nil` if it is not a
    /// character XML allows (NUL, surrogates and values past U+10FFFF are not).
    private static func characterReference(_ digits: ArraySlice<UInt8>) -> Unicode.Scalar? {
        var digits = digits
        var radix: UInt32 = 10
        if digits.first == UInt8(ascii: "x") {
            radix = 16
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt32 = 0
        for byte in digits {
            guard let digit = hexValue(byte), digit < radix else { return nil }
            value = value * radix + digit
            // Stops long before UInt32 could overflow: 0x10FFFF * 16 + 15 < 2^32.
            guard value <= 0x10FFFF else { return nil }
        }
        guard value != 0 else { return nil }
        return Unicode.Scalar(value)
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    // MARK: Prolog and markup

    /// Skips `<?xml …?>`. Any other processing instruction is refused.
    private mutating func skipDeclaration() throws(WeChatXMLError) {
        let start = position
        position += Self.declarationOpen.count
        guard position < bytes.count else { throw error(.unexpectedEnd) }
        // "<?xml-stylesheet" and the like are other instructions, not the declaration.
        guard Self.isWhitespace(bytes[position]) || bytes[position] == UInt8(ascii: "?") else {
            throw WeChatXMLError(.processingInstruction, at: start)
        }
        guard let end = find(Self.piClose) else { throw error(.unexpectedEnd) }
        guard !bytes[position..<end].contains(UInt8(ascii: "<")) else {
            throw WeChatXMLError(.processingInstruction, at: start)
        }
        position = end + Self.piClose.count
    }

    /// Skips whitespace and comments around the root element, refusing any other markup.
    private mutating func skipMisc() throws(WeChatXMLError) {
        while true {
            skipWhitespace()
            if hasPrefix(Self.commentOpen) {
                try skipComment()
            } else if hasPrefix(Self.markupOpen) || hasPrefix(Self.piOpen) {
                throw rejectMarkup()
            } else {
                return
            }
        }
    }

    private mutating func skipComment() throws(WeChatXMLError) {
        position += Self.commentOpen.count
        guard let end = find(Self.commentClose) else { throw error(.unexpectedEnd) }
        position = end + Self.commentClose.count
    }

    /// The error for `<!…` (other than CDATA and comments) or `<?…` at the current position.
    private func rejectMarkup() -> WeChatXMLError {
        if hasPrefix(Self.piOpen) { return error(.processingInstruction) }
        let keyword = bytes[(position + 2)..<min(bytes.count, position + 9)].map { $0 | 0x20 }
        if keyword.starts(with: Array("doctype".utf8)) { return error(.doctype) }
        if keyword.starts(with: Array("entity".utf8)) { return error(.entityDeclaration) }
        return error(.unsupportedMarkup)
    }

    // MARK: Scanning

    private mutating func skipWhitespace() {
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
    }

    private func hasPrefix(_ pattern: [UInt8]) -> Bool {
        bytes.count - position >= pattern.count && bytes[position..<(position + pattern.count)].elementsEqual(pattern)
    }

    /// The index of the next occurrence of `pattern` at or after `position`.
    private func find(_ pattern: [UInt8]) -> Int? {
        guard let first = pattern.first, bytes.count - position >= pattern.count else { return nil }
        var candidate = position
        while candidate <= bytes.count - pattern.count {
            if bytes[candidate] == first, bytes[candidate..<(candidate + pattern.count)].elementsEqual(pattern) {
                return candidate
            }
            candidate += 1
        }
        return nil
    }

    private func error(_ reason: WeChatXMLError.Reason) -> WeChatXMLError {
        WeChatXMLError(reason, at: position)
    }

    // MARK: Character classes

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func isNameStart(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: ":"):
            true
        default:
            false
        }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    /// Whether `name` is a name this parser would read back, which `render` asserts.
    static func isName(_ name: [UInt8]) -> Bool {
        guard let first = name.first, isNameStart(first) else { return false }
        return name.dropFirst().allSatisfy(isNameByte)
    }

    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
    static let declarationOpen = Array("<?xml".utf8)
    static let piOpen = Array("<?".utf8)
    static let piClose = Array("?>".utf8)
    static let markupOpen = Array("<!".utf8)
    static let commentOpen = Array("<!--".utf8)
    static let commentClose = Array("-->".utf8)
    static let cdataOpen = Array("<![CDATA[".utf8)
    static let cdataClose = Array("]]>".utf8)
    static let endOpen = Array("</".utf8)
    static let emptyClose = Array("/>".utf8)
    static let predefinedEntities: [(name: [UInt8], byte: UInt8)] = [
        (Array("lt".utf8), UInt8(ascii: "<")),
        (Array("gt".utf8), UInt8(ascii: ">")),
        (Array("amp".utf8), UInt8(ascii: "&")),
        (Array("apos".utf8), UInt8(ascii: "'")),
        (Array("quot".utf8), UInt8(ascii: "\"")),
    ]
}
