import Foundation
import Testing

@testable import MailCore

/// The parser's fuzzer for CI: seeded mutations of every corpus message for a bounded time,
/// checking that parsing returns, the limits hold and sanitized HTML is safe. The mutations
/// depend only on the seed; a failure names the round and file, which reproduce it.
@Suite("parser properties")
struct MailParserPropertyTests {
    /// Wall-clock budget for the mutation fuzzer.
    static let budget: Duration = .seconds(8)

    private static let tokens: [[UInt8]] = [
        "=?", "?=", "=?utf-8?B?", "=?gb2312?Q?=C4", "--", "\r\n", "\n", "\r\n\r\n", ":", ";", "\"", "<", ">", "(", ")",
        "Content-Type: multipart/mixed; boundary=x\r\n", "--x\r\n", "--x--\r\n", "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n", "=\r\n", "=ZZ", "filename*0*=utf-8''%E5", "<blockquote>", "<script>",
        "&#x1F600;", "\u{0}", " ", "\t",
    ].map { Array($0.utf8) }

    /// One random edit of `bytes`.
    static func mutate(_ bytes: inout [UInt8], using random: inout SplitMix64) {
        let count = bytes.count
        let position = count == 0 ? 0 : Int.random(in: 0..<count, using: &random)
        switch Int.random(in: 0..<9, using: &random) {
        case 0 where count > 0:
            bytes[position] ^= UInt8.random(in: 1...255, using: &random)
        case 1:
            bytes.removeSubrange(position...)
        case 2:
            bytes.insert(contentsOf: tokens.randomElement(using: &random) ?? [], at: position)
        case 3 where count > 0:
            // Duplicate the line around `position` (header or boundary lines included).
            let start = bytes[..<position].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            let end = bytes[position...].firstIndex(of: 0x0A).map { $0 + 1 } ?? count
            let line = Array(bytes[start..<end])
            bytes.insert(contentsOf: line, at: start)
        case 4:
            let length = Int.random(in: 1...16, using: &random)
            bytes.insert(contentsOf: (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }, at: position)
        case 5 where count > 0:
            let end = min(count, position + Int.random(in: 1...64, using: &random))
            bytes.removeSubrange(position..<end)
        case 6:
            // Boundary lines of any boundary present.
            if let range = MailBytes.firstRange(of: Array("boundary=".utf8), in: bytes[...], ignoringCase: true) {
                let value = bytes[range.upperBound...].prefix { $0 != 0x0D && $0 != 0x0A && $0 != 0x3B }.filter { $0 != 0x22 }
                bytes.insert(contentsOf: Array("\r\n--".utf8) + value + (Bool.random(using: &random) ? Array("--".utf8) : []) + [0x0D, 0x0A], at: position)
            }
        case 7:
            bytes = bytes.filter { $0 != 0x0D }
        default:
            if count > 0 { bytes[position] = [0x0A, 0x0D, 0x3A, 0x3D, 0x2D, 0x20, 0x3C][Int.random(in: 0..<7, using: &random)] }
        }
    }

    static func checkInvariants(_ message: MailMessage, input: [UInt8], limits: MailLimits, context: @autoclosure () -> String = "") {
        let comment = Comment(rawValue: context())
        #expect(message.partCount <= max(1, limits.maximumParts), comment)
        #expect(message.attachments.count <= limits.maximumParts, comment)
        #expect(message.attachments.allSatisfy { $0.bytes.count <= input.count }, comment)
        #expect(message.headers.fields.count <= limits.maximumHeaderCount, comment)
        #expect(message.headers.fields.reduce(0) { $0 + $1.name.utf8.count } <= limits.maximumHeaderBytes + 256, comment)
        #expect(message.problems.count <= 64, comment)
        #expect((message.textBody?.utf8.count ?? 0) <= 6 * input.count + 64, comment)
        #expect((message.htmlBody?.utf8.count ?? 0) <= 8 * input.count + 2048, comment)
        #expect(message.attachments.allSatisfy { !($0.filename?.contains("/") ?? false) && !($0.filename?.contains("\\") ?? false) }, comment)
        if let html = message.htmlBody { #expect(isSafeHTML(html), "\(context()): \(html)") }
        _ = message.visibleText
        _ = message.autoSubmission
    }

    /// Whether sanitized HTML, read again, has only whitelisted elements and attributes, and
    /// links and images only to allowed schemes.
    static func isSafeHTML(_ html: String) -> Bool {
        let attributes: Set<String> = ["href", "rel", "src", "alt", "title", "width", "height", "colspan", "rowspan"]
        var tokenizer = HTMLTokenizer(html)
        while let token = tokenizer.next() {
            switch token {
            case .startTag(let name, let tagAttributes, _):
                guard HTMLSanitizer.allowedElements.contains(name) else { return false }
                for (attribute, value) in tagAttributes {
                    guard attributes.contains(attribute) else { return false }
                    let decoded = HTMLEntities.decode(value)
                    if attribute == "href" && !HTMLSanitizer.isAllowedLink(decoded) { return false }
                    if attribute == "src" && !HTMLSanitizer.isAllowedImage(decoded) { return false }
                }
            case .endTag(let name):
                guard HTMLSanitizer.allowedElements.contains(name) else { return false }
            case .rawText:
                return false
            case .text:
                continue
            }
        }
        return true
    }

    @Test("mutated corpus messages never crash the parser and stay within limits")
    func mutationFuzzing() throws {
        let names = corpusNames()
        let originals = try names.map { try corpusBytes($0) }
        #expect(!originals.isEmpty)
        let tight = MailLimits(maximumDepth: 3, maximumParts: 8, maximumHeaderBytes: 2048, maximumHeaderCount: 16)
        var random = SplitMix64(seed: 0x5EED_2026)
        let deadline = ContinuousClock.now + Self.budget
        var iterations = 0
        var parsed = 0
        while ContinuousClock.now < deadline {
            for (index, original) in originals.enumerated() {
                // The 300 KB message is slow to mutate in debug builds: one in ten rounds.
                if original.count > 100_000 && iterations % 10 != 0 { continue }
                var bytes = original
                for _ in 0..<Int.random(in: 1...6, using: &random) { Self.mutate(&bytes, using: &random) }
                let limits = iterations % 3 == 0 ? tight : .standard
                let message = MailMessage.parse(bytes, limits: limits)
                Self.checkInvariants(message, input: bytes, limits: limits, context: "round \(iterations), file \(names[index])")
                parsed += 1
            }
            iterations += 1
        }
        print("parser fuzzing: \(parsed) mutated messages in \(iterations) rounds over \(originals.count) corpus files")
        // At least one full round over the corpus, whatever the machine's speed.
        #expect(iterations >= 1)
    }

    @Test("random bytes and random header soup never crash the parser")
    func randomInputs() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<512, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if Bool.random(using: &random) {
                bytes = Array("Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n".utf8) + bytes
            }
            let message = MailMessage.parse(bytes)
            Self.checkInvariants(message, input: bytes, limits: .standard)
            _ = EncodedWords.decode(String(decoding: bytes, as: UTF8.self))
            _ = MailAddress.parseList(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// A random MIME tree and what parsing it must find.
    private struct Tree {
        var text = ""
        var texts: [String] = []
        var attachments: [(name: String, bytes: [UInt8])] = []
        var boundaryCounter = 0
    }

    private static let words = ["order", "退款", "Grüße", "=?not?=", "--", "ok", "é", "📦", "line=end", " "]

    private static func randomText(_ random: inout SplitMix64) -> String {
        (0..<Int.random(in: 1...12, using: &random)).map { _ in words.randomElement(using: &random) ?? "" }.joined(separator: " ")
            .trimmingCharacters(in: .whitespaces) + "."
    }

    private static func build(depth: Int, into tree: inout Tree, random: inout SplitMix64) -> String {
        if depth < 3 && Int.random(in: 0..<3, using: &random) == 0 {
            tree.boundaryCounter += 1
            let boundary = "=_b\(tree.boundaryCounter)_\(Int.random(in: 0..<1000, using: &random))"
            var body = "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\npreamble\r\n"
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                body += "--\(boundary)\r\n" + build(depth: depth + 1, into: &tree, random: &random) + "\r\n"
            }
            return body + "--\(boundary)--\r\nepilogue\r\n"
        }
        if Bool.random(using: &random) {
            let text = randomText(&random)
            tree.texts.append(text)
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                return "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Data(text.utf8).base64EncodedString(options: .lineLength76Characters) + "\r\n"
            case 1:
                let qp = text.utf8.map { $0 == 0x3D || $0 >= 0x80 ? String(format: "=%02X", $0) : String(UnicodeScalar($0)) }.joined()
                return "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp
            default:
                return "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
            }
        }
        let bytes = (0..<Int.random(in: 0..<300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let name = "file\(tree.attachments.count).bin"
        tree.attachments.append((name, bytes))
        return "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"\(name)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Data(bytes).base64EncodedString(options: .lineLength76Characters)
    }

    @Test("random MIME trees: every text part and every attachment comes back exactly")
    func roundTrip() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<300 {
            var tree = Tree()
            let message = "From: a@example.com\r\nSubject: tree\r\n" + Self.build(depth: 0, into: &tree, random: &random)
            let parsed = MailMessage.parse(Array(message.utf8))
            #expect(parsed.problems.isEmpty, "\(parsed.problems)\n\(message)")
            #expect(parsed.attachments.map(\.filename) == tree.attachments.map(\.name))
            #expect(parsed.attachments.map(\.bytes) == tree.attachments.map(\.bytes))
            if tree.texts.isEmpty {
                #expect(parsed.textBody == nil)
            } else {
                #expect(parsed.textBody == tree.texts.joined(separator: "\n\n"))
            }
        }
    }
}
