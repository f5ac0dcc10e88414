/// A condition over a task's and an agent's attributes, as written in routing rules:
///
///     task.vip == true
///     task.sentiment == 'angry' and task.intent in ['complaint', 'refund']
///     agent.skills.deescalation >= 7 or agent.seniority >= 3
///     agent.languages has task.language
///     not (task.tier == 'standard')
///
/// Paths start with `task.` or `agent.`; literals are 'text' or "text", numbers, `true`, `false`,
/// `null` and lists `[...]`. Operators: `==` `!=` `<` `<=` `>` `>=`, `in` (left value is one of the
/// list on the right, or a substring of the text), `has` (the list on the left holds the right
/// value), `and` / `&&`, `or` / `||`, `not` / `!`. A missing attribute equals only `null`; every
/// ordering comparison with it is false. A bare path is true when its value is true, a non-zero
/// number, non-empty text or a non-empty list.
public indirect enum AttributeExpression: Sendable, Hashable, CustomStringConvertible {
    case literal(AttributeValue?)
    case path(AttributePath)
    case list([AttributeExpression])
    case compare(AttributeExpression, ComparisonOperator, AttributeExpression)
    case and(AttributeExpression, AttributeExpression)
    case or(AttributeExpression, AttributeExpression)
    case not(AttributeExpression)

    public enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case isIn = "in"
        case has = "has"
    }

    /// Parses `text`.
    /// - Throws: `ExpressionError` with the offset of the problem.
    public init(parsing text: String) throws(ExpressionError) {
        var parser = ExpressionParser(text)
        self = try parser.parseWhole()
    }

    /// Whether the expression holds; `lookup` gives the value of a path (nil when absent).
    public func holds(_ lookup: (AttributePath) -> AttributeValue?) -> Bool {
        evaluate(lookup)?.truthy ?? false
    }

    /// The expression with every `task.` path replaced by its value: what remains depends on the
    /// agent only, and its description is a canonical key for it.
    public func bindingTask(_ lookup: (String) -> AttributeValue?) -> AttributeExpression {
        switch self {
        case .literal: self
        case .path(let path): path.scope == .task ? .literal(lookup(path.name)) : self
        case .list(let items): .list(items.map { $0.bindingTask(lookup) })
        case .compare(let left, let op, let right): .compare(left.bindingTask(lookup), op, right.bindingTask(lookup))
        case .and(let left, let right): .and(left.bindingTask(lookup), right.bindingTask(lookup))
        case .or(let left, let right): .or(left.bindingTask(lookup), right.bindingTask(lookup))
        case .not(let inner): .not(inner.bindingTask(lookup))
        }
    }

    /// Whether the expression mentions `agent.` paths.
    public var mentionsAgent: Bool {
        switch self {
        case .literal: false
        case .path(let path): path.scope == .agent
        case .list(let items): items.contains { $0.mentionsAgent }
        case .compare(let left, _, let right), .and(let left, let right), .or(let left, let right):
            left.mentionsAgent || right.mentionsAgent
        case .not(let inner): inner.mentionsAgent
        }
    }

    /// Every path the expression reads.
    public var paths: [AttributePath] {
        switch self {
        case .literal: []
        case .path(let path): [path]
        case .list(let items): items.flatMap(\.paths)
        case .compare(let left, _, let right), .and(let left, let right), .or(let left, let right): left.paths + right.paths
        case .not(let inner): inner.paths
        }
    }

    public var description: String {
        switch self {
        case .literal(let value): value?.description ?? "null"
        case .path(let path): path.description
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .compare(let left, let op, let right): "\(left) \(op.rawValue) \(right)"
        case .and(let left, let right): "(\(left) and \(right))"
        case .or(let left, let right): "(\(left) or \(right))"
        case .not(let inner): "not (\(inner))"
        }
    }

    private func evaluate(_ lookup: (AttributePath) -> AttributeValue?) -> AttributeValue? {
        switch self {
        case .literal(let value): return value
        case .path(let path): return lookup(path)
        case .list(let items):
            return .list(items.compactMap { $0.evaluate(lookup)?.text })
        case .and(let left, let right):
            return .bool(left.holds(lookup) && right.holds(lookup))
        case .or(let left, let right):
            return .bool(left.holds(lookup) || right.holds(lookup))
        case .not(let inner):
            return .bool(!inner.holds(lookup))
        case .compare(let left, let op, let right):
            return .bool(Self.compare(left.evaluate(lookup), op, right.evaluate(lookup)))
        }
    }

    private static func compare(_ left: AttributeValue?, _ op: ComparisonOperator, _ right: AttributeValue?) -> Bool {
        switch op {
        case .equal: return equal(left, right)
        case .notEqual: return !equal(left, right)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let left, let right else { return false }
            let order: Int
            switch (left, right) {
            case (.number(let a), .number(let b)): order = a < b ? -1 : (a > b ? 1 : 0)
            case (.string(let a), .string(let b)): order = a < b ? -1 : (a > b ? 1 : 0)
            default: return false
            }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        case .isIn:
            guard let left, let right else { return false }
            switch right {
            case .list(let items): return items.contains(left.text)
            case .string(let text): return text.contains(left.text)
            default: return equal(left, right)
            }
        case .has:
            guard let left, let right else { return false }
            switch left {
            case .list(let items): return items.contains(right.text)
            case .string(let text): return text.contains(right.text)
            default: return equal(left, right)
            }
        }
    }

    private static func equal(_ left: AttributeValue?, _ right: AttributeValue?) -> Bool {
        switch (left, right) {
        case (nil, nil): true
        case (nil, _), (_, nil): false
        case (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.list(let a), .list(let b)): a == b
        // Attributes arrive as text from channels: '5' equals 5 and 'true' equals true.
        case (.string(let text), let other?), (let other?, .string(let text)):
            AttributeValue(parsing: text) == other
        default: false
        }
    }
}

/// `task.language`, `agent.skills.billing`: a scope and a dotted name.
public struct AttributePath: Sendable, Hashable, CustomStringConvertible {
    public enum Scope: String, Sendable, Hashable {
        case task
        case agent
    }

    public var scope: Scope
    /// The rest of the path after the scope ("language", "skills.billing").
    public var name: String

    public init(scope: Scope, name: String) {
        self.scope = scope
        self.name = name
    }

    public var description: String { "\(scope.rawValue).\(name)" }
}

/// Why an expression does not parse, and where.
public struct ExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Offset in characters from the start of the expression.
    public var offset: Int
    public var message: String

    public var description: String { "\(message) (at character \(offset + 1))" }
}
