/// The non-empty, unpinned groups of every (queue, medium), which a free agent walks on each look:
/// the first `inlineCapacity` groups of all lists side by side in one array (a few kilobytes for
/// the whole router, so they stay in cache), the rest of a longer list apart. An array per list
/// cost one cache miss per list looked at.
struct GroupLists {
    static var inlineCapacity: Int { 8 }

    private var counts: [Int32] = []
    private var inline: [Int32] = []
    private var overflow: [[Int32]] = []

    init() {}

    /// Adds an empty list; lists are numbered in order of addition.
    mutating func addList() {
        counts.append(0)
        inline.append(contentsOf: repeatElement(-1, count: Self.inlineCapacity))
        overflow.append([])
    }

    func count(_ list: Int) -> Int { Int(counts[list]) }

    /// The group at `position` of `list` (positions `0..<count(list)`).
    @inline(__always)
    subscript(list: Int, position: Int) -> Int32 {
        get {
            assert(position < count(list), "position \(position) beyond list \(list)")
            return position < Self.inlineCapacity ? inline[list * Self.inlineCapacity + position] : overflow[list][position - Self.inlineCapacity]
        }
        set {
            if position < Self.inlineCapacity {
                inline[list * Self.inlineCapacity + position] = newValue
            } else {
                overflow[list][position - Self.inlineCapacity] = newValue
            }
        }
    }

    mutating func append(_ group: Int32, to list: Int) {
        let position = count(list)
        if position < Self.inlineCapacity {
            inline[list * Self.inlineCapacity + position] = group
        } else {
            overflow[list].append(group)
        }
        counts[list] += 1
    }

    /// Removes `group` from `list`, keeping the order of the others; nothing if it is not there.
    mutating func remove(_ group: Int32, from list: Int) {
        let count = count(list)
        guard var position = (0..<count).first(where: { self[list, $0] == group }) else { return }
        while position + 1 < count {
            self[list, position] = self[list, position + 1]
            position += 1
        }
        if count > Self.inlineCapacity {
            overflow[list].removeLast()
        } else {
            inline[list * Self.inlineCapacity + count - 1] = -1
        }
        counts[list] -= 1
    }

    /// The groups of `list` in order (for tests; not for hot paths).
    func groups(_ list: Int) -> [Int32] { (0..<count(list)).map { self[list, $0] } }
}

extension GroupLists: Sendable {}
