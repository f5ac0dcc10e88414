import Testing

@testable import MailCore

@Suite("RFC 3834 auto-submission")
struct AutoSubmissionTests {
    private func headers(_ fields: [(String, String)]) -> MailHeaders {
        MailHeaders(fields.map { MailHeader(name: $0.0, rawValue: $0.1) })
    }

    private let person = [("From", "Ann <ann@example.com>"), ("Subject", "Help")]

    @Test("a person's mail may be answered")
    func personMayBeAnswered() {
        #expect(AutoSubmission.classify(headers: headers(person), contentType: "text/plain", envelopeSender: "ann@example.com") == nil)
        #expect(AutoSubmission.classify(headers: headers(person + [("Auto-Submitted", "no")]), contentType: nil, envelopeSender: nil) == nil)
    }

    @Test(
        "machine-sent and list mail is not answered",
        arguments: [
            ("Auto-Submitted", "auto-replied", "Auto-Submitted: auto-replied"),
            ("Auto-Submitted", "Auto-Generated; owner-email=x@example.com", "Auto-Submitted: auto-generated"),
            ("Precedence", "bulk", "Precedence: bulk"),
            ("Precedence", "JUNK", "Precedence: junk"),
            ("Precedence", "list", "Precedence: list"),
            ("X-Autoreply", "yes", "X-Autoreply present"),
            ("X-Autorespond", "yes", "X-Autorespond present"),
            ("X-Auto-Response-Suppress", "DR, AutoReply", "X-Auto-Response-Suppress: autoreply"),
            ("X-Auto-Response-Suppress", "All", "X-Auto-Response-Suppress: all"),
            ("X-Auto-Response-Suppress", "OOF", "X-Auto-Response-Suppress: oof"),
            ("List-Id", "<announce.example.org>", "List-Id present"),
            ("List-Unsubscribe", "<mailto:u@example.org>", "List-Unsubscribe present"),
        ])
    func automatic(name: String, value: String, reason: String) {
        let result = AutoSubmission.classify(headers: headers(person + [(name, value)]), contentType: "text/plain", envelopeSender: "ann@example.com")
        #expect(result == AutoSubmission(reason: reason, isBounce: false))
    }

    @Test("X-Auto-Response-Suppress without All/AutoReply/OOF does not count")
    func suppressOther() {
        #expect(AutoSubmission.classify(headers: headers(person + [("X-Auto-Response-Suppress", "DR, RN")]), contentType: nil, envelopeSender: nil) == nil)
    }

    @Test("bounces: null envelope sender, Return-Path <>, mailer-daemon, postmaster, multipart/report")
    func bounces() {
        #expect(AutoSubmission.classify(headers: headers(person), contentType: nil, envelopeSender: "")?.isBounce == true)
        #expect(AutoSubmission.classify(headers: headers(person), contentType: nil, envelopeSender: "<>")?.isBounce == true)
        #expect(AutoSubmission.classify(headers: headers(person + [("Return-Path", "<>")]), contentType: nil, envelopeSender: nil)?.isBounce == true)
        #expect(AutoSubmission.classify(headers: headers([("From", "MAILER-DAEMON@mx.example.com (Mail Delivery System)")]), contentType: nil, envelopeSender: nil)
            == AutoSubmission(reason: "From: MAILER-DAEMON@mx.example.com", isBounce: true))
        #expect(AutoSubmission.classify(headers: headers([("From", "postmaster@example.com")]), contentType: nil, envelopeSender: nil)?.isBounce == true)
        #expect(AutoSubmission.classify(headers: headers(person), contentType: "multipart/report; report-type=delivery-status", envelopeSender: nil)?.isBounce == true)
    }

    @Test("a bounce wins over other rules so isBounce is set")
    func bounceFirst() {
        let result = AutoSubmission.classify(
            headers: headers([("From", "MAILER-DAEMON@example.com"), ("Auto-Submitted", "auto-replied")]), contentType: "multipart/report", envelopeSender: nil)
        #expect(result?.isBounce == true)
    }

    @Test("MailMessage.autoSubmission uses headers and content type")
    func fromMessage() {
        let message = parseMail("From: a@example.com\nAuto-Submitted: auto-generated\n\nx\n")
        #expect(message.autoSubmission == AutoSubmission(reason: "Auto-Submitted: auto-generated", isBounce: false))
        #expect(parseMail("From: a@example.com\n\nx\n").autoSubmission == nil)
    }
}
