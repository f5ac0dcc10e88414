import Foundation

/// A point on the router's clock, in whole milliseconds. The router never reads a clock: every
/// event brings its instant, so the same events replay to the same decisions, in production (the
/// wall clock), in tests and in the simulator (a virtual clock).
public struct RoutingInstant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since an origin the caller chooses (the Unix epoch in the hub, zero in a
    /// simulation).
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public init(_ date: Date) { milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    public static let zero = RoutingInstant(milliseconds: 0)
    /// Later than any real instant: "never".
    static let distantFuture = RoutingInstant(milliseconds: .max / 4)

    public static func seconds(_ seconds: Double) -> RoutingInstant {
        RoutingInstant(milliseconds: Int64((seconds * 1000).rounded()))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
    public var seconds: Double { Double(milliseconds) / 1000 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public static func + (lhs: Self, rhs: Duration) -> Self { RoutingInstant(milliseconds: lhs.milliseconds &+ rhs.wholeMilliseconds) }
    public static func - (lhs: Self, rhs: Duration) -> Self { RoutingInstant(milliseconds: lhs.milliseconds &- rhs.wholeMilliseconds) }
    public static func - (lhs: Self, rhs: Self) -> Duration { .milliseconds(lhs.milliseconds - rhs.milliseconds) }

    /// "t+12.345s": the seconds with their three decimals, from the whole milliseconds (every
    /// offer's explanation spells instants out; `String(format:)` cost more than the offer).
    public var description: String {
        let magnitude = milliseconds.magnitude
        let fraction = magnitude % 1000
        let decimals = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "t+\(milliseconds < 0 ? "-" : "")\(magnitude / 1000).\(decimals)s"
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down; saturating for absurdly long durations.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        guard seconds < Int64.max / 2000 else { return Int64.max / 4 }
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in seconds as a floating-point number.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
