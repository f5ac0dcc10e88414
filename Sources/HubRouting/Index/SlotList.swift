/// A short list of slots (tasks, agents, offers) kept inside the record that owns it: the first
/// three in place, any more in an array. A task's offers, exclusions and groups and an agent's
/// assigned tasks almost always fit in place, so reading or emptying them touches no memory
/// beyond the record itself. As separate arrays each was one more cache miss when its record
/// was cold, which at 100,000 waiting tasks is on every decision (issue 3).
struct SlotList: RandomAccessCollection, Equatable, Sendable {
    private var first3: (Int32, Int32, Int32) = (0, 0, 0)
    private var inlineCount: Int32 = 0
    /// Elements from the fourth on; the shared empty array (no allocation) when there are none.
    private var rest: [Int32] = []

    init() {}

    init(_ elements: some Sequence<Int32>) {
        for element in elements { append(element) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { Int(inlineCount) + rest.count }

    subscript(position: Int) -> Int32 {
        get {
            precondition(position >= 0 && position < endIndex, "SlotList index out of range")
            switch position {
            case 0: return first3.0
            case 1: return first3.1
            case 2: return first3.2
            default: return rest[position - 3]
            }
        }
        set {
            precondition(position >= 0 && position < endIndex, "SlotList index out of range")
            switch position {
            case 0: first3.0 = newValue
            case 1: first3.1 = newValue
            case 2: first3.2 = newValue
            default: rest[position - 3] = newValue
            }
        }
    }

    mutating func append(_ element: Int32) {
        switch inlineCount {
        case 0: first3.0 = element
        case 1: first3.1 = element
        case 2: first3.2 = element
        default:
            rest.append(element)
            return
        }
        inlineCount += 1
    }

    /// Removes the element at `position`, keeping the order of the rest.
    @discardableResult
    mutating func remove(at position: Int) -> Int32 {
        let element = self[position]
        var index = position
        let last = endIndex - 1
        while index < last {
            self[index] = self[index + 1]
            index += 1
        }
        if rest.isEmpty { inlineCount -= 1 } else { rest.removeLast() }
        return element
    }

    /// Removes `value`, which the list holds at most once.
    mutating func removeOnce(_ value: Int32) {
        if let index = firstIndex(of: value) { remove(at: index) }
    }

    /// Removes every element; an array that held the overflow keeps its buffer.
    mutating func empty() {
        inlineCount = 0
        if !rest.isEmpty { rest.removeAll(keepingCapacity: true) }
    }

    func contains(_ value: Int32) -> Bool {
        let count = inlineCount
        if count > 0 && first3.0 == value { return true }
        if count > 1 && first3.1 == value { return true }
        if count > 2 && first3.2 == value { return true }
        return !rest.isEmpty && rest.contains(value)
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.elementsEqual(rhs) }
}

extension SlotList: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: Int32...) { self.init(elements) }
}
