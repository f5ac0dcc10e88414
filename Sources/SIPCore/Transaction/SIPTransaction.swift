/// RFC 3261 §17 timer values, in milliseconds.
public struct SIPTimers: Sendable, Hashable {
    /// Round-trip estimate (500 ms).
    public var t1: Int64
    /// Longest retransmission interval for non-INVITE requests and INVITE responses (4 s).
    public var t2: Int64
    /// Longest time a message stays in the network (5 s).
    public var t4: Int64

    public init(t1: Int64 = 500, t2: Int64 = 4_000, t4: Int64 = 5_000) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
    }

    /// The earlier of two deadlines, either of which may not be running.
    static func earlier(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }
}

/// What a transaction asks its owner to do.
public enum SIPTransactionAction: Sendable, Equatable {
    /// Put this message on the wire (a request, a retransmission, an ACK, a response).
    case send(SIPMessage)
    /// Hand this response to the transaction user (client transactions; retransmissions absorbed).
    case response(SIPMessage)
    /// Hand this ACK to the transaction user (an ACK for a 2xx, which belongs to the dialog).
    case ack(SIPMessage)
    /// No final response came in time (timer B or F), or no ACK came for a final response
    /// (timer H): the transaction user decides what that means.
    case timedOut
    /// The transaction is over; forget it.
    case terminated
}

/// How a request or response is matched to its transaction (§17.1.3, §17.2.3): the top Via's
/// branch (RFC 3261 branches start with `z9hG4bK`), its sent-by for servers, and the method,
/// with ACK matching the INVITE it acknowledges.
///
/// The three are hashed once, when the key is made, with the process's random seed (as every
/// `Hasher`), and equality compares that digest before the text. An element's tables hold
/// a transaction for 32 s after its call (timers J, L and M over UDP: a hundred thousand at a
/// thousand calls a second), and a dictionary compares the key it looks for with every key in
/// its probe, each of them text elsewhere in memory: hashing the text at every lookup and
/// comparing it at every probe were a fortieth of the hub's processor time at saturation.
public struct SIPTransactionKey: Sendable, Hashable, CustomStringConvertible {
    public let branch: String
    public let sentBy: String
    public let method: String
    private let digest: Int

    public init(branch: String, sentBy: String, method: String) {
        self.branch = branch
        self.sentBy = sentBy
        self.method = method
        var hasher = Hasher()
        hasher.combine(branch)
        hasher.combine(sentBy)
        hasher.combine(method)
        digest = hasher.finalize()
    }

    /// The same branch and sent-by with another method (a CANCEL's key names its INVITE's).
    public func with(method: String) -> SIPTransactionKey {
        SIPTransactionKey(branch: branch, sentBy: sentBy, method: method)
    }

    public static func == (lhs: SIPTransactionKey, rhs: SIPTransactionKey) -> Bool {
        lhs.digest == rhs.digest && lhs.branch == rhs.branch && lhs.sentBy == rhs.sentBy && lhs.method == rhs.method
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }

    /// The key a server finds the request's transaction under (an ACK finds its INVITE's);
    /// nil without an RFC 3261 branch (an RFC 2543 peer: matched by the owner another way).
    public static func server(_ request: SIPMessage) -> SIPTransactionKey? {
        guard let method = request.method, let via = request.topVia, let branch = via.branch, branch.hasPrefix("z9hG4bK") else { return nil }
        return SIPTransactionKey(branch: branch, sentBy: "\(via.host):\(via.port ?? 5060)", method: method == "ACK" ? "INVITE" : method)
    }

    /// The key a client finds a response's transaction under.
    public static func client(_ response: SIPMessage) -> SIPTransactionKey? {
        guard let via = response.topVia, let branch = via.branch, let method = response.cseq?.method else { return nil }
        return SIPTransactionKey(branch: branch, sentBy: "", method: method)
    }

    public var description: String { "\(method) \(branch) \(sentBy)" }
}

/// A client transaction (§17.1): INVITE (timers A, B, D, and RFC 6026's M) or non-INVITE
/// (E, F, K). A pure state machine on the owner's clock: the owner feeds it responses and the
/// passing of time, and performs the actions it returns.
public struct SIPClientTransaction: Sendable {
    public enum State: Sendable, Equatable {
        case calling, trying, proceeding, completed, accepted, terminated
    }

    public let request: SIPMessage
    public let isInvite: Bool
    public let reliable: Bool
    public let timers: SIPTimers
    public private(set) var state: State
    /// The next retransmission (A or E) and its interval.
    private var retransmitAt: Int64?
    private var interval: Int64
    /// When the transaction gives up (B or F) or ends (D, K, M).
    private var endAt: Int64?
    private var ack: SIPMessage?

    /// Starts the transaction at `now`: the request goes out.
    public init(request: SIPMessage, reliable: Bool, timers: SIPTimers = SIPTimers(), now: Int64) {
        self.request = request
        isInvite = request.method == "INVITE"
        self.reliable = reliable
        self.timers = timers
        state = isInvite ? .calling : .trying
        interval = timers.t1
        retransmitAt = reliable ? nil : now + timers.t1
        endAt = now + 64 * timers.t1
    }

    /// The first action: send the request.
    public var start: [SIPTransactionAction] { [.send(request)] }

    public var key: SIPTransactionKey? {
        guard let branch = request.topVia?.branch, let method = request.method else { return nil }
        return SIPTransactionKey(branch: branch, sentBy: "", method: method)
    }

    /// When `fire` should next be called, if ever.
    public var nextDeadline: Int64? { SIPTimers.earlier(retransmitAt, endAt) }

    public mutating func receive(_ response: SIPMessage, now: Int64) -> [SIPTransactionAction] {
        guard let status = response.status else { return [] }
        switch (state, status) {
        case (.calling, 100...199), (.trying, 100...199), (.proceeding, 100...199):
            if isInvite {
                // Timers A and B stop (§17.1.1.2: B runs only in Calling): how long a phone may
                // ring is the transaction user's to decide (it CANCELs).
                retransmitAt = nil
                endAt = nil
            } else if !reliable {
                // Timer E goes on at T2.
                interval = timers.t2
                retransmitAt = now + timers.t2
            }
            state = .proceeding
            return [.response(response)]
        case (.calling, 200...299) where isInvite, (.proceeding, 200...299) where isInvite:
            // RFC 6026: stay (Accepted) for 64*T1 to pass on retransmitted 2xx to the TU, which
            // ACKs each (the ACK for a 2xx belongs to the dialog, not to the transaction).
            state = .accepted
            retransmitAt = nil
            endAt = now + 64 * timers.t1
            return [.response(response)]
        case (.accepted, 200...299):
            return [.response(response)]
        case (.calling, 300...699) where isInvite, (.proceeding, 300...699) where isInvite:
            let ack = Self.ack(for: request, response: response)
            self.ack = ack
            state = .completed
            retransmitAt = nil
            endAt = now + (reliable ? 0 : 32_000)
            return [.send(ack), .response(response)] + (reliable ? finish() : [])
        case (.completed, 300...699) where isInvite:
            // A retransmitted final response: the ACK again, nothing for the TU.
            return ack.map { [.send($0)] } ?? []
        case (.trying, 200...699), (.proceeding, 200...699):
            state = .completed
            retransmitAt = nil
            endAt = now + (reliable ? 0 : timers.t4)
            return [.response(response)] + (reliable ? finish() : [])
        default:
            // Late or retransmitted responses in Completed (non-INVITE) or Terminated: absorbed.
            return []
        }
    }

    /// Processes the timers due at `now`.
    public mutating func fire(now: Int64) -> [SIPTransactionAction] {
        var actions: [SIPTransactionAction] = []
        if let end = endAt, now >= end {
            switch state {
            case .calling, .trying, .proceeding:
                // Timer B or F: no final response.
                actions.append(.timedOut)
            default:
                break
            }
            return actions + finish()
        }
        if let at = retransmitAt, now >= at, state == .calling || state == .trying || state == .proceeding {
            actions.append(.send(request))
            interval = isInvite ? interval * 2 : min(interval * 2, timers.t2)
            retransmitAt = now + interval
        }
        return actions
    }

    private mutating func finish() -> [SIPTransactionAction] {
        state = .terminated
        retransmitAt = nil
        endAt = nil
        return [.terminated]
    }

    /// The ACK for a non-2xx final response (§17.1.1.3): the INVITE's Request-URI, top Via,
    /// From, Call-ID and Route, the response's To (with its tag), CSeq number with ACK.
    static func ack(for invite: SIPMessage, response: SIPMessage) -> SIPMessage {
        var headers = SIPHeaders()
        if let via = invite.headers.firstValue("Via") { headers.add("Via", via) }
        headers.add("Max-Forwards", "70")
        if let from = invite.headers.first("From") { headers.add("From", from) }
        if let to = response.headers.first("To") { headers.add("To", to) }
        if let callID = invite.callID { headers.add("Call-ID", callID) }
        if let cseq = invite.cseq { headers.add("CSeq", "\(cseq.number) ACK") }
        for route in invite.headers.lines("Route") { headers.add("Route", route) }
        return .request("ACK", uri: invite.requestURI ?? "", headers: headers)
    }
}

/// A server transaction (§17.2): INVITE (timers G, H, I, and RFC 6026's L) or non-INVITE (J).
/// Retransmitted requests are absorbed and answered with the last response; the owner gives
/// it the transaction user's responses and the passing of time.
public struct SIPServerTransaction: Sendable {
    public enum State: Sendable, Equatable {
        case trying, proceeding, completed, confirmed, accepted, terminated
    }

    public let request: SIPMessage
    public let isInvite: Bool
    public let reliable: Bool
    public let timers: SIPTimers
    public private(set) var state: State
    public private(set) var lastResponse: SIPMessage?
    private var retransmitAt: Int64?
    private var interval: Int64
    private var endAt: Int64?

    public init(request: SIPMessage, reliable: Bool, timers: SIPTimers = SIPTimers()) {
        self.request = request
        isInvite = request.method == "INVITE"
        self.reliable = reliable
        self.timers = timers
        state = isInvite ? .proceeding : .trying
        interval = timers.t1
    }

    public var key: SIPTransactionKey? { SIPTransactionKey.server(request) }

    public var nextDeadline: Int64? { SIPTimers.earlier(retransmitAt, endAt) }

    /// The transaction user answers.
    public mutating func respond(_ response: SIPMessage, now: Int64) -> [SIPTransactionAction] {
        guard let status = response.status else { return [] }
        switch state {
        case .trying, .proceeding:
            lastResponse = response
            if status < 200 {
                state = .proceeding
                return [.send(response)]
            }
            if isInvite, status < 300 {
                // RFC 6026 Accepted: the TU retransmits its 2xx until the ACK; the transaction
                // absorbs INVITE retransmissions and passes ACKs up, for 64*T1.
                state = .accepted
                endAt = now + 64 * timers.t1
                return [.send(response)]
            }
            state = .completed
            if isInvite {
                retransmitAt = reliable ? nil : now + timers.t1
                endAt = now + 64 * timers.t1
            } else {
                endAt = now + (reliable ? 0 : 64 * timers.t1)
                if reliable { return [.send(response)] + finish() }
            }
            return [.send(response)]
        case .accepted where isInvite && (200..<300).contains(status):
            // The TU's own 2xx retransmission.
            return [.send(response)]
        default:
            return []
        }
    }

    /// A request that matched this transaction arrived again (a retransmission, or the ACK).
    public mutating func receive(_ message: SIPMessage, now: Int64) -> [SIPTransactionAction] {
        if message.method == "ACK" {
            switch state {
            case .completed where isInvite:
                state = .confirmed
                retransmitAt = nil
                endAt = now + (reliable ? 0 : timers.t4)
                return reliable ? finish() : []
            case .accepted:
                return [.ack(message)]
            default:
                return []
            }
        }
        switch state {
        case .proceeding, .completed:
            return lastResponse.map { [.send($0)] } ?? []
        default:
            // Trying (no response yet), Accepted (the TU retransmits its 2xx), Confirmed: absorbed.
            return []
        }
    }

    public mutating func fire(now: Int64) -> [SIPTransactionAction] {
        if let end = endAt, now >= end {
            // Timer H (no ACK: the TU hears of it), I, J or L.
            let timedOut = state == .completed && isInvite
            return (timedOut ? [.timedOut] : []) + finish()
        }
        if let at = retransmitAt, now >= at, state == .completed, let lastResponse {
            // Timer G: the final response again, at doubling intervals up to T2.
            interval = min(interval * 2, timers.t2)
            retransmitAt = now + interval
            return [.send(lastResponse)]
        }
        return []
    }

    private mutating func finish() -> [SIPTransactionAction] {
        state = .terminated
        retransmitAt = nil
        endAt = nil
        return [.terminated]
    }
}
