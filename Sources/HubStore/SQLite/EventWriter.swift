import Foundation
import Synchronization
import GRDB
import GRDBSQLite
import HubModel

/// Appends events inside the current write transaction.
struct EventWriter {
    let db: Database
    /// The events appended in this transaction, as a reader of the log will see them.
    private(set) var appended: [HubEvent] = []
    var lastSequence: Int64? { appended.last?.sequence }
    let json = JSONColumns()

    init(db: Database) { self.db = db }

    /// Appends one event and returns its sequence number. An event of a conversation that names no
    /// agent is the conversation's assignee's (see `EventRefs.agentID`), read from the
    /// conversation unless the caller says `refs.agentID` is that assignee already
    /// (`assigneeKnown`: it has just read or written the conversation in this transaction).
    @discardableResult
    mutating func append(
        _ kind: EventKind, at date: Date, actor: Actor, refs: EventRefs, assigneeKnown: Bool = false, payload: some Encodable
    ) throws -> Int64 {
        var refs = refs
        if refs.agentID == nil, !assigneeKnown, let conversation = refs.conversationID {
            refs.agentID = try db.cachedStatement(sql: "SELECT assigneeID FROM conversation WHERE id = ?")
                .fetchOne(binding: { $0.bind(conversation.rawValue) }) { $0.text(at: 0).map(Agent.ID.init(rawValue:)) } ?? nil
        }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO event (kind, occurredAt, actor, customerID, conversationID, messageID, ticketID, callID, agentID, deliveryID, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let milliseconds = date.millisecondsSince1970
        let actorText = actor.description
        let (payloadText, readable) = try json.payloadText(payload)
        // A payload the log could not be read back with fails the write before anything is
        // written. The hub's own writer says when its text surely reads (nearly always); other
        // text is read through once.
        if !readable { try JSONReader.validate(payloadText) }
        try statement.run { row in
            row.bind(kind.rawValue)
            row.bind(milliseconds)
            row.bind(actorText)
            row.bind(refs.customerID?.rawValue)
            row.bind(refs.conversationID?.rawValue)
            row.bind(refs.messageID?.rawValue)
            row.bind(refs.ticketID?.rawValue)
            row.bind(refs.callID?.rawValue)
            row.bind(refs.agentID?.rawValue)
            row.bind(refs.deliveryID?.rawValue)
            row.bind(payloadText)
        }
        // (SQLite's own call: GRDB's `lastInsertedRowID` first checks the thread it is on, which
        // cost more than the insert's bookkeeping; the writer's thread is the connection's.)
        let sequence = sqlite3_last_insert_rowid(db.sqliteConnection)
        let carried: (any CarriedEventPayload)? = (payload as? any CarriedEventPayload)?.carriedForm ?? (payload as? any SummarizedEventPayload)?.eventSummary
        #if DEBUG
        if let carried { Self.checkCarried(carried, text: payloadText) }
        #endif
        // Exactly what `SQLiteRows.event` reads back from the row: milliseconds, the actor as its
        // text parses, the payload's JSON (read when a follower first asks, `HubEvent.payload`),
        // and for the payloads followers read whole, the value itself (`HubEvent.carried`).
        appended.append(
            HubEvent(
                sequence: sequence, kind: kind, occurredAt: Date(millisecondsSince1970: milliseconds),
                actor: Actor(storing: actor), refs: refs, payloadText: payloadText, carrying: carried))
        return sequence
    }

    #if DEBUG
    /// A carried value must be what its text reads back as (else a follower would see one thing
    /// live and another after a restart): checked on every event the debug builds write, that is
    /// in every test.
    private static func checkCarried<T: CarriedEventPayload>(_ carried: T, text: String) {
        let read = try? T(json: JSONReader.parse(text))
        assert(read == carried, "the carried payload differs from its text: \(String(describing: read)) against \(carried)")
    }
    #endif

    /// Where a savepoint begins: events appended after it are forgotten if it rolls back.
    var mark: Int { appended.count }

    /// Forgets the events appended since `mark` (their savepoint rolled back).
    mutating func rollBack(to mark: Int) {
        appended.removeSubrange(mark...)
    }
}

/// JSON text for JSON columns, with the hub's conventions.
struct JSONColumns {
    let encoder = HubJSON.makeEncoder()
    let decoder = HubJSON.makeDecoder()

    func text(_ value: some Encodable) throws -> String {
        try payloadText(value).text
    }

    /// `text(value)`, and whether `JSONReader` surely reads it back (see `JSONWriter.writtenText`);
    /// false for text from `JSONEncoder`, which may nest deeper than the reader goes.
    func payloadText(_ value: some Encodable) throws -> (text: String, readable: Bool) {
        if let written = value as? WrittenJSON { return (written.text, written.readable) }
        if let writable = value as? any JSONWritable { return JSONWriter.writtenText(of: writable) }
        return (String(decoding: try encoder.encode(value), as: UTF8.self), false)
    }

    /// A JSON array column; `[]` without the encoder when empty (the common case).
    func text<Element: Encodable>(_ array: [Element]) throws -> String {
        guard !array.isEmpty else { return "[]" }
        if let writable = array as? [any JSONWritable] {
            var writer = JSONWriter()
            writer.beginArray()
            for element in writable { element.writeJSON(to: &writer) }
            writer.endArray()
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        return String(decoding: try encoder.encode(array), as: UTF8.self)
    }

    /// A JSON object column; `{}` without the encoder when empty (the common case).
    func text<Value: Encodable>(_ object: [String: Value]) throws -> String {
        guard !object.isEmpty else { return "{}" }
        if let values = object as? [String: JSONValue] {
            var writer = JSONWriter()
            writer.writeObject(values)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        if let strings = object as? [String: String] {
            var writer = JSONWriter()
            writer.writeObject(strings)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }

    /// Reads a JSON column. The empty object or array (most rows' attributes, tags, metadata and
    /// attachments) and flat maps and lists of strings are read without `JSONDecoder`, whose
    /// set-up alone costs more than reading them; anything else, or anything these fast paths
    /// would read differently, goes to the decoder.
    func value<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        if text.utf8.count == 2, let empty = (T.self as? any EmptyJSONColumn.Type)?.empty(text) as? T { return empty }
        if T.self == [String: JSONValue].self || T.self == [String: String].self || T.self == [String].self,
            let value = Self.flat(text, as: T.self)
        {
            return value
        }
        return try decoder.decode(T.self, from: Data(text.utf8))
    }

    /// `[String: JSONValue]`, `[String: String]` or `[String]` by `JSONReader`; nil when the text is
    /// not that shape (the decoder then says why).
    private static func flat<T>(_ text: String, as type: T.Type) -> T? {
        guard let parsed = try? JSONReader.parse(text) else { return nil }
        switch parsed {
        case .object(let object):
            if T.self == [String: JSONValue].self { return object as? T }
            guard T.self == [String: String].self else { return nil }
            var strings: [String: String] = [:]
            strings.reserveCapacity(object.count)
            for (key, value) in object {
                guard case .string(let string) = value else { return nil }
                strings[key] = string
            }
            return strings as? T
        case .array(let array):
            guard T.self == [String].self else { return nil }
            var strings: [String] = []
            strings.reserveCapacity(array.count)
            for value in array {
                guard case .string(let string) = value else { return nil }
                strings.append(string)
            }
            return strings as? T
        default:
            return nil
        }
    }
}

/// A JSON column type with an empty value that `JSONColumns.value` answers without a decoder.
protocol EmptyJSONColumn {
    static func empty(_ text: String) -> Self?
}

extension Dictionary: EmptyJSONColumn {
    static func empty(_ text: String) -> Self? { text == "{}" ? [:] : nil }
}

extension Array: EmptyJSONColumn {
    static func empty(_ text: String) -> Self? { text == "[]" ? [] : nil }
}

/// Tells every subscriber the last committed event sequence number.
final class EventCommitBroadcaster: Sendable {
    private struct State {
        var nextID = 0
        var continuations: [Int: AsyncStream<Int64>.Continuation] = [:]
        var handlers: [Int: @Sendable (Int64) -> Void] = [:]
    }

    private let state = Mutex(State())

    func subscribe() -> AsyncStream<Int64> {
        let (stream, continuation) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.continuations[state.nextID] = continuation
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    /// Calls `handler` after every commit until the observation is cancelled.
    func observe(_ handler: @escaping @Sendable (Int64) -> Void) -> EventCommitObservation {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.handlers[state.nextID] = handler
            return state.nextID
        }
        return EventCommitObservation { [weak self] in
            self?.state.withLock { _ = $0.handlers.removeValue(forKey: id) }
        }
    }

    func publish(_ sequence: Int64) {
        let (continuations, handlers) = state.withLock { (Array($0.continuations.values), Array($0.handlers.values)) }
        for continuation in continuations { continuation.yield(sequence) }
        for handler in handlers { handler(sequence) }
    }
}
