import HubModel

/// An agent inside the router: profile, presence, load and the counters strategies read.
struct AgentState {
    // Fields in the order the decision path reads them, so that the hot ones share cache lines
    // (an agent's record is usually cold when it frees up); the profile, read rarely, is last.
    var active: Bool
    var presence: Presence
    /// No offers before this instant (reject, no-answer and busy delays).
    var readyAt: Int64
    var unitsUsed: Int
    /// Tasks of each medium held: offered (reserved), assigned, or in wrap-up.
    var load: PerMedium<Int>
    /// Memberships resolved to queue slots, in queue order.
    var memberships: [ResolvedMembership]
    /// The agent's entries in the free-agent sets: one place per membership and medium
    /// (`membership * 3 + medium`), nil when not free there.
    var freeEntries: [(set: Int32, key: AgentKey)?]
    /// How many of `freeEntries` are set.
    var freeEntryCount: Int
    /// Assignment, release, or becoming available: whichever came last.
    var lastFreeAt: Int64
    /// The profile's capacity settings as plain numbers (set with the profile): what every
    /// assignability check reads, without touching the profile's collections.
    var limits: AgentLimits
    var openOffers: [Int32]
    /// Tasks assigned and not yet completed.
    var assigned: SlotList
    /// The profile's id (it never changes for a slot), apart so that reading it copies nothing.
    var id: String
    var lastAssignedAt: Int64
    var lastAssignedOn: PerMedium<Int64>
    var counters: AgentCounters
    /// The profile's own wrap-up per medium in milliseconds (set with the profile); nil: the
    /// queue's. Next to the counters: a completion reads both.
    var wrapUp: PerMedium<Int64?>
    var consecutiveNoAnswer: Int
    var randomKey: Int64
    var readyGeneration: UInt32
    var wrapUps: [WrapUp]
    /// The profile's skills by interned number, sorted: what filter checks read.
    var skillLevels: [SkillEntry] = []
    var loginAt: Int64
    var profile: AgentProfile {
        didSet {
            limits = AgentLimits(profile)
            wrapUp = Self.wrapUp(profile)
        }
    }

    static func wrapUp(_ profile: AgentProfile) -> PerMedium<Int64?> {
        PerMedium(
            voice: profile.wrapUp.voice?.wholeMilliseconds, messaging: profile.wrapUp.messaging?.wholeMilliseconds,
            email: profile.wrapUp.email?.wholeMilliseconds)
    }

    struct WrapUp {
        var taskID: String
        var medium: ChannelMedium
        var until: Int64
        var token: UInt64
    }
}

struct SkillEntry {
    var id: Int32
    var level: Int
}

struct AgentLimits {
    var capacity: PerMedium<Int>
    var cost: PerMedium<Int>
    var units: Int
    /// Per medium in hand: bit `m.index` set when medium `m` may interrupt it.
    var interruptibleBy: PerMedium<UInt8>
    /// Bit `m.index` set when the agent auto-accepts medium `m`.
    var autoAccept: UInt8

    init(_ profile: AgentProfile) {
        capacity = profile.capacity
        cost = profile.cost
        units = profile.capacityUnits
        func bits(_ media: Set<ChannelMedium>) -> UInt8 { media.reduce(0) { $0 | (1 << UInt8($1.index)) } }
        interruptibleBy = PerMedium(
            voice: bits(profile.interruptibleBy.voice), messaging: bits(profile.interruptibleBy.messaging),
            email: bits(profile.interruptibleBy.email))
        autoAccept = bits(profile.autoAccept)
    }

    func autoAccepts(_ medium: ChannelMedium) -> Bool { autoAccept & (1 << UInt8(medium.index)) != 0 }

    /// Whether a task of `medium` may interrupt one of `held`.
    func interrupts(_ held: ChannelMedium, by medium: ChannelMedium) -> Bool { interruptibleBy[held] & (1 << UInt8(medium.index)) != 0 }
}

struct ResolvedMembership {
    var queue: Int32
    var tier: Int32
    var position: Int32
    var delay: Int64
}

/// Figures since the agent last logged in.
public struct AgentCounters: Sendable, Hashable, Codable {
    public var offered = 0
    public var accepted = 0
    public var declined = 0
    public var missed = 0
    public var handled = 0
    public var transferred = 0
    /// Assigned time of handled tasks (talk or chat time), milliseconds.
    public var handleMilliseconds: Int64 = 0

    public init() {}
}

/// The order of free agents in a queue for one medium: tier first, then the queue's strategy key,
/// then the agent slot.
struct AgentKey: Comparable, Hashable {
    // The two 32-bit fields side by side: 24 bytes a key instead of 32 (padding after `tier`),
    // so a free set's buckets take a quarter fewer cache lines.
    var tier: Int32
    var agent: Int32
    var first: Int64
    var second: Int64

    init(tier: Int32, first: Int64, second: Int64, agent: Int32) {
        self.tier = tier
        self.agent = agent
        self.first = first
        self.second = second
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.tier != rhs.tier { return lhs.tier < rhs.tier }
        if lhs.first != rhs.first { return lhs.first < rhs.first }
        if lhs.second != rhs.second { return lhs.second < rhs.second }
        return lhs.agent < rhs.agent
    }
}
