/// Recursive-descent parser of `AttributeExpression`:
///
///     or      := and (("or" | "||") and)*
///     and     := unary (("and" | "&&") unary)*
///     unary   := ("not" | "!") unary | compare
///     compare := operand (op operand)?
///     operand := path | 'text' | "text" | number | true | false | null | "[" operands "]" | "(" or ")"
struct ExpressionParser {
    private let characters: [Character]
    private var position = 0

    init(_ text: String) { characters = Array(text) }

    mutating func parseWhole() throws(ExpressionError) -> AttributeExpression {
        skipSpace()
        guard position < characters.count else { throw error("the expression is empty") }
        let expression = try parseOr()
        skipSpace()
        guard position == characters.count else { throw error("unexpected '\(String(characters[position...]).prefix(12))'") }
        return expression
    }

    private mutating func parseOr() throws(ExpressionError) -> AttributeExpression {
        var left = try parseAnd()
        while consumeWord("or") || consume("||") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> AttributeExpression {
        var left = try parseUnary()
        while consumeWord("and") || consume("&&") { left = .and(left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> AttributeExpression {
        if consumeWord("not") { return .not(try parseUnary()) }
        skipSpace()
        if position < characters.count, characters[position] == "!",
            position + 1 >= characters.count || characters[position + 1] != "="
        {
            position += 1
            return .not(try parseUnary())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(ExpressionError) -> AttributeExpression {
        let left = try parseOperand()
        for op in [">=", "<=", "==", "!=", ">", "<"] where consume(op) {
            return .compare(left, AttributeExpression.ComparisonOperator(rawValue: op)!, try parseOperand())
        }
        if consume("=") { throw error("use == to compare") }
        if consumeWord("in") { return .compare(left, .isIn, try parseOperand()) }
        if consumeWord("has") { return .compare(left, .has, try parseOperand()) }
        return left
    }

    private mutating func parseOperand() throws(ExpressionError) -> AttributeExpression {
        skipSpace()
        guard position < characters.count else { throw error("expected a value, found the end") }
        let character = characters[position]
        switch character {
        case "(":
            position += 1
            let inner = try parseOr()
            guard consume(")") else { throw error("expected ')'") }
            return inner
        case "[":
            position += 1
            var items: [AttributeExpression] = []
            if consume("]") { return .list(items) }
            repeat { items.append(try parseOperand()) } while consume(",")
            guard consume("]") else { throw error("expected ']' or ','") }
            return .list(items)
        case "'", "\"":
            return .literal(.string(try parseString(quote: character)))
        case "-", "0"..."9":
            let start = position
            position += 1
            while position < characters.count, characters[position].isNumber || characters[position] == "." { position += 1 }
            guard let number = Double(String(characters[start..<position])) else {
                position = start
                throw error("'\(String(characters[start..<min(start + 12, characters.count)]))' is not a number")
            }
            return .literal(.number(number))
        default:
            let start = position
            let word = parseName()
            guard !word.isEmpty else { throw error("unexpected '\(character)'") }
            switch word {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null", "nil": return .literal(nil)
            default: break
            }
            let parts = word.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let scope = AttributePath.Scope(rawValue: String(parts[0])), !parts[1].isEmpty else {
                position = start
                throw error("'\(word)' is not a value or a path (paths start with task. or agent.; text is quoted)")
            }
            return .path(AttributePath(scope: scope, name: String(parts[1])))
        }
    }

    private mutating func parseString(quote: Character) throws(ExpressionError) -> String {
        let start = position
        position += 1
        var text = ""
        while position < characters.count {
            let character = characters[position]
            position += 1
            if character == "\\", position < characters.count {
                text.append(characters[position])
                position += 1
            } else if character == quote {
                return text
            } else {
                text.append(character)
            }
        }
        position = start
        throw error("the text is not closed with \(quote)")
    }

    /// Letters, digits, `_`, `-` and `.`: skill names such as `lang-zh` are names.
    private mutating func parseName() -> String {
        let start = position
        while position < characters.count {
            let character = characters[position]
            guard character.isLetter || character.isNumber || character == "_" || character == "." || character == "-" else { break }
            position += 1
        }
        return String(characters[start..<position])
    }

    private mutating func skipSpace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpace()
        let token = Array(token)
        guard position + token.count <= characters.count, Array(characters[position..<position + token.count]) == token else { return false }
        position += token.count
        return true
    }

    /// A keyword, not the start of a longer name.
    private mutating func consumeWord(_ word: String) -> Bool {
        skipSpace()
        let token = Array(word)
        let end = position + token.count
        guard end <= characters.count, Array(characters[position..<end]) == token else { return false }
        if end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" { return false }
        position = end
        return true
    }

    private func error(_ message: String) -> ExpressionError { ExpressionError(offset: position, message: message) }
}
