import Foundation

@testable import MailCore

/// Parses a message written as a Swift string (line endings as written).
func parseMail(_ text: String, limits: MailLimits = .standard) -> MailMessage {
    MailMessage.parse(Array(text.utf8), limits: limits)
}

/// The message with every LF turned into CR LF, as it travels over SMTP.
func crlf(_ text: String) -> String {
    text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
}

/// A corpus message's bytes, from the test bundle.
func corpusBytes(_ name: String) throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Corpus") else {
        throw CorpusError.missing(name)
    }
    return Array(try Data(contentsOf: url))
}

/// The names of all corpus messages, sorted.
func corpusNames() -> [String] {
    guard let directory = Bundle.module.url(forResource: "Corpus", withExtension: nil),
        let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
    else { return [] }
    return names.filter { $0.hasSuffix(".eml") }.sorted()
}

enum CorpusError: Error {
    case missing(String)
}

/// A small deterministic PRNG (SplitMix64) so fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
