import Yams

/// A node of a configuration file with its key path. Typed reads return nil and record a
/// diagnostic when the value has the wrong shape, so one pass reports every problem.
public struct ConfigNode {
    let document: ConfigDocument
    let node: Node
    /// "queues[1].sla.voice"
    public let path: String

    init(document: ConfigDocument, node: Node, path: String) {
        self.document = document
        self.node = node
        self.path = path
    }

    /// Where this node starts.
    public var location: ConfigLocation {
        let mark = node.mark
        return ConfigLocation(file: document.file, line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    /// Records an error at this node.
    public func error(_ message: String) { document.report(.error, at: location, path: path, message) }

    /// Records a warning at this node.
    public func warning(_ message: String) { document.report(.warning, at: location, path: path, message) }

    /// Whether this is a single value (not a mapping or list).
    public var isScalar: Bool {
        if case .scalar = node { return true }
        return false
    }

    /// Whether this is a list.
    public var isList: Bool {
        if case .sequence = node { return true }
        return false
    }

    /// The scalar text, or nil (with an error) for a mapping or list.
    public var string: String? {
        guard case .scalar(let scalar) = node else {
            error("expected a single value, found \(shapeName)")
            return nil
        }
        return scalar.string
    }

    /// A non-empty string.
    public var nonEmptyString: String? {
        guard let text = string else { return nil }
        guard !text.isEmpty else {
            error("must not be empty")
            return nil
        }
        return text
    }

    /// Whether this is YAML null (`~`, `null`, or nothing).
    public var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.tag == Tag(.null) || (scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string))
    }

    /// An integer within `range`.
    public func int(in range: ClosedRange<Int>) -> Int? {
        guard let text = string else { return nil }
        guard let value = Int(text) else {
            error("expected a whole number, found '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            error("\(value) is out of range (\(range.lowerBound)...\(range.upperBound))")
            return nil
        }
        return value
    }

    /// `true` or `false`.
    public var bool: Bool? {
        guard let text = string else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            error("expected true or false, found '\(text)'")
            return nil
        }
    }

    /// A duration such as `30s`, `250ms`, `5m`, `4h`, `1h30m` or `2d`; a bare number is seconds.
    public var duration: Duration? {
        guard let text = string else { return nil }
        guard let value = ConfigDuration.parse(text) else {
            error("expected a duration such as 30s, 5m, 4h or 1h30m, found '\(text)'")
            return nil
        }
        return value
    }

    /// One of `allowed` (case-sensitive), with a suggestion when it is close to one.
    public func oneOf(_ allowed: [String], what: String) -> String? {
        guard let text = string else { return nil }
        guard allowed.contains(text) else {
            error("unknown \(what) '\(text)'\(Suggestion.didYouMean(text, among: allowed)) (expected one of: \(allowed.joined(separator: ", ")))")
            return nil
        }
        return text
    }

    /// The entries of a mapping, in file order. Keys not in `allowedKeys` are reported (with a
    /// suggestion for typos) and skipped. Pass nil to accept any key.
    public func mapping(allowedKeys: [String]?) -> ConfigMapping? {
        guard case .mapping(let mapping) = node else {
            error("expected a mapping (key: value lines), found \(shapeName)")
            return nil
        }
        var entries: [(key: String, value: ConfigNode)] = []
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                ConfigNode(document: document, node: keyNode, path: path).error("keys must be plain names")
                continue
            }
            let key = keyScalar.string
            let child = ConfigNode(document: document, node: valueNode, path: path.isEmpty ? key : "\(path).\(key)")
            if !seen.insert(key).inserted {
                ConfigNode(document: document, node: keyNode, path: child.path).error("duplicate key '\(key)'")
                continue
            }
            if let allowedKeys, !allowedKeys.contains(key) {
                ConfigNode(document: document, node: keyNode, path: child.path).error(
                    "unknown key '\(key)'\(Suggestion.didYouMean(key, among: allowedKeys)) (allowed here: \(allowedKeys.joined(separator: ", ")))")
                continue
            }
            entries.append((key, child))
        }
        return ConfigMapping(owner: self, entries: entries)
    }

    /// The items of a list.
    public var list: [ConfigNode]? {
        guard case .sequence(let sequence) = node else {
            error("expected a list (lines starting with '- '), found \(shapeName)")
            return nil
        }
        return sequence.enumerated().map { index, item in
            ConfigNode(document: document, node: item, path: "\(path)[\(index)]")
        }
    }

    /// A list of strings; a single string counts as a list of one.
    public var stringList: [String]? {
        if isScalar, let single = string { return [single] }
        guard let items = list else { return nil }
        let strings = items.compactMap(\.string)
        return strings.count == items.count ? strings : nil
    }

    private var shapeName: String {
        switch node {
        case .scalar(let scalar): "the value '\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// The entries of a YAML mapping, read by key.
public struct ConfigMapping {
    /// The mapping node itself (for errors about missing keys).
    public let owner: ConfigNode
    public let entries: [(key: String, value: ConfigNode)]

    /// The value under `key`, if present and not null.
    public subscript(key: String) -> ConfigNode? {
        guard let value = entries.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
        return value
    }

    /// The value under `key`, or nil with an error saying it is required.
    public func required(_ key: String) -> ConfigNode? {
        guard let value = self[key] else {
            owner.error("missing required key '\(key)'")
            return nil
        }
        return value
    }
}

/// Suggestions for misspelt names.
enum Suggestion {
    /// " (did you mean 'kind'?)" when one candidate is within two edits, else "".
    static func didYouMean(_ text: String, among candidates: [String]) -> String {
        let best = candidates.map { ($0, distance(text.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= 2, best.1 < text.count else { return "" }
        return " (did you mean '\(best.0)'?)"
    }

    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
