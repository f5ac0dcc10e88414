import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A hub process started for a benchmark from its release build, with its own data directory and
/// configuration in `scratch`, as in production.
public final class HubUnderTest: @unchecked Sendable {
    // Touched from the benchmark's task only.
    public let process = Process()
    public let logPath: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public init(binary: String, scratch: URL, durability: String, environment extra: [String: String] = [:], logLevel: String = "info") throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Failure("no hub executable at \(binary): run `swift build -c release --product hub` first")
        }
        logPath = scratch.appendingPathComponent("hub.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--http", "127.0.0.1:0", "--data", scratch.appendingPathComponent("data").path, "--channels",
            scratch.appendingPathComponent("channels").path, "--routing-rules", scratch.appendingPathComponent("routing-rules").path,
            "--durability", durability, "--log-level", logLevel,
        ]
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in extra { environment[name] = value }
        process.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardError = log
        process.standardOutput = log
        try process.run()
    }

    /// The base URL once the hub logs that it listens.
    public func waitUntilListening() async throws -> String {
        for _ in 0..<1200 {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.contains("msg=\"http listening\"") }),
                let range = line.range(of: "address=")
            {
                return "http://" + line[range.upperBound...].prefix { !$0.isWhitespace }
            }
            if !process.isRunning { throw Failure("the hub exited: \(log)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("the hub did not start listening")
    }

    /// A `kB` line of /proc/<pid>/status: VmRSS (resident now) or VmHWM (peak).
    public func statusKilobytes(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line.flatMap { Int($0.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") }
    }

    /// VmHWM of the hub process, in kB.
    public func peakResidentKilobytes() -> Int? { statusKilobytes("VmHWM") }

    /// CPU seconds the hub has used (user + system).
    public func cpuSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Signals the process (also when Foundation has not noticed it running: a signal to a
    /// process that is gone does nothing).
    public func stop(signal: Int32) {
        if process.processIdentifier > 0 { _ = Glibc.kill(process.processIdentifier, signal) }
    }

    public func waitForExit() async throws {
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
    }
}

/// Hands out consecutive numbers to concurrent workers.
public final class TicketDispenser: Sendable {
    private let next: Mutex<Int>

    public init(first: Int) { next = Mutex(first) }

    public func take() -> Int {
        next.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

/// The value at `p` (0...1) of sorted values.
public func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
}
