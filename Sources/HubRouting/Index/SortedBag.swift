/// A sorted collection of distinct elements with O(log n) search and cheap insertion and removal
/// anywhere: a list of sorted buckets of bounded size (the layout of Python's sortedcontainers).
/// The router keeps waiting tasks and free agents in these, ordered by the keys that decide who
/// goes first, so the best candidate is always the first element that passes a filter.
struct SortedBag<Element: Comparable> {
    private var buckets: [[Element]] = []
    /// The last (largest) element of each bucket, so that finding a bucket is a binary search
    /// over one contiguous array.
    private var maxes: [Element] = []
    private(set) var count = 0

    /// Buckets split above twice this size; small enough that the memmove of an insertion stays
    /// within a few cache lines' worth of work, large enough that the bucket index stays short.
    private static var bucketLoad: Int { 16 }

    init() {}

    var isEmpty: Bool { count == 0 }

    var first: Element? { buckets.first?.first }

    /// Inserts `element`; returns false when it was already present.
    @discardableResult
    mutating func insert(_ element: Element) -> Bool {
        if buckets.isEmpty {
            buckets.append([element])
            maxes.append(element)
            count = 1
            return true
        }
        let b = bucketIndex(for: element)
        let i = lowerBound(element, inBucket: b)
        if i < buckets[b].count && buckets[b][i] == element { return false }
        buckets[b].insert(element, at: i)
        if i == buckets[b].count - 1 { maxes[b] = element }
        count += 1
        if buckets[b].count > 2 * Self.bucketLoad {
            let tail = Array(buckets[b][Self.bucketLoad...])
            buckets[b].removeSubrange(Self.bucketLoad...)
            maxes[b] = buckets[b][Self.bucketLoad - 1]
            buckets.insert(tail, at: b + 1)
            maxes.insert(tail[tail.count - 1], at: b + 1)
        }
        return true
    }

    /// Removes `element`; returns false when it was not present.
    @discardableResult
    mutating func remove(_ element: Element) -> Bool {
        guard !buckets.isEmpty else { return false }
        let b = bucketIndex(for: element)
        let i = lowerBound(element, inBucket: b)
        guard i < buckets[b].count, buckets[b][i] == element else { return false }
        buckets[b].remove(at: i)
        count -= 1
        if buckets[b].isEmpty {
            buckets.remove(at: b)
            maxes.remove(at: b)
        } else if i == buckets[b].count {
            maxes[b] = buckets[b][i - 1]
        }
        return true
    }

    /// The first element, in order, for which `body` returns true.
    func first(where body: (Element) throws -> Bool) rethrows -> Element? {
        for bucket in buckets {
            for element in bucket where try body(element) { return element }
        }
        return nil
    }

    /// Calls `body` on elements in order, starting at the first element not less than `start`
    /// (or at the beginning), until it returns false.
    func forEach(from start: Element? = nil, _ body: (Element) throws -> Bool) rethrows {
        guard !buckets.isEmpty else { return }
        var b = 0
        var i = 0
        if let start {
            b = bucketIndex(for: start)
            i = lowerBound(start, inBucket: b)
        }
        while b < buckets.count {
            let bucket = buckets[b]
            while i < bucket.count {
                if try !body(bucket[i]) { return }
                i += 1
            }
            b += 1
            i = 0
        }
    }

    /// Every element in order (for tests and snapshots; not for hot paths).
    var elements: [Element] { buckets.flatMap { $0 } }

    /// The bucket that holds, or would hold, `element`: the first whose last element is not less
    /// than it, or the last bucket.
    private func bucketIndex(for element: Element) -> Int {
        maxes.withUnsafeBufferPointer { maxes in
            // The front is where most changes happen (the first task is the one taken).
            if !(maxes[0] < element) { return 0 }
            var low = 0
            var high = maxes.count - 1
            while low < high {
                let mid = (low + high) / 2
                if maxes[mid] < element { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    private func lowerBound(_ element: Element, inBucket b: Int) -> Int {
        buckets[b].withUnsafeBufferPointer { bucket in
            var low = 0
            var high = bucket.count
            while low < high {
                let mid = (low + high) / 2
                if bucket[mid] < element { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }
}

extension SortedBag: Sendable where Element: Sendable {}
