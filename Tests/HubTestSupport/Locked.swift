import Synchronization

/// A value behind a lock, in a class so that closures running in parallel can share it.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<Result>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }

    public var value: Value { mutex.withLock { $0 } }
}
