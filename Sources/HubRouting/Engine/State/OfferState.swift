import HubModel

/// An open offer.
struct OfferState {
    /// The offer as published, kept while it is open; nil for one that an auto-accepting agent
    /// took at once (nobody reads it again).
    var offer: Offer?
    /// The offer's id and its task's, apart so that reading them copies nothing.
    var id: String
    var taskID: String
    /// Unique across the run: a timer of an earlier offer in the same slot is ignored.
    var number: Int64
    var task: Int32
    var taskSequence: Int64
    var agent: Int32
    var medium: ChannelMedium
    var open: Bool
}

/// What a timer refers to. Each carries the generation it was set for; a timer whose target has
/// moved on is ignored when it fires.
enum RouterTimer {
    case offerExpiry(offer: Int32, number: Int64)
    case stepExpiry(task: Int32, sequence: Int64, generation: UInt32)
    case delayReached(task: Int32, sequence: Int64, entry: UInt32)
    case agingCap(task: Int32, sequence: Int64, entry: UInt32)
    case waitedTooLong(task: Int32, sequence: Int64, entry: UInt32, rule: Int)
    case noAgent(task: Int32, sequence: Int64, entry: UInt32, rule: Int, staffGeneration: UInt32)
    case progressiveRing(task: Int32, sequence: Int64, generation: UInt32)
    case timeToLive(task: Int32, sequence: Int64)
    case agentReady(agent: Int32, generation: UInt32)
    case wrapUpEnd(agent: Int32, token: UInt64)
    case resumeExpiry(key: String, token: UInt64)
}

/// A timer whose place in line is taken, to enter the heap at the end of the instant.
struct PendingTimer {
    var timer: RouterTimer
    var deadline: RoutingInstant
    var order: UInt64
}

/// A task that left without an agent and may resume its place.
struct AbandonedWait {
    var ageBase: Int64
    var expiresAt: Int64
    var token: UInt64
}

/// SplitMix64: a small, fast, seedable generator; the same seed gives the same sequence on every
/// platform. The router's `random` strategy and the simulator draw from it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
