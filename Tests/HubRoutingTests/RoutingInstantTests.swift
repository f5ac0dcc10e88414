import Foundation
import Testing

@testable import HubRouting

@Suite("RoutingInstant")
struct RoutingInstantTests {
    @Test("spelled as the seconds with three decimals, as String(format: \"t+%.3fs\") spelled it")
    func description() {
        var generator = SystemRandomNumberGenerator()
        var samples: [Int64] = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 60_000, -1, -10, -500, -999, -1000, -1001, 1_796_502_811_774]
        for _ in 0..<3000 { samples.append(Int64.random(in: -(1 << 50)...(1 << 50), using: &generator)) }
        for _ in 0..<1000 { samples.append(Int64.random(in: -100_000...100_000, using: &generator)) }
        for milliseconds in samples {
            let instant = RoutingInstant(milliseconds: milliseconds)
            #expect(instant.description == String(format: "t+%.3fs", instant.seconds), "\(milliseconds)")
        }
    }
}
