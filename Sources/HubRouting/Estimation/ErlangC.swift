import Foundation

/// Queueing formulas for M/M/N (Erlang C) and M/M/N+M (Erlang A): the estimated wait, and the
/// oracle the simulator is checked against.
public enum ErlangC {
    /// Erlang B by the stable recursion B(n) = A·B(n−1) / (n + A·B(n−1)).
    public static func blocking(servers: Int, load: Double) -> Double {
        var b = 1.0
        if servers > 0 {
            for n in 1...servers { b = load * b / (Double(n) + load * b) }
        }
        return b
    }

    /// The probability that an arrival waits: C(N, A) = N·B / (N − A·(1 − B)). Requires A < N.
    public static func probabilityOfWaiting(servers: Int, load: Double) -> Double {
        let b = blocking(servers: servers, load: load)
        let n = Double(servers)
        return n * b / (n - load * (1 - b))
    }

    /// Average speed of answer over all arrivals: C / (N/τ − λ) = C·τ / (N − A).
    public static func averageWait(servers: Int, load: Double, handleTime: Double, probability: Double? = nil) -> Double {
        let c = probability ?? probabilityOfWaiting(servers: servers, load: load)
        return c * handleTime / (Double(servers) - load)
    }

    /// The share answered within `within` seconds: 1 − C·exp(−(N − A)·t/τ).
    public static func serviceLevel(servers: Int, load: Double, handleTime: Double, within: Double, probability: Double? = nil) -> Double {
        let c = probability ?? probabilityOfWaiting(servers: servers, load: load)
        return 1 - c * exp(-(Double(servers) - load) * within / handleTime)
    }

    /// Erlang A (exponential patience with mean `patience` seconds) by the truncated
    /// birth-death chain: P(wait), P(abandon) and the mean wait of all arrivals.
    public static func withAbandonment(servers: Int, arrivalsPerSecond lambda: Double, handleTime: Double, patience: Double)
        -> (probabilityOfWaiting: Double, probabilityOfAbandoning: Double, averageWait: Double)
    {
        let mu = 1 / handleTime
        let theta = 1 / patience
        let load = lambda * handleTime
        // Unnormalized π_n, computed in log space for large N.
        var weights: [Double] = []
        var term = 1.0
        weights.append(term)
        for n in 1...max(1, servers) {
            term *= load / Double(n)
            if term > 1e250 {
                weights = weights.map { $0 / term }
                term = 1
            }
            weights.append(term)
        }
        var n = servers
        var waitingMass = 0.0
        var lengthMass = 0.0
        var current = term
        while n < servers + 20_000 {
            n += 1
            current *= lambda / (Double(servers) * mu + Double(n - servers) * theta)
            waitingMass += current
            lengthMass += Double(n - servers) * current
            if current < 1e-18 * (waitingMass + term) { break }
        }
        let total = weights.reduce(0, +) + waitingMass
        let probabilityOfWaiting = (term + waitingMass) / total
        let lq = lengthMass / total
        return (probabilityOfWaiting, theta * lq / lambda, lq / lambda)
    }
}
