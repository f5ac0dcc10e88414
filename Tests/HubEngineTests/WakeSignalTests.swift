import Foundation
import Testing

@testable import HubEngine

/// The wake-up of the services' loops: signals, timeouts kept by one alarm, cancellation.
/// Times are checked from below only (a wait never ends before its deadline without a signal):
/// the tests run beside CPU-bound ones that hold the two threads of the concurrency pool for
/// seconds, so how late a wait ends says nothing; that it ends at all is the time limit's job.
@Suite("Wake signal", .timeLimit(.minutes(1)))
struct WakeSignalTests {
    static func elapsed(_ body: () async -> Void) async -> Duration {
        let start = ContinuousClock.now
        await body()
        return start.duration(to: .now)
    }

    @Test("a wait ends at a signal, or when its timeout passes")
    func signalOrTimeout() async {
        let wake = WakeSignal()
        wake.signal()  // before the wait: kept, and several collapse into one
        wake.signal()
        #expect(await Self.elapsed { await wake.wait(timeout: .seconds(30)) } < .seconds(30))
        let timedOut = await Self.elapsed { await wake.wait(timeout: .milliseconds(100)) }
        #expect(timedOut >= .milliseconds(100))
    }

    @Test("after many waits with a long timeout ended by signals, a shorter timeout still ends on time")
    func laterAndEarlierDeadlines() async {
        let wake = WakeSignal()
        for _ in 0..<1_000 {
            wake.signal()
            await wake.wait(timeout: .seconds(60))
        }
        let short = await Self.elapsed { await wake.wait(timeout: .milliseconds(150)) }
        #expect(short >= .milliseconds(150))
    }

    @Test("the alarm of a wait that a signal ended does not end the next wait early")
    func noEarlyWakeUp() async throws {
        let wake = WakeSignal()
        wake.signal()
        await wake.wait(timeout: .milliseconds(50))  // ended by the signal; its alarm stays set
        try await Task.sleep(for: .milliseconds(120))  // the alarm goes off meanwhile
        let next = await Self.elapsed { await wake.wait(timeout: .milliseconds(300)) }
        #expect(next >= .milliseconds(300))
        // A wait with a later deadline than the alarm's sleeps through the alarm.
        wake.signal()
        await wake.wait(timeout: .milliseconds(100))
        let later = await Self.elapsed { await wake.wait(timeout: .milliseconds(400)) }
        #expect(later >= .milliseconds(400))
    }

    @Test("a cancelled task's wait ends at once")
    func cancellation() async {
        let wake = WakeSignal()
        let waiting = Task { await Self.elapsed { await wake.wait(timeout: nil) } }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value < .seconds(30))
    }
}

