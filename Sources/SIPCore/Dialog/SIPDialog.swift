import SystemRandomPool

/// A dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE sets up, identified by the
/// Call-ID and both tags, with what in-dialog requests need: sequence numbers, the remote target
/// (the peer's Contact) and the route set (Record-Route). The B2BUA keeps one per call leg.
public struct SIPDialog: Sendable, Hashable {
    public var callID: String
    public var localTag: String
    public var remoteTag: String
    /// The local and remote party as the dialog's From and To carry them (without tags).
    public var localParty: SIPNameAddress
    public var remoteParty: SIPNameAddress
    /// The last CSeq number this side used, and the last one seen from the peer (nil: none yet).
    public var localSequence: UInt32
    public var remoteSequence: UInt32?
    /// Where in-dialog requests go: the peer's Contact.
    public var remoteTarget: SIPURI
    /// The Route headers in-dialog requests carry, in order.
    public var routeSet: [String]

    /// The dialog a UAC gets from a response to its INVITE that carries a To tag (a 1xx makes
    /// an early dialog, a 2xx the confirmed one; §12.1.2): the route set is the response's
    /// Record-Route reversed, the remote target its Contact.
    public static func uac(request: SIPMessage, response: SIPMessage) -> SIPDialog? {
        guard let status = response.status, (101...299).contains(status), let callID = request.callID, let from = request.from,
            let localTag = from.tag, let to = response.to, let remoteTag = to.tag, let cseq = request.cseq,
            let contact = response.headers.firstValue("Contact").flatMap(SIPNameAddress.init(parsing:))
        else { return nil }
        var local = from
        local.tag = nil
        var remote = to
        remote.tag = nil
        return SIPDialog(
            callID: callID, localTag: localTag, remoteTag: remoteTag, localParty: local, remoteParty: remote, localSequence: cseq.number,
            remoteSequence: nil, remoteTarget: contact.uri, routeSet: response.headers.values("Record-Route").reversed())
    }

    /// The dialog a UAS sets up when it answers `request` with `localTag` (§12.1.1): the route
    /// set is the request's Record-Route in order, the remote target its Contact.
    public static func uas(request: SIPMessage, localTag: String) -> SIPDialog? {
        guard let callID = request.callID, let from = request.from, let remoteTag = from.tag, let to = request.to, let cseq = request.cseq,
            let contact = request.headers.firstValue("Contact").flatMap(SIPNameAddress.init(parsing:))
        else { return nil }
        var local = to
        local.tag = nil
        var remote = from
        remote.tag = nil
        return SIPDialog(
            callID: callID, localTag: localTag, remoteTag: remoteTag, localParty: local, remoteParty: remote, localSequence: 0,
            remoteSequence: cseq.number, remoteTarget: contact.uri, routeSet: request.headers.values("Record-Route"))
    }

    /// Whether an in-dialog request or a response belongs to this dialog: its Call-ID and tags,
    /// seen from this side.
    public func matches(_ message: SIPMessage) -> Bool {
        guard message.callID == callID else { return false }
        let fromTag = message.from?.tag
        let toTag = message.to?.tag
        if message.isRequest { return fromTag == remoteTag && toTag == localTag }
        return fromTag == localTag && toTag == remoteTag
    }

    /// Checks an in-dialog request's CSeq (§12.2.2): lower than one already seen is out of order
    /// (answer 500); the sequence advances otherwise. ACK and CANCEL reuse the INVITE's number.
    public mutating func accept(_ request: SIPMessage) -> Bool {
        guard let cseq = request.cseq else { return false }
        if request.method == "ACK" || request.method == "CANCEL" { return true }
        if let seen = remoteSequence, cseq.number <= seen { return false }
        remoteSequence = cseq.number
        return true
    }

    /// A new request within the dialog (BYE, re-INVITE, REFER, INFO): Request-URI the remote
    /// target, Route the route set, From and To with the tags, the next CSeq, a new branch in
    /// the Via that `via` makes of it (the transport's sent-by and the branch).
    public mutating func request(_ method: String, via: (String) -> String, headers extra: [(String, String)] = [], body: [UInt8] = [])
        -> SIPMessage
    {
        localSequence += 1
        return build(method, sequence: localSequence, via: via, headers: extra, body: body)
    }

    /// The ACK for a 2xx to this dialog's INVITE numbered `sequence` (§13.2.2.4): a request of
    /// the dialog with its own branch, the INVITE's CSeq number.
    public func ack(sequence: UInt32, via: (String) -> String, body: [UInt8] = []) -> SIPMessage {
        build("ACK", sequence: sequence, via: via, headers: [], body: body)
    }

    private func build(_ method: String, sequence: UInt32, via: (String) -> String, headers extra: [(String, String)], body: [UInt8]) -> SIPMessage {
        var headers = SIPHeaders()
        headers.add("Via", via(SIPBranch.make()))
        headers.add("Max-Forwards", "70")
        var from = localParty
        from.tag = localTag
        var to = remoteParty
        to.tag = remoteTag
        headers.add("From", from.description)
        headers.add("To", to.description)
        headers.add("Call-ID", callID)
        headers.add("CSeq", "\(sequence) \(method)")
        for route in routeSet { headers.add("Route", route) }
        for (name, value) in extra { headers.add(name, value) }
        return .request(method, uri: remoteTarget.description, headers: headers, body: body)
    }
}

/// Branch parameters (§8.1.1.7): the RFC 3261 magic cookie and enough randomness to be unique in
/// space and time; tags and Call-IDs alike.
public enum SIPBranch {
    public static func make() -> String { "z9hG4bK" + token() }

    /// A random token of 16 base-36 characters (about 82 bits; §19.3 asks at least 32 of a tag).
    /// Each character takes one random byte below 252 (7 × 36, so that every character is equally
    /// likely), from the pooled system generator (`PooledSystemRandom`): a call takes several
    /// tokens, and asking the kernel for each was a hundredth of the hub's processor time.
    public static func token() -> String {
        var random = PooledSystemRandom()
        var word: UInt64 = 0
        var left = 0
        return String(unsafeUninitializedCapacity: 16) { output in
            var written = 0
            while written < 16 {
                if left == 0 {
                    word = random.next()
                    left = 8
                }
                let byte = UInt8(truncatingIfNeeded: word)
                word >>= 8
                left -= 1
                guard byte < 252 else { continue }
                output[written] = alphabet[Int(byte % 36)]
                written += 1
            }
            return 16
        }
    }

    private static let alphabet: [UInt8] = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
}
