import Foundation
@testable import HubModel
import Testing

@Suite("Identifiers and JSON conventions")
struct IdentifierTests {
    @Test("generated ids carry the type's prefix and a 26-character ULID that sorts by time")
    func generated() {
        let earlier = Customer.ID.generate(at: Date(timeIntervalSince1970: 1_700_000_000))
        let later = Customer.ID.generate(at: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(earlier.rawValue.hasPrefix("cus_"))
        #expect(earlier.rawValue.count == 4 + 26)
        #expect(earlier < later)
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        #expect(earlier.rawValue.dropFirst(4).allSatisfy(alphabet.contains))
        #expect(Message.ID.generate().rawValue.hasPrefix("msg_"))
        #expect(Delivery.ID.generate().rawValue.hasPrefix("dlv_"))
    }

    @Test("ten thousand ids made in one millisecond are all different")
    func unique() {
        let now = Date()
        let ids = (0..<10_000).map { _ in Message.ID.generate(at: now) }
        #expect(Set(ids).count == ids.count)
    }

    @Test("ids made at once on eight tasks, through many refills of the random pool, are all different")
    func uniqueConcurrently() async {
        let now = Date()
        let ids = await withTaskGroup(of: [Message.ID].self) { group in
            for _ in 0..<8 { group.addTask { (0..<2_000).map { _ in Message.ID.generate(at: now) } } }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(ids.count == 16_000)
        #expect(Set(ids).count == ids.count)
        // Randomness part: no 16-character suffix repeats, and every alphabet character appears.
        let suffixes = ids.map { $0.rawValue.suffix(16) }
        #expect(Set(suffixes).count == suffixes.count)
        #expect(Set(suffixes.joined()).count == 32)
    }

    @Test("the ULID time part encodes the milliseconds (spec example: 1469918176385 is 01ARYZ6S41)")
    func ulidTime() {
        let id = Customer.ID.generate(at: Date(timeIntervalSince1970: 1_469_918_176.385))
        #expect(id.rawValue.dropFirst(4).prefix(10) == "01ARYZ6S41")
    }

    @Test("timestamps are UTC ISO 8601 with milliseconds and read back equal")
    func timestamps() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        #expect(HubJSON.formatTimestamp(date) == "2026-11-18T11:06:40.123Z")
        #expect(HubJSON.formatTimestamp(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(date.truncatedToMilliseconds.truncatedToMilliseconds == date.truncatedToMilliseconds)
        #expect(HubJSON.parseTimestamp("2026-11-18T11:06:40.123Z") == date.truncatedToMilliseconds)
        #expect(HubJSON.parseTimestamp("2026-11-18T11:06:40Z") == Date(timeIntervalSince1970: 1_795_000_000))
        #expect(HubJSON.parseTimestamp("2026-11-18T19:06:40+08:00") == Date(timeIntervalSince1970: 1_795_000_000))
        #expect(HubJSON.parseTimestamp("yesterday") == nil)
        struct Stamped: Codable, Equatable { var at: Date }
        let value = Stamped(at: date.truncatedToMilliseconds)
        let data = try HubJSON.makeEncoder().encode(value)
        #expect(String(decoding: data, as: UTF8.self) == #"{"at":"2026-11-18T11:06:40.123Z"}"#)
        #expect(try HubJSON.makeDecoder().decode(Stamped.self, from: data) == value)
    }

    @Test("the fast timestamp formatter agrees with Foundation's ISO 8601 style on 20,000 dates from 1970 to 2400")
    func timestampFormatterMatchesFoundation() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        let latest: Int64 = 13_569_465_600_000  // 2400-01-01
        var dates = [Int64(0), 951_782_400_000, 951_868_799_999, 4_107_542_400_000, latest - 1]  // leap days, 2100
        for _ in 0..<20_000 { dates.append(Int64.random(in: 0..<latest, using: &generator)) }
        for milliseconds in dates {
            let date = Date(millisecondsSince1970: milliseconds)
            let foundation = Date(timeIntervalSince1970: Double(milliseconds / 1000)).formatted(style).dropLast(4)
                + String(format: "%03d", milliseconds % 1000) + "Z"
            #expect(HubJSON.formatTimestamp(date) == foundation, "\(milliseconds)")
            #expect(HubJSON.parseTimestamp(HubJSON.formatTimestamp(date)) == date)
        }
    }

    @Test("the fast timestamp parser reads what Foundation's ISO 8601 parser reads, from 1970 to 2400, and leaves odd forms to it")
    func timestampParserMatchesFoundation() throws {
        let withFractions = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        let withoutFractions = Date.ISO8601FormatStyle(timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        let latest: Int64 = 13_569_465_600_000  // 2400-01-01
        var dates = [Int64(0), 951_782_400_000, 951_868_799_999, 4_107_542_400_000, latest - 1]  // leap days, 2100
        for _ in 0..<20_000 { dates.append(Int64.random(in: 0..<latest, using: &generator)) }
        for milliseconds in dates {
            let text = HubJSON.formatTimestamp(Date(millisecondsSince1970: milliseconds))
            #expect(HubJSON.canonicalMilliseconds(text) == milliseconds, "\(text)")
            #expect(try withFractions.parse(text).truncatedToMilliseconds == Date(millisecondsSince1970: milliseconds), "\(text)")
            let whole = String(text.prefix(19)) + "Z"
            #expect(HubJSON.canonicalMilliseconds(whole) == milliseconds - ((milliseconds % 1000) + 1000) % 1000, "\(whole)")
            #expect(try withoutFractions.parse(whole) == Date(millisecondsSince1970: HubJSON.canonicalMilliseconds(whole) ?? -1), "\(whole)")
        }
        // Not the canonical form, or a field out of range: left to Foundation.
        for odd in [
            "2026-02-29T00:00:00.000Z", "2100-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-18T24:00:00Z",
            "2026-11-18T11:60:00Z", "2016-12-31T23:59:60Z", "2026-11-18T19:06:40+08:00", "2026-11-18 11:06:40Z", "2026-11-18T11:06:40.12Z",
            "２026-11-18T11:06:40Z", "2026-11-18T11:06:40.123z", "+026-11-18T11:06:40Z",
        ] {
            #expect(HubJSON.canonicalMilliseconds(odd) == nil, "\(odd)")
        }
        #expect(HubJSON.canonicalMilliseconds("2024-02-29T12:00:00Z") == 1_709_208_000_000)
    }

    @Test("wire keys spell ids as Id, and customer-supplied keys are kept exactly")
    func wireKeys() throws {
        let conversation = Conversation(
            id: "cnv_1", customerID: "cus_1", handleID: "hdl_1", channelKind: .api, channelAccountID: "api-demo", queueID: "support",
            attributes: ["orderID": "42"], createdAt: Date(timeIntervalSince1970: 0))
        let json = try JSONValue(encoding: conversation)
        #expect(json["customerId"]?.stringValue == "cus_1")
        #expect(json["channelAccountId"]?.stringValue == "api-demo")
        #expect(json["customerID"] == nil)
        #expect(json["attributes"]?["orderID"]?.stringValue == "42")
        #expect(try json.decode(as: Conversation.self) == conversation)
    }

    @Test("JSON values keep integers exact and round-trip")
    func jsonValues() throws {
        let text = #"{"a":9007199254740993,"b":1.5,"c":[true,null,"x"],"d":{"e":"f"}}"#
        let value = try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value["a"]?.intValue == 9_007_199_254_740_993)
        #expect(value["b"] == .double(1.5))
        #expect(value["c"] == .array([.bool(true), .null, .string("x")]))
        #expect(String(decoding: try HubJSON.makeEncoder().encode(value), as: UTF8.self) == text)
    }

    @Test("decoding problems name the field")
    func jsonProblems() {
        struct Body: Decodable {
            struct From: Decodable { var id: String }
            var from: From
            var count: Int
        }
        func problem(_ json: String) -> String {
            let result = Result { try HubJSON.makeDecoder().decode(Body.self, from: Data(json.utf8)) }
            guard case .failure(let error) = result else { return "no error" }
            return JSONProblem.describe(error)
        }
        #expect(problem(#"{"from":{"id":"a"}"#) == "the body is not valid JSON")
        #expect(problem(#"{"from":{}, "count": 1}"#) == "'id' is required in from")
        #expect(problem(#"{"from":{"id":"a"}, "count": "x"}"#) == "count must be a whole number")
        #expect(problem(#"{"from":{"id":"a"}}"#) == "'count' is required")
    }
}
