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
    }

    @Test(
        "refuses what is not JSON, with where",
        arguments: [
            "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", ".5", "1e", "tru", "nul", "\"abc", "\"\\x\"", "\"\\ud800\"",
            "\"\\udc00\"", "[1] 2", "{1:2}", "\"a\u{01}b\"", "-", "+1", "NaN",
        ])
    func refuses(text: String) {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(text) }
    }

    @Test("refuses nesting deeper than it can read safely")
    func depth() {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(String(repeating: "[", count: 10_000)) }
        #expect(throws: Never.self) { try JSONReader.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) }
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
