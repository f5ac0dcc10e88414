import Foundation

/// Reads the fields of a JSON object already parsed (an event's payload) into a model value, with
/// the rules of the synthesized `Decodable`: a non-optional field must be there with its type; an
/// optional one may be missing or null. Without the round trip through text and `JSONDecoder`,
/// which costs more than the rest of handling most events.
public struct JSONFields {
    public struct Failure: Error, CustomStringConvertible {
        public var field: String
        public var problem: String

        public var description: String { "\(field): \(problem)" }
    }

    let object: [String: JSONValue]
    /// Where this object is in the whole (`conversation.` for a nested one), for error messages.
    let path: String

    public init(_ value: JSONValue) throws(Failure) {
        try self.init(value, path: "")
    }

    private init(_ value: JSONValue, path: String) throws(Failure) {
        guard case .object(let object) = value else {
            throw Failure(field: path.isEmpty ? "(value)" : String(path.dropLast()), problem: "expected an object")
        }
        self.object = object
        self.path = path
    }

    private func failure(_ name: String, _ problem: String) -> Failure { Failure(field: path + name, problem: problem) }

    private func present(_ name: String) -> JSONValue? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    public func optionalString(_ name: String) throws(Failure) -> String? {
        guard let value = present(name) else { return nil }
        guard case .string(let text) = value else { throw failure(name, "expected a string") }
        return text
    }

    public func string(_ name: String) throws(Failure) -> String {
        guard let text = try optionalString(name) else { throw failure(name, "missing") }
        return text
    }

    public func optionalDate(_ name: String) throws(Failure) -> Date? {
        guard let text = try optionalString(name) else { return nil }
        guard let date = HubJSON.parseTimestamp(text) else { throw failure(name, "expected an ISO 8601 timestamp, got \"\(text)\"") }
        return date
    }

    public func date(_ name: String) throws(Failure) -> Date {
        guard let date = try optionalDate(name) else { throw failure(name, "missing") }
        return date
    }

    public func int(_ name: String) throws(Failure) -> Int {
        switch present(name) {
        case .int(let value)?:
            guard let int = Int(exactly: value) else { throw failure(name, "out of range") }
            return int
        case .double(let value)?:
            guard let int = Int(exactly: value) else { throw failure(name, "expected an integer") }
            return int
        case nil: throw failure(name, "missing")
        default: throw failure(name, "expected an integer")
        }
    }

    public func value<T: RawRepresentable<String>>(_ name: String, as type: T.Type) throws(Failure) -> T {
        let text = try string(name)
        guard let value = T(rawValue: text) else { throw failure(name, "unknown value \"\(text)\"") }
        return value
    }

    public func strings(_ name: String) throws(Failure) -> [String] {
        guard case .array(let values)? = present(name) else { throw failure(name, "expected an array") }
        var result: [String] = []
        result.reserveCapacity(values.count)
        for value in values {
            guard case .string(let text) = value else { throw failure(name, "expected strings") }
            result.append(text)
        }
        return result
    }

    public func stringObject(_ name: String) throws(Failure) -> [String: String] {
        guard case .object(let values)? = present(name) else { throw failure(name, "expected an object") }
        var result: [String: String] = [:]
        result.reserveCapacity(values.count)
        for (key, value) in values {
            guard case .string(let text) = value else { throw failure("\(name).\(key)", "expected a string") }
            result[key] = text
        }
        return result
    }

    public func object(_ name: String) throws(Failure) -> JSONFields {
        guard let value = present(name) else { throw failure(name, "missing") }
        return try JSONFields(value, path: path + name + ".")
    }
}

extension Conversation {
    /// A conversation from the JSON its `Codable` form writes (an event's payload), field for
    /// field as `init(from:)` reads it.
    public init(json: JSONValue) throws(JSONFields.Failure) {
        try self.init(fields: JSONFields(json))
    }

    public init(fields: JSONFields) throws(JSONFields.Failure) {
        self.init(
            id: ID(try fields.string("id")), customerID: Customer.ID(try fields.string("customerId")),
            handleID: try fields.optionalString("handleId").map { Handle.ID($0) }, channelKind: try fields.value("channelKind", as: ChannelKind.self),
            channelAccountID: try fields.string("channelAccountId"), threadKey: try fields.string("threadKey"),
            status: try fields.value("status", as: ConversationStatus.self), queueID: try fields.optionalString("queueId"),
            priority: try fields.int("priority"), assigneeID: try fields.optionalString("assigneeId").map { Agent.ID($0) },
            subject: try fields.optionalString("subject"), attributes: try fields.stringObject("attributes"), createdAt: try fields.date("createdAt"),
            updatedAt: try fields.date("updatedAt"), lastMessageAt: try fields.optionalDate("lastMessageAt"),
            lastInboundAt: try fields.optionalDate("lastInboundAt"), firstResponseAt: try fields.optionalDate("firstResponseAt"),
            closedAt: try fields.optionalDate("closedAt"))
    }
}

extension CallRecord {
    /// A call record from the JSON its `Codable` form writes (an event's payload), field for
    /// field as `init(from:)` reads it.
    public init(json: JSONValue) throws(JSONFields.Failure) {
        let fields = try JSONFields(json)
        let hungUpBy: CallParty? =
            if try fields.optionalString("hungUpBy") != nil { try fields.value("hungUpBy", as: CallParty.self) } else { nil }
        self.init(
            id: ID(try fields.string("id")), conversationID: Conversation.ID(try fields.string("conversationId")),
            direction: try fields.value("direction", as: MessageDirection.self), from: try fields.string("from"), to: try fields.string("to"),
            state: try fields.value("state", as: CallState.self), sipCallID: try fields.optionalString("sipCallId"),
            agentID: try fields.optionalString("agentId").map { Agent.ID($0) }, startedAt: try fields.date("startedAt"),
            queuedAt: try fields.optionalDate("queuedAt"), offeredAt: try fields.optionalDate("offeredAt"),
            answeredAt: try fields.optionalDate("answeredAt"), endedAt: try fields.optionalDate("endedAt"),
            hangupCause: try fields.optionalString("hangupCause"), hungUpBy: hungUpBy,
            recordingReference: try fields.optionalString("recordingReference"))
    }
}
