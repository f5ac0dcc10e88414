import Foundation
import NIOCore
import Synchronization

/// One inbound SMTP session as a value: bytes, delegate answers and timer events go in,
/// actions come out (send a reply, ask the delegate, start TLS, close). It does no I/O.
///
/// Commands are handled strictly in order (RFC 2920): while the delegate is asked about a
/// recipient or stores a message, later input stays queued in the framer and is processed
/// once the answer is in, so a whole pipelined batch arriving in one packet gets its replies in
/// order.
struct SMTPServerStateMachine {
    /// What the shell must do, in order.
    enum Action: Equatable {
        /// Write this reply.
        case send(SMTPReply)
        /// Ask the delegate about a recipient, then call `recipientChecked(_:)`.
        case checkRecipient(String, SMTPEnvelope)
        /// Hand the message to the delegate, then call `messageStored(_:)`.
        case deliver([UInt8], SMTPEnvelope)
        /// After the replies before it are written: put TLS in front of the connection.
        case startTLS
        /// After the replies before it are written: close the connection.
        case close
    }

    private enum Phase: Equatable {
        case connected
        case commands
        case awaitingRecipientCheck(String)
        case receivingData
        case awaitingDelivery
        case closed
    }

    private let configuration: SMTPServerConfiguration
    private let now: @Sendable () -> Date
    private var framer: SMTPInputFramer
    private var phase = Phase.connected
    private var heloName: String?
    private var usedESMTP = false
    private var usedTLS = false
    private var envelope: SMTPEnvelope?
    private var badCommands = 0
    private var shuttingDown = false
    private let remoteAddress: String?
    private let remotePort: Int?

    init(
        configuration: SMTPServerConfiguration,
        remoteAddress: String?,
        remotePort: Int? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.framer = SMTPInputFramer(allocator: allocator)
        self.now = now
    }

    /// Whether the session waits for the delegate (the shell need not read meanwhile).
    var isAwaitingDelegate: Bool {
        switch phase {
        case .awaitingRecipientCheck, .awaitingDelivery: true
        default: false
        }
    }

    /// Whether the connection is closed or closing.
    var isClosed: Bool { phase == .closed }

    // MARK: - Events

    /// The connection is up: greet, or turn it away when the server is full.
    mutating func connected(acceptingConnections: Bool = true) -> [Action] {
        guard phase == .connected else { return [] }
        guard acceptingConnections else {
            phase = .closed
            return [.send(SMTPReply(code: 421, enhancedCode: "4.3.2", text: "\(configuration.hostname) Too many connections, try again later")), .close]
        }
        phase = .commands
        return [.send(SMTPReply(code: 220, text: "\(configuration.hostname) ESMTP Switchboard"))]
    }

    /// Bytes from the client.
    mutating func received(_ bytes: ByteBuffer) -> [Action] {
        guard phase != .closed else { return [] }
        framer.append(bytes)
        var actions: [Action] = []
        process(into: &actions)
        return actions
    }

    /// The delegate's answer to `.checkRecipient`: `nil` accepts.
    mutating func recipientChecked(_ rejection: SMTPReply?) -> [Action] {
        guard case .awaitingRecipientCheck(let address) = phase else { return [] }
        phase = .commands
        var actions: [Action] = []
        if let rejection {
            actions.append(.send(rejection))
        } else {
            envelope?.recipients.append(address)
            actions.append(.send(SMTPReply(code: 250, enhancedCode: "2.1.5", text: "Recipient <\(address)> OK")))
        }
        process(into: &actions)
        return actions
    }

    /// The delegate's answer to `.deliver`: its reply goes to the client as is.
    mutating func messageStored(_ reply: SMTPReply) -> [Action] {
        guard phase == .awaitingDelivery else { return [] }
        phase = .commands
        envelope = nil
        var actions: [Action] = [.send(reply)]
        process(into: &actions)
        return actions
    }

    /// The client was silent for the idle timeout.
    mutating func idleTimeoutFired() -> [Action] {
        switch phase {
        case .commands, .receivingData, .connected:
            phase = .closed
            framer.discardBuffered()
            return [.send(SMTPReply(code: 421, enhancedCode: "4.4.2", text: "\(configuration.hostname) Timeout, closing connection")), .close]
        case .awaitingRecipientCheck, .awaitingDelivery, .closed:
            return []
        }
    }

    /// The server is stopping: sessions between messages end now with 421; one in the middle
    /// of a message ends after its reply.
    mutating func shutdownRequested() -> [Action] {
        shuttingDown = true
        guard phase == .commands || phase == .connected else { return [] }
        var actions: [Action] = []
        process(into: &actions)
        return actions
    }

    /// The connection is gone: whatever was buffered, including a partial message, is dropped.
    mutating func connectionClosed() {
        phase = .closed
        envelope = nil
        framer = SMTPInputFramer()
    }

    // MARK: - Processing queued input

    private mutating func process(into actions: inout [Action]) {
        while true {
            switch phase {
            case .connected, .closed, .awaitingRecipientCheck, .awaitingDelivery:
                return
            case .receivingData:
                guard let frame = framer.next(maximumLineLength: configuration.maximumLineLength) else { return }
                guard case .message(let message, let octets) = frame else { return }
                finishMessage(message, octets: octets, into: &actions)
            case .commands:
                if shuttingDown {
                    close(with: SMTPReply(code: 421, enhancedCode: "4.3.2", text: "\(configuration.hostname) Service shutting down"), into: &actions)
                    return
                }
                guard let frame = framer.next(maximumLineLength: configuration.maximumLineLength) else { return }
                switch frame {
                case .command(let line):
                    handle(SMTPCommand(line: line), into: &actions)
                case .commandTooLong:
                    reject(SMTPReply(code: 500, enhancedCode: "5.5.2", text: "Line too long"), into: &actions)
                case .message:
                    return
                }
            }
        }
    }

    private mutating func finishMessage(_ message: ByteBuffer?, octets: Int, into actions: inout [Action]) {
        guard let message, let envelope else {
            // RFC 1870 §6.3: the oversize message was read to its end and is dropped.
            self.envelope = nil
            phase = .commands
            actions.append(.send(SMTPReply(code: 552, enhancedCode: "5.3.4", text: "Message size exceeds fixed maximum message size")))
            return
        }
        phase = .awaitingDelivery
        actions.append(.deliver(Array(message.readableBytesView), envelope))
    }

    private mutating func handle(_ command: SMTPCommand, into actions: inout [Action]) {
        switch command {
        case .ehlo(let name), .helo(let name):
            let isEHLO = if case .ehlo = command { true } else { false }
            guard !name.isEmpty else {
                return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "Syntax: \(isEHLO ? "EHLO" : "HELO") hostname"), into: &actions)
            }
            heloName = name
            usedESMTP = isEHLO
            envelope = nil
            if isEHLO {
                var lines = [
                    "\(configuration.hostname) Hello \(name)",
                    "PIPELINING",
                    "SIZE \(configuration.maximumMessageSize)",
                    "8BITMIME",
                    "SMTPUTF8",
                    "ENHANCEDSTATUSCODES",
                ]
                if configuration.tls != nil && !usedTLS { lines.append("STARTTLS") }
                lines.append("HELP")
                actions.append(.send(SMTPReply(code: 250, text: lines.joined(separator: "\n"))))
            } else {
                actions.append(.send(SMTPReply(code: 250, text: "\(configuration.hostname) Hello \(name)")))
            }

        case .mail(let argument):
            guard heloName != nil else { return outOfSequence("Send EHLO or HELO first", into: &actions) }
            guard tlsRequirementMet(into: &actions) else { return }
            guard envelope == nil else { return outOfSequence("Nested MAIL command", into: &actions) }
            guard let (path, parameters) = SMTPCommand.parsePath(argument, keyword: "FROM:") else {
                return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "Syntax: MAIL FROM:<address>"), into: &actions)
            }
            for (key, value) in parameters {
                switch key {
                case "SIZE":
                    guard let size = Int(value), size >= 0 else {
                        return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "Bad SIZE parameter"), into: &actions)
                    }
                    if size > configuration.maximumMessageSize {
                        actions.append(.send(SMTPReply(code: 552, enhancedCode: "5.3.4", text: "Message size exceeds fixed maximum message size")))
                        return
                    }
                case "BODY":
                    guard ["7BIT", "8BITMIME"].contains(value.uppercased()) else {
                        return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "Unsupported BODY type"), into: &actions)
                    }
                case "SMTPUTF8":
                    guard value.isEmpty else {
                        return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "SMTPUTF8 takes no value"), into: &actions)
                    }
                default:
                    return reject(SMTPReply(code: 555, enhancedCode: "5.5.4", text: "Unsupported parameter \(key)"), into: &actions)
                }
            }
            envelope = SMTPEnvelope(
                heloName: heloName ?? "", mailFrom: path, recipients: [], remoteAddress: remoteAddress, remotePort: remotePort,
                usedTLS: usedTLS, parameters: parameters)
            actions.append(.send(SMTPReply(code: 250, enhancedCode: "2.1.0", text: "Sender <\(path)> OK")))

        case .rcpt(let argument):
            guard tlsRequirementMet(into: &actions) else { return }
            guard let envelope else { return outOfSequence("Need MAIL command", into: &actions) }
            guard let (path, parameters) = SMTPCommand.parsePath(argument, keyword: "TO:"), !path.isEmpty else {
                return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "Syntax: RCPT TO:<address>"), into: &actions)
            }
            guard parameters.isEmpty else {
                return reject(SMTPReply(code: 555, enhancedCode: "5.5.4", text: "Unsupported RCPT parameter"), into: &actions)
            }
            guard envelope.recipients.count < configuration.maximumRecipients else {
                actions.append(.send(SMTPReply(code: 452, enhancedCode: "4.5.3", text: "Too many recipients")))
                return
            }
            phase = .awaitingRecipientCheck(path)
            actions.append(.checkRecipient(path, envelope))

        case .data(let argument):
            guard tlsRequirementMet(into: &actions) else { return }
            guard let envelope else { return outOfSequence("Need MAIL command", into: &actions) }
            guard argument.isEmpty else {
                return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "DATA takes no argument"), into: &actions)
            }
            guard !envelope.recipients.isEmpty else {
                actions.append(.send(SMTPReply(code: 554, enhancedCode: "5.5.1", text: "No valid recipients")))
                return
            }
            let expected = envelope.parameters["SIZE"].flatMap { Int($0) }
            framer.beginData(prefix: receivedHeader(for: envelope), limit: configuration.maximumMessageSize, expectedSize: expected)
            phase = .receivingData
            actions.append(.send(SMTPReply(code: 354, text: "End data with <CR><LF>.<CR><LF>")))

        case .rset(let argument):
            guard argument.isEmpty else {
                return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "RSET takes no argument"), into: &actions)
            }
            envelope = nil
            actions.append(.send(.ok()))

        case .noop:
            actions.append(.send(.ok()))

        case .quit:
            close(with: SMTPReply(code: 221, enhancedCode: "2.0.0", text: "\(configuration.hostname) closing connection"), into: &actions)

        case .vrfy:
            guard tlsRequirementMet(into: &actions) else { return }
            actions.append(.send(SMTPReply(code: 252, enhancedCode: "2.5.0", text: "Cannot VRFY user, but will accept message and attempt delivery")))

        case .help:
            actions.append(.send(SMTPReply(code: 214, enhancedCode: "2.0.0", text: "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\(configuration.tls != nil ? " STARTTLS" : "")")))

        case .startTLS(let argument):
            guard configuration.tls != nil else {
                return reject(SMTPReply(code: 502, enhancedCode: "5.5.1", text: "STARTTLS not available"), into: &actions)
            }
            guard !usedTLS else { return outOfSequence("TLS already active", into: &actions) }
            guard argument.isEmpty else {
                return reject(SMTPReply(code: 501, enhancedCode: "5.5.4", text: "STARTTLS takes no argument"), into: &actions)
            }
            // RFC 3207 §4.2: the session starts over; anything pipelined after STARTTLS came in
            // plaintext and must not be executed (CVE-2011-0411).
            framer.discardBuffered()
            heloName = nil
            envelope = nil
            usedTLS = true
            actions.append(.send(SMTPReply(code: 220, enhancedCode: "2.0.0", text: "Ready to start TLS")))
            actions.append(.startTLS)

        case .notImplemented(let verb):
            reject(SMTPReply(code: 502, enhancedCode: "5.5.1", text: "\(verb) not implemented"), into: &actions)

        case .unknown:
            reject(SMTPReply(code: 500, enhancedCode: "5.5.1", text: "Command unrecognized"), into: &actions)
        }
    }

    // MARK: - Helpers

    private mutating func tlsRequirementMet(into actions: inout [Action]) -> Bool {
        guard configuration.requireTLS && !usedTLS else { return true }
        reject(SMTPReply(code: 530, enhancedCode: "5.7.0", text: "Must issue a STARTTLS command first"), into: &actions)
        return false
    }

    private mutating func outOfSequence(_ text: String, into actions: inout [Action]) {
        reject(SMTPReply(code: 503, enhancedCode: "5.5.1", text: text), into: &actions)
    }

    /// Sends an error reply and counts it; too many end the session.
    private mutating func reject(_ reply: SMTPReply, into actions: inout [Action]) {
        actions.append(.send(reply))
        badCommands += 1
        if badCommands >= configuration.maximumBadCommands {
            close(with: SMTPReply(code: 421, enhancedCode: "4.7.0", text: "\(configuration.hostname) Too many errors, closing connection"), into: &actions)
        }
    }

    private mutating func close(with reply: SMTPReply, into actions: inout [Action]) {
        phase = .closed
        framer.discardBuffered()
        actions.append(.send(reply))
        actions.append(.close)
    }

    /// RFC 5321 §4.4 trace header; the protocol names are RFC 3848's.
    private func receivedHeader(for envelope: SMTPEnvelope) -> String {
        let protocolName = usedESMTP ? (usedTLS ? "ESMTPS" : "ESMTP") : (usedTLS ? "SMTPS" : "SMTP")
        var from = "from \(Self.traceSafe(envelope.heloName))"
        if let remoteAddress = envelope.remoteAddress { from += " ([\(Self.traceSafe(remoteAddress))])" }
        var header = "Received: \(from)\r\n\tby \(configuration.hostname) (Switchboard) with \(protocolName)"
        if envelope.recipients.count == 1 { header += "\r\n\tfor <\(Self.traceSafe(envelope.recipients[0]))>" }
        header += ";\r\n\t\(Self.traceDate(now()))\r\n"
        return header
    }

    /// The date of the trace header, formatted once a second (a calendar computation per mail
    /// otherwise), shared by all sessions.
    private static func traceDate(_ date: Date) -> String {
        let second = Int64(date.timeIntervalSince1970.rounded(.down))
        if let cached = traceDateCache.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        let text = MailComposer.dateHeaderValue(date)
        traceDateCache.withLock { $0 = (second, text) }
        return text
    }

    private static let traceDateCache = Mutex<(second: Int64, text: String)>((-1, ""))

    /// Client-supplied text in a header: printable characters only, no parentheses games.
    private static func traceSafe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(255).map {
            $0.value < 0x21 || $0 == "(" || $0 == ")" || $0.value == 0x7F ? "_" : $0
        }))
    }
}
