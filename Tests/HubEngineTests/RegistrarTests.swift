import Foundation
import HubEngine
import HubStore
import HubTestSupport
import Logging
import NIOCore
import SIPCore
import Synchronization
import Testing

@Suite("SIP registrar")
struct RegistrarTests {
    static let realm = "switchboard.test"
    static let peer = SIPPeer(transport: .udp, address: try! SocketAddress(ipAddress: "192.0.2.7", port: 5062))

    final class Changes: Sendable {
        let list = Mutex<[String]>([])
        func record(_ agent: String, _ reachable: Bool) { list.withLock { $0.append("\(agent) \(reachable ? "reachable" : "unreachable")") } }
        var all: [String] { list.withLock { $0 } }
    }

    static func registrar(
        _ changes: Changes, lifetime: Duration = .seconds(300), store: (any RegistrationStore)? = nil, aliceDomain: String = "switchboard.test",
        alicePassword: String = "s3cret"
    ) -> Registrar {
        Registrar(
            configuration: Registrar.Configuration(realm: realm),
            accounts: [
                Registrar.Account(agentID: "alice", addressOfRecord: SIPURI(parsing: "sip:alice@\(aliceDomain)")!, password: alicePassword, realm: realm),
                Registrar.Account(agentID: "bo", addressOfRecord: SIPURI(parsing: "sip:bo@switchboard.test")!, password: "other", realm: realm),
                Registrar.Account(
                    agentID: "desk", addressOfRecord: SIPURI(parsing: "sip:desk@switchboard.test")!, password: nil, realm: realm,
                    staticContact: SIPURI(parsing: "sip:desk@192.0.2.50:5060")),
            ],
            nonces: SIPNonceIssuer(lifetime: lifetime), store: store, logger: Logger(label: "test"), onReachability: { changes.record($0, $1) })
    }

    static func register(
        user: String = "alice", to: String = "sip:alice@switchboard.test", cseq: Int = 1, contact: String = "<sip:alice@192.0.2.7:5062>",
        expires: Int? = 120, authorization: String? = nil
    ) -> SIPMessage {
        var headers = SIPHeaders()
        headers.add("Via", "SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK\(cseq)")
        headers.add("From", "<\(to)>;tag=p1")
        headers.add("To", "<\(to)>")
        headers.add("Call-ID", "reg-\(user)@192.0.2.7")
        headers.add("CSeq", "\(cseq) REGISTER")
        headers.add("Contact", contact)
        if let expires { headers.add("Expires", String(expires)) }
        if let authorization { headers.add("Authorization", authorization) }
        return .request("REGISTER", uri: "sip:switchboard.test", headers: headers)
    }

    /// Registers with the challenge the registrar gave (the algorithm chosen from its challenges).
    static func answered(
        _ registrar: Registrar, algorithm: SIPDigestAlgorithm = .md5, user: String = "alice", password: String = "s3cret",
        to: String = "sip:alice@switchboard.test", cseq: Int = 2, contact: String = "<sip:alice@192.0.2.7:5062>", expires: Int? = 120,
        from peer: SIPPeer = peer, now: Int64
    ) async throws -> SIPMessage {
        let challenge = await registrar.register(register(user: user, to: to, cseq: cseq - 1, contact: contact, expires: expires), from: peer, now: now)
        let offered = challenge.headers.lines("WWW-Authenticate").compactMap(SIPDigestChallenge.init(parsing:))
        let chosen = try #require(offered.first { $0.algorithm == algorithm })
        let credentials = SIPDigestCredentials(
            answering: chosen, username: user, password: password, method: "REGISTER", uri: "sip:switchboard.test", cnonce: "c\(cseq)", nc: cseq)
        return await registrar.register(
            register(user: user, to: to, cseq: cseq, contact: contact, expires: expires, authorization: credentials.headerValue), from: peer, now: now)
    }

    @Test("a REGISTER without credentials is challenged: MD5 first (phones reading one challenge), SHA-256 after it")
    func challenge() async {
        let registrar = Self.registrar(Changes())
        let response = await registrar.register(Self.register(), from: Self.peer, now: 1_000_000)
        #expect(response.status == 401)
        let challenges = response.headers.lines("WWW-Authenticate").compactMap(SIPDigestChallenge.init(parsing:))
        #expect(challenges.map(\.algorithm) == [.md5, .sha256])
        #expect(challenges.allSatisfy { $0.realm == Self.realm && !$0.stale })
        #expect(response.to?.tag != nil)
    }

    @Test("the right password with MD5 or SHA-256 binds the contact; the 200 lists it; the agent becomes reachable once")
    func registers() async throws {
        let changes = Changes()
        let registrar = Self.registrar(changes)
        #expect(await registrar.isReachable("alice") == false)
        let ok = try await Self.answered(registrar, now: 1_000_000)
        #expect(ok.status == 200)
        #expect(ok.headers.values("Contact") == ["<sip:alice@192.0.2.7:5062>;expires=120"])
        #expect(ok.headers.first("Date")?.hasSuffix("GMT") == true)
        #expect(await registrar.isReachable("alice"))
        let again = try await Self.answered(registrar, algorithm: .sha256, cseq: 4, now: 1_060_000)
        #expect(again.status == 200 && again.headers.values("Contact").count == 1)
        let binding = try #require(await registrar.bindings(of: "alice").first)
        #expect(binding.expiresAt == 1_060_000 + 120_000 && binding.source == Self.peer)
        #expect(changes.all == ["alice reachable"])
    }

    @Test("phones as configured anew: one added registers at once, a removed or moved one or one with a new password loses its bindings, an unchanged one keeps them")
    func replacedAccounts() async throws {
        let changes = Changes()
        let registrar = Self.registrar(changes)
        #expect(try await Self.answered(registrar, now: 1_000_000).status == 200)
        #expect(try await Self.answered(registrar, user: "bo", password: "other", to: "sip:bo@switchboard.test", contact: "<sip:bo@192.0.2.8:5062>", now: 1_000_000).status == 200)
        // Carol has no phone yet: challenged again whatever she answers.
        #expect(try await Self.answered(registrar, user: "carol", password: "c4rol", to: "sip:carol@switchboard.test", now: 1_000_000).status == 401)
        #expect(changes.all == ["alice reachable", "bo reachable"])

        func account(_ agent: String, password: String? = nil, contact: String? = nil, domain: String = "switchboard.test") -> Registrar.Account {
            Registrar.Account(
                agentID: agent, addressOfRecord: SIPURI(parsing: "sip:\(agent)@\(domain)")!, password: password, realm: Self.realm,
                staticContact: contact.flatMap { SIPURI(parsing: $0) })
        }
        // Alice unchanged but for her password (a binding made with the old one does not stay);
        // bo's phone moved to another address; the desk's static contact gone; carol added; a new
        // static phone for the lobby.
        let changed = await registrar.replaceAccounts([
            account("alice", password: "new-s3cret"), account("bo", password: "other", domain: "pbx.switchboard.test"),
            account("desk"), account("carol", password: "c4rol"), account("lobby", contact: "sip:lobby@192.0.2.60:5060"),
        ])
        #expect(changed == ["alice", "bo", "desk", "lobby"])
        #expect(changes.all == ["alice reachable", "bo reachable", "alice unreachable", "bo unreachable", "desk unreachable", "lobby reachable"])
        #expect(await !registrar.isReachable("alice"))
        #expect(await registrar.bindings(of: "alice").isEmpty, "her binding went with the old password")
        #expect(await registrar.bindings(of: "bo").isEmpty)
        #expect(try await Self.answered(registrar, user: "carol", password: "c4rol", to: "sip:carol@switchboard.test", cseq: 6, now: 1_010_000).status == 200)
        #expect(try await Self.answered(registrar, password: "s3cret", cseq: 8, now: 1_010_000).status == 401, "the old password is refused")
        #expect(try await Self.answered(registrar, password: "new-s3cret", cseq: 10, now: 1_010_000).status == 200)
        #expect(changes.all.suffix(2) == ["carol reachable", "alice reachable"])

        // Every phone removed: nobody can be called, nobody can register.
        #expect(await registrar.replaceAccounts([]) == ["alice", "carol", "lobby"])
        #expect(try await Self.answered(registrar, password: "new-s3cret", cseq: 12, now: 1_020_000).status == 401)
    }

    @Test("refusals: a wrong password is challenged again, another agent's address is 403, a stale nonce says stale, too short an interval is 423")
    func refusals() async throws {
        let registrar = Self.registrar(Changes(), lifetime: .seconds(10))
        #expect(try await Self.answered(registrar, password: "wrong", now: 1_000_000).status == 401)
        // Bo's credentials for Alice's address.
        #expect(try await Self.answered(registrar, user: "bo", password: "other", to: "sip:alice@switchboard.test", now: 1_000_000).status == 403)
        let short = try await Self.answered(registrar, expires: 30, now: 1_000_000)
        #expect(short.status == 423 && short.headers.first("Min-Expires") == "60")
        // Credentials computed on a nonce that has since expired.
        let challenge = await registrar.register(Self.register(), from: Self.peer, now: 1_000_000)
        let offered = try #require(challenge.headers.lines("WWW-Authenticate").compactMap(SIPDigestChallenge.init(parsing:)).first)
        let late = SIPDigestCredentials(
            answering: offered, username: "alice", password: "s3cret", method: "REGISTER", uri: "sip:switchboard.test", cnonce: "x", nc: 20)
        let stale = await registrar.register(Self.register(cseq: 9, authorization: late.headerValue), from: Self.peer, now: 1_011_000)
        #expect(stale.status == 401)
        let staleChallenges = stale.headers.lines("WWW-Authenticate").compactMap(SIPDigestChallenge.init(parsing:))
        #expect(!staleChallenges.isEmpty && staleChallenges.allSatisfy(\.stale))
        // A digest over another URI.
        let other = SIPDigestCredentials(
            answering: offered, username: "alice", password: "s3cret", method: "REGISTER", uri: "sip:elsewhere.test", cnonce: "y", nc: 21)
        #expect(await registrar.register(Self.register(cseq: 10, authorization: other.headerValue), from: Self.peer, now: 1_001_000).status == 400)
        #expect(await registrar.isReachable("alice") == false)
    }

    @Test("unregistering (expires=0, or Contact * with Expires: 0) and expiry make the agent unreachable; a static contact always is")
    func unregisters() async throws {
        let changes = Changes()
        let registrar = Self.registrar(changes)
        #expect(await registrar.isReachable("desk"))
        _ = try await Self.answered(registrar, now: 1_000_000)
        let gone = try await Self.answered(registrar, cseq: 4, expires: 0, now: 1_010_000)
        #expect(gone.status == 200 && gone.headers.values("Contact").isEmpty)
        _ = try await Self.answered(registrar, cseq: 6, now: 1_020_000)
        #expect(try await Self.answered(registrar, cseq: 8, contact: "*", expires: 30, now: 1_030_000).status == 400)
        let all = try await Self.answered(registrar, cseq: 10, contact: "*", expires: 0, now: 1_030_000)
        #expect(all.status == 200)
        _ = try await Self.answered(registrar, cseq: 12, now: 1_040_000)
        #expect(await registrar.sweep(now: 1_040_000 + 119_000) == 1_040_000 + 120_000)
        await registrar.sweep(now: 1_040_000 + 120_000)
        #expect(await registrar.isReachable("alice") == false)
        #expect(changes.all == [
            "alice reachable", "alice unreachable", "alice reachable", "alice unreachable", "alice reachable", "alice unreachable",
        ])
    }

    @Test("a captured REGISTER replayed (same nonce and count, another Contact) is challenged, not bound; RFC 2069's form without qop is refused")
    func replay() async throws {
        let registrar = Self.registrar(Changes())
        let challenge = await registrar.register(Self.register(), from: Self.peer, now: 1_000_000)
        let offered = try #require(challenge.headers.lines("WWW-Authenticate").compactMap(SIPDigestChallenge.init(parsing:)).first)
        let credentials = SIPDigestCredentials(
            answering: offered, username: "alice", password: "s3cret", method: "REGISTER", uri: "sip:switchboard.test", cnonce: "c1")
        #expect(await registrar.register(Self.register(cseq: 2, authorization: credentials.headerValue), from: Self.peer, now: 1_000_100).status == 200)
        let hijack = Self.register(cseq: 3, contact: "<sip:alice@198.51.100.66:5060>", authorization: credentials.headerValue)
        #expect(await registrar.register(hijack, from: Self.peer, now: 1_000_200).status == 401)
        #expect(await registrar.bindings(of: "alice").map(\.contact.host) == ["192.0.2.7"])
        // The next count with the same nonce is fine.
        let next = SIPDigestCredentials(
            answering: offered, username: "alice", password: "s3cret", method: "REGISTER", uri: "sip:switchboard.test", cnonce: "c2", nc: 2)
        #expect(await registrar.register(Self.register(cseq: 4, authorization: next.headerValue), from: Self.peer, now: 1_000_300).status == 200)
        let noQop = SIPDigestCredentials(answering: offered, username: "alice", password: "s3cret", method: "REGISTER", uri: "sip:switchboard.test")
        #expect(await registrar.register(Self.register(cseq: 5, authorization: noQop.headerValue), from: Self.peer, now: 1_000_400).status == 401)
    }

    @Test("a REGISTER older than the binding's (same Call-ID, lower CSeq) changes nothing")
    func outOfOrder() async throws {
        let registrar = Self.registrar(Changes())
        _ = try await Self.answered(registrar, cseq: 6, now: 1_000_000)
        let old = try await Self.answered(registrar, cseq: 4, expires: 0, now: 1_001_000)
        #expect(old.status == 500)
        #expect(await registrar.isReachable("alice"))
    }

    @Test("registrations over UDP outlive a restart: restored unexpired with their Call-ID and CSeq; TCP ones, expired ones and moved phones are not")
    func keptAcrossRestarts() async throws {
        let directory = try TemporaryDirectory("registrar")
        defer { directory.remove() }
        let store = try SQLiteStore(configuration: .init(path: directory.url.appendingPathComponent("hub.sqlite").path, durability: .normal))
        try await store.migrate()
        // Before the restart: alice's phone over UDP, bo's over TCP.
        let before = Self.registrar(Changes(), store: store)
        let saving = Task { await before.saveBindings() }
        #expect(try await Self.answered(before, cseq: 6, now: 1_000_000).status == 200)
        let tcp = SIPPeer(transport: .tcp, address: try SocketAddress(ipAddress: "192.0.2.8", port: 40_000), connection: 7)
        let bo = try await Self.answered(
            before, user: "bo", password: "other", to: "sip:bo@switchboard.test", contact: "<sip:bo@192.0.2.8:40000;transport=tcp>", from: tcp,
            now: 1_000_000)
        #expect(bo.status == 200)
        #expect(await before.isReachable("bo"))
        before.finishSaving()
        await saving.value
        let stored = try await store.phoneBindings(unexpiredAt: 1_000_000)
        #expect(stored.map(\.agentID) == ["alice"], "the TCP binding is not kept: its connection ends with the process")
        #expect(stored.first?.contact == "sip:alice@192.0.2.7:5062" && stored.first?.addressOfRecord == "sip:alice@switchboard.test")
        #expect(stored.first?.host == "192.0.2.7" && stored.first?.port == 5062 && stored.first?.expiresAt == 1_120_000)

        // After the restart, a minute later: alice is reachable at once, where she was.
        let changes = Changes()
        let after = Self.registrar(changes, store: store)
        let savingAfter = Task { await after.saveBindings() }
        #expect(await after.restoreBindings(now: 1_060_000) == 1)
        #expect(changes.all == ["alice reachable"])
        #expect(await after.isReachable("alice"))
        #expect(await !after.isReachable("bo"))
        let target = try #require(await after.target(of: "alice"))
        #expect(target.contact.description == "sip:alice@192.0.2.7:5062" && target.peer == Self.peer)
        #expect(await after.bindings(of: "alice").first?.expiresAt == 1_120_000)
        // The binding's Call-ID and CSeq came back too: an older REGISTER is still refused.
        #expect(try await Self.answered(after, cseq: 4, expires: 0, now: 1_061_000).status == 500)
        // Unregistering after the restart removes it from the store as well.
        #expect(try await Self.answered(after, cseq: 8, expires: 0, now: 1_062_000).status == 200)
        after.finishSaving()
        await savingAfter.value
        #expect(try await store.phoneBindings(unexpiredAt: 1_062_000).isEmpty)

        // An expired binding is not restored (and is deleted); nor is one whose phone moved to
        // another address of record in the rules meanwhile (deleted as well).
        func registerAlice(cseq: Int, now: Int64) async throws {
            let registrar = Self.registrar(Changes(), store: store)
            let saving = Task { await registrar.saveBindings() }
            #expect(try await Self.answered(registrar, cseq: cseq, now: now).status == 200)
            registrar.finishSaving()
            await saving.value
        }
        try await registerAlice(cseq: 20, now: 2_000_000)
        #expect(await Self.registrar(Changes(), store: store).restoreBindings(now: 2_120_000) == 0)
        #expect(try await store.phoneBindings(unexpiredAt: 0).isEmpty)
        try await registerAlice(cseq: 30, now: 3_000_000)
        let moved = Self.registrar(Changes(), store: store, aliceDomain: "pbx.switchboard.test")
        let savingMoved = Task { await moved.saveBindings() }
        #expect(await moved.restoreBindings(now: 3_010_000) == 0)
        #expect(await !moved.isReachable("alice"))
        moved.finishSaving()
        await savingMoved.value
        #expect(try await store.phoneBindings(unexpiredAt: 0).isEmpty, "the moved phone's stored binding is deleted")
        // Nor one made with a password changed meanwhile (after a compromise, say).
        try await registerAlice(cseq: 40, now: 4_000_000)
        #expect(try await store.phoneBindings(unexpiredAt: 0).count == 1)
        let rekeyed = Self.registrar(Changes(), store: store, alicePassword: "n3w-s3cret")
        let savingRekeyed = Task { await rekeyed.saveBindings() }
        #expect(await rekeyed.restoreBindings(now: 4_010_000) == 0)
        #expect(await !rekeyed.isReachable("alice"))
        rekeyed.finishSaving()
        await savingRekeyed.value
        #expect(try await store.phoneBindings(unexpiredAt: 0).isEmpty)
    }
}
