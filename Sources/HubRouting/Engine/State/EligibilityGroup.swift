import HubModel

/// Waiting tasks that admit exactly the same agents: one queue, one medium, one membership delay
/// level and one resolved step filter (task requirements included). An agent who frees up looks
/// only at the heads of the groups that admit them, so tasks an agent cannot take never block
/// those it can (no head-of-line blocking), and each look is a constant-time peek.
struct EligibilityGroup {
    let key: GroupKey
    /// Whether the group is listed in its queue's (or pinned agents') index.
    var listed = false
    /// Cache of "some admitted agent is logged in", valid for one presence version.
    var loggedInVersion: UInt64 = .max
    var anyLoggedIn = false

    init(key: GroupKey) { self.key = key }
}

/// What a free agent reads of each group it looks at, kept apart from the group's key and
/// flags (engine arrays indexed by group slot) so that a look copies nothing.
struct GroupTasks {
    /// Tasks ordered by priority (with aging, those still aging).
    var aging = SortedBag<TaskKey>()
    /// With capped aging: tasks whose boost reached the cap.
    var capped = SortedBag<TaskKey>()

    var isEmpty: Bool { aging.isEmpty && capped.isEmpty }
}

/// What a free agent reads of every group it looks at, in one small record apart from the group's
/// key (whose filter holds arrays) and its task sets: queue, medium and delay as plain numbers,
/// and the first task of each task set with its serving order copied, so that a look touches no
/// other memory (a group's sets and the tasks' own records are far apart and rarely in cache).
struct GroupHead {
    var queue: Int32
    var medium: ChannelMedium
    var delay: Int64
    /// The first task of the aging set and of the capped set; -1 when the set is empty.
    var aging: Int32 = -1
    var capped: Int32 = -1
    var agingUrgency = Urgency()
    var cappedUrgency = Urgency()

    init(queue: Int32, medium: ChannelMedium, delay: Int64) {
        self.queue = queue
        self.medium = medium
        self.delay = delay
    }
}

struct GroupKey: Hashable {
    var queue: Int32
    var medium: ChannelMedium
    /// Membership delay in milliseconds (0 for pinned groups).
    var delay: Int64
    var filter: ResolvedFilter
}

extension GroupKey: SlotTableKey {
    static var placeholder: GroupKey {
        GroupKey(queue: -1, medium: .voice, delay: 0, filter: ResolvedFilter(tierAtMost: nil, skills: [], agents: nil, expression: nil))
    }

    /// Every field, the skills' names byte by byte; an expression (rare) through `Hasher`.
    func slotHash(seed: UInt64) -> UInt64 {
        var hash = FNV1a(seed: seed)
        hash.add(UInt64(UInt32(bitPattern: queue)) | UInt64(medium.index) << 32)
        hash.add(UInt64(bitPattern: delay))
        hash.add(filter.tierAtMost.map { UInt64(UInt32(bitPattern: $0)) } ?? .max)
        for skill in filter.skills {
            hash.add(skill.skill)
            hash.add(UInt64(bitPattern: Int64(skill.level)))
        }
        if let agents = filter.agents {
            hash.add(UInt64(agents.count) | 1 << 40)
            for agent in agents { hash.add(UInt64(UInt32(bitPattern: agent))) }
        }
        if let expression = filter.expression {
            var hasher = Hasher()
            hasher.combine(expression)
            hash.add(UInt64(bitPattern: Int64(hasher.finalize())))
        }
        return hash.value
    }
}

/// A step's filter with the task's values filled in.
struct ResolvedFilter: Hashable {
    var tierAtMost: Int32?
    /// (skill, minimum level), sorted by skill, one entry per skill.
    var skills: [SkillLevel]
    /// Only these agent slots (sorted); nil: any member of the queue.
    var agents: [Int32]?
    var expression: AttributeExpression?

    /// Whether the filter asks nothing beyond queue membership.
    var admitsEveryMember: Bool { tierAtMost == nil && skills.isEmpty && agents == nil && expression == nil }
}

struct SkillLevel: Hashable, Comparable {
    var skill: String
    var level: Int
    /// The skill's interned number when some agent had it at resolution time, else -1 (then
    /// agents are checked by name). Derived from `skill`: not part of equality.
    var id: Int32 = -1

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.skill < rhs.skill }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.skill == rhs.skill && lhs.level == rhs.level }

    func hash(into hasher: inout Hasher) {
        hasher.combine(skill)
        hasher.combine(level)
    }
}
