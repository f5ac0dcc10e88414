import Foundation
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubRouting
import HubStore
import Logging
import NIOCore
import SIPCore

/// The B2BUA: a trunk's INVITE becomes a voice conversation in the router; each offer rings the
/// offered agent's phone with the caller's SDP; the phone's answer is the caller's 200 OK; a BYE
/// on either leg ends the other; the call record follows every step.
extension SIPService {
    // MARK: The caller's INVITE

    func incomingInvite(_ invite: SIPMessage, from peer: SIPPeer) async {
        let now = Self.milliseconds(self.now())
        guard let callID = invite.callID, let key = SIPTransactionKey.server(invite) else {
            send(invite.response(400, reason: "Bad Request (no Call-ID or RFC 3261 branch)", toTag: triage.toTag), to: peer)
            return
        }
        if invite.to?.tag != nil {
            // A re-INVITE (hold, a codec change): not relayed between the legs yet; the call
            // goes on as it was (§14.2: 488 leaves the session unchanged).
            await refuse(invite, invite.response(488, reason: "Not Acceptable Here (re-INVITE not supported)"), peer: peer)
            return
        }
        if calls[callID] != nil {
            // The same call again on another branch: a loop or a fork back to the hub.
            await refuse(invite, invite.response(482, toTag: triage.toTag), peer: peer)
            return
        }
        let dialed = invite.requestURI.flatMap { SIPURI(parsing: $0) }?.user ?? invite.to?.uri.user ?? ""
        // The dialed number in E.164 once per region (trunks nearly always share one).
        var normalized: [String: String] = [:]
        func dialedNumber(in region: String?) -> String {
            if let known = normalized[region ?? ""] { return known }
            let number = VoiceTrunk.normalize(dialed, region: region)
            normalized[region ?? ""] = number
            return number
        }
        let serving = trunks.filter { $0.numbers.contains(dialedNumber(in: $0.defaultRegion)) }
        guard !serving.isEmpty else {
            logger.notice("call to a number no trunk serves", metadata: ["peer": "\(peer)", "number": "\(dialed)"])
            await refuse(invite, invite.response(404, reason: "Not Found (no trunk serves this number)", toTag: triage.toTag), peer: peer)
            return
        }
        let admitted = serving.filter { $0.admits(peer.ipAddress) }
        guard !admitted.isEmpty else {
            logger.notice("call from an address that is not a trunk's", metadata: ["peer": "\(peer)", "number": "\(dialed)"])
            await refuse(invite, invite.response(403, reason: "Forbidden (not a trunk's address)", toTag: triage.toTag), peer: peer)
            return
        }
        let trunk: VoiceTrunk
        if let open = admitted.first(where: { !$0.authenticates }) {
            trunk = open
        } else {
            switch authenticate(invite, trunks: admitted, peer: peer, now: now) {
            case .accepted(let authenticated): trunk = authenticated
            case .refused(let response):
                await refuse(invite, response, peer: peer)
                return
            }
        }
        guard calls.count < Self.maximumCalls, transactions.count < Self.maximumTransactions else {
            logger.warning("call refused: too many calls at once", metadata: ["calls": "\(calls.count)"])
            await refuse(invite, invite.response(503, toTag: triage.toTag, headers: [("Retry-After", "30")]), peer: peer)
            return
        }
        guard invite.headers.first("Content-Type")?.lowercased().hasPrefix("application/sdp") == true, (try? SDPSession(parsing: invite.body)) != nil
        else {
            await refuse(
                invite, invite.response(488, reason: "Not Acceptable Here (an SDP offer is required)", toTag: triage.toTag), peer: peer)
            return
        }
        let caller = Self.caller(of: invite, region: trunk.defaultRegion)
        let number = dialedNumber(in: trunk.defaultRegion)
        let arriving = VoiceCall(
            trunkID: trunk.accountID, invite: invite, callerPeer: peer, serverKey: key, localTag: SIPBranch.token(), callerDisplay: caller.display)
        arriving.queuedStatus = trunk.options.queuedStatus
        calls[callID] = arriving
        // The caller's server transaction: 100 at once (no retransmissions from here on).
        var transaction = SIPServerTransaction(request: invite, reliable: peer.transport == .tcp)
        let actions = transaction.respond(invite.response(100), now: now)
        transactions[key] = ServerEntry(transaction: transaction, peer: peer)
        for case .send(let message) in actions { send(message, to: peer) }
        let started = self.now()
        let event = InboundEvent(
            channelKind: .voice, channelAccountID: trunk.accountID, sender: caller.sender, recipient: number, providerMessageID: "sip:" + callID,
            occurredAt: started, text: "Incoming call to \(number)", threadKey: "call:" + callID,
            metadata: ["sipCallId": .string(callID), "dialed": .string(number)])
        // The call's record is created with the call's conversation, in its transaction.
        var record = CallRecord(
            id: .generate(at: started), conversationID: Conversation.ID(""), direction: .inbound, from: caller.recordAddress, to: number,
            state: .queued, sipCallID: callID, startedAt: started, queuedAt: started)
        let receipt: IngestReceipt
        do {
            receipt = try await ingest.ingest(event, call: record)
        } catch {
            logger.error("call not stored: refused", metadata: ["call": "\(callID)", "error": "\(error)"])
            await finalToCaller(callID, invite.response(503, reason: "Service Unavailable (the call could not be stored)", toTag: calls[callID]?.localTag))
            calls[callID] = nil
            return
        }
        guard !receipt.duplicate else {
            // The hub stored this call before (it restarted while the trunk retried): it cannot
            // be picked up again.
            logger.warning("a call the hub already stored came again: refused", metadata: ["call": "\(callID)"])
            await finalToCaller(callID, invite.response(480, toTag: calls[callID]?.localTag))
            calls[callID] = nil
            return
        }
        record.conversationID = receipt.conversationID
        guard let call = calls[callID] else {
            // It ended while it was being stored (only the hub stopping does that: a CANCEL or BYE
            // waits behind its INVITE): its record ends too, if the recorder still runs; else the
            // next start ends it (`CallRecorder.endUnfinishedCalls`).
            record.state = .ended
            record.endedAt = self.now()
            record.hangupCause = CallRecorder.restartCause
            record.hungUpBy = .system
            recorder.enqueue(CallRecordChange(record, isNew: false, actor: .channel(trunk.accountID), closesConversation: true))
            return
        }
        call.conversationID = receipt.conversationID
        call.record = record
        call.phase = .queued
        callByConversation[receipt.conversationID.rawValue] = callID
        logger.info(
            "call queued", metadata: ["call": "\(callID)", "trunk": "\(trunk.accountID)", "conversation": "\(receipt.conversationID)"])
        // 182 (or the trunk's 180) only for a call that waits: one offered at once hears 180
        // when the phone rings, and nothing in between (the 100 already stopped the INVITE's
        // retransmissions). `fireCallTimers` sends it once the call has waited `queuedNoticeDelay`.
        let queuedAt = Self.milliseconds(self.now())
        call.provisionalAt = queuedAt
        call.queuedNoticeAt = queuedAt + Self.queuedNoticeDelay
        if let offer = earlyOffers.removeValue(forKey: receipt.conversationID.rawValue) { await ring(offer) }
    }

    enum TrunkAuthentication {
        case accepted(VoiceTrunk)
        case refused(SIPMessage)
    }

    /// Digest authentication of a trunk's INVITE (407, RFC 3261 §22.3), against the trunks that
    /// serve the number from this address.
    func authenticate(_ invite: SIPMessage, trunks candidates: [VoiceTrunk], peer: SIPPeer, now: Int64) -> TrunkAuthentication {
        func challenge(stale: Bool) -> SIPMessage {
            let nonce = trunkNonces.issue(realm: realm, now: now)
            let headers = configuration.digestAlgorithms.map {
                ("Proxy-Authenticate", SIPDigestChallenge(realm: realm, nonce: nonce, algorithm: $0, stale: stale).headerValue)
            }
            return invite.response(407, toTag: triage.toTag, headers: headers)
        }
        let credentials = (invite.headers.lines("Proxy-Authorization") + invite.headers.lines("Authorization"))
            .compactMap(SIPDigestCredentials.init(parsing:)).first { $0.realm == realm }
        guard let credentials, credentials.qop?.lowercased() == "auth", configuration.digestAlgorithms.contains(credentials.algorithm) else {
            return .refused(challenge(stale: false))
        }
        let freshness = trunkNonces.check(credentials.nonce, realm: realm, now: now)
        if freshness == .invalid { return .refused(challenge(stale: false)) }
        let trunk = candidates.first { ($0.options.username ?? $0.accountID) == credentials.username }
        let ha1 = SIPDigest.ha1(credentials.algorithm, username: credentials.username, realm: realm, password: trunk?.password ?? "")
        guard let trunk, trunk.password != nil, credentials.verifies(ha1: ha1, method: "INVITE") else {
            logger.notice("trunk authentication failed", metadata: ["peer": "\(peer)", "user": "\(credentials.username)"])
            return .refused(challenge(stale: false))
        }
        if freshness == .stale { return .refused(challenge(stale: true)) }
        let used = credentials.nonce + " " + credentials.username
        guard let count = credentials.nc.flatMap({ UInt32($0, radix: 16) }), count > (trunkNonceCounts[used]?.count ?? 0) else {
            return .refused(challenge(stale: true))
        }
        trunkNonceCounts = trunkNonceCounts.filter { $0.value.forgetAt > now }
        trunkNonceCounts[used] = (count, now + 600_000)
        return .accepted(trunk)
    }

    /// Who calls, from P-Asserted-Identity (a trunk's network-asserted caller) or From: a phone
    /// number in E.164 when it is one, else the SIP address; a withheld number is a caller of
    /// their own (never joined to another anonymous caller).
    static func caller(of invite: SIPMessage, region: String?) -> (sender: InboundSender, display: String, recordAddress: String) {
        let asserted = invite.headers.values("P-Asserted-Identity").compactMap { SIPNameAddress(parsing: $0) }
        let identity = asserted.first { $0.uri.scheme == "tel" } ?? asserted.first ?? invite.from
        let withheld = invite.headers.values("Privacy").contains { $0.lowercased().contains("id") }
        guard let identity else {
            let anonymous = "sip:anonymous.\(SIPBranch.token())@anonymous.invalid"
            return (InboundSender(kind: .sip, address: anonymous), "anonymous", anonymous)
        }
        let uri = identity.uri
        // (A tel URI's number is its host part; visual separators go.)
        let user: String? = uri.scheme == "tel" ? uri.host.filter { $0 != "-" && $0 != "." && $0 != "(" && $0 != ")" } : uri.user
        // A display name with digits is often the number again ("13800138000" <sip:...>), which
        // would show unmasked as the customer's name: only names without digits are kept.
        let name = identity.displayName.flatMap { $0.isEmpty || $0.contains(where: \.isNumber) || withheld ? nil : $0 }
        if let user, let number = try? PhoneNumber(parsing: user, defaultRegion: region) {
            return (InboundSender(kind: .phone, address: number.e164, displayName: name), withheld ? "anonymous" : number.e164, number.e164)
        }
        if let user, !user.isEmpty, user.lowercased() != "anonymous", uri.isSIP, !uri.host.isEmpty, !uri.host.hasSuffix(".invalid") {
            let address = "sip:\(user)@\(uri.host)"
            return (InboundSender(kind: .sip, address: address, displayName: name), withheld ? "anonymous" : address, address)
        }
        let anonymous = "sip:anonymous.\(SIPBranch.token())@anonymous.invalid"
        return (InboundSender(kind: .sip, address: anonymous), "anonymous", anonymous)
    }

    // MARK: The router's decisions

    func routed(_ decision: RoutingDecision) async {
        switch decision {
        case .offered(let offer):
            if let callID = callByConversation[offer.taskID], let call = calls[callID] {
                if call.phase == .connecting {
                    // The phone's answer is being confirmed; should that fail, this offer rings.
                    call.heldOffer = offer
                    return
                }
                if call.phase == .answered { await startTransfer(callID) }
                await ring(offer)
            } else if calls.values.contains(where: { $0.phase == .arriving }), earlyOffers.count < 1_000,
                await routing.task(Conversation.ID(offer.taskID))?.channel == .voice
            {
                // (The call may have been stored while the router was asked.)
                if callByConversation[offer.taskID] != nil { await ring(offer) } else { earlyOffers[offer.taskID] = offer }
            }
        case .assigned(let task, _, _):
            earlyOffers[task] = nil
        case .offerEnded(let offer, let task, _, let reason):
            if earlyOffers[task]?.id == offer { earlyOffers[task] = nil }
            await offerEnded(offer, conversation: task, reason: reason)
        case .taskEnded(let task, let reason):
            earlyOffers[task] = nil
            await taskEnded(task, reason: reason)
        default:
            break
        }
    }

    /// An offer of a call: the agent's phone rings with the caller's SDP offer.
    func ring(_ offer: Offer) async {
        guard let callID = callByConversation[offer.taskID], var call = calls[callID], call.phase == .queued || call.phase == .transferring
        else { return }
        if let previous = call.leg, previous.offerID != offer.id {
            // The router offered the call again before the previous offer's end reached here.
            call.leg = nil
            await abandon(previous)
        }
        let now = Self.milliseconds(self.now())
        guard let target = await registrar.target(of: offer.agentID), let peer = await resolve(target) else {
            logger.info("offered agent's phone cannot be reached", metadata: ["agent": "\(offer.agentID)", "call": "\(callID)"])
            do {
                try await routing.reject(offer: offer.id, reason: .unreachable)
            } catch {
                logger.info("offer could not be declined", metadata: ["offer": "\(offer.id)", "error": "\(error)"])
            }
            return
        }
        // The state again: the call or the offer may have changed while the phone was looked up,
        // and the call may have ended while the router was asked (then it must not come back).
        guard await routing.openOffer(offer.id) != nil, let current = calls[callID], current.phase == .queued || current.phase == .transferring,
            current.leg == nil, callByConversation[offer.taskID] == callID
        else { return }
        call = current
        // Phones show the caller masked, as the inbox does: a phone cannot ask for the reveal
        // right or leave an audit trail.
        let shown = Self.masked(call.callerDisplay)
        let user = "caller"
        var headers = SIPHeaders()
        headers.add("Via", via(for: peer, branch: SIPBranch.make()))
        headers.add("Max-Forwards", "70")
        headers.add("From", "\"\(Self.quoted(shown))\" <sip:\(user)@\(realm)>;tag=\(SIPBranch.token())")
        headers.add("To", "<\(target.addressOfRecord)>")
        headers.add("Call-ID", "\(SIPBranch.token())@\(advertised.host)")
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", contact(for: peer))
        headers.add("Allow", triage.allow)
        if let conversation = call.conversationID { headers.add("X-Switchboard-Conversation", conversation.rawValue) }
        headers.add("Content-Type", "application/sdp")
        var invite = SIPMessage.request("INVITE", uri: target.contact.description, headers: headers, body: call.invite.body)
        // Read at every answer of the phone (the leg's dialog, its transaction).
        invite.parseCommonHeaders()
        var leg = AgentLeg(offerID: offer.id, agentID: offer.agentID, invite: invite, peer: peer)
        leg.ringDeadline = offer.expiresAt.milliseconds + 2_000
        guard let key = leg.key else { return }
        let transaction = SIPClientTransaction(request: invite, reliable: peer.transport == .tcp, now: now)
        clientTransactions[key] = ClientEntry(transaction: transaction, peer: peer, callerCallID: callID)
        call.leg = leg
        callByAgentLeg[leg.callID] = callID
        for case .send(let message) in transaction.start { send(message, to: peer) }
        logger.info("ringing agent", metadata: ["call": "\(callID)", "agent": "\(offer.agentID)", "phone": "\(peer)"])
        if !call.toldRinging, !call.callerAnswered { await provisional(callID, status: 180) }
        updateRecord(callID) { record in
            record.state = .offered
            record.offeredAt = record.offeredAt ?? self.now()
            record.agentID = Agent.ID(offer.agentID)
        }
    }

    /// The offer ended without the phone answering (it timed out, the agent went away, the task
    /// left): the phone stops ringing.
    func offerEnded(_ offer: String, conversation: String, reason: OfferEndReason) async {
        guard let callID = callByConversation[conversation], let call = calls[callID], let leg = call.leg, leg.offerID == offer, !leg.answered
        else { return }
        call.leg = nil
        logger.info("offer ended: phone stops ringing", metadata: ["call": "\(callID)", "agent": "\(leg.agentID)", "reason": "\(reason.rawValue)"])
        await abandon(leg)
    }

    /// The router took the call out of its queue without an agent (overflow, a full queue, its
    /// time to live): the caller hears 480, with a callback ticket where the overflow says so.
    func taskEnded(_ task: String, reason: TaskEndReason) async {
        // (While a phone's answer is being confirmed the router's refusal ends the call there.)
        guard let callID = callByConversation[task], let call = calls[callID], call.phase == .queued || call.phase == .transferring else { return }
        let cause: String
        var ticket = false
        switch reason {
        case .overflow(let rule, let action):
            cause = "overflow: \(rule)"
            if action == .offerCallback || action == .ticket { ticket = true }
        case .refused(let why): cause = "refused: \(why)"
        case .timeToLive: cause = "time to live"
        case .cancelled(let why): cause = "withdrawn: \(why)"
        }
        logger.notice("call left the queue without an agent", metadata: ["call": "\(callID)", "cause": "\(cause)"])
        if ticket, let conversation = call.conversationID { await openCallbackTicket(call, conversation: conversation) }
        await endCall(
            callID, cause: cause, by: .system,
            callerStatus: call.invite.response(480, reason: "Temporarily Unavailable (\(cause))", toTag: call.localTag, headers: [("Retry-After", "300")]))
    }

    private func openCallbackTicket(_ call: VoiceCall, conversation: Conversation.ID) async {
        do {
            guard let stored = try await store.conversation(conversation) else { return }
            let ticket = try await store.createTicket(
                TicketDraft(
                    subject: "Callback: \(call.callerDisplay == "anonymous" ? "withheld number" : Self.masked(call.callerDisplay))",
                    customerID: stored.customerID, priority: .high, queueID: stored.queueID, conversationIDs: [conversation]),
                at: now(), actor: .channel(call.trunkID))
            logger.info("callback ticket opened", metadata: ["call": "\(call.callerCallID)", "ticket": "\(ticket.number)"])
        } catch {
            logger.error("callback ticket not opened", metadata: ["call": "\(call.callerCallID)", "error": "\(error)"])
        }
    }

    // MARK: The agent leg

    func handleResponse(_ response: SIPMessage, from peer: SIPPeer) async {
        guard let key = SIPTransactionKey.client(response), var entry = clientTransactions[key] else {
            // A 2xx retransmitted after its transaction ended: the ACK again.
            if response.cseq?.method == "INVITE", let status = response.status, (200..<300).contains(status), let callID = response.callID,
                let callerCallID = callByAgentLeg[callID], let leg = calls[callerCallID]?.leg, let dialog = leg.dialog, dialog.matches(response),
                let cseq = response.cseq?.number
            {
                send(dialog.ack(sequence: cseq, via: { self.via(for: leg.peer, branch: $0) }), to: leg.peer)
            }
            return
        }
        let now = Self.milliseconds(self.now())
        let actions = entry.transaction.receive(response, now: now)
        clientTransactions[key] = entry
        for action in actions {
            switch action {
            case .send(let message): send(message, to: entry.peer)
            case .response(let answer) where key.method == "INVITE":
                if let callerCallID = entry.callerCallID, answer.callID == callerCallID {
                    await callerReinviteResponse(answer, request: entry.transaction.request, callerCallID: callerCallID)
                } else {
                    await legResponse(answer, request: entry.transaction.request, peer: entry.peer, callerCallID: entry.callerCallID)
                }
            case .terminated: clientTransactions[key] = nil
            default: break
            }
        }
    }

    func fireClientTransactions(now: Int64) async {
        // Every due timer fires before anything is sent: a response handled during a send must
        // not be overwritten by a stale copy of its transaction.
        var due: [(key: SIPTransactionKey, entry: ClientEntry, actions: [SIPTransactionAction])] = []
        for key in clientTransactions.due(at: now) {
            guard var fired = clientTransactions[key] else { continue }
            let actions = fired.transaction.fire(now: now)
            clientTransactions[key] = actions.contains(.terminated) ? nil : fired
            due.append((key, fired, actions))
        }
        for (key, entry, actions) in due {
            for action in actions {
                switch action {
                case .send(let message): send(message, to: entry.peer)
                case .timedOut where key.method == "INVITE":
                    // Timer B: the phone never answered the INVITE at all.
                    await legFailed(request: entry.transaction.request, status: 408, reason: .unreachable, callerCallID: entry.callerCallID)
                default: break
                }
            }
        }
    }

    /// A response of an agent's phone to the hub's INVITE.
    private func legResponse(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer, callerCallID: String?) async {
        guard let status = response.status else { return }
        let current = callerCallID.flatMap { calls[$0] }.flatMap { $0.leg?.callID == request.callID ? $0 : nil }
        guard let callerCallID, let call = current, var leg = call.leg else {
            // A leg the hub gave up on: it is cancelled, and hung up if it answers anyway.
            await strayLegResponse(response, request: request, peer: peer)
            return
        }
        switch status {
        case 101...199:
            if leg.dialog == nil, response.to?.tag != nil { leg.dialog = SIPDialog.uac(request: request, response: response) }
            leg.provisional = true
            call.leg = leg
        case 200...299:
            guard let dialog = SIPDialog.uac(request: request, response: response), let cseq = request.cseq?.number else {
                logger.notice("an agent's phone answered without a usable Contact", metadata: ["agent": "\(leg.agentID)"])
                await legFailed(request: request, status: 502, reason: .unreachable, callerCallID: callerCallID)
                return
            }
            let ack = dialog.ack(sequence: cseq, via: { self.via(for: peer, branch: $0) })
            if leg.answered {
                send(ack, to: peer)  // a retransmitted 2xx: ACKed again
                return
            }
            leg.answered = true
            leg.dialog = dialog
            call.leg = leg
            let transferring = call.callerAnswered
            call.phase = .connecting
            send(ack, to: peer)
            if transferring {
                await connectTransfer(callerCallID, leg: leg, answer: response)
                return
            }
            await connect(callerCallID, leg: leg, answer: response)
        default:
            let reason: RejectReason =
                switch status {
                case 486, 600: .busy
                case 603: .declined
                case 408: .noAnswer
                default: .unreachable
                }
            await legFailed(request: request, status: status, reason: reason, callerCallID: callerCallID)
        }
    }

    /// The phone answered: the router hears the offer was accepted, then the caller gets the
    /// phone's SDP answer in the hub's 200 OK.
    private func connect(_ callerCallID: String, leg: AgentLeg, answer: SIPMessage) async {
        do {
            try await routing.accept(offer: leg.offerID, waitForLog: false)
        } catch {
            // Accepted in the inbox first (the task is the agent's already), or the offer ended
            // as the phone answered: then the phone hangs up and the caller waits on.
            var assigned = false
            if let conversation = calls[callerCallID]?.conversationID {
                assigned = await routing.task(conversation)?.phase == .assigned(leg.agentID)
            }
            if !assigned {
                logger.info("phone answered an offer that had ended: hung up", metadata: ["agent": "\(leg.agentID)", "error": "\(error)"])
                await answerNotConfirmed(callerCallID, leg: leg)
                return
            }
        }
        guard let call = calls[callerCallID], call.phase == .connecting, call.leg?.callID == leg.callID else {
            // The caller hung up meanwhile (endCall has hung up the leg).
            return
        }
        call.phase = .answered
        call.heldOffer = nil
        let now = Self.milliseconds(self.now())
        let ok = call.invite.response(
            200, toTag: call.localTag,
            headers: dialogHeaders(call) + [("Allow", triage.allow), ("Content-Type", "application/sdp")],
            body: sdpForCaller(answer.body, call: call))
        call.answer = ok
        call.callerDialog = SIPDialog.uas(request: call.invite, localTag: call.localTag)
        if call.callerPeer.transport == .udp {
            call.answerInterval = 500
            call.answerRetransmitAt = now + 500
        }
        call.answerGiveUpAt = now + 32_000
        await finalToCaller(callerCallID, ok)
        logger.info("call answered", metadata: ["call": "\(callerCallID)", "agent": "\(leg.agentID)"])
        updateRecord(callerCallID) { record in
            record.state = .answered
            record.answeredAt = self.now()
            record.agentID = Agent.ID(leg.agentID)
        }
    }

    /// The router did not take the phone's answer (the offer had ended as the phone answered):
    /// the phone hangs up, and the call waits for the offer the router made meanwhile, if any;
    /// when the router let the call go (an overflow), the call ends.
    private func answerNotConfirmed(_ callerCallID: String, leg: AgentLeg) async {
        callByAgentLeg[leg.callID] = nil
        guard let call = calls[callerCallID], call.leg?.callID == leg.callID, call.phase == .connecting else {
            await hangUp(leg)
            return
        }
        call.leg = nil
        call.phase = call.callerAnswered ? .transferring : .queued
        let held = call.heldOffer
        call.heldOffer = nil
        await hangUp(leg)
        if let held {
            await ring(held)
        } else if let conversation = call.conversationID, await routing.task(conversation) == nil {
            await endCall(
                callerCallID, cause: "left the queue", by: .system,
                callerStatus: call.invite.response(480, toTag: call.localTag, headers: [("Retry-After", "300")]))
        }
    }

    /// The phone refused or never answered: the router hears why and offers the call on.
    private func legFailed(request: SIPMessage, status: Int, reason: RejectReason, callerCallID: String?) async {
        guard let callerCallID, let call = calls[callerCallID], let leg = call.leg, leg.callID == request.callID else { return }
        call.leg = nil
        callByAgentLeg[leg.callID] = nil
        logger.info("agent's phone refused the call", metadata: ["call": "\(callerCallID)", "agent": "\(leg.agentID)", "status": "\(status)"])
        do {
            try await routing.reject(offer: leg.offerID, reason: reason)
        } catch {
            logger.info("offer already ended", metadata: ["offer": "\(leg.offerID)", "error": "\(error)"])
        }
    }

    private func strayLegResponse(_ response: SIPMessage, request: SIPMessage, peer: SIPPeer) async {
        guard let status = response.status else { return }
        if (101...199).contains(status) {
            await sendCancel(for: request, peer: peer)
        } else if (200...299).contains(status), var dialog = SIPDialog.uac(request: request, response: response), let cseq = request.cseq?.number {
            send(dialog.ack(sequence: cseq, via: { self.via(for: peer, branch: $0) }), to: peer)
            let bye = dialog.request("BYE", via: { self.via(for: peer, branch: $0) })
            await startClientTransaction(bye, peer: peer)
        }
    }

    /// Stops a leg that did not answer: CANCEL once it rang (§9.1); before that the CANCEL waits
    /// for its first provisional response (see `strayLegResponse`).
    func abandon(_ leg: AgentLeg) async {
        callByAgentLeg[leg.callID] = nil
        if leg.answered {
            await hangUp(leg)
        } else if leg.provisional {
            await sendCancel(for: leg.invite, peer: leg.peer)
        }
    }

    private func sendCancel(for invite: SIPMessage, peer: SIPPeer) async {
        guard let key = SIPClientTransaction.key(of: invite) else { return }
        let cancelKey = SIPTransactionKey(branch: key.branch, sentBy: "", method: "CANCEL")
        guard clientTransactions[cancelKey] == nil, let entry = clientTransactions[key], entry.transaction.state == .proceeding else { return }
        var headers = SIPHeaders()
        if let via = invite.headers.firstValue("Via") { headers.add("Via", via) }
        headers.add("Max-Forwards", "70")
        for name in ["From", "To", "Call-ID"] { if let value = invite.headers.first(name) { headers.add(name, value) } }
        headers.add("CSeq", "\(invite.cseq?.number ?? 1) CANCEL")
        for route in invite.headers.lines("Route") { headers.add("Route", route) }
        await startClientTransaction(.request("CANCEL", uri: invite.requestURI ?? "", headers: headers), peer: peer)
    }

    private func hangUp(_ leg: AgentLeg) async {
        guard var dialog = leg.dialog else { return }
        let bye = dialog.request("BYE", via: { self.via(for: leg.peer, branch: $0) })
        await startClientTransaction(bye, peer: leg.peer)
    }

    private func startClientTransaction(_ request: SIPMessage, peer: SIPPeer, callerCallID: String? = nil) async {
        let transaction = SIPClientTransaction(request: request, reliable: peer.transport == .tcp, now: Self.milliseconds(now()))
        if let key = transaction.key { clientTransactions[key] = ClientEntry(transaction: transaction, peer: peer, callerCallID: callerCallID) }
        for case .send(let message) in transaction.start { send(message, to: peer) }
    }

    // MARK: Transfers

    /// The router offered an answered call anew (a blind transfer from the inbox to an agent or a
    /// queue): the agent's phone is hung up, the caller stays in the call while the next phone
    /// rings.
    func startTransfer(_ callID: String) async {
        guard let call = calls[callID], call.phase == .answered, let leg = call.leg else { return }
        call.leg = nil
        call.phase = .transferring
        callByAgentLeg[leg.callID] = nil
        logger.info("call transferred: the agent's phone hangs up", metadata: ["call": "\(callID)", "agent": "\(leg.agentID)"])
        await hangUp(leg)
        updateRecord(callID) { record in record.state = .transferring }
    }

    /// The phone the call was transferred to answered: the router hears it, and the caller gets a
    /// re-INVITE with that phone's media (RFC 3261 §14.1).
    private func connectTransfer(_ callerCallID: String, leg: AgentLeg, answer: SIPMessage) async {
        do {
            try await routing.accept(offer: leg.offerID)
        } catch {
            logger.info("phone answered a transfer offer that had ended: hung up", metadata: ["agent": "\(leg.agentID)", "error": "\(error)"])
            await answerNotConfirmed(callerCallID, leg: leg)
            return
        }
        guard let call = calls[callerCallID], call.phase == .connecting, call.leg?.callID == leg.callID, var dialog = call.callerDialog else { return }
        call.phase = .answered
        call.heldOffer = nil
        call.sdpVersion += 1
        let body = sdpForCaller(answer.body, call: call)
        let reinvite = dialog.request(
            "INVITE", via: { self.via(for: call.callerPeer, branch: $0) },
            headers: [("Contact", contact(for: call.callerPeer)), ("Allow", triage.allow), ("Content-Type", "application/sdp")], body: body)
        call.callerDialog = dialog
        await startClientTransaction(reinvite, peer: call.callerPeer, callerCallID: callerCallID)
        logger.info("transferred call answered", metadata: ["call": "\(callerCallID)", "agent": "\(leg.agentID)"])
        updateRecord(callerCallID) { record in
            record.state = .answered
            record.agentID = Agent.ID(leg.agentID)
        }
    }

    /// The caller's answer to a re-INVITE: a 2xx is ACKed (its SDP is the caller's media from
    /// now on); a refusal leaves the caller's media where it was, which the log says.
    private func callerReinviteResponse(_ response: SIPMessage, request: SIPMessage, callerCallID: String) async {
        guard let status = response.status, status >= 200, let call = calls[callerCallID], let dialog = call.callerDialog else { return }
        if status < 300, let cseq = request.cseq?.number {
            send(dialog.ack(sequence: cseq, via: { self.via(for: call.callerPeer, branch: $0) }), to: call.callerPeer)
        } else if status >= 300 {
            logger.warning("the caller refused the transfer's media", metadata: ["call": "\(callerCallID)", "status": "\(status)"])
        }
    }

    /// A phone's SDP as the caller gets it: the origin line is the hub's own session, its version
    /// raised at each change, so that the phone behind it can change (RFC 4566 §5.2; RFC 3264 §8).
    func sdpForCaller(_ body: [UInt8], call: VoiceCall) -> [UInt8] {
        let kind = advertised.host.contains(":") ? "IP6" : "IP4"
        return Self.replacingOrigin(in: body, with: "o=switchboard \(call.sdpSession) \(call.sdpVersion) IN \(kind) \(advertised.host)")
    }

    /// `body` with its first line that starts with "o=" replaced by `origin` (the line's end, "\r\n"
    /// or "\n", kept); `body` itself when it has none. By bytes ("\r\n" is one Character in Swift,
    /// and SDP lines end with it), in one copy.
    static func replacingOrigin(in body: [UInt8], with origin: String) -> [UInt8] {
        var start = 0
        while start < body.count {
            let end = body[start...].firstIndex(of: UInt8(ascii: "\n")) ?? body.count
            if end - start >= 2, body[start] == UInt8(ascii: "o"), body[start + 1] == UInt8(ascii: "=") {
                let kept = body[end - 1] == UInt8(ascii: "\r") ? end - 1 : end
                var result = [UInt8]()
                result.reserveCapacity(body.count + origin.utf8.count)
                result.append(contentsOf: body[..<start])
                result.append(contentsOf: origin.utf8)
                result.append(contentsOf: body[kept...])
                return result
            }
            start = end + 1
        }
        return body
    }

    // MARK: The caller's requests in the call

    /// An ACK from the caller: for the hub's 2xx, retransmissions stop.
    func callerAcknowledged(_ ack: SIPMessage) async {
        guard let callID = ack.callID, let call = calls[callID], call.answer != nil else { return }
        call.answerRetransmitAt = nil
        call.answerGiveUpAt = nil
    }

    /// The answer to a CANCEL (§9.2): 200 when it matches an INVITE the hub is still answering
    /// (with that call's Call-ID, to cancel next), else 481.
    func cancelResponse(_ cancel: SIPMessage) -> (SIPMessage, String?) {
        guard let key = SIPTransactionKey.server(cancel)?.with(method: "INVITE") else { return (cancel.response(481, toTag: triage.toTag), nil) }
        guard let entry = transactions[key], let callID = cancel.callID, let call = calls[callID], call.serverKey == key else {
            return (cancel.response(481, toTag: triage.toTag), nil)
        }
        let ok = cancel.response(200, toTag: call.localTag)
        guard entry.transaction.state == .proceeding || entry.transaction.state == .trying else { return (ok, nil) }
        return (ok, callID)
    }

    /// The caller cancelled a call not yet answered: 487, and the call ends.
    func callerCancelled(_ callID: String) async {
        guard let call = calls[callID], !call.callerAnswered, call.phase != .ended else { return }
        logger.info("caller cancelled", metadata: ["call": "\(callID)"])
        // (Never while the INVITE is being stored: the CANCEL waits behind it in its Call-ID's lane.)
        await endCall(callID, cause: "cancelled", by: .customer, callerStatus: call.invite.response(487, toTag: call.localTag))
    }

    /// BYE on either leg ends the call; the other leg gets a BYE. The answer (`200`, or `481` for
    /// no such call) goes out first; then the call ends (`byeReceived`). A caller's BYE on the
    /// early dialog (before the answer, §15) ends a waiting call like a CANCEL.
    func byeResponse(_ bye: SIPMessage) -> (SIPMessage, (callID: String, party: CallParty, early: Bool)?) {
        guard let callID = bye.callID else { return (bye.response(400, toTag: triage.toTag), nil) }
        if let call = calls[callID], call.phase != .ended {
            if let dialog = call.callerDialog, dialog.matches(bye) { return (bye.response(200), (callID, .customer, false)) }
            if !call.callerAnswered, bye.from?.tag == call.invite.from?.tag, bye.to?.tag == call.localTag {
                return (bye.response(200), (callID, .customer, true))
            }
        }
        if let callerCallID = callByAgentLeg[callID], let call = calls[callerCallID], let leg = call.leg, leg.answered,
            let dialog = leg.dialog, dialog.matches(bye)
        {
            return (bye.response(200), (callerCallID, .agent, false))
        }
        return (bye.response(481, toTag: triage.toTag), nil)
    }

    func byeReceived(_ callID: String, party: CallParty, early: Bool) async {
        guard let call = calls[callID] else { return }
        await endCall(
            callID, cause: early ? "cancelled" : "normal", by: party, callerStatus: early ? call.invite.response(487, toTag: call.localTag) : nil)
    }

    // MARK: Ending

    /// Ends a call: the caller gets `callerStatus` (a call not answered) or a BYE (unless they
    /// hung up), the agent's phone a CANCEL or a BYE (unless it hung up); the record says how it
    /// ended; the conversation closes (the router completes the task, or withdraws it).
    func endCall(_ callID: String, cause: String, by party: CallParty, callerStatus: SIPMessage? = nil) async {
        guard let call = calls[callID], call.phase != .ended else { return }
        // The state first, before anything is awaited: responses that come meanwhile find the
        // phone's leg gone (a 2xx is then ACKed and hung up as a stray).
        let leg = call.leg
        call.phase = .ended
        call.leg = nil
        call.answerRetransmitAt = nil
        call.answerGiveUpAt = nil
        if let leg { callByAgentLeg[leg.callID] = nil }
        if let conversation = call.conversationID { callByConversation[conversation.rawValue] = nil }
        if !call.callerAnswered {
            // A final response in every case (a no-op when one went out already).
            await finalToCaller(
                callID, callerStatus ?? call.invite.response(480, reason: "Temporarily Unavailable (\(cause))", toTag: call.localTag))
        } else if party != .customer, var dialog = call.callerDialog {
            let bye = dialog.request("BYE", via: { self.via(for: call.callerPeer, branch: $0) })
            await startClientTransaction(bye, peer: call.callerPeer)
        }
        if let leg, !(leg.answered && party == .agent) { await abandon(leg) }
        logger.info("call ended", metadata: ["call": "\(callID)", "cause": "\(cause)", "by": "\(party.rawValue)"])
        // The record's end and the conversation's close in one commit (the router then completes
        // the agent's task, or withdraws it).
        updateRecord(callID, closing: true) { record in
            record.state = .ended
            record.endedAt = self.now()
            record.hangupCause = cause
            record.hungUpBy = party
        }
        calls[callID] = nil
    }

    /// At shutdown: every call ends (the callers hear 503 or a BYE), so that no phone rings on.
    func hangUpAll() async {
        for (callID, call) in calls {
            await endCall(
                callID, cause: "hub stopped", by: .system,
                callerStatus: call.invite.response(503, reason: "Service Unavailable (shutting down)", toTag: call.localTag))
        }
    }

    /// The 2xx to the caller again until the ACK; without one in 64*T1 the call ends (§13.3.1.4).
    func fireCallTimers(now: Int64) async {
        for callID in Array(calls.keys) {
            guard let call = calls[callID] else { continue }
            if let giveUp = call.answerGiveUpAt, now >= giveUp {
                logger.notice("caller never acknowledged the answer: call ended", metadata: ["call": "\(callID)"])
                await endCall(callID, cause: "no ACK from the caller", by: .system)
                continue
            }
            if !call.callerAnswered, !call.toldRinging, call.phase == .queued, let at = call.queuedNoticeAt, now >= at {
                await provisional(callID, status: call.queuedStatus)
            } else if !call.callerAnswered, call.phase == .queued || call.phase == .connecting, now - call.provisionalAt >= 60_000 {
                // §13.3.1.1: a provisional every minute, or proxies on the way give up on the call.
                await provisional(callID, status: call.toldRinging ? 180 : call.queuedStatus)
            }
            if let current = calls[callID], let leg = current.leg, !leg.answered, now > leg.ringDeadline {
                // The router's end of the offer did not come: the phone stops ringing anyway.
                current.leg = nil
                logger.warning("a phone rang past its offer: cancelled", metadata: ["call": "\(callID)", "agent": "\(leg.agentID)"])
                await abandon(leg)
                do {
                    try await routing.reject(offer: leg.offerID, reason: .noAnswer)
                } catch {
                    logger.debug("offer already ended", metadata: ["offer": "\(leg.offerID)"])
                }
            }
            guard let current = calls[callID], let at = current.answerRetransmitAt, now >= at, let answer = current.answer else { continue }
            current.answerInterval = min(current.answerInterval * 2, 4_000)
            current.answerRetransmitAt = now + current.answerInterval
            send(answer, to: current.callerPeer)
        }
    }

    // MARK: Helpers

    /// A final (or provisional) response to the caller through the INVITE's server transaction.
    func finalToCaller(_ callID: String, _ response: SIPMessage) async {
        guard let key = calls[callID]?.serverKey, var entry = transactions[key] else { return }
        let actions = entry.transaction.respond(response, now: Self.milliseconds(now()))
        transactions[key] = entry.transaction.state == .terminated ? nil : entry
        for case .send(let message) in actions { send(message, to: entry.peer) }
    }

    private func provisional(_ callID: String, status: Int) async {
        guard let call = calls[callID] else { return }
        if status == 180 { call.toldRinging = true }
        call.queuedNoticeAt = nil
        call.provisionalAt = Self.milliseconds(now())
        await finalToCaller(callID, call.invite.response(status, toTag: call.localTag, headers: dialogHeaders(call)))
    }

    /// What a response that makes the caller's dialog carries (§12.1.1): the INVITE's
    /// Record-Route, copied, and the hub's Contact.
    func dialogHeaders(_ call: VoiceCall) -> [(String, String)] {
        call.invite.headers.lines("Record-Route").map { ("Record-Route", $0) } + [("Contact", contact(for: call.callerPeer))]
    }

    /// Answers a request that opens nothing (a refusal, a challenge, a CANCEL's 200) without
    /// keeping a transaction: a retransmission is answered afresh, and nobody can fill memory (or
    /// have the hub resend answers to a forged source) with them. The ACK of a refused INVITE
    /// matches nothing and is dropped.
    func refuse(_ request: SIPMessage, _ response: SIPMessage, peer: SIPPeer) async {
        send(response, to: peer)
    }

    /// Changes the call's record; the recorder saves it (in the order of the changes), with the
    /// conversation's close when `closing`.
    private func updateRecord(_ callID: String, closing: Bool = false, _ change: (inout CallRecord) -> Void) {
        guard let call = calls[callID], var record = call.record else { return }
        change(&record)
        call.record = record
        recorder.enqueue(CallRecordChange(record, isNew: false, actor: .channel(call.trunkID), closesConversation: closing))
    }

    /// Where a phone is reached: its registration's connection or address; a static contact's
    /// host and port (over UDP).
    private func resolve(_ target: (contact: SIPURI, peer: SIPPeer?, addressOfRecord: SIPURI)) async -> SIPPeer? {
        if let peer = target.peer { return peer }
        let port = target.contact.port ?? 5060
        let host = target.contact.host.hasPrefix("[") ? String(target.contact.host.dropFirst().dropLast()) : target.contact.host
        if let address = try? SocketAddress(ipAddress: host, port: port) { return SIPPeer(transport: .udp, address: address) }
        guard let address = try? SocketAddress.makeAddressResolvingHost(host, port: port) else { return nil }
        return SIPPeer(transport: .udp, address: address)
    }

    func via(for peer: SIPPeer, branch: String) -> String {
        "SIP/2.0/\(peer.transport == .tcp ? "TCP" : "UDP") \(hostPort);branch=\(branch);rport"
    }

    func contact(for peer: SIPPeer) -> String {
        "<sip:switchboard@\(hostPort)\(peer.transport == .tcp ? ";transport=tcp" : "")>"
    }

    static func hostPort(_ advertised: (host: String, port: Int)) -> String {
        advertised.host.contains(":") ? "[\(advertised.host)]:\(advertised.port)" : "\(advertised.host):\(advertised.port)"
    }

    static func quoted(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0.value >= 0x20 }.map(Character.init))
    }

    /// A caller as agents without the right to see contacts read it on their phone.
    static func masked(_ display: String) -> String {
        if display.hasPrefix("+") { return ContactMask.mask(display, kind: .phone) }
        if display.hasPrefix("sip:") { return ContactMask.mask(display, kind: .sip) }
        return display
    }
}
