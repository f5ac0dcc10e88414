import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The outbound SMTP client: submits messages to a relay, with STARTTLS or implicit TLS, AUTH
/// PLAIN/LOGIN, SIZE, 8BITMIME, SMTPUTF8 and PIPELINING when offered.
///
/// A session that ended its transaction with `250` is kept open for the next message to the same
/// relay (see `SMTPSessionCache`: 10 s idle, 100 messages, 5 minutes); a kept session that turns
/// out closed, or closing (`421`), before the relay took anything of the message is replaced by a
/// new one within the same send.
public struct SMTPClient: Sendable {
    private let group: any EventLoopGroup
    private let logger: Logger
    private let sessions: SMTPSessionCache?

    /// Creates a client; `reuseSessions: false` opens a connection per message.
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchboard.smtp.client"), reuseSessions: Bool = true
    ) {
        self.init(group: group, logger: logger, sessionLimits: reuseSessions ? SMTPSessionCache.Limits() : nil)
    }

    init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "switchboard.smtp.client"),
        sessionLimits: SMTPSessionCache.Limits?
    ) {
        self.group = group
        self.logger = logger
        sessions = sessionLimits.map(SMTPSessionCache.init(limits:))
    }

    /// Sends `message` (RFC 5322 bytes) from the envelope sender `from` (`""` for `<>`) to `to`.
    ///
    /// Throws when no recipient was accepted or the relay refused the message; a result with
    /// some `rejectedRecipients` is a partial success.
    public func send(
        from: String, to recipients: [String], message: [UInt8], via relay: SMTPRelay
    ) async throws(SMTPSendError) -> SMTPSendResult {
        if let sessions, var session = sessions.take(relay), await session.connection.isQuiet() || Self.discard(session) {
            var stage = "mail"
            do {
                let result = try await transaction(
                    on: session.connection, capabilities: session.capabilities, from: from, to: recipients, message: message, relay: relay,
                    stage: &stage)
                session.messages += 1
                sessions.keep(session, for: relay)
                return result
            } catch {
                SMTPSessionCache.quit(session)
                // Before MAIL was answered nothing of the message reached the relay: a session it
                // closed while idle (a dropped connection, a 421) is replaced by a new one.
                let closed = (error as? SMTPSendError).map { !$0.isPermanent && ($0.reply == nil || $0.reply?.code == 421) } ?? true
                guard stage == "mail", closed else { throw Self.sendError(error, stage: stage) }
                logger.debug("SMTP: a kept session was closed by the relay; a new one", metadata: ["relay": "\(relay.host):\(relay.port)"])
            }
        }
        var stage = "connect"
        var connection: SMTPClientConnection?
        do {
            let tls = try tlsContext(for: relay)
            let implicitTLS = relay.security == .tls ? (context: tls!, serverHostname: serverHostname(relay)) : nil
            connection = try await SMTPClientConnection.connect(
                host: relay.host, port: relay.port, group: group, timeout: relay.connectTimeout, tls: implicitTLS)
            let capabilities = try await open(&connection!, tls: tls, relay: relay, stage: &stage)
            let result = try await transaction(
                on: connection!, capabilities: capabilities, from: from, to: recipients, message: message, relay: relay, stage: &stage)
            if let sessions {
                sessions.keep(SMTPSessionCache.Session(connection: connection!, capabilities: capabilities, openedAt: .now(), messages: 1), for: relay)
            } else {
                _ = try? await connection!.command("QUIT", timeout: .seconds(5))
                await connection?.close()
            }
            return result
        } catch {
            await connection?.close()
            let sendError = Self.sendError(error, stage: stage)
            logger.debug("SMTP send failed", metadata: ["error": "\(sendError)"])
            throw sendError
        }
    }

    /// Closes the sessions kept open now, with QUIT, instead of after their idle time; later
    /// sends open new ones. (A process that exits closes them without QUIT, which relays take
    /// as they take any dropped client.)
    public func closeIdleSessions() { sessions?.closeAll() }

    /// Idle sessions kept with the relay.
    func idleSessions(_ relay: SMTPRelay) -> Int { sessions?.idleCount(relay) ?? 0 }

    /// Closes a kept session found unfit on a closer look; false, so that the send opens a new one.
    private static func discard(_ session: SMTPSessionCache.Session) -> Bool {
        SMTPSessionCache.quit(session)
        return false
    }

    private static func sendError(_ error: any Error, stage: String) -> SMTPSendError {
        error as? SMTPSendError ?? SMTPSendError(isPermanent: false, reply: nil, stage: stage, reason: "\(error)")
    }

    // MARK: - The dialogue

    /// Greeting, EHLO, STARTTLS and AUTH as the relay asks: the session ready for transactions.
    /// Returns the EHLO capabilities (those after STARTTLS when it was used).
    private func open(
        _ connection: inout SMTPClientConnection, tls: NIOSSLContext?, relay: SMTPRelay, stage: inout String
    ) async throws -> [String: String] {
        stage = "greeting"
        let greeting = try await connection.command(nil, timeout: relay.commandTimeout)
        guard greeting.code == 220 else { throw SMTPSendError.unexpected(greeting, at: stage) }

        stage = "ehlo"
        var capabilities = try await hello(on: connection, relay: relay)

        if !connection.isTLS, relay.security == .startTLS || relay.security == .startTLSIfAvailable {
            if capabilities["STARTTLS"] != nil, let tls {
                stage = "starttls"
                let reply = try await connection.command("STARTTLS", timeout: relay.commandTimeout)
                guard reply.code == 220 else { throw SMTPSendError.unexpected(reply, at: stage) }
                try await connection.startTLS(context: tls, serverHostname: serverHostname(relay))
                // A failed handshake surfaces on the next command; it still belongs to STARTTLS.
                capabilities = try await hello(on: connection, relay: relay)
                stage = "ehlo"
            } else if relay.security == .startTLS {
                throw SMTPSendError(isPermanent: false, reply: nil, stage: "starttls", reason: "relay does not offer STARTTLS")
            }
        }

        if let username = relay.username {
            stage = "auth"
            // Credentials only inside TLS, unless the relay is configured as plaintext (loopback).
            guard connection.isTLS || relay.security == .none else {
                throw SMTPSendError(isPermanent: false, reply: nil, stage: stage, reason: "the relay offered no TLS; credentials are not sent in clear")
            }
            try await authenticate(on: connection, username: username, password: relay.password ?? "", capabilities: capabilities, relay: relay)
        }
        return capabilities
    }

    /// One mail transaction (MAIL, RCPT, DATA) on an open session.
    private func transaction(
        on connection: SMTPClientConnection, capabilities: [String: String], from: String, to recipients: [String],
        message: [UInt8], relay: SMTPRelay, stage: inout String
    ) async throws -> SMTPSendResult {
        stage = "mail"
        var parameters: [String] = []
        if let sizeLimit = capabilities["SIZE"].flatMap({ Int($0) }), sizeLimit > 0, message.count > sizeLimit {
            throw SMTPSendError(isPermanent: true, reply: nil, stage: stage, reason: "message of \(message.count) octets exceeds the relay's SIZE \(sizeLimit)")
        }
        if capabilities["SIZE"] != nil { parameters.append("SIZE=\(message.count)") }
        if capabilities["8BITMIME"] != nil, message.contains(where: { $0 >= 0x80 }) { parameters.append("BODY=8BITMIME") }
        if !from.utf8.allSatisfy({ $0 < 0x80 }) || recipients.contains(where: { !$0.utf8.allSatisfy { $0 < 0x80 } }) {
            guard capabilities["SMTPUTF8"] != nil else {
                throw SMTPSendError(isPermanent: true, reply: nil, stage: stage, reason: "non-ASCII address but the relay lacks SMTPUTF8")
            }
            parameters.append("SMTPUTF8")
        }
        let mailCommand = (["MAIL FROM:<\(from)>"] + parameters).joined(separator: " ")
        let rcptCommands = recipients.map { "RCPT TO:<\($0)>" }

        var replies: [SMTPReply]
        if capabilities["PIPELINING"] != nil {
            replies = try await connection.pipeline([mailCommand] + rcptCommands, timeout: relay.commandTimeout)
        } else {
            replies = [try await connection.command(mailCommand, timeout: relay.commandTimeout)]
            if replies[0].code == 250 {
                for command in rcptCommands {
                    replies.append(try await connection.command(command, timeout: relay.commandTimeout))
                }
            }
        }
        guard replies[0].code == 250 else { throw SMTPSendError.unexpected(replies[0], at: stage) }

        stage = "rcpt"
        var accepted: [String] = []
        var rejected: [String: SMTPReply] = [:]
        var rejectionsInOrder: [SMTPReply] = []
        for (recipient, reply) in zip(recipients, replies.dropFirst()) {
            if reply.code == 250 || reply.code == 251 {
                accepted.append(recipient)
            } else {
                rejected[recipient] = reply
                rejectionsInOrder.append(reply)
            }
        }
        guard !accepted.isEmpty else {
            guard let first = rejectionsInOrder.first else {
                throw SMTPSendError(isPermanent: true, reply: nil, stage: stage, reason: "no recipients")
            }
            // Permanent only when every refusal was; one 4xx (greylisting) is worth a retry.
            throw SMTPSendError(isPermanent: rejectionsInOrder.allSatisfy(\.isPermanent), reply: first, stage: stage)
        }

        stage = "data"
        let dataReply = try await connection.command("DATA", timeout: relay.commandTimeout)
        guard dataReply.code == 354 else { throw SMTPSendError.unexpected(dataReply, at: stage) }

        stage = "message"
        let finalReply = try await connection.raw(
            Self.dataEncoded(message, allocator: connection.channel.allocator), timeout: relay.dataTimeout)
        guard finalReply.code == 250 else { throw SMTPSendError.unexpected(finalReply, at: stage) }
        return SMTPSendResult(acceptedRecipients: accepted, rejectedRecipients: rejected, finalReply: finalReply)
    }

    /// EHLO, or HELO when the relay refuses EHLO with 5xx; returns the EHLO keywords (upper
    /// case) with their parameters.
    private func hello(on connection: SMTPClientConnection, relay: SMTPRelay) async throws -> [String: String] {
        let reply = try await connection.command("EHLO \(relay.heloName)", timeout: relay.commandTimeout)
        if reply.code == 250 { return Self.capabilities(of: reply) }
        guard reply.isPermanent else { throw SMTPSendError.unexpected(reply, at: "ehlo") }
        let helo = try await connection.command("HELO \(relay.heloName)", timeout: relay.commandTimeout)
        guard helo.code == 250 else { throw SMTPSendError.unexpected(helo, at: "ehlo") }
        return [:]
    }

    /// The EHLO keywords after the greeting line: `"SIZE": "10240000"`, `"AUTH": "PLAIN LOGIN"`.
    static func capabilities(of reply: SMTPReply) -> [String: String] {
        var capabilities: [String: String] = [:]
        for line in reply.lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let keyword = parts.first else { continue }
            var name = keyword.uppercased()
            var value = parts.count > 1 ? String(parts[1]) : ""
            // Old servers write `AUTH=PLAIN LOGIN`.
            if name.hasPrefix("AUTH=") {
                value = String(name.dropFirst(5)) + (value.isEmpty ? "" : " " + value)
                name = "AUTH"
            }
            if let existing = capabilities[name], !existing.isEmpty {
                capabilities[name] = existing + " " + value
            } else {
                capabilities[name] = value
            }
        }
        return capabilities
    }

    /// RFC 4954 AUTH with the first preferred mechanism the relay offers.
    private func authenticate(
        on connection: SMTPClientConnection, username: String, password: String,
        capabilities: [String: String], relay: SMTPRelay
    ) async throws {
        let offered = Set((capabilities["AUTH"] ?? "").uppercased().split(separator: " ").map(String.init))
        guard let mechanism = relay.authMechanisms.first(where: { offered.contains($0.rawValue) }) else {
            throw SMTPSendError(
                isPermanent: false, reply: nil, stage: "auth",
                reason: "relay offers no usable AUTH mechanism (offered: \(offered.sorted().joined(separator: " ")))")
        }
        let reply: SMTPReply
        switch mechanism {
        case .plain:
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            reply = try await connection.command("AUTH PLAIN \(token)", timeout: relay.commandTimeout)
        case .login:
            let start = try await connection.command("AUTH LOGIN", timeout: relay.commandTimeout)
            guard start.code == 334 else { throw SMTPSendError.unexpected(start, at: "auth") }
            let user = try await connection.command(Data(username.utf8).base64EncodedString(), timeout: relay.commandTimeout)
            guard user.code == 334 else { throw SMTPSendError.unexpected(user, at: "auth") }
            reply = try await connection.command(Data(password.utf8).base64EncodedString(), timeout: relay.commandTimeout)
        }
        guard reply.code == 235 else { throw SMTPSendError.unexpected(reply, at: "auth") }
    }

    // MARK: - TLS

    private func tlsContext(for relay: SMTPRelay) throws -> NIOSSLContext? {
        guard relay.security != .none else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch relay.certificateVerification {
        case .full: configuration.certificateVerification = .fullVerification
        case .noHostnameVerification: configuration.certificateVerification = .noHostnameVerification
        case .none: configuration.certificateVerification = .none
        }
        if let pem = relay.trustRootsPEM {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// SNI and host-name verification need a name; an IP literal cannot be sent as SNI.
    private func serverHostname(_ relay: SMTPRelay) -> String? {
        (try? SocketAddress(ipAddress: relay.host, port: 0)) == nil ? relay.host : nil
    }
}
