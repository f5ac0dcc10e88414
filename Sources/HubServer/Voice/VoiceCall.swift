import HubChannels
import HubConfig
import HubModel
import HubRouting
import SIPCore

/// A configured SIP trunk (a `voice` channel account), as the SIP element checks calls against it.
struct VoiceTrunk: Sendable {
    let accountID: String
    let options: VoiceTrunkOptions
    let defaultRegion: String?
    /// The digest password, when the trunk authenticates.
    let password: String?
    /// The dialed numbers in E.164 (where they are numbers) and the other names as configured.
    let numbers: Set<String>

    init(account: ChannelAccountConfig, options: VoiceTrunkOptions) {
        accountID = account.id
        self.options = options
        defaultRegion = account.defaultRegion
        password = account.secrets["password"]?.value
        var numbers: Set<String> = []
        for number in options.numbers { numbers.insert(Self.normalize(number, region: account.defaultRegion)) }
        self.numbers = numbers
    }

    /// A dialed number in the form the trunk's numbers are kept in.
    static func normalize(_ number: String, region: String?) -> String {
        (try? PhoneNumber(parsing: number, defaultRegion: region))?.e164 ?? number.lowercased()
    }

    /// Whether a call from this address may be the trunk's.
    func admits(_ address: String) -> Bool {
        guard !options.addresses.isEmpty else { return true }
        guard let bytes = SIPAddressRange.bytes(of: address) else { return false }
        return options.addresses.contains { $0.contains(bytes: bytes) }
    }

    var authenticates: Bool { password != nil }
}

/// One inbound call through the B2BUA: the customer's leg (the trunk's INVITE, answered by the
/// hub) and at most one agent leg at a time (the hub's INVITE to the offered agent's phone).
///
/// A reference, kept by the element's actor and never handed out of it: the actor reads every
/// live call at each tick of its timers and changes calls field by field, and as a value each
/// read copied the whole state (its record, dialogs, the answer, the leg: about a fiftieth of
/// the hub's processor time at saturation).
final class VoiceCall {
    enum Phase: Sendable, Equatable {
        /// The INVITE is being stored (customer, conversation).
        case arriving
        /// Waiting in the router; `leg` rings an agent when one is offered.
        case queued
        /// The offered phone answered; the router is being told (the caller waits for it, or for
        /// the re-INVITE of a transfer).
        case connecting
        /// Both legs are up.
        case answered
        /// The caller is answered; the agent's leg is gone (a transfer) and the router offers
        /// the call anew: the next phone that answers is bridged by a re-INVITE to the caller.
        case transferring
        case ended
    }

    let trunkID: String
    let invite: SIPMessage
    let callerPeer: SIPPeer
    let serverKey: SIPTransactionKey
    /// The hub's To tag toward the caller.
    let localTag: String
    /// The caller as the agent's phone shows them (the number, or the SIP URI).
    let callerDisplay: String

    init(trunkID: String, invite: SIPMessage, callerPeer: SIPPeer, serverKey: SIPTransactionKey, localTag: String, callerDisplay: String) {
        self.trunkID = trunkID
        self.invite = invite
        self.callerPeer = callerPeer
        self.serverKey = serverKey
        self.localTag = localTag
        self.callerDisplay = callerDisplay
    }

    var phase: Phase = .arriving
    var conversationID: Conversation.ID?
    var record: CallRecord?
    /// 180 went to the caller (an agent's phone rings).
    var toldRinging = false
    var leg: AgentLeg?
    /// The customer leg's dialog once the hub answered.
    var callerDialog: SIPDialog?
    /// The hub's 2xx to the caller, sent again until the ACK (§13.3.1.4).
    var answer: SIPMessage?
    var answerRetransmitAt: Int64?
    var answerInterval: Int64 = 500
    var answerGiveUpAt: Int64?
    /// The version of the hub's SDP toward the caller (its origin is the hub's own, RFC 4566
    /// §5.2, so that a transfer's re-INVITE may change everything else); the session id.
    var sdpVersion: UInt64 = 1
    let sdpSession = UInt64.random(in: 1_000_000...9_999_999_999)

    var callerCallID: String { invite.callID ?? "" }
    /// The caller is answered (a 2xx went out): ends are BYEs, not final responses.
    var callerAnswered: Bool { answer != nil }
    /// The provisional the caller hears while waiting (182 or 180), resent every minute
    /// (RFC 3261 §13.3.1.1) until the call is answered.
    var queuedStatus = 182
    var provisionalAt: Int64 = 0
    /// When the caller hears `queuedStatus` if no phone has rung by then (nil: told already).
    var queuedNoticeAt: Int64?
    /// An offer the router made while the phone's answer was being confirmed: rung if that
    /// confirmation fails.
    var heldOffer: Offer?
}

/// The hub's INVITE to one agent's phone for one offer.
struct AgentLeg: Sendable {
    /// What the leg starts with and keeps, in one reference: a copy of a leg (a call's state
    /// keeps one, the B2BUA reads it often) retains one object for these, not four.
    final class Origin: Sendable {
        let offerID: String
        let agentID: String
        let invite: SIPMessage
        let peer: SIPPeer

        init(offerID: String, agentID: String, invite: SIPMessage, peer: SIPPeer) {
            self.offerID = offerID
            self.agentID = agentID
            self.invite = invite
            self.peer = peer
        }
    }

    let origin: Origin

    init(offerID: String, agentID: String, invite: SIPMessage, peer: SIPPeer) {
        origin = Origin(offerID: offerID, agentID: agentID, invite: invite, peer: peer)
    }

    var offerID: String { origin.offerID }
    var agentID: String { origin.agentID }
    var invite: SIPMessage { origin.invite }
    var peer: SIPPeer { origin.peer }
    var key: SIPTransactionKey? { SIPClientTransaction.key(of: invite) }
    var callID: String { invite.callID ?? "" }
    /// The phone's To tag and Contact, from a provisional or final response with a tag.
    var dialog: SIPDialog?
    /// A provisional response came: a CANCEL may be sent (§9.1).
    var provisional = false
    var answered = false
    /// When the hub stops the phone ringing even if the router's end of the offer never comes
    /// (the offer's expiry and some slack).
    var ringDeadline: Int64 = .max
}

/// A client transaction of the SIP element and what it belongs to.
struct ClientEntry: Sendable {
    var transaction: SIPClientTransaction
    let peer: SIPPeer
    /// The call (by the caller's Call-ID) whose leg this is.
    let callerCallID: String?
}

extension SIPClientTransaction {
    static func key(of request: SIPMessage) -> SIPTransactionKey? {
        guard let branch = request.topVia?.branch, let method = request.method else { return nil }
        return SIPTransactionKey(branch: branch, sentBy: "", method: method)
    }
}

/// A server transaction of the SIP element and where its responses go.
struct ServerEntry: Sendable, TimedTransaction {
    var transaction: SIPServerTransaction
    let peer: SIPPeer
    var nextDeadline: Int64? { transaction.nextDeadline }
}

extension ClientEntry: TimedTransaction {
    var nextDeadline: Int64? { transaction.nextDeadline }
}

/// An entry whose transaction has timers.
protocol TimedTransaction {
    var nextDeadline: Int64? { get }
}

/// Transactions by key, with their timers filed in slots of `slotLength` milliseconds, so that a
/// tick looks only at the transactions due, not at all of them (tens of thousands live 32 s after
/// their calls' answers). An entry is filed under its deadline when stored with a new one; `due`
/// skips the filings whose deadline moved. The caller stores each key `due` returns back after
/// firing it, with no suspension in between.
struct TransactionTable<Entry: TimedTransaction> {
    private(set) var entries: [SIPTransactionKey: Entry] = [:]
    private var slots: [Int64: [SIPTransactionKey]] = [:]
    /// The first slot not emptied yet.
    private var nextSlot: Int64?
    static var slotLength: Int64 { 50 }

    var count: Int { entries.count }

    subscript(key: SIPTransactionKey) -> Entry? {
        get { entries[key] }
        set {
            // (One lookup: the entry replaced or removed tells its deadline.)
            let previous: Int64?
            if let newValue {
                previous = entries.updateValue(newValue, forKey: key)?.nextDeadline
            } else {
                previous = entries.removeValue(forKey: key)?.nextDeadline
            }
            // (An unchanged deadline is filed already: retransmissions add nothing.)
            guard let deadline = newValue?.nextDeadline, deadline != previous else { return }
            let slot = deadline / Self.slotLength
            slots[slot, default: []].append(key)
            if nextSlot.map({ slot < $0 }) ?? true { nextSlot = slot }
        }
    }

    /// The keys of the transactions due at `now`, each once. The caller fires and stores them
    /// back (which files their next deadline).
    mutating func due(at now: Int64) -> [SIPTransactionKey] {
        guard var slot = nextSlot else { return [] }
        let current = now / Self.slotLength
        var filed: [SIPTransactionKey] = []
        while slot <= current {
            if let keys = slots.removeValue(forKey: slot) { filed += keys }
            slot += 1
        }
        // The current slot is looked at again next time: more may be filed in it meanwhile.
        nextSlot = slots.isEmpty ? nil : min(current, slots.keys.min() ?? current)
        var due: [SIPTransactionKey] = []
        var seen: Set<SIPTransactionKey> = []
        for key in filed {
            guard let deadline = entries[key]?.nextDeadline, seen.insert(key).inserted else { continue }
            if deadline <= now {
                due.append(key)
            } else if deadline / Self.slotLength <= current {
                // Due later in the current slot: filed again there.
                slots[current, default: []].append(key)
                nextSlot = min(nextSlot ?? current, current)
            }
            // (Due in a later slot: filed there when its deadline moved.)
        }
        return due
    }
}
