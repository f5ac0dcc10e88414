import SIPCore
import Testing

@Suite("SIP digest authentication")
struct SIPDigestTests {
    /// RFC 2617 §3.5's example (MD5, qop=auth).
    @Test("RFC 2617's published example: MD5 with qop=auth")
    func rfc2617() throws {
        let ha1 = SIPDigest.ha1(.md5, username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life")
        let response = SIPDigest.response(
            .md5, ha1: ha1, method: "GET", uri: "/dir/index.html", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", qop: "auth", nc: "00000001",
            cnonce: "0a4f113b")
        #expect(response == "6629fae49393a05397450978507c4ef1")
        let credentials = try #require(SIPDigestCredentials(parsing: """
            Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", \
            qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"
            """))
        #expect(credentials.verifies(ha1: ha1, method: "GET"))
        #expect(!credentials.verifies(ha1: ha1, method: "POST"))
        #expect(!credentials.verifies(ha1: SIPDigest.ha1(.md5, username: "Mufasa", realm: "testrealm@host.com", password: "wrong"), method: "GET"))
    }

    /// RFC 2069's example (no qop), as RFC 2617 kept it.
    @Test("RFC 2069's form without qop")
    func rfc2069() {
        let ha1 = SIPDigest.ha1(.md5, username: "Mufasa", realm: "testrealm@host.com", password: "CircleOfLife")
        let response = SIPDigest.response(
            .md5, ha1: ha1, method: "GET", uri: "/dir/index.html", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", qop: nil, nc: nil, cnonce: nil)
        #expect(response == "1949323746fe6a43ef61f9606e7febea")
    }

    /// curl's test 2061 (SHA-256 per RFC 7616, no qop), a published exchange.
    @Test("SHA-256 (RFC 7616, RFC 8760): curl's test 2061 exchange")
    func sha256() throws {
        let challenge = try #require(SIPDigestChallenge(parsing: #"Digest realm="testrealm", nonce="1053604145", algorithm="SHA-256""#))
        #expect(challenge.algorithm == .sha256)
        let credentials = SIPDigestCredentials(answering: challenge, username: "testuser", password: "testpass", method: "GET", uri: "/2061")
        #expect(credentials.response == "9dc55255f1a2537b838311674b621d45346b862a81631bb20e4ce356ef25062d")
    }

    @Test("a challenge answered with qop=auth verifies; headers round-trip; unknown algorithms are refused")
    func roundTrip() throws {
        let issuer = SIPNonceIssuer(lifetime: .seconds(60))
        let challenge = SIPDigestChallenge(realm: "hub.example.com", nonce: issuer.issue(realm: "hub.example.com", now: 1_000_000), algorithm: .sha256)
        let parsed = try #require(SIPDigestChallenge(parsing: challenge.headerValue))
        #expect(parsed == challenge)
        let answer = SIPDigestCredentials(
            answering: parsed, username: "agent-7", password: "p\"ss, word", method: "REGISTER", uri: "sip:hub.example.com", cnonce: "abc", nc: 3)
        let received = try #require(SIPDigestCredentials(parsing: answer.headerValue))
        #expect(received == answer)
        #expect(received.nc == "00000003")
        #expect(received.verifies(ha1: SIPDigest.ha1(.sha256, username: "agent-7", realm: "hub.example.com", password: "p\"ss, word"), method: "REGISTER"))
        #expect(SIPDigestChallenge(parsing: #"Digest realm="r", nonce="n", algorithm=SHA-512-256"#) == nil)
        #expect(SIPDigestCredentials(parsing: #"Digest username="u", realm="r", nonce="n", uri="u", response="x", qop=auth"#) == nil)
        #expect(SIPDigestCredentials(parsing: #"Basic dXNlcjpwYXNz"#) == nil)
    }

    @Test("nonces: ours and fresh, stale after their lifetime, invalid when forged or from another realm")
    func nonces() {
        let issuer = SIPNonceIssuer(lifetime: .seconds(300))
        let nonce = issuer.issue(realm: "hub", now: 10_000_000)
        #expect(issuer.check(nonce, realm: "hub", now: 10_000_000 + 299_000) == .valid)
        #expect(issuer.check(nonce, realm: "hub", now: 10_000_000 + 301_000) == .stale)
        #expect(issuer.check(nonce, realm: "other", now: 10_000_000) == .invalid)
        #expect(SIPNonceIssuer().check(nonce, realm: "hub", now: 10_000_000) == .invalid)
        var forged = Array(nonce.utf8)
        forged[3] = forged[3] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(issuer.check(String(decoding: forged, as: UTF8.self), realm: "hub", now: 10_000_000) == .invalid)
        #expect(issuer.check("short", realm: "hub", now: 10_000_000) == .invalid)
    }
}
