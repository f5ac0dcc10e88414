import Foundation
import HubModel
import Logging
import Synchronization

/// One line per log event, to standard error: `logfmt` (key=value, for people and grep) or JSON
/// lines (for log shippers). Newlines inside values are escaped, so a line is always one event.
public struct StructuredLogHandler: LogHandler {
    /// The line format.
    public enum Format: String, Sendable, CaseIterable {
        case logfmt
        case json
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: Format
    private let output: LogOutput

    public init(label: String, level: Logger.Level, format: Format, output: LogOutput = .standardError) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let time = HubJSON.formatTimestamp(Date())
        let line: String
        switch format {
        case .logfmt:
            var parts = ["ts=\(time)", "level=\(event.level.rawValue)", "logger=\(Self.logfmt(label))", "msg=\(Self.logfmt(event.message.description))"]
            for key in fields.keys.sorted() { parts.append("\(key)=\(Self.logfmt(fields[key]!.description))") }
            line = parts.joined(separator: " ")
        case .json:
            var object: [String: String] = ["ts": time, "level": event.level.rawValue, "logger": label, "msg": event.message.description]
            for (key, value) in fields where object[key] == nil { object[key] = value.description }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        output.write(line + "\n")
    }

    /// A logfmt value: bare when it is a plain word, else quoted with escapes.
    static func logfmt(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7f }
        if plain { return value }
        var escaped = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    escaped += String(format: "\\u%04x", scalar.value)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }
}

/// Where log lines go. Writes of whole lines are serialized, so lines from concurrent tasks never
/// interleave.
public final class LogOutput: Sendable {
    private let lock = Mutex(())
    private let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    public static let standardError = LogOutput(descriptor: 2)

    func write(_ line: String) {
        var bytes = Array(line.utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { buffer in
                    Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written <= 0 { break }
                offset += written
            }
        }
        bytes.removeAll()
    }
}
