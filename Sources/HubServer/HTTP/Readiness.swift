import ServiceLifecycle
import Synchronization

/// Whether the hub takes traffic: `/readyz` answers 200 only while `ready`.
public final class Readiness: Sendable {
    /// The phases of the process.
    public enum Phase: String, Sendable {
        case starting
        case ready
        case stopping
    }

    private let phase = Mutex(Phase.starting)

    public init() {}

    public var current: Phase { phase.withLock { $0 } }

    public func set(_ value: Phase) { phase.withLock { $0 = value } }
}

/// Marks the hub as stopping as soon as graceful shutdown begins, before the HTTP server drains,
/// so load balancers stop sending traffic first.
struct ShutdownWatcher: Service {
    let readiness: Readiness

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(.stopping)
    }
}
