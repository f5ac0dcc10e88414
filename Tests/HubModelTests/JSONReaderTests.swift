import Foundation
import HubModel
import Testing

@Suite("JSON reader")
struct JSONReaderTests {
    @Test(
        "reads what JSONDecoder reads, the same",
        arguments: [
            #"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-2.5,"g":1e3,"h":"\u00e9\n\t\"q\"","i":""}"#,
            #"  [ 1 , 2 ,[ ] , { } ]  "#,
            #""李雷 你好 👋 \ud83d\udc4b""#,
            #"{"big":9223372036854775807,"neg":-9223372036854775808,"over":9223372036854775808,"tiny":1.5e-300}"#,
            #"{"seq":42,"kind":"message.received","payload":{"text":"您好，订单已发货。","attachments":[],"metadata":{"x":[1,{"y":null}]}}}"#,
            "0", "-0", "3.14159", "\"\\/\\\\\\b\\f\\r\"",
        ])
    func matchesDecoder(text: String) throws {
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try JSONReader.parse(text) == decoded)
        #expect(throws: Never.self) { try JSONReader.validate(text) }
    }

    @Test(
        "refuses what is not JSON, with where",
        arguments: [
            "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", ".5", "1e", "tru", "nul", "\"abc", "\"\\x\"", "\"\\ud800\"",
            "\"\\udc00\"", "[1] 2", "{1:2}", "\"a\u{01}b\"", "-", "+1", "NaN",
        ])
    func refuses(text: String) {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(text) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.validate(text) }
    }

    @Test("refuses nesting deeper than it can read safely")
    func depth() {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(String(repeating: "[", count: 10_000)) }
        #expect(throws: Never.self) { try JSONReader.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.validate(String(repeating: "[", count: 10_000)) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.validate(String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600)) }
        #expect(throws: Never.self) { try JSONReader.validate(String(repeating: "{\"a\":", count: 500) + "1" + String(repeating: "}", count: 500)) }
    }

    @Test("validating agrees with parsing on every text: written values and their mutilations (truncated, a byte changed, inserted or dropped)")
    func validateAgreesWithParse() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]":,\ .-+eE0123456789tfnulrsa\"#.utf8) + [0x01, 0x0A, 0xC3, 0xA9, 0xE4, 0xBD, 0xA0, 0xFF]
        var checked = (valid: 0, invalid: 0)
        for _ in 0..<3_000 {
            let text = JSONWriter.text(of: Self.randomValue(depth: 0, &generator))
            var bytes = Array(text.utf8)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: break
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            case 2: bytes[Int.random(in: 0..<bytes.count, using: &generator)] = alphabet.randomElement(using: &generator)!
            case 3: bytes.insert(alphabet.randomElement(using: &generator)!, at: Int.random(in: 0...bytes.count, using: &generator))
            default: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &generator))
            }
            // Invalid UTF-8 is replaced by the String, as it would be in the store's text column.
            let mutated = String(decoding: bytes, as: UTF8.self)
            let parses = (try? JSONReader.parse(mutated)) != nil
            let validates = (try? JSONReader.validate(mutated)) != nil
            #expect(parses == validates, "\(mutated)")
            if parses { checked.valid += 1 } else { checked.invalid += 1 }
        }
        // Both kinds were tried, many times.
        #expect(checked.valid > 500 && checked.invalid > 500, "\(checked)")
    }

    static func randomValue(depth: Int, _ generator: inout some RandomNumberGenerator) -> JSONValue {
        let strings = ["", "plain", "with \"quote\" and \\", "换行\n", "tab\t", "é", "🇨🇳 emoji", "ctrl\u{01}", "/slash"]
        switch Int.random(in: 0..<(depth < 4 ? 8 : 5), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int(Int64.random(in: -1_000_000...1_000_000, using: &generator))
        case 3: return .double(Double.random(in: -1e6...1e6, using: &generator))
        case 4: return .string(strings.randomElement(using: &generator)!)
        case 5, 6:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                object[strings.randomElement(using: &generator)!] = randomValue(depth: depth + 1, &generator)
            }
            return .object(object)
        default:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1, &generator) })
        }
    }

    @Test("reads back every value the writer writes")
    func roundTrip() throws {
        let value: JSONValue = .object([
            "text": .string("换行\n引号\"反斜杠\\ tab\t 控制\u{02} emoji 🇨🇳"), "n": .int(-7), "d": .double(0.25),
            "list": .array([.null, .bool(true), .object([:]), .array([])]),
        ])
        let text = JSONWriter.text(of: value)
        #expect(try JSONReader.parse(text) == value)
    }
}
