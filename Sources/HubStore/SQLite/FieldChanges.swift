/// Applies requested field changes to a record and names the fields that really changed, for the
/// `changes` list of `*.updated` events.
struct FieldChanges<Record> {
    var record: Record
    private(set) var names: [String] = []

    init(_ record: Record) { self.record = record }

    /// Sets `keyPath` to `value` when a value is given and differs.
    mutating func set<Value: Equatable>(_ keyPath: WritableKeyPath<Record, Value>, to value: Value?, name: String) {
        guard let value, record[keyPath: keyPath] != value else { return }
        record[keyPath: keyPath] = value
        names.append(name)
    }

    var isEmpty: Bool { names.isEmpty }
}
