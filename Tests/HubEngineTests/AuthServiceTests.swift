import Foundation
import HubEngine
import HubModel
import HubStore
import HubTestSupport
import Testing

@Suite("Agents' logins")
struct AuthServiceTests {
    static let agents = [
        Agent(id: "alice", login: "alice", name: "Alice", role: .supervisor),
        Agent(id: "bo", login: "Bo", name: "Bo"),
    ]

    static func service(_ fixture: EngineFixture, lifetime: Duration = .seconds(3600), now: @escaping @Sendable () -> Date = { Date() }) -> AuthService {
        AuthService(
            store: fixture.engine.store,
            configuration: .init(sessionLifetime: lifetime, bcryptCost: 4, failuresPerLogin: 3, failuresPerAddress: 5, failureWindow: .seconds(60)),
            now: now, logger: EngineFixture.quietLogger)
    }

    @Test("a login with the right password gets a token that authenticates until logout; only its digest is stored")
    func loginLogout() async throws {
        let fixture = try await EngineFixture(accounts: [])
        _ = try await fixture.engine.store.syncAgents(Self.agents, at: Date())
        let auth = Self.service(fixture)
        try await auth.setPassword("correct horse battery", for: "bo", actor: .admin)
        let login = try await auth.login("bo", password: "correct horse battery", address: "10.0.0.1", origin: "test")
        #expect(login.agent.id == "bo")
        #expect(login.token.hasPrefix("sbt_") && login.token.count > 40)
        #expect(try await fixture.engine.store.session(tokenDigest: login.token) == nil)
        #expect(try await fixture.engine.store.session(tokenDigest: AuthService.digest(login.token))?.agentID == "bo")
        let authenticated = try #require(try await auth.authenticate(login.token))
        #expect(authenticated.viewer.agentID == "bo")
        #expect(authenticated.viewer.masksContacts)
        #expect(try await auth.logout(login.token))
        #expect(try await auth.authenticate(login.token) == nil)
        #expect(try await auth.logout(login.token) == false)
        #expect(try await auth.authenticate("sbt_madeup") == nil)
    }

    @Test("wrong passwords, unknown logins and agents without a password get one answer; too many failures are refused for a while")
    func failures() async throws {
        let fixture = try await EngineFixture(accounts: [])
        _ = try await fixture.engine.store.syncAgents(Self.agents, at: Date())
        let clock = TestClock()
        let auth = Self.service(fixture, now: { clock.now })
        try await auth.setPassword("correct horse battery", for: "bo", actor: .admin)
        for (login, password) in [("bo", "wrong"), ("nobody", "x"), ("alice", "no password set")] {
            await #expect(throws: InboxError.self) { try await auth.login(login, password: password, address: "10.0.0.2", origin: nil) }
        }
        // Three failures for "bo": the fourth attempt is refused even with the right password.
        for _ in 0..<2 { _ = try? await auth.login("bo", password: "wrong", address: "10.0.0.3", origin: nil) }
        do {
            _ = try await auth.login("bo", password: "correct horse battery", address: "10.0.0.4", origin: nil)
            Issue.record("a login past the limit went through")
        } catch let error as InboxError {
            #expect(error.code == .rateLimited)
            #expect((error.retryAfter ?? .zero) > .zero)
        }
        // The window passes: the right password works again.
        clock.advance(by: 61)
        _ = try await auth.login("bo", password: "correct horse battery", address: "10.0.0.4", origin: nil)
    }

    @Test("a token expires with its session; a new password ends every session; short passwords are refused")
    func expiry() async throws {
        let fixture = try await EngineFixture(accounts: [])
        _ = try await fixture.engine.store.syncAgents(Self.agents, at: Date())
        let clock = TestClock()
        let auth = Self.service(fixture, lifetime: .seconds(600), now: { clock.now })
        try await auth.setPassword("correct horse battery", for: "bo", actor: .admin)
        let first = try await auth.login("Bo", password: "correct horse battery", address: nil, origin: nil)
        clock.advance(by: 601)
        #expect(try await auth.authenticate(first.token) == nil)
        let second = try await auth.login("bo", password: "correct horse battery", address: nil, origin: nil)
        #expect(try await auth.authenticate(second.token) != nil)
        try await auth.setPassword("another good password", for: "bo", actor: .agent("bo"))
        #expect(try await auth.authenticate(second.token) == nil)
        await #expect(throws: InboxError.self) { try await auth.setPassword("short", for: "bo", actor: .admin) }
        await #expect(throws: InboxError.self) { try await auth.setPassword("long enough though", for: "ghost", actor: .admin) }
    }
}

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    // Guarded by `lock`: tests read it from the auth actor.
    private let lock = NSLock()
    private var current = Date()

    var now: Date { lock.withLock { current } }

    func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}
