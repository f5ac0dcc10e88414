import Foundation
import HubTestSupport

/// The real `hub` executable, started as a child process with its log in a file.
final class HubProcess: Sendable {
    let process: ChildProcess
    let logPath: String

    /// The package root (where `swift run hub` runs).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built executable: `$HUB_BINARY`, or `.build/debug/hub`.
    static var binary: String {
        ProcessInfo.processInfo.environment["HUB_BINARY"] ?? packageRoot.appendingPathComponent(".build/debug/hub").path
    }

    init(arguments: [String], environment: [String: String], workingDirectory: URL = packageRoot, logDirectory: TemporaryDirectory) throws {
        logPath = logDirectory.url.appendingPathComponent("hub-\(UUID().uuidString.prefix(8)).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HUB_") && !$0.key.hasPrefix("SWITCHBOARD_") }
        env.merge(environment) { $1 }
        process = try ChildProcess(executable: Self.binary, arguments: arguments, environment: env, workingDirectory: workingDirectory.path, output: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits for the "http listening" line and returns the base URL.
    func waitUntilListening(timeout: Duration = .seconds(60)) async throws -> String {
        "http://" + (try await waitForAddress("http listening", timeout: timeout))
    }

    /// Waits for the log line `msg="<message>"` and returns its `address` value, unquoted.
    func waitForAddress(_ message: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in log.split(separator: "\n") where line.contains("msg=\"\(message)\"") {
                if let range = line.range(of: "address=") {
                    let rest = line[range.upperBound...]
                    if rest.hasPrefix("\"") {
                        return String(rest.dropFirst().prefix { $0 != "\"" })
                    }
                    return rest.split(separator: " ").first.map(String.init) ?? ""
                }
            }
            if !process.isRunning { throw HubProcessError.exited(log) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HubProcessError.timeout(log)
    }

    func signal(_ signal: Int32) { process.signal(signal) }

    /// Waits for the process to end and returns its exit status (or signal number).
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        guard let status = try await process.waitForExit(timeout: timeout) else { throw HubProcessError.timeout(log) }
        return status
    }

    /// Ends the process hard if it is still running, and reaps it (test clean-up).
    func kill() { process.terminate() }
}

enum HubProcessError: Error, CustomStringConvertible {
    case exited(String)
    case timeout(String)

    var description: String {
        switch self {
        case .exited(let log): "the hub exited early; its log:\n\(log)"
        case .timeout(let log): "timed out; the hub's log:\n\(log)"
        }
    }
}
