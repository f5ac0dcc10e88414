/// Readable descriptions of JSON decoding errors, for error bodies: which field, and what is
/// wrong with it.
public enum JSONProblem {
    /// "from.id is required", "sentAt must be an ISO 8601 timestamp", "the body is not valid JSON".
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "the body is not valid JSON" }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "'\(key.stringValue)' is required" + (context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))")
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)) must be \(typeName(type))"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)) must be \(typeName(type)), not null"
        @unknown default: return "the body does not match the expected format"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.isEmpty ? "the body" : String(text.drop { $0 == "." })
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            if "\(type)".hasPrefix("Array") { "a list" } else if "\(type)".hasPrefix("Dictionary") { "an object" } else { "a value of type \(type)" }
        }
    }
}
