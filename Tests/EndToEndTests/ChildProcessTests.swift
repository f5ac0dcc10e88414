import Foundation
import HubTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Test support: child processes by posix_spawn")
struct ChildProcessTests {
    @Test("with 1,500 descriptors open the child starts, in its directory, with only standard input, output and error, its output in the file")
    func manyDescriptors() async throws {
        // Foundation's `Process.run()` reads past its directory buffer at this many descriptors
        // (see CTestSpawn.h); the child must also not inherit them.
        // The soft limit raised where it is low (1,024 is common), so that the test process can
        // hold the 1,500 and its other tests' descriptors.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 8_192, limit.rlim_max > limit.rlim_cur {
            limit.rlim_cur = min(limit.rlim_max, 8_192)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        try #require(limit.rlim_cur >= 4_096, "the descriptor limit (\(limit.rlim_cur)) is too low for the test")
        let extra = 1_500
        var opened: [Int32] = []
        defer { for descriptor in opened { close(descriptor) } }
        for _ in 0..<extra {
            let descriptor = open("/dev/null", O_RDONLY)  // without O_CLOEXEC: inheritable
            try #require(descriptor >= 0)
            opened.append(descriptor)
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let output = directory.url.appendingPathComponent("out.txt").path
        let child = try ChildProcess(
            executable: "/bin/sh", arguments: ["-c", "pwd; ls /proc/self/fd; echo \"$MARK\" >&2; exit 3"], environment: ["MARK": "seen"],
            workingDirectory: directory.url.path, output: output)
        let status = try await child.waitForExit(timeout: .seconds(30))
        #expect(status == 3)
        #expect(!child.isRunning)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        try #require(lines.count >= 3, "\(lines)")
        #expect(URL(fileURLWithPath: lines[0]).resolvingSymlinksInPath().path == directory.url.resolvingSymlinksInPath().path)
        // 0, 1 and 2, and the descriptor `ls` reads /proc/self/fd through.
        let descriptors = lines.dropFirst().dropLast().compactMap { Int($0) }
        #expect(descriptors.count <= 4 && Set([0, 1, 2]).isSubset(of: descriptors), "\(descriptors)")
        #expect(lines.last == "seen")
    }

    @Test("a signal ends the child and its number is the status; a missing program is an error, not a crash")
    func signalAndMissing() async throws {
        let child = try ChildProcess(executable: "/bin/sleep", arguments: ["30"])
        #expect(child.isRunning)
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == SIGTERM)
        #expect(throws: ChildProcess.SpawnError.self) {
            try ChildProcess(executable: "/nonexistent/program", arguments: [])
        }
    }
}
