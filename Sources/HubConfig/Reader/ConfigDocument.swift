import Yams

/// One YAML configuration file being read: parses it, and collects every problem found while
/// typed values are read from it, each with its line and key path. Used on one thread, during
/// loading only.
public final class ConfigDocument {
    public let file: String
    public private(set) var diagnostics: [ConfigDiagnostic] = []
    /// The top-level node, nil when the file is empty or does not parse.
    public private(set) var root: ConfigNode?

    /// Parses `text`; syntax errors become diagnostics.
    public init(file: String, text: String) {
        self.file = file
        do {
            if let node = try Yams.compose(yaml: text) {
                root = ConfigNode(document: self, node: node, path: "")
            } else {
                report(.error, at: ConfigLocation(file: file, line: 0, column: 0), path: "", "the file is empty")
            }
        } catch let error as YamlError {
            let (location, message) = Self.describe(error, file: file)
            report(.error, at: location, path: "", message)
        } catch {
            report(.error, at: ConfigLocation(file: file, line: 0, column: 0), path: "", "cannot parse: \(error)")
        }
    }

    /// Records a problem.
    public func report(_ severity: ConfigDiagnostic.Severity, at location: ConfigLocation, path: String, _ message: String) {
        diagnostics.append(ConfigDiagnostic(severity: severity, location: location, path: path, message: message))
    }

    /// Whether any error (not warning) was recorded.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    private static func describe(_ error: YamlError, file: String) -> (ConfigLocation, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
            return (ConfigLocation(file: file, line: mark.line, column: mark.column), "YAML syntax error: \(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (
                ConfigLocation(file: file, line: context.mark.line, column: context.mark.column),
                "duplicate key\(duplicates.count > 1 ? "s" : "") \(duplicates.map { "'\($0)'" }.joined(separator: ", "))"
            )
        case .reader(let problem, _, _, _):
            return (ConfigLocation(file: file, line: 0, column: 0), "cannot read the file: \(problem)")
        default:
            return (ConfigLocation(file: file, line: 0, column: 0), "YAML error: \(error)")
        }
    }
}
