import Foundation
import Testing

@testable import MailCore

/// What a corpus message must parse to (Corpus/expectations.json, written with the corpus by
/// scripts/make-mail-corpus.py from the text before it was encoded).
struct CorpusExpectation: Decodable {
    struct Report: Decodable {
        var originalMessageID: String
        var originalEnvelopeID: String
        var finalRecipient: String
        var action: String
        var status: String
        var diagnosticCode: String
    }

    var subject: String?
    var from_: String?
    var fromName: String?
    var to: [String]?
    var cc: [String]?
    var messageID: String?
    var inReplyTo: [String]?
    var references: [String]?
    var date: Double?
    var text: [String]?
    var textNot: [String]?
    var textEquals: String?
    var html: [String]?
    var htmlNot: [String]?
    var visible: String?
    var attachments: [String?]?
    var attachmentSizes: [Int]?
    var inline: [Bool]?
    var contentIDs: [String?]?
    var problems: Bool?
    var autoReason: String?
    var autoBounce: Bool?
    var dsn: Report?
}

@Suite("corpus of real-world-style messages")
struct MailCorpusTests {
    static let expectations: [String: CorpusExpectation] = {
        guard let url = Bundle.module.url(forResource: "expectations", withExtension: "json", subdirectory: "Corpus"),
            let data = try? Data(contentsOf: url),
            let decoded = try? JSONDecoder().decode([String: CorpusExpectation].self, from: data)
        else { return [:] }
        return decoded
    }()

    @Test("the corpus is there: at least 25 messages, each with expectations")
    func corpusPresent() {
        let names = corpusNames()
        #expect(names.count >= 25)
        #expect(Set(names) == Set(Self.expectations.keys))
    }

    @Test("each message parses to what its expectations say", arguments: corpusNames())
    func message(name: String) throws {
        let bytes = try corpusBytes(name)
        let expected = try #require(Self.expectations[name])
        let message = MailMessage.parse(bytes)
        let text = message.textBody ?? ""

        if let subject = expected.subject { #expect(message.subject == subject) }
        if let from = expected.from_ { #expect(message.from.first?.address == from) }
        if let name = expected.fromName { #expect(message.from.first?.displayName == name) }
        if let to = expected.to { #expect(message.to.map(\.address) == to) }
        if let cc = expected.cc { #expect(message.cc.map(\.address) == cc) }
        if let id = expected.messageID { #expect(message.messageID == id) }
        if let ids = expected.inReplyTo { #expect(message.inReplyTo == ids) }
        if let ids = expected.references { #expect(message.references == ids) }
        if let seconds = expected.date { #expect(message.date == Date(timeIntervalSince1970: seconds)) }
        for snippet in expected.text ?? [] { #expect(text.contains(snippet), "text lacks \(snippet): \(text)") }
        for snippet in expected.textNot ?? [] { #expect(!text.contains(snippet), "text has \(snippet)") }
        if let equals = expected.textEquals { #expect(message.textBody == equals) }
        let html = message.htmlBody ?? ""
        for snippet in expected.html ?? [] { #expect(html.contains(snippet), "html lacks \(snippet): \(html)") }
        for snippet in expected.htmlNot ?? [] { #expect(!html.lowercased().contains(snippet), "html has \(snippet): \(html)") }
        if let visible = expected.visible { #expect(message.visibleText == visible) }
        if let names = expected.attachments { #expect(message.attachments.map(\.filename) == names) }
        if let sizes = expected.attachmentSizes { #expect(message.attachments.map(\.bytes.count) == sizes) }
        if let inline = expected.inline { #expect(message.attachments.map(\.isInline) == inline) }
        if let ids = expected.contentIDs { #expect(message.attachments.map(\.contentID) == ids) }
        if let problems = expected.problems { #expect(message.problems.isEmpty != problems, "problems: \(message.problems)") }
        if let reason = expected.autoReason { #expect(message.autoSubmission?.reason == reason) }
        if let bounce = expected.autoBounce { #expect(message.autoSubmission?.isBounce == bounce) }
        if let dsn = expected.dsn {
            let report = try #require(message.deliveryReport)
            #expect(report.originalMessageID == dsn.originalMessageID)
            #expect(report.originalEnvelopeID == dsn.originalEnvelopeID)
            #expect(report.recipients.first?.finalRecipient == dsn.finalRecipient)
            #expect(report.recipients.first?.action == dsn.action)
            #expect(report.recipients.first?.status == dsn.status)
            #expect(report.recipients.first?.diagnosticCode == dsn.diagnosticCode)
        } else {
            #expect(message.deliveryReport == nil)
        }
    }
}
