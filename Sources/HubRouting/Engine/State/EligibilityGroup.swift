import HubModel

/// Waiting tasks that admit exactly the same agents: one queue, one medium, one membership delay
/// level and one resolved step filter (task requirements included). An agent who frees up looks
/// only at the heads of the groups that admit them, so tasks an agent cannot take never block
/// those it can (no head-of-line blocking), and each look is a constant-time peek.
struct EligibilityGroup {
    let key: GroupKey
    /// Tasks ordered by priority (with aging, those still aging).
    var tasks = SortedBag<TaskKey>()
    /// With capped aging: tasks whose boost reached the cap.
    var capped = SortedBag<TaskKey>()
    /// Per agent slot: 0 not yet known, 1 admitted, 2 not admitted.
    var admission: [UInt8] = []
    /// Whether the group is listed in its queue's (or pinned agents') index.
    var listed = false
    /// Cache of "some admitted agent is logged in", valid for one presence version.
    var loggedInVersion: UInt64 = .max
    var anyLoggedIn = false

    init(key: GroupKey) { self.key = key }

    var isEmpty: Bool { tasks.isEmpty && capped.isEmpty }
}

/// A group's queue, medium and delay as plain numbers, apart from its key (whose filter holds
/// arrays): what a free agent checks for every group it looks at.
struct GroupHead {
    var queue: Int32
    var medium: ChannelMedium
    var delay: Int64
}

struct GroupKey: Hashable {
    var queue: Int32
    var medium: ChannelMedium
    /// Membership delay in milliseconds (0 for pinned groups).
    var delay: Int64
    var filter: ResolvedFilter
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

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.skill < rhs.skill }
}
