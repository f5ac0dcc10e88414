import HubModel
import Testing

@testable import HubRouting

/// The router's own index structures, against the standard library doing the same work, and
/// the sharing of step resolutions between tasks.
@Suite("Router: index structures and shared resolutions")
struct IndexStructureTests {
    @Test("a slot table agrees with a dictionary over a long run of inserts, overwrites and removals")
    func slotTableMatchesDictionary() {
        var table = SlotTable<String>()
        var reference: [String: Int32] = [:]
        var random = SplitMix64(seed: 7)
        // Few distinct keys and many removals: deleted entries pile up and force rebuilds.
        for step in 0..<60_000 {
            let key = "t\(random.next() % 3_000)"
            switch random.next() % 3 {
            case 0, 1:
                let value = Int32(step)
                table[key] = value
                reference[key] = value
            default:
                table[key] = nil
                reference[key] = nil
            }
            if step % 997 == 0 {
                for probe in 0..<3_000 { #expect(table["t\(probe)"] == reference["t\(probe)"]) }
                #expect(table.count == reference.count)
            }
        }
        for (key, value) in reference { #expect(table[key] == value) }
        #expect(table.count == reference.count)
        #expect(table["never"] == nil)
    }

    @Test("ids that Swift compares as equal find the same entry (canonical equivalents)")
    func slotTableCanonicalEquivalence() {
        var table = SlotTable<String>()
        table["caf\u{E9}"] = 1
        table["K"] = 2
        table["q;"] = 3
        #expect(table["cafe\u{301}"] == 1, "é decomposed")
        #expect(table["\u{212A}"] == 2, "the Kelvin sign is K")
        #expect(table["q\u{37E}"] == 3, "the Greek question mark is a semicolon")
        table["cafe\u{301}"] = nil
        #expect(table["caf\u{E9}"] == nil)
        #expect(table.count == 2)
    }

    @Test("number keys, including 0 and negative ones, are found and removed like any other")
    func slotTableNumbers() {
        var table = SlotTable<Int64>()
        for key: Int64 in [0, -1, 1, .max, .min, 42] { table[key] = Int32(truncatingIfNeeded: key & 0xFFFF) }
        #expect(table[0] == 0)
        #expect(table[-1] == Int32(truncatingIfNeeded: Int64(-1) & 0xFFFF))
        #expect(table[.min] == 0)
        #expect(table.count == 6)
        table[0] = nil
        #expect(table[0] == nil)
        #expect(table[42] == 42)
        #expect(table.count == 5)
    }

    @Test("a sorted bag keeps order and membership like a sorted array through splits and merges")
    func sortedBagMatchesSortedArray() {
        var bag = SortedBag<Int>()
        var reference: Set<Int> = []
        var random = SplitMix64(seed: 11)
        for _ in 0..<20_000 {
            let value = Int(random.next() % 2_000)
            if random.next() % 2 == 0 {
                #expect(bag.insert(value) == reference.insert(value).inserted)
            } else {
                #expect(bag.remove(value) == (reference.remove(value) != nil))
            }
        }
        #expect(bag.elements == reference.sorted())
        #expect(bag.count == reference.count)
        #expect(bag.first == reference.min())
        var visited: [Int] = []
        bag.forEach(from: 1_000) { visited.append($0); return true }
        #expect(visited == reference.sorted().filter { $0 >= 1_000 })
    }

    @Test("a queue's present tasks: count, oldest and order agree with a sorted set through removals anywhere, stale removals and compaction")
    func presentQueueMatchesSortedSet() {
        var queue = PresentQueue()
        // The reference: what the router kept before (a sorted set of the same keys).
        var reference = SortedBag<PresentKey>()
        // Live entries by slot, with their positions (rewritten on compaction, as the router does).
        var live: [Int32: (position: Int64, key: PresentKey)] = [:]
        var removed: [(position: Int64, key: PresentKey)] = []
        var random = SplitMix64(seed: 7)
        var clock: Int64 = 0
        var sequence: Int64 = 0
        var nextSlot: Int32 = 0
        var compactions = 0
        // The live slots in a list, for picking one at random.
        var liveSlots: [Int32] = []
        var liveIndex: [Int32: Int] = [:]
        func add(_ key: PresentKey) {
            live[key.slot] = (queue.append(key), key)
            reference.insert(key)
            liveIndex[key.slot] = liveSlots.count
            liveSlots.append(key.slot)
        }
        func remove(_ slot: Int32) {
            let index = liveIndex.removeValue(forKey: slot)!
            let last = liveSlots.removeLast()
            if last != slot {
                liveSlots[index] = last
                liveIndex[last] = index
            }
            let entry = live.removeValue(forKey: slot)!
            queue.remove(at: entry.position, sequence: entry.key.sequence)
            reference.remove(entry.key)
            removed.append(entry)
            if queue.needsCompaction {
                compactions += 1
                for (moved, position) in queue.compact() { live[moved]!.position = position }
            }
        }
        for round in 0..<30_000 {
            // Several entries in one millisecond, and sequences out of order (a requeued task
            // keeps its old one), as in the router.
            if random.next() % 3 == 0 { clock += 1 }
            if random.next() % 5 < 3 || live.isEmpty {
                sequence += 1
                nextSlot += 1
                add(PresentKey(enqueuedAt: clock, sequence: random.next() % 7 == 0 ? sequence - 100_000 : sequence, slot: nextSlot))
            } else {
                // The oldest half the time (an agent takes the first task), else anywhere.
                remove(random.next() % 2 == 0 ? reference.first!.slot : liveSlots[Int(random.next() % UInt64(liveSlots.count))])
            }
            if round % 97 == 0, let stale = removed.randomElement(using: &random) {
                // Removing again, or with a wrong sequence, changes nothing.
                queue.remove(at: stale.position, sequence: stale.key.sequence)
                if let entry = live.values.first { queue.remove(at: entry.position, sequence: entry.key.sequence + 1) }
            }
            #expect(queue.count == reference.count)
            #expect(queue.first?.enqueuedAt == reference.first?.enqueuedAt)
        }
        #expect(queue.elements.map { [$0.enqueuedAt, $0.sequence, Int64($0.slot)] } == reference.elements.map { [$0.enqueuedAt, $0.sequence, Int64($0.slot)] })

        // One task that stays while 100,000 come and go behind it: the removed entries are
        // compacted away, the queue keeps about twice the live ones, and the stayer is still found.
        let before = compactions
        add(PresentKey(enqueuedAt: clock + 1, sequence: sequence + 1, slot: 999_999))
        for index in 0..<100_000 {
            sequence += 1
            nextSlot += 1
            add(PresentKey(enqueuedAt: clock + 2 + Int64(index), sequence: sequence + 1, slot: nextSlot))
            remove(nextSlot)
        }
        #expect(compactions - before >= 10, "compacted \(compactions - before) times")
        #expect(queue.storedEntries <= 2 * queue.count + 2 * 256 + 2, "\(queue.storedEntries) entries for \(queue.count) live")
        #expect(queue.count == reference.count)
        #expect(queue.first?.enqueuedAt == reference.first?.enqueuedAt)

        // Emptied entirely, then used again.
        while let slot = liveSlots.last { remove(slot) }
        #expect(queue.isEmpty && queue.first == nil && queue.elements.isEmpty && reference.isEmpty)
        let again = PresentKey(enqueuedAt: clock + 200_000, sequence: sequence + 1, slot: 3)
        let position = queue.append(again)
        #expect(queue.first == again && queue.count == 1)
        queue.remove(at: position, sequence: again.sequence)
        #expect(queue.isEmpty)
    }

    @Test("group lists keep each list's groups in order like separate arrays, inside and beyond the inline part")
    func groupListsMatchArrays() {
        var lists = GroupLists()
        var reference: [[Int32]] = []
        for _ in 0..<5 {
            lists.addList()
            reference.append([])
        }
        var random = SplitMix64(seed: 5)
        var next: Int32 = 0
        var longest = 0
        for _ in 0..<20_000 {
            let list = Int(random.next() % 5)
            // Lists grow past the inline capacity (8) and shrink back to empty.
            if reference[list].isEmpty || (random.next() % 2 == 0 && reference[list].count < 20) {
                next += 1
                lists.append(next, to: list)
                reference[list].append(next)
            } else {
                let group = reference[list][Int(random.next() % UInt64(reference[list].count))]
                lists.remove(group, from: list)
                reference[list].removeOnce(group)
                // Removing what is not there changes nothing.
                lists.remove(group, from: list)
            }
            #expect(lists.groups(list) == reference[list])
            longest = max(longest, reference[list].count)
        }
        #expect((0..<5).map { lists.groups($0) } == reference)
        #expect(longest > GroupLists.inlineCapacity)
    }

    @Test("a slot list behaves like an array, inside and beyond its three in-place elements")
    func slotListMatchesArray() {
        var list = SlotList()
        var reference: [Int32] = []
        var random = SplitMix64(seed: 11)
        var longest = 0
        for step in 0..<20_000 {
            switch random.next() % 6 {
            case 0, 1, 2:
                let value = Int32(random.next() % 12)
                if !reference.contains(value) {
                    list.append(value)
                    reference.append(value)
                }
            case 3:
                let value = Int32(random.next() % 12)
                list.removeOnce(value)
                reference.removeOnce(value)
            case 4 where !reference.isEmpty:
                let position = Int(random.next() % UInt64(reference.count))
                #expect(list.remove(at: position) == reference.remove(at: position))
            case 4:
                break
            default:
                if step % 7 == 0 {
                    list.empty()
                    reference.removeAll()
                }
            }
            #expect(Array(list) == reference)
            #expect(list.count == reference.count && list.isEmpty == reference.isEmpty)
            for value in Int32(0)..<12 { #expect(list.contains(value) == reference.contains(value)) }
            longest = max(longest, reference.count)
        }
        #expect(longest > 3, "the list grew beyond its in-place elements")
        var copy = list
        copy.append(99)
        #expect(Array(list) == reference, "a copy's change leaves the original alone")
        #expect(SlotList([1, 2, 3, 4, 5]) == [1, 2, 3, 4, 5])
    }

    @Test("tasks with the same requirements share one resolution; a reconfigured queue resolves anew")
    func plansShared() {
        let queue = QueuePolicy.plain()
        var h = RouterHarness(queues: [queue], agents: [.member("zh", skills: ["lang-zh": 5]), .member("en", skills: ["lang-en": 5])], available: false)
        h.arrive("a", requirements: [SkillRequirement(skill: "lang-zh", minLevel: 3)])
        h.arrive("b", requirements: [SkillRequirement(skill: "lang-zh", minLevel: 3)])
        h.arrive("c", requirements: [SkillRequirement(skill: "lang-en", minLevel: 3)])
        #expect(h.router.plans.count == 2, "one plan per requirement set")
        // The shared plan routes each to the agent with the skill.
        h.send(.agentPresence(agentID: "en", .available))
        #expect(h.offeredAgents("c") == ["en"])
        #expect(h.offeredAgents("a").isEmpty)
        h.send(.agentPresence(agentID: "zh", .available))
        #expect(h.offeredAgents("a") == ["zh"])
        #expect(h.offeredAgents("b").isEmpty, "the agent rings for one task at a time")
        // A new policy drops every plan: the old ones may depend on the old steps.
        var stricter = queue
        stricter.requirements = [SkillRequirement(skill: "lang-zh", minLevel: 9)]
        h.send(.queueConfigured(stricter))
        h.arrive("d", requirements: [SkillRequirement(skill: "lang-zh", minLevel: 3)])
        #expect(h.router.plans.count == 1)
        #expect(h.router.task("d") != nil && h.offeredAgents("d").isEmpty, "nobody has lang-zh at 9")
    }

    @Test("a queue whose steps read task attributes resolves every task on its own")
    func plansNotSharedWithTemplates() {
        var queue = QueuePolicy.plain()
        queue.requirements = [SkillRequirement(skill: "lang-${task.language}", minLevel: 1)]
        var h = RouterHarness(queues: [queue], agents: [.member("zh", skills: ["lang-zh": 5])], available: false)
        // Chats: the agent has room for both, so only the filter keeps the English one away.
        h.arrive("a", channel: .wechat, attributes: [TaskAttribute.language: .string("zh")])
        h.arrive("b", channel: .wechat, attributes: [TaskAttribute.language: .string("en")])
        #expect(h.router.plans.isEmpty)
        h.send(.agentPresence(agentID: "zh", .available))
        #expect(h.offeredAgents("a") == ["zh"])
        h.accept("a")
        #expect(h.offeredAgents("b").isEmpty, "the English task does not take the Chinese plan")
        h.arrive("c", channel: .wechat, attributes: [TaskAttribute.language: .string("zh")])
        #expect(h.offeredAgents("c") == ["zh"], "a second Chinese chat fits beside the first")
    }

    @Test("an offer id is offer-<number> for any number, and the router finds the offer by it")
    func offerIDs() {
        for number: Int64 in [0, 1, 9, 10, 12_345, 99_999_999, .max] {
            #expect(RoutingEngine.offerID(number) == "offer-\(number)")
        }
        var h = RouterHarness(queues: [.plain()], agents: [.member("one")])
        h.arrive("t")
        let offer = h.offer(of: "t")
        #expect(offer?.id == "offer-1")
        #expect(h.router.openOffer("offer-1") != nil)
    }

    @Test("an agent's answers for the groups of its queues stay right when groups leave the list and when its skills change")
    func familyAnswers() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("a", skills: ["lang-zh": 5, "lang-ja": 5])])
        func language(_ code: String) -> [SkillRequirement] { [SkillRequirement(skill: "lang-\(code)", minLevel: 3)] }
        h.arrive("first", requirements: language("zh"))
        h.accept("first")
        // Three groups in the queue's voice list, in this order: zh, en, ja.
        h.arrive("zh", requirements: language("zh"))
        h.arrive("en", requirements: language("en"))
        h.arrive("ja", requirements: language("ja"))
        h.send(.taskCompleted(taskID: "first"))
        #expect(h.offeredAgents("zh") == ["a"], "the agent learns its answers: zh and ja yes, en no")
        h.accept("zh")
        // The zh group is empty and leaves the list: en and ja move up a place. Answers kept by
        // place in the list would now point at en.
        h.send(.taskCompleted(taskID: "zh"))
        #expect(h.offeredAgents("ja") == ["a"])
        #expect(h.offeredAgents("en").isEmpty)
        h.accept("ja")
        // New skills: the answers are worked out again.
        h.send(.agentConfigured(.member("a", skills: ["lang-en": 5])))
        h.send(.taskCompleted(taskID: "ja"))
        #expect(h.offeredAgents("en") == ["a"])
    }

    @Test("groups beyond the 16 places per queue and medium of the agents' rows are answered from the admission row")
    func manyGroupsInAQueue() {
        var h = RouterHarness(queues: [.plain()], agents: [.member("a", skills: ["s3": 5, "s68": 5])])
        h.arrive("first", requirements: [SkillRequirement(skill: "s3", minLevel: 1)])
        h.accept("first")
        for index in 0..<70 { h.arrive("t\(index)", requirements: [SkillRequirement(skill: "s\(index)", minLevel: 1)]) }
        #expect(h.router.groupLists.count(h.router.freeSetIndex(queue: 0, medium: .voice)) == 70)
        h.send(.taskCompleted(taskID: "first"))
        #expect(h.offeredAgents("t3") == ["a"])
        h.accept("t3")
        h.send(.taskCompleted(taskID: "t3"))
        #expect(h.offeredAgents("t68") == ["a"], "the 69th group of the queue and medium, beyond the 16 places")
        for index in 0..<70 where index != 3 && index != 68 { #expect(h.assignee("t\(index)") == nil && h.offeredAgents("t\(index)").isEmpty) }
    }
}
