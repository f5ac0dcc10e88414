import NIOCore
import Synchronization

/// Sessions with a relay kept open between messages (RFC 5321 §4.1.4: one session may carry many
/// mail transactions), as Postfix's connection cache does: the next message to the same relay
/// skips the connection, the greeting, EHLO, STARTTLS and AUTH. A session is kept only after a
/// transaction that ended with `250`, for `idleLimit` (then closed with QUIT), for at most
/// `maximumMessages` messages and `maximumAge` in all, and at most `maximumIdlePerRelay` of them
/// per relay (more are closed).
final class SMTPSessionCache: Sendable {
    struct Limits: Sendable {
        var idleLimit: Duration = .seconds(10)
        var maximumAge: Duration = .seconds(300)
        var maximumMessages = 100
        var maximumIdlePerRelay = 8
    }

    /// An open, greeted (and secured, authenticated) session between transactions.
    struct Session: Sendable {
        var connection: SMTPClientConnection
        var capabilities: [String: String]
        var openedAt: NIODeadline
        var messages: Int
    }

    private struct Idle {
        var session: Session
        var token: UInt64
    }

    let limits: Limits
    private let state = Mutex<(idle: [SMTPRelay: [Idle]], nextToken: UInt64)>(([:], 0))

    init(limits: Limits) { self.limits = limits }

    /// The most recently used idle session with the relay still fit for another message, if any
    /// (the others found unfit are closed).
    func take(_ relay: SMTPRelay) -> Session? {
        let (found, unfit) = state.withLock { state -> (Session?, [Session]) in
            var unfit: [Session] = []
            while let idle = state.idle[relay]?.popLast() {
                if fit(idle.session) { return (idle.session, unfit) }
                unfit.append(idle.session)
            }
            return (nil, unfit)
        }
        for session in unfit { Self.quit(session) }
        return found
    }

    /// Keeps a session after a successful transaction, or closes it (worn out, or the relay has
    /// enough idle ones). An idle session is closed once `idleLimit` passes unused.
    func keep(_ session: Session, for relay: SMTPRelay) {
        guard fit(session) else { return Self.quit(session) }
        let token: UInt64? = state.withLock { state in
            guard state.idle[relay, default: []].count < limits.maximumIdlePerRelay else { return nil }
            state.nextToken += 1
            state.idle[relay, default: []].append(Idle(session: session, token: state.nextToken))
            return state.nextToken
        }
        guard let token else { return Self.quit(session) }
        session.connection.channel.eventLoop.scheduleTask(in: TimeAmount(limits.idleLimit)) { [self] in
            let expired = state.withLock { state -> Session? in
                guard let index = state.idle[relay]?.firstIndex(where: { $0.token == token }) else { return nil }
                return state.idle[relay]?.remove(at: index).session
            }
            if let expired { Self.quit(expired) }
        }
    }

    /// Idle sessions with the relay (for tests and shutdown).
    func idleCount(_ relay: SMTPRelay) -> Int { state.withLock { $0.idle[relay]?.count ?? 0 } }

    /// Closes every idle session.
    func closeAll() {
        let all = state.withLock { state in
            defer { state.idle = [:] }
            return state.idle.values.flatMap { $0.map(\.session) }
        }
        for session in all { Self.quit(session) }
    }

    private func fit(_ session: Session) -> Bool {
        session.connection.channel.isActive && session.messages < limits.maximumMessages
            && NIODeadline.now() - session.openedAt < TimeAmount(limits.maximumAge)
    }

    /// QUIT, then close once it is answered (or fails, or 5 s pass); nobody waits for it.
    static func quit(_ session: Session) {
        let channel = session.connection.channel
        let answered = channel.eventLoop.makePromise(of: SMTPReply.self)
        answered.futureResult.whenComplete { _ in channel.close(promise: nil) }
        channel.writeAndFlush(SMTPClientHandler.Request(bytes: channel.allocator.buffer(string: "QUIT\r\n"), promise: answered, timeout: .seconds(5)))
            .whenFailure { answered.fail($0) }
    }
}
