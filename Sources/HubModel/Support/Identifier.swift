import Foundation
import SystemRandomPool

/// A type whose identifiers carry a short, human-readable prefix ("cus_", "msg_").
public protocol IdentifierPrefixed {
    /// The prefix, without the underscore.
    static var identifierPrefix: String { get }
}

/// An opaque, typed identifier: the phantom `Entity` keeps a customer id from being passed where a
/// message id is expected, while the wire form stays a plain string.
public struct Identifier<Entity>: RawRepresentable, Hashable, Sendable, Comparable, Codable,
    CustomStringConvertible, ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

}

extension Identifier where Entity: IdentifierPrefixed {
    /// A new identifier: the prefix, then a ULID (48-bit millisecond time, 80 random bits, Crockford
    /// base32), so identifiers sort roughly by creation time and never collide in practice.
    public static func generate(at date: Date = Date()) -> Self {
        var generator = PooledSystemRandom()
        return Self(rawValue: Entity.identifierPrefix + "_" + ULID.make(at: date, using: &generator))
    }
}

/// ULID text encoding (https://github.com/ulid/spec): 10 characters of time, 16 of randomness.
enum ULID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func make(at date: Date, using generator: inout some RandomNumberGenerator) -> String {
        let milliseconds = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        var bytes = [UInt8](repeating: 0, count: 26)
        var time = milliseconds
        for index in stride(from: 9, through: 0, by: -1) {
            bytes[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        // 80 random bits, 5 at a time, for the last 16 characters, in two draws.
        let high = generator.next()
        var low = UInt16(truncatingIfNeeded: generator.next())
        var bits = high
        for index in stride(from: 25, through: 10, by: -1) {
            if index >= 23 {
                // The last three characters take 15 bits from `low`.
                bytes[index] = alphabet[Int(low & 31)]
                low >>= 5
            } else {
                bytes[index] = alphabet[Int(bits & 31)]
                bits >>= 5
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
