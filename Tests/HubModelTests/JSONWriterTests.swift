import Foundation
import HubModel
import Testing

@Suite("Direct JSON writer")
struct JSONWriterTests {
    static func randomText(_ generator: inout some RandomNumberGenerator) -> String {
        let pieces = ["hello", "你好", "\"quoted\"", "back\\slash", "line\nbreak", "tab\t", "\u{01}\u{1F}", "/path/", "emoji 😀", "", " "]
        return (0..<Int.random(in: 0...4, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    static func randomMessage(_ generator: inout some RandomNumberGenerator) -> Message {
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &generator) ? value : nil }
        let date = Date(millisecondsSince1970: Int64.random(in: 0..<4_000_000_000_000, using: &generator))
        let authors: [MessageAuthor] = [.customer, .agent("alice"), .system, .integration("crm \"x\"")]
        var metadata: [String: JSONValue] = [:]
        for index in 0..<Int.random(in: 0...3, using: &generator) {
            let values: [JSONValue] = [
                .int(Int64.random(in: -1_000_000...1_000_000, using: &generator)), .string(randomText(&generator)), .bool(true), .null,
                .array([.int(1), .string("a")]), .object(["b": .int(2), "a": .string("x")]), .double(1.5), .double(2),
            ]
            metadata["key\(index)\(randomText(&generator))"] = values.randomElement(using: &generator)!
        }
        return Message(
            id: .generate(), conversationID: .generate(), direction: .inbound, author: authors.randomElement(using: &generator)!,
            visibility: Bool.random(using: &generator) ? .public : .note, text: maybe(randomText(&generator)),
            attachments: (0..<Int.random(in: 0...2, using: &generator)).map { index in
                Attachment(reference: "https://cdn/\(index)", contentType: maybe("image/png"), byteCount: maybe(1234), filename: maybe("a \(index).png"))
            },
            channelAccountID: "api-demo", providerMessageID: maybe(randomText(&generator)), deliveryStatus: maybe(.sent),
            deliveryError: maybe(randomText(&generator)), metadata: metadata, createdAt: date, sentAt: maybe(date), deliveredAt: maybe(date),
            readAt: maybe(date))
    }

    @Test("messages written directly are the same JSON as JSONEncoder's, byte for byte without metadata")
    func sameAsEncoder() throws {
        var generator = SystemRandomNumberGenerator()
        let encoder = HubJSON.makeEncoder()
        for _ in 0..<2_000 {
            var message = Self.randomMessage(&generator)
            let direct = JSONWriter.text(of: message)
            let encoded = String(decoding: try encoder.encode(message), as: UTF8.self)
            // Equal as JSON values (metadata key order may differ only in sorting rules for odd keys).
            #expect(try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(direct.utf8)) == (try JSONValue(encoding: message)))
            // (A metadata double 2.0 reads back as the integer 2 from either writer.)
            let decoder = HubJSON.makeDecoder()
            #expect(try decoder.decode(Message.self, from: Data(direct.utf8)) == (try decoder.decode(Message.self, from: Data(encoded.utf8))))
            message.metadata = [:]
            #expect(JSONWriter.text(of: message) == String(decoding: try encoder.encode(message), as: UTF8.self), "\(encoded)")
        }
    }

    @Test("call records written directly are JSONEncoder's bytes")
    func callRecordsSameAsEncoder() throws {
        var generator = SystemRandomNumberGenerator()
        let encoder = HubJSON.makeEncoder()
        for _ in 0..<1_000 {
            let record = Self.randomCallRecord(&generator)
            #expect(JSONWriter.text(of: record) == String(decoding: try encoder.encode(record), as: UTF8.self))
        }
    }

    static func randomCallRecord(_ generator: inout some RandomNumberGenerator) -> CallRecord {
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &generator) ? value : nil }
        let date = Date(millisecondsSince1970: Int64.random(in: 0..<4_000_000_000_000, using: &generator))
        return CallRecord(
            id: .generate(), conversationID: .generate(), direction: Bool.random(using: &generator) ? .inbound : .outbound,
            from: randomText(&generator), to: "+861088886666", state: CallState.allCases.randomElement(using: &generator)!,
            sipCallID: maybe(randomText(&generator)), agentID: maybe("bo"), startedAt: date, queuedAt: maybe(date),
            offeredAt: maybe(date.addingTimeInterval(1.5)), answeredAt: maybe(date), endedAt: maybe(date),
            hangupCause: maybe(randomText(&generator)), hungUpBy: maybe([CallParty.agent, .customer, .system].randomElement(using: &generator)!),
            recordingReference: maybe("blob:sha256:ab"))
    }

    static func randomConversation(_ generator: inout some RandomNumberGenerator) -> Conversation {
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &generator) ? value : nil }
        let date = Date(millisecondsSince1970: Int64.random(in: 0..<4_000_000_000_000, using: &generator))
        var attributes: [String: String] = [:]
        for name in ["intent", "sentiment", "language", "ivr.digits", "x_1"] where Bool.random(using: &generator) {
            attributes[name] = randomText(&generator)
        }
        return Conversation(
            id: .generate(), customerID: .generate(), handleID: maybe(.generate()), channelKind: ChannelKind.allCases.randomElement(using: &generator)!,
            channelAccountID: "acct-\(randomText(&generator))", threadKey: randomText(&generator),
            status: ConversationStatus.allCases.randomElement(using: &generator)!, queueID: maybe("support"),
            priority: Int.random(in: -5...100, using: &generator), assigneeID: maybe("alice"), subject: maybe(randomText(&generator)),
            attributes: attributes, createdAt: date, updatedAt: date.addingTimeInterval(2.5), lastMessageAt: maybe(date),
            lastInboundAt: maybe(date), firstResponseAt: maybe(date), closedAt: maybe(date))
    }

    static func randomCustomer(_ generator: inout some RandomNumberGenerator) -> (Customer, [Handle]) {
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &generator) ? value : nil }
        let date = Date(millisecondsSince1970: Int64.random(in: 0..<4_000_000_000_000, using: &generator))
        let customer = Customer(
            id: .generate(), name: maybe(randomText(&generator)), tier: Bool.random(using: &generator) ? .standard : CustomerTier(rawValue: randomText(&generator)),
            tags: (0..<Int.random(in: 0...3, using: &generator)).map { _ in randomText(&generator) }, locale: maybe("zh-CN"),
            ownerAgentID: maybe("alice"), mergedInto: maybe(.generate()), createdAt: date, updatedAt: maybe(date.addingTimeInterval(3.25)))
        let handles = (0..<Int.random(in: 0...2, using: &generator)).map { _ in
            let kind = HandleKind.allCases.randomElement(using: &generator)!
            return Handle(
                id: .generate(), customerID: customer.id, address: HandleAddress(kind: kind, scope: "app-\(randomText(&generator))", address: randomText(&generator)),
                displayName: maybe(randomText(&generator)), optedOutAt: maybe(date), createdAt: date)
        }
        return (customer, handles)
    }

    @Test("customers and handles written directly are JSONEncoder's bytes")
    func customersSameAsEncoder() throws {
        var generator = SystemRandomNumberGenerator()
        let encoder = HubJSON.makeEncoder()
        for _ in 0..<1_000 {
            let (customer, handles) = Self.randomCustomer(&generator)
            #expect(JSONWriter.text(of: customer) == String(decoding: try encoder.encode(customer), as: UTF8.self))
            for handle in handles { #expect(JSONWriter.text(of: handle) == String(decoding: try encoder.encode(handle), as: UTF8.self)) }
        }
    }

    @Test("conversations written directly are JSONEncoder's bytes")
    func conversationsSameAsEncoder() throws {
        var generator = SystemRandomNumberGenerator()
        let encoder = HubJSON.makeEncoder()
        for _ in 0..<1_000 {
            let conversation = Self.randomConversation(&generator)
            #expect(JSONWriter.text(of: conversation) == String(decoding: try encoder.encode(conversation), as: UTF8.self))
        }
    }

    @Test("a call record read from its parsed JSON equals JSONDecoder's; missing or mistyped fields are refused as JSONDecoder refuses them")
    func callRecordsFromJSONValues() throws {
        var generator = SystemRandomNumberGenerator()
        let decoder = HubJSON.makeDecoder()
        var object: [String: JSONValue] = [:]
        for _ in 0..<1_000 {
            let record = Self.randomCallRecord(&generator)
            let text = JSONWriter.text(of: record)
            let read = try CallRecord(json: JSONReader.parse(text))
            #expect(read == record)
            #expect(read == (try decoder.decode(CallRecord.self, from: Data(text.utf8))))
            #expect(record.carriedForm == record)
            if case .object(let fields) = try JSONReader.parse(text), fields.count > object.count { object = fields }
        }
        for name in object.keys.sorted() {
            for replacement in [nil, JSONValue.null, .int(3), .string("gone")] {
                var changed = object
                changed[name] = replacement
                let text = JSONWriter.text(of: JSONValue.object(changed))
                let decodes = (try? decoder.decode(CallRecord.self, from: Data(text.utf8))) != nil
                #expect(((try? CallRecord(json: .object(changed))) != nil) == decodes, "\(name) \(String(describing: replacement))")
            }
        }
        #expect(throws: JSONFields.Failure.self) { try CallRecord(json: .array([])) }
    }

    @Test("a conversation read from its parsed JSON equals JSONDecoder's; missing or mistyped fields are refused by name")
    func conversationsFromJSONValues() throws {
        var generator = SystemRandomNumberGenerator()
        let decoder = HubJSON.makeDecoder()
        for _ in 0..<1_000 {
            let conversation = Self.randomConversation(&generator)
            let text = JSONWriter.text(of: conversation)
            let read = try Conversation(json: JSONReader.parse(text))
            #expect(read == conversation)
            #expect(read == (try decoder.decode(Conversation.self, from: Data(text.utf8))))
        }
        let conversation = Self.randomConversation(&generator)
        guard case .object(let object) = try JSONReader.parse(JSONWriter.text(of: conversation)) else {
            Issue.record("not an object")
            return
        }
        // Every field JSONDecoder requires is required here too; optional ones may be null.
        for name in object.keys.sorted() {
            var without = object
            without[name] = nil
            let decodes = (try? decoder.decode(Conversation.self, from: Data(JSONWriter.text(of: JSONValue.object(without)).utf8))) != nil
            #expect(((try? Conversation(json: .object(without))) != nil) == decodes, "\(name)")
            without[name] = .null
            let decodesNull = (try? decoder.decode(Conversation.self, from: Data(JSONWriter.text(of: JSONValue.object(without)).utf8))) != nil
            #expect(((try? Conversation(json: .object(without))) != nil) == decodesNull, "\(name) null")
        }
        for (name, value) in [("priority", JSONValue.string("3")), ("status", .string("gone")), ("createdAt", .string("yesterday")), ("attributes", .array([]))] {
            var wrong = object
            wrong[name] = value
            #expect(throws: JSONFields.Failure.self) { try Conversation(json: .object(wrong)) }
            do {
                _ = try Conversation(json: .object(wrong))
            } catch {
                #expect(error.field == name)
            }
        }
        #expect(throws: JSONFields.Failure.self) { try Conversation(json: .array([])) }
    }

    @Test("escapes match JSONEncoder's for every control character")
    func escapes() throws {
        let text = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "\"\\/ 中文 😀"
        var writer = JSONWriter()
        writer.string(text)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: try HubJSON.makeEncoder().encode(text), as: UTF8.self))
    }

    @Test("the writer says when its text surely reads back: not after a non-finite number or past the reader's depth")
    func readable() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let message = Self.randomMessage(&generator)
            let (text, readable) = JSONWriter.writtenText(of: message)
            #expect(readable)
            #expect(throws: Never.self) { try JSONReader.validate(text) }
        }
        for number in [Double.nan, .infinity, -.infinity] {
            let (text, readable) = JSONWriter.writtenText(of: JSONValue.array([.int(1), .double(number)]))
            #expect(!readable)
            #expect(throws: (any Error).self) { try JSONReader.validate(text) }
        }
        func nested(_ depth: Int) -> JSONValue { (0..<depth).reduce(JSONValue.int(1)) { inner, _ in .array([inner]) } }
        let deepest = JSONWriter.writtenText(of: nested(JSONReader.maximumDepth - 1))
        #expect(deepest.readable)
        #expect(throws: Never.self) { try JSONReader.validate(deepest.text) }
        let tooDeep = JSONWriter.writtenText(of: nested(JSONReader.maximumDepth))
        #expect(!tooDeep.readable)
        #expect(throws: (any Error).self) { try JSONReader.validate(tooDeep.text) }
    }
}
