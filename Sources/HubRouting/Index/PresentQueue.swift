/// The tasks present in one queue for one medium (waiting or offered), in the order they entered:
/// how many there are, and since when the oldest has waited. Entries are appended in
/// nondecreasing entry time (the router's clock never goes back), so the oldest is the first
/// live entry. A task keeps the position `append` gave it, and its removal marks that one entry
/// (one cache line) instead of searching a sorted set.
///
/// Removed entries at the front are dropped as they go; those behind a task that stays long are
/// dropped by `compact` once they outnumber the live ones, which gives the live entries new
/// positions (the router writes them back into its tasks). So the array stays within about twice
/// the live entries, whatever the arrival history.
struct PresentQueue {
    private var entries: [PresentKey] = []
    /// The position of `entries[0]`. Positions only grow: a compaction starts a fresh range, so a
    /// position from before never matches again.
    private var base: Int64 = 0
    /// The index of the first live entry (`entries.count` when there is none).
    private var head = 0
    private(set) var count = 0

    /// Removed entries at the front are dropped once there are this many and they are at least
    /// half of the array; `compact` is due when removed entries exceed the live ones by this many.
    private static var slack: Int { 256 }

    init() {}

    var isEmpty: Bool { count == 0 }

    /// The oldest present task.
    var first: PresentKey? { head < entries.count ? entries[head] : nil }

    /// Adds a task that enters now; returns its position, for `remove`.
    mutating func append(_ key: PresentKey) -> Int64 {
        assert(entries.last.map { $0.enqueuedAt <= key.enqueuedAt } ?? true, "entries must come in time order")
        entries.append(key)
        count += 1
        return base + Int64(entries.count - 1)
    }

    /// Removes the task at `position`; nothing when that entry is not the task's (already
    /// removed, or a position from an earlier stay).
    mutating func remove(at position: Int64, sequence: Int64) {
        let index = position - base
        guard index >= Int64(head), index < Int64(entries.count), entries[Int(index)].slot >= 0,
            entries[Int(index)].sequence == sequence
        else { return }
        entries[Int(index)].slot = -1
        count -= 1
        if count == 0 {
            base += Int64(entries.count)
            entries.removeAll(keepingCapacity: true)
            head = 0
            return
        }
        while head < entries.count, entries[head].slot < 0 { head += 1 }
        if head >= Self.slack, head * 2 >= entries.count {
            entries.removeSubrange(0..<head)
            base += Int64(head)
            head = 0
        }
    }

    /// Whether removed entries (behind a task that stays long) have piled up: `compact` is due.
    var needsCompaction: Bool { entries.count - head - count > count + Self.slack }

    /// Drops every removed entry. The live ones get new positions: returned as (slot, position),
    /// for the caller to store in its tasks.
    mutating func compact() -> [(slot: Int32, position: Int64)] {
        let live = entries[head...].filter { $0.slot >= 0 }
        base += Int64(entries.count)
        entries = Array(live)
        head = 0
        return entries.indices.map { (entries[$0].slot, base + Int64($0)) }
    }

    /// Entries held, live and removed (for tests: the memory the queue keeps).
    var storedEntries: Int { entries.count }

    /// The present tasks in (entry time, arrival) order: for the rare paths that visit them all.
    var elements: [PresentKey] { entries[head...].filter { $0.slot >= 0 }.sorted() }
}

extension PresentQueue: Sendable {}
