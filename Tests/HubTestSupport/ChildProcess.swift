import CTestSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A program the tests start (the hub, SIPp), by `posix_spawn` rather than Foundation's
/// `Process`, whose `run()` can crash a test process with many descriptors open (see
/// `ctest_spawn`). Its exit is learnt by polling `waitpid`, so no thread waits for it.
public final class ChildProcess: Sendable {
    public struct SpawnError: Error, CustomStringConvertible {
        public let executable: String
        public let code: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    public let processIdentifier: pid_t
    /// The exit status once the child has ended and been reaped: its exit code, or the number of
    /// the signal that ended it (as `Process.terminationStatus` has it).
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`. The environment is `environment` (the test
    /// process's own when nil); standard output and error are appended to the file at `output`
    /// (discarded when nil).
    public init(executable: String, arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil, output: String? = nil)
        throws
    {
        // Absolute: the child changes directory before its program is looked up.
        let executable = executable.hasPrefix("/") ? executable : FileManager.default.currentDirectoryPath + "/" + executable
        let argv = ([executable] + arguments).map { strdup($0) }
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let code = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                ctest_spawn(executable, argvBuffer.baseAddress, envpBuffer.baseAddress, workingDirectory, output, &pid)
            }
        }
        guard code == 0 else { throw SpawnError(executable: executable, code: code) }
        processIdentifier = pid
    }

    deinit {
        // Reaps the child if it has ended, so that no zombie stays behind; one still running is
        // the test's to end (`terminate`).
        _ = reap()
    }

    /// The exit status, or nil while the child runs.
    public var exitStatus: Int32? { reap() }

    public var isRunning: Bool { reap() == nil }

    /// Sends `signal` to the child (nothing once it has been reaped: its pid may be reused).
    public func signal(_ signal: Int32) {
        status.withLock { status in
            guard status == nil else { return }
            _ = kill(processIdentifier, signal)
        }
    }

    /// SIGKILL if it still runs, and waits for its end (test clean-up).
    public func terminate() {
        signal(SIGKILL)
        status.withLock { status in
            guard status == nil else { return }
            var raw: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(processIdentifier, &raw, 0) } while result == -1 && errno == EINTR
            status = result == processIdentifier ? Self.decode(raw) : Self.unknown
        }
    }

    /// Waits for the child to end and returns its exit status; nil when `timeout` passes first.
    public func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = reap() { return status }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func reap() -> Int32? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(processIdentifier, &raw, WNOHANG)
            if result == processIdentifier {
                status = Self.decode(raw)
            } else if result == -1, errno != EINTR {
                // Not this process's child any more (reaped elsewhere): ended, status unknown.
                status = Self.unknown
            }
            return status
        }
    }

    /// The status of a child whose end was seen but not its status.
    public static let unknown: Int32 = -1

    /// The exit code, or the signal's number (the `WIFEXITED` and `WTERMSIG` macros, which Swift
    /// does not import).
    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : signal
    }
}
