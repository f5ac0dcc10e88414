import Foundation

/// A key of a `SlotTable`: hashed by the table's own function, which is much cheaper than
/// `Hasher` (SipHash) for the short ids and numbers the router looks up on every event.
protocol SlotTableKey: Equatable {
    /// What an empty entry holds (holds no memory).
    static var placeholder: Self { get }
    /// A well-mixed 64-bit hash of the key.
    func slotHash(seed: UInt64) -> UInt64
}

/// An open-addressing hash map from ids to the router's dense slots (linear probing, power-of-two
/// capacity, at most half full counting deleted entries). The router adds and removes a task id
/// and an offer number on every decision; `Dictionary` rehashes its neighbours on every removal,
/// this table marks the entry deleted and rebuilds when deleted entries pile up.
///
/// The hash is seeded per table from the system's random source, so ids chosen by outsiders
/// cannot be made to collide; the seed changes no decision (lookups find the same slots).
struct SlotTable<Key: SlotTableKey> {
    fileprivate struct Entry {
        /// 0: empty, 1: deleted, otherwise the key's hash with its top bit set.
        var hash: UInt64
        var value: Int32
        var key: Key
    }

    private var entries: [Entry]
    private var mask: Int
    private(set) var count = 0
    private var deleted = 0
    private let seed: UInt64

    init() {
        entries = Array(repeating: Entry(hash: 0, value: 0, key: .placeholder), count: 16)
        mask = 15
        var random = SystemRandomNumberGenerator()
        seed = random.next()
    }

    subscript(key: Key) -> Int32? {
        get {
            let hash = key.slotHash(seed: seed) | (1 << 63)
            var index = Int(truncatingIfNeeded: hash) & mask
            while true {
                let entryHash = entries[index].hash
                if entryHash == 0 { return nil }
                if entryHash == hash && entries[index].key == key { return entries[index].value }
                index = (index + 1) & mask
            }
        }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    private mutating func insert(_ key: Key, _ value: Int32) {
        let hash = key.slotHash(seed: seed) | (1 << 63)
        var index = Int(truncatingIfNeeded: hash) & mask
        var reusable: Int?
        while true {
            let entryHash = entries[index].hash
            if entryHash == 0 { break }
            if entryHash == 1 {
                if reusable == nil { reusable = index }
            } else if entryHash == hash && entries[index].key == key {
                entries[index].value = value
                return
            }
            index = (index + 1) & mask
        }
        if let reusable {
            entries[reusable] = Entry(hash: hash, value: value, key: key)
            deleted -= 1
        } else {
            entries[index] = Entry(hash: hash, value: value, key: key)
        }
        count += 1
        if 2 * (count + deleted) > entries.count { rebuild() }
    }

    private mutating func remove(_ key: Key) {
        let hash = key.slotHash(seed: seed) | (1 << 63)
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entryHash = entries[index].hash
            if entryHash == 0 { return }
            if entryHash == hash && entries[index].key == key {
                entries[index] = Entry(hash: 1, value: 0, key: .placeholder)
                count -= 1
                deleted += 1
                return
            }
            index = (index + 1) & mask
        }
    }

    /// Rehashes into a table at most a quarter full, dropping deleted entries.
    private mutating func rebuild() {
        var capacity = 16
        while capacity < 4 * count { capacity *= 2 }
        let old = entries
        entries = Array(repeating: Entry(hash: 0, value: 0, key: .placeholder), count: capacity)
        mask = capacity - 1
        deleted = 0
        for entry in old where entry.hash > 1 {
            var index = Int(truncatingIfNeeded: entry.hash) & mask
            while entries[index].hash != 0 { index = (index + 1) & mask }
            entries[index] = entry
        }
    }
}

extension SlotTable: Sendable where Key: Sendable {}
extension SlotTable.Entry: Sendable where Key: Sendable {}

/// The finalizer of MurmurHash3: spreads every input bit over the whole word.
@inline(__always)
func mixBits(_ value: UInt64) -> UInt64 {
    var x = value
    x ^= x >> 33
    x &*= 0xFF51_AFD7_ED55_8CCD
    x ^= x >> 33
    x &*= 0xC4CE_B9FE_1A85_EC53
    x ^= x >> 33
    return x
}

/// FNV-1a, fed bytes and words.
struct FNV1a {
    var state: UInt64

    init(seed: UInt64) { state = 0xCBF2_9CE4_8422_2325 ^ seed }

    /// The hash agrees with `String`'s `==`, which compares canonical equivalents as equal
    /// ("é" as one scalar or as "e" and an accent; the Kelvin sign and "K"): ASCII text is
    /// hashed as it is, anything else in its NFC form.
    mutating func add(_ string: String) {
        // One pass over the bytes in place (ids are ASCII); the rare other text starts over
        // with its NFC form.
        var hashed = state
        let ascii = string.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes {
                if byte >= 0x80 { return false }
                hashed ^= UInt64(byte)
                hashed &*= 0x100_0000_01B3
            }
            return true
        }
        if ascii == true {
            state = hashed
        } else {
            let nonASCII = ascii == false || string.utf8.contains { $0 >= 0x80 }
            for byte in (nonASCII ? string.precomposedStringWithCanonicalMapping : string).utf8 {
                state ^= UInt64(byte)
                state &*= 0x100_0000_01B3
            }
        }
        add(UInt64(0xFF))
    }

    mutating func add(_ word: UInt64) {
        state ^= word
        state &*= 0x100_0000_01B3
    }

    var value: UInt64 { mixBits(state) }
}

extension String: SlotTableKey {
    static var placeholder: String { "" }

    func slotHash(seed: UInt64) -> UInt64 {
        var hash = FNV1a(seed: seed)
        hash.add(self)
        return hash.value
    }
}

extension Int64: SlotTableKey {
    static var placeholder: Int64 { 0 }

    func slotHash(seed: UInt64) -> UInt64 { mixBits(UInt64(bitPattern: self) ^ seed) }
}
