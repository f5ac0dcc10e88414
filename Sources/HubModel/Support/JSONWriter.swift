import Foundation

/// A type that writes its own JSON, for the payloads written on every inbound message, where
/// `JSONEncoder` costs more than the database work. The output is what `HubJSON.makeEncoder()`
/// produces for the same value (keys sorted, nil fields left out), which the tests check.
public protocol JSONWritable {
    /// Writes this value as one JSON value.
    func writeJSON(to writer: inout JSONWriter)
}

/// Writes JSON straight into bytes. Callers write object keys in sorted order themselves.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// For each open object or array: whether it already holds a value (a comma comes next).
    private var hasValue: [Bool] = []
    /// Set after a key: the value that follows takes no comma.
    private var afterKey = false
    /// The deepest nesting written so far.
    public private(set) var maximumDepth = 0
    /// False once a number JSON cannot hold (NaN, an infinity) was written: the text is then not
    /// JSON (`JSONEncoder` would have thrown instead).
    public private(set) var numbersAreFinite = true

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    /// The JSON text of a value.
    public static func text(of value: some JSONWritable) -> String {
        writtenText(of: value).text
    }

    /// The JSON text of a value, and whether `JSONReader` surely reads it back: the writer's
    /// escaping and structure make JSON of every value but a non-finite number, and the reader
    /// takes any nesting up to its limit.
    public static func writtenText(of value: some JSONWritable) -> (text: String, readable: Bool) {
        var writer = JSONWriter()
        value.writeJSON(to: &writer)
        return (String(decoding: writer.bytes, as: UTF8.self), writer.numbersAreFinite && writer.maximumDepth < JSONReader.maximumDepth)
    }

    /// A value's JSON written now, to be stored later as it is (see `WrittenJSON`).
    public static func written(_ value: some JSONWritable) -> WrittenJSON {
        let (text, readable) = writtenText(of: value)
        return WrittenJSON(text: text, readable: readable)
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = hasValue.indices.last else { return }
        if hasValue[last] { bytes.append(UInt8(ascii: ",")) } else { hasValue[last] = true }
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        hasValue.append(false)
        maximumDepth = max(maximumDepth, hasValue.count)
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        hasValue.removeLast()
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        hasValue.append(false)
        maximumDepth = max(maximumDepth, hasValue.count)
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        hasValue.removeLast()
    }

    /// An object key; the next value written is its value.
    public mutating func key(_ key: String) {
        separate()
        appendQuoted(key)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    public mutating func int(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func double(_ value: Double) {
        separate()
        if !value.isFinite { numbersAreFinite = false }
        // JSONEncoder writes integral doubles without a fraction ("2", not "2.0").
        if value.rounded() == value, abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int64(value)).utf8)
        } else {
            bytes.append(contentsOf: "\(value)".utf8)
        }
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// A timestamp as the hub writes them (`2026-11-22T08:30:00.123Z`).
    public mutating func date(_ value: Date) {
        // (Digits, '-', ':', '.', 'T' and 'Z' need no escape: written in place, quoted.)
        separate()
        bytes.append(UInt8(ascii: "\""))
        HubJSON.appendTimestamp(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `key: value`, left out when `value` is nil (as synthesized `Encodable` does).
    public mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    /// `key: timestamp`, left out when nil.
    public mutating func field(_ name: String, _ value: Date?) {
        guard let value else { return }
        key(name)
        date(value)
    }

    /// `key: value`, left out when nil.
    public mutating func field(_ name: String, _ value: (some JSONWritable)?) {
        guard let value else { return }
        key(name)
        value.writeJSON(to: &self)
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Runs of bytes that need no escape are copied at once.
            var run = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if run < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index])) }
                run = index + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
                case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
                case 0x08: bytes.append(contentsOf: [92, UInt8(ascii: "b")])
                case 0x0C: bytes.append(contentsOf: [92, UInt8(ascii: "f")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                }
            }
            if run < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        switch self {
        case .null: writer.null()
        case .bool(let value): writer.bool(value)
        case .int(let value): writer.int(value)
        case .double(let value): writer.double(value)
        case .string(let value): writer.string(value)
        case .array(let values):
            writer.beginArray()
            for value in values { value.writeJSON(to: &writer) }
            writer.endArray()
        case .object(let object):
            writer.writeObject(object)
        }
    }
}

extension JSONWriter {
    /// An object of JSON values, keys sorted by their UTF-8 bytes (as `JSONEncoder` sorts them;
    /// `String`'s own order compares normalized text).
    public mutating func writeObject(_ object: [String: JSONValue]) {
        beginObject()
        // (The pairs sorted, not the keys: no second hashing of each key to find its value.)
        for (name, value) in object.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            key(name)
            value.writeJSON(to: &self)
        }
        endObject()
    }
}

extension Attachment: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        if let byteCount {
            writer.key("byteCount")
            writer.int(Int64(byteCount))
        }
        writer.field("contentType", contentType)
        writer.field("filename", filename)
        writer.field("problem", problem)
        writer.field("reference", reference)
        writer.field("source", source)
        writer.field("status", status?.rawValue)
        writer.endObject()
    }
}

extension MessageAuthor: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", authorID)
        writer.field("kind", kind)
        writer.endObject()
    }
}

extension Message: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("attachments")
        writer.beginArray()
        for attachment in attachments { attachment.writeJSON(to: &writer) }
        writer.endArray()
        writer.field("author", author)
        writer.field("channelAccountId", channelAccountID)
        writer.field("conversationId", conversationID.rawValue)
        writer.field("createdAt", createdAt)
        writer.field("deliveredAt", deliveredAt)
        writer.field("deliveryError", deliveryError)
        writer.field("deliveryStatus", deliveryStatus?.rawValue)
        writer.field("direction", direction.rawValue)
        writer.field("id", id.rawValue)
        writer.key("metadata")
        writer.writeObject(metadata)
        writer.field("providerMessageId", providerMessageID)
        writer.field("readAt", readAt)
        writer.field("sentAt", sentAt)
        writer.field("text", text)
        writer.field("visibility", visibility.rawValue)
        writer.endObject()
    }
}

extension CallRecord: JSONWritable {
    /// (Written on every step of every call.)
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("agentId", agentID?.rawValue)
        writer.field("answeredAt", answeredAt)
        writer.field("conversationId", conversationID.rawValue)
        writer.field("direction", direction.rawValue)
        writer.field("endedAt", endedAt)
        writer.field("from", from)
        writer.field("hangupCause", hangupCause)
        writer.field("hungUpBy", hungUpBy?.rawValue)
        writer.field("id", id.rawValue)
        writer.field("offeredAt", offeredAt)
        writer.field("queuedAt", queuedAt)
        writer.field("recordingReference", recordingReference)
        writer.field("sipCallId", sipCallID)
        writer.field("startedAt", startedAt)
        writer.field("state", state.rawValue)
        writer.field("to", to)
        writer.endObject()
    }
}

extension Conversation: JSONWritable {
    /// (Written on every change of every conversation: each call's and chat's routing steps.)
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("assigneeId", assigneeID?.rawValue)
        writer.key("attributes")
        writer.writeObject(attributes)
        writer.field("channelAccountId", channelAccountID)
        writer.field("channelKind", channelKind.rawValue)
        writer.field("closedAt", closedAt)
        writer.field("createdAt", createdAt)
        writer.field("customerId", customerID.rawValue)
        writer.field("firstResponseAt", firstResponseAt)
        writer.field("handleId", handleID?.rawValue)
        writer.field("id", id.rawValue)
        writer.field("lastInboundAt", lastInboundAt)
        writer.field("lastMessageAt", lastMessageAt)
        writer.key("priority")
        writer.int(Int64(priority))
        writer.field("queueId", queueID)
        writer.field("status", status.rawValue)
        writer.field("subject", subject)
        writer.field("threadKey", threadKey)
        writer.field("updatedAt", updatedAt)
        writer.endObject()
    }
}

extension JSONWriter {
    /// An object of strings, keys sorted by their UTF-8 bytes (see above).
    public mutating func writeObject(_ object: [String: String]) {
        beginObject()
        for (name, value) in object.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            key(name)
            string(value)
        }
        endObject()
    }
}

extension Customer: JSONWritable {
    /// (Written for every new customer: every first call or message from a new number.)
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("createdAt", createdAt)
        writer.field("id", id.rawValue)
        writer.field("locale", locale)
        writer.field("mergedInto", mergedInto?.rawValue)
        writer.field("name", name)
        writer.field("ownerAgentId", ownerAgentID?.rawValue)
        writer.key("tags")
        writer.beginArray()
        for tag in tags { writer.string(tag) }
        writer.endArray()
        writer.field("tier", tier.rawValue)
        writer.field("updatedAt", updatedAt)
        writer.endObject()
    }
}

extension Handle: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("address", address)
        writer.field("createdAt", createdAt)
        writer.field("customerId", customerID.rawValue)
        writer.field("displayName", displayName)
        writer.field("id", id.rawValue)
        writer.field("kind", kind.rawValue)
        writer.field("optedOutAt", optedOutAt)
        writer.field("scope", scope)
        writer.endObject()
    }
}

/// JSON text the hub's writer made ahead of its storing, and whether `JSONReader` surely reads it
/// back (`JSONWriter.writtenText`). The router writes its records' payloads so on its own actor:
/// the store's one writing thread then only copies the text into the event's row.
public struct WrittenJSON: Sendable, Hashable, Encodable {
    public let text: String
    public let readable: Bool

    fileprivate init(text: String, readable: Bool) {
        self.text = text
        self.readable = readable
    }

    /// (The store takes the text as it is; an encoder gets the value the text reads as.)
    public func encode(to encoder: any Encoder) throws {
        try JSONReader.parse(text).encode(to: encoder)
    }
}
