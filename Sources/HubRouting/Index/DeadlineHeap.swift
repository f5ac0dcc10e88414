/// The router's single timer wheel: a binary min-heap of deadlines on the injected clock. Entries
/// are never removed in place; each carries the generation of what it refers to, and the router
/// ignores an entry whose generation has moved on. Equal deadlines pop in insertion order, so a
/// run replays exactly.
struct DeadlineHeap<Payload> {
    struct Entry {
        var deadline: RoutingInstant
        var order: UInt64
        var payload: Payload
    }

    private var entries: [Entry] = []
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var nextDeadline: RoutingInstant? { entries.first?.deadline }

    mutating func schedule(_ payload: Payload, at deadline: RoutingInstant) {
        schedule(payload, at: deadline, order: takeOrder())
    }

    /// The place in line of an entry that will be scheduled later (with `schedule(_:at:order:)`):
    /// among equal deadlines it pops as if it had been scheduled now.
    mutating func takeOrder() -> UInt64 {
        defer { nextOrder &+= 1 }
        return nextOrder
    }

    /// Schedules an entry with a place in line taken earlier by `takeOrder()`.
    mutating func schedule(_ payload: Payload, at deadline: RoutingInstant, order: UInt64) {
        entries.append(Entry(deadline: deadline, order: order, payload: payload))
        siftUp(entries.count - 1)
    }

    /// The earliest entry.
    var top: Entry? { entries.first }

    /// Removes the earliest entry.
    mutating func removeTop() {
        guard !entries.isEmpty else { return }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(at now: RoutingInstant) -> Entry? {
        guard let top = entries.first, top.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
        return top
    }

    /// Reads the two fields only: a copy of an entry would retain its payload.
    private func less(_ a: Int, _ b: Int) -> Bool {
        let (x, y) = (entries[a].deadline, entries[b].deadline)
        return x < y || (x == y && entries[a].order < entries[b].order)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var smallest = left
            if left + 1 < entries.count, less(left + 1, left) { smallest = left + 1 }
            guard less(smallest, parent) else { return }
            entries.swapAt(smallest, parent)
            parent = smallest
        }
    }
}

extension DeadlineHeap: Sendable where Payload: Sendable {}
extension DeadlineHeap.Entry: Sendable where Payload: Sendable {}
