extension SIPMessage {
    /// A response to `request` (RFC 3261 §8.2.6): its Vias in order, From, Call-ID and CSeq
    /// copied, To copied with `toTag` added when it has none (never on a 100). Works from the
    /// header lines as written, so a request refused for a malformed header can still be answered.
    public static func response(
        to request: SIPHeaders, status: Int, reason: String? = nil, toTag: String? = nil, headers extra: [(String, String)] = [],
        body: [UInt8] = []
    ) -> SIPMessage {
        response(to: request, status: status, reason: reason, toTag: toTag, headers: extra, body: body, toIsTagged: nil)
    }

    /// `toIsTagged`: whether the request's To has a tag, when the caller knows it already (nil:
    /// the To line is parsed to tell).
    private static func response(
        to request: SIPHeaders, status: Int, reason: String?, toTag: String?, headers extra: [(String, String)], body: [UInt8], toIsTagged: Bool?
    ) -> SIPMessage {
        // The request's fields copied as they are (their names canonical, their values clean
        // already), found in one pass: every Via, the first From, To, Call-ID and CSeq.
        var from: SIPHeaders.Field?
        var to: SIPHeaders.Field?
        var callID: SIPHeaders.Field?
        var cseq: SIPHeaders.Field?
        var headers = SIPHeaders()
        headers.reserveCapacity(request.count(key: "via") + 4 + extra.count)
        for field in request.fields {
            switch field.key {
            case "via": headers.add(field)
            case "from" where from == nil: from = field
            case "to" where to == nil: to = field
            case "call-id" where callID == nil: callID = field
            case "cseq" where cseq == nil: cseq = field
            default: break
            }
        }
        if let from { headers.add(from) }
        if var to {
            if status > 100, let toTag, !(toIsTagged ?? SIPNameAddress(parsing: to.value).map({ $0.tag != nil }) ?? true) {
                to.value += ";tag=\(toTag)"
            }
            headers.add(to)
        }
        if let callID { headers.add(callID) }
        if let cseq { headers.add(cseq) }
        for (name, value) in extra { headers.add(name, value) }
        return .response(status, reason, headers: headers, body: body)
    }

    public func response(_ status: Int, reason: String? = nil, toTag: String? = nil, headers extra: [(String, String)] = [], body: [UInt8] = [])
        -> SIPMessage
    {
        // The To as parsed already, when it was (a received request's is).
        let parsedTo = status > 100 && toTag != nil ? to : nil
        return .response(to: headers, status: status, reason: reason, toTag: toTag, headers: extra, body: body, toIsTagged: parsedTo.map { $0.tag != nil })
    }
}

/// The answers a user agent server gives before any of its own logic (RFC 3261 §8.2): a malformed
/// request gets 400 with the reason, another SIP version 505, a method it does not implement 501
/// with Allow, a URI scheme it cannot serve 416, a required extension it lacks 420 with
/// Unsupported. Everything else goes on to the element.
public struct SIPRequestTriage: Sendable {
    public enum Decision: Sendable, Equatable {
        case proceed
        case respond(SIPMessage)
        /// Nothing can be answered (no Via or CSeq to address a response with), or it is an ACK.
        case drop(String)
    }

    public var methods: [String]
    public var extensions: Set<String>
    public var toTag: String

    /// `toTag`: the tag the answers put on To (§8.2.6.2 requires one); a random one by default.
    public init(methods: [String] = ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "REFER", "NOTIFY", "INFO", "UPDATE"],
        extensions: Set<String> = ["replaces", "timer"], toTag: String? = nil)
    {
        self.methods = methods
        self.extensions = extensions
        self.toTag = toTag ?? "t" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    public var allow: String { methods.joined(separator: ", ") }

    /// For a request that could not be parsed whole.
    public func decide(_ error: SIPParseError) -> Decision {
        guard let headers = error.headers, Self.answerable(headers) else { return .drop(error.reason) }
        return .respond(.response(to: headers, status: error.status, reason: Self.reasonPhrase(error), toTag: tag(headers)))
    }

    public func decide(_ request: SIPMessage) -> Decision {
        guard let method = request.method else { return .proceed }
        guard Self.answerable(request.headers) else { return .drop("no Via or CSeq to answer with") }
        // An ACK is never answered (§17.2.3).
        if let problem = request.requestProblem() {
            return method == "ACK" ? .drop(problem.reason) : .respond(request.response(400, reason: Self.reasonPhrase(problem), toTag: tag(request.headers)))
        }
        guard methods.contains(method) else {
            return method == "ACK" ? .drop("unknown") : .respond(request.response(501, toTag: tag(request.headers), headers: [("Allow", allow)]))
        }
        if let uri = request.requestURI.flatMap(SIPURI.init(parsing:)), !["sip", "sips", "tel"].contains(uri.scheme) {
            return method == "ACK" ? .drop("scheme") : .respond(request.response(416, toTag: tag(request.headers)))
        }
        if method != "ACK", method != "CANCEL" {
            let unsupported = request.headers.values("Require").filter { !extensions.contains($0.lowercased()) }
            if !unsupported.isEmpty {
                return .respond(request.response(420, toTag: tag(request.headers), headers: [("Unsupported", unsupported.joined(separator: ", "))]))
            }
        }
        return .proceed
    }

    private func tag(_ headers: SIPHeaders) -> String? { toTag }

    /// Enough for the client to match a response to its transaction: the top Via's branch and
    /// the CSeq (§17.1.3); a missing Call-ID is itself the reason for the 400.
    static func answerable(_ headers: SIPHeaders) -> Bool {
        headers.firstValue("Via") != nil && headers.first("CSeq") != nil
    }

    /// `Bad Request (Missing Call-ID)`-style phrases: the standard phrase and the reason.
    static func reasonPhrase(_ error: SIPParseError) -> String {
        "\(SIPStatus.reason(for: error.status)) (\(SIPHeaders.clean(error.reason)))"
    }
}
