/// Work in lanes by key: the items of one key are handled one at a time, in the order they came;
/// different keys' side by side. The SIP element keeps its messages in lanes by Call-ID and the
/// router's decisions in lanes by task.
struct Lanes<Item> {
    private var lanes: [String: [Item]] = [:]
    /// Items waiting behind another of their key, in all lanes.
    private(set) var backlog = 0

    /// Lanes running.
    var count: Int { lanes.count }

    func isRunning(_ key: String) -> Bool { lanes[key] != nil }

    /// Queues `item` behind its key's lane; true when no lane of `key` ran: then one starts, and
    /// the caller handles `item` first (it is not queued).
    mutating func admit(_ item: Item, key: String) -> Bool {
        guard lanes[key] != nil else {
            lanes[key] = []
            return true
        }
        lanes[key]?.append(item)
        backlog += 1
        return false
    }

    /// The next item of `key`'s lane; nil ends the lane (the next item of that key starts another).
    mutating func next(_ key: String) -> Item? {
        guard lanes[key]?.isEmpty == false, let item = lanes[key]?.removeFirst() else {
            lanes[key] = nil
            return nil
        }
        backlog -= 1
        return item
    }
}
