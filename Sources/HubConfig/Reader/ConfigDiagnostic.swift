/// Where something is in a configuration file.
public struct ConfigLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the problem concerns the whole file.
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `channels/api-demo.yaml:4:7`, the form editors and terminals turn into links.
    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }
}

/// One problem found in configuration: where, at which key, and what is wrong.
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var severity: Severity
    public var location: ConfigLocation
    /// The key path inside the file ("queues[1].sla.voice"); empty for the whole file.
    public var path: String
    public var message: String

    public init(severity: Severity, location: ConfigLocation, path: String, message: String) {
        self.severity = severity
        self.location = location
        self.path = path
        self.message = message
    }

    /// Errors stop the hub from starting; warnings do not (unless checked strictly).
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var description: String {
        "\(location): \(severity.rawValue): " + (path.isEmpty ? "" : "\(path): ") + message
    }
}
