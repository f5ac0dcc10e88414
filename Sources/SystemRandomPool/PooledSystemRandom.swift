#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The system's random numbers, drawn from it 4 KiB at a time and handed out 64 bits at a time.
/// Every SIP call and every message takes several identifiers, tags and branches; asking the
/// kernel for each (`SystemRandomNumberGenerator` makes one `getrandom` call per 64 bits) was
/// about a hundredth of the hub's processor time at a thousand calls a second. The bytes are the
/// kernel's all the same; they only wait in the process for their turn.
public struct PooledSystemRandom: RandomNumberGenerator, Sendable {
    public init() {}

    public mutating func next() -> UInt64 { Self.pool.withLock { $0.take() } }

    private static let pool = Mutex(Pool())

    private struct Pool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        var next = 512

        mutating func take() -> UInt64 {
            if next == words.count {
                words.withUnsafeMutableBytes { raw in
                    #if canImport(Glibc) || canImport(Darwin)
                    // One call for the whole pool.
                    arc4random_buf(raw.baseAddress!, raw.count)
                    #else
                    var random = SystemRandomNumberGenerator()
                    for offset in stride(from: 0, to: raw.count, by: 8) {
                        raw.storeBytes(of: random.next() as UInt64, toByteOffset: offset, as: UInt64.self)
                    }
                    #endif
                }
                next = 0
            }
            defer { next += 1 }
            return words[next]
        }
    }
}
