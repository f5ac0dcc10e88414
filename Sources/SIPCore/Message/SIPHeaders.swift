/// Header fields in the order they came, under canonical names (compact forms expanded, known
/// names in their usual spelling, unknown names as written). Names compare case-insensitively;
/// a header may occur on several lines and a list header may hold several values on one line
/// (`values` returns them split, in order).
public struct SIPHeaders: Sendable, Hashable, Sequence {
    public struct Field: Sendable, Hashable {
        /// The canonical name (known names spelled the usual way, others as first written).
        public var name: String
        /// CR, LF and NUL never reach the wire (they would end the header or split it).
        public var value: String {
            get { storedValue }
            set { storedValue = SIPHeaders.clean(newValue) }
        }
        /// The lower-cased name, what fields are compared by (§7.3.5).
        let key: String
        private var storedValue: String

        public init(name: String, value: String) {
            (self.name, key) = SIPHeaders.canonicalNameAndKey(name)
            storedValue = SIPHeaders.clean(value)
        }

        /// A field as the parser read it: the name's bytes (a token), the value's text.
        init(parsedName: UnsafeBufferPointer<UInt8>, value: String) {
            (name, key) = SIPHeaders.canonicalNameAndKey(bytes: parsedName)
            storedValue = SIPHeaders.clean(value)
        }

        public static func == (a: Field, b: Field) -> Bool { a.key == b.key && a.storedValue == b.storedValue }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(key)
            hasher.combine(storedValue)
        }
    }

    /// The text without CR, LF or NUL (each becomes a space).
    static func clean(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else { return text }
        return String(decoding: text.utf8.map { $0 == 0x0D || $0 == 0x0A || $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    public private(set) var fields: [Field] = []

    public init() {}

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    public var count: Int { fields.count }

    /// Appends a field (after any of the same name).
    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    mutating func add(_ field: Field) { fields.append(field) }

    mutating func reserveCapacity(_ count: Int) { fields.reserveCapacity(count) }

    /// Inserts a field before every other (a new top Via, a Record-Route).
    public mutating func prepend(_ name: String, _ value: String) {
        fields.insert(Field(name: name, value: value), at: 0)
    }

    /// Replaces every field of the name with one (appended where the first one was).
    public mutating func set(_ name: String, _ value: String) {
        let key = Self.key(name)
        if let index = fields.firstIndex(where: { $0.key == key }) {
            fields[index].value = value
            var position = fields.count - 1
            while position > index {
                if fields[position].key == key { fields.remove(at: position) }
                position -= 1
            }
        } else {
            fields.append(Field(name: name, value: value))
        }
    }

    public mutating func remove(_ name: String) {
        let key = Self.key(name)
        fields.removeAll { $0.key == key }
    }

    /// Puts a value before every other of its header, on a line of its own placed where the
    /// header's first line was (so a new top Via stays among the Vias).
    public mutating func prependValue(_ name: String, _ value: String) {
        let key = Self.key(name)
        if let index = fields.firstIndex(where: { $0.key == key }) {
            fields.insert(Field(name: name, value: value), at: index)
        } else {
            prepend(name, value)
        }
    }

    /// Removes the first value of a list header (the top Via), keeping the others of its line.
    public mutating func removeFirstValue(_ name: String) {
        let key = Self.key(name)
        guard let index = fields.firstIndex(where: { $0.key == key }) else { return }
        let values = SIPGrammar.splitList(fields[index].value)
        if values.count <= 1 {
            fields.remove(at: index)
        } else {
            fields[index].value = values.dropFirst().joined(separator: ", ")
        }
    }

    /// The first line's value of the header, as written (a list header's line unsplit).
    public func first(_ name: String) -> String? {
        let key = Self.key(name)
        return fields.first { $0.key == key }?.value
    }

    /// Every line's value of the header, in order.
    public func lines(_ name: String) -> [String] {
        lines(key: Self.key(name))
    }

    private func lines(key: String) -> [String] {
        // (One array, not the matching fields copied and then their values.)
        var lines: [String] = []
        for field in fields where field.key == key { lines.append(field.value) }
        return lines
    }

    /// Every value of the header in order: the lines' values, split at commas for list headers
    /// (never inside quotes or `<>`; never for headers whose grammar holds commas, such as
    /// Authorization or Date).
    public func values(_ name: String) -> [String] {
        let (canonical, key) = Self.canonicalNameAndKey(name)
        let lines = lines(key: key)
        guard Self.listHeaders.contains(canonical) else { return lines }
        return lines.flatMap { SIPGrammar.splitList($0) }
    }

    /// The first value of the header: `values(name).first`, without splitting (or collecting)
    /// the values after it. What the top Via, a Contact or a transaction's key is read from.
    public func firstValue(_ name: String) -> String? {
        let (canonical, key) = Self.canonicalNameAndKey(name)
        let list = Self.listHeaders.contains(canonical)
        for field in fields where field.key == key {
            guard list else { return field.value }
            if let value = SIPGrammar.firstListValue(field.value) { return value }
        }
        return nil
    }

    /// How many lines the header has (without collecting them).
    public func count(_ name: String) -> Int {
        count(key: Self.key(name))
    }

    func count(key: String) -> Int {
        var count = 0
        for field in fields where field.key == key { count += 1 }
        return count
    }

    public func contains(_ name: String) -> Bool {
        let key = Self.key(name)
        return fields.contains { $0.key == key }
    }

    /// What fields are compared by: the canonical name, lower-cased.
    static func key(_ name: String) -> String {
        // The same as the canonical name lower-cased: a known name's canonical spelling differs
        // from it only in case; a compact form is its long name.
        canonicalNameAndKey(name).key
    }

    /// The compact forms' keys.
    static let compactKeys: [UInt8: String] = compactForms.mapValues { $0.lowercased() }

    // MARK: Names

    /// RFC 3261 §7.3.3 and extensions: compact forms.
    static let compactForms: [UInt8: String] = [
        UInt8(ascii: "i"): "Call-ID", UInt8(ascii: "m"): "Contact", UInt8(ascii: "e"): "Content-Encoding",
        UInt8(ascii: "l"): "Content-Length", UInt8(ascii: "c"): "Content-Type", UInt8(ascii: "f"): "From",
        UInt8(ascii: "s"): "Subject", UInt8(ascii: "k"): "Supported", UInt8(ascii: "t"): "To", UInt8(ascii: "v"): "Via",
        UInt8(ascii: "o"): "Event", UInt8(ascii: "u"): "Allow-Events", UInt8(ascii: "r"): "Refer-To",
        UInt8(ascii: "b"): "Referred-By", UInt8(ascii: "x"): "Session-Expires", UInt8(ascii: "a"): "Accept-Contact",
        UInt8(ascii: "j"): "Reject-Contact", UInt8(ascii: "d"): "Request-Disposition", UInt8(ascii: "y"): "Identity",
        UInt8(ascii: "n"): "Identity-Info",
    ]

    /// Known names by their lower-case form.
    static let knownNames: [String: String] = {
        let names = [
            "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
            "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition", "Content-Encoding",
            "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From",
            "Identity", "Identity-Info", "In-Reply-To", "Max-Forwards", "Min-Expires", "MIME-Version", "Organization",
            "P-Asserted-Identity", "P-Preferred-Identity", "Path", "Priority", "Privacy", "Proxy-Authenticate",
            "Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route", "Refer-To", "Referred-By",
            "Reject-Contact", "Replaces", "Reply-To", "Request-Disposition", "Require", "Retry-After", "Route", "RSeq",
            "Server", "Service-Route", "Session-Expires", "Min-SE", "Subject", "Subscription-State", "Supported", "Timestamp",
            "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
        ]
        return Dictionary(uniqueKeysWithValues: names.map { ($0.lowercased(), $0) })
    }()

    /// Headers whose values are comma-separated lists (RFC 3261 §7.3.1: their lines may be
    /// combined and split).
    static let listHeaders: Set<String> = [
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events", "Call-Info", "Contact",
        "Content-Encoding", "Content-Language", "Error-Info", "In-Reply-To", "P-Asserted-Identity", "P-Preferred-Identity",
        "Path", "Proxy-Require", "Reason", "Record-Route", "Require", "Route", "Service-Route", "Supported", "Unsupported",
        "Via", "Warning",
    ]

    /// The canonical spelling of a header name and its key, from one lower-casing: a known
    /// name's canonical spelling differs from the name only in case, an unknown one is kept as
    /// written, so the key is the name lower-cased (a compact form's is its long name's).
    ///
    /// The hub names headers as it reads and builds every message (`first("Call-ID")`,
    /// `add("Via", ...)`), so a known name is found by its bytes among those of its length and
    /// both strings come from the table: no lower-cased copy, no hashing.
    static func canonicalNameAndKey(_ name: String) -> (name: String, key: String) {
        switch name.utf8.withContiguousStorageIfAvailable({ known(bytes: $0) }) {
        case .some(.some(let known)):
            return known
        case .some(.none):
            return (name, SIPGrammar.lowercasedASCII(name))
        case .none:
            // (Text not stored as UTF-8, such as a bridged string.)
            let lower = SIPGrammar.lowercasedASCII(name)
            if lower.utf8.count == 1, let known = lower.utf8.first.flatMap({ compactForms[$0] }) { return (known, known.lowercased()) }
            return (knownNames[lower] ?? name, lower)
        }
    }

    /// `canonicalNameAndKey` of a name's bytes (a token): a compact form or a known name found
    /// without making a string of the name first.
    static func canonicalNameAndKey(bytes name: UnsafeBufferPointer<UInt8>) -> (name: String, key: String) {
        if let known = known(bytes: name) { return known }
        let text = String(decoding: name, as: UTF8.self)
        return (text, SIPGrammar.lowercasedASCII(text))
    }

    /// A compact form's or a known name's canonical spelling and key, in any case.
    private static func known(bytes name: UnsafeBufferPointer<UInt8>) -> (name: String, key: String)? {
        if name.count == 1, let compact = compactForms[name[0] | 0x20], let key = compactKeys[name[0] | 0x20] { return (compact, key) }
        guard name.count < knownByLength.count, let first = name.first.map(SIPGrammar.lowercased) else { return nil }
        // (By index: the names of a length differ mostly in their first byte.)
        candidates: for known in knownByLength[name.count] where known.lower[0] == first {
            for index in 1..<name.count where SIPGrammar.lowercased(name[index]) != known.lower[index] { continue candidates }
            return (known.name, known.key)
        }
        return nil
    }

    /// The known names by their length: lower-cased bytes, canonical spelling, key.
    static let knownByLength: [[(lower: [UInt8], name: String, key: String)]] = {
        var table = [[(lower: [UInt8], name: String, key: String)]](repeating: [], count: 33)
        for (key, name) in knownNames where key.utf8.count < table.count {
            table[key.utf8.count].append((Array(key.utf8), name, key))
        }
        return table
    }()

    /// The canonical spelling of a header name.
    public static func canonicalName(_ name: String) -> String {
        canonicalNameAndKey(name).name
    }
}
