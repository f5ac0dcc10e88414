extension SIPMessage {
    /// What a user agent server checks of a parsed request before acting on it (RFC 3261 §8.2,
    /// §16.3): the mandatory headers once each (Max-Forwards may be missing, as RFC 2543 phones
    /// send), a CSeq that numbers this method, From, To, every Via, every Contact and the
    /// Request-URI well formed, Max-Forwards a small number. Nil when the request is usable;
    /// otherwise the 400 to answer with its reason (`Missing Call-ID`, `Bad CSeq`...).
    public func requestProblem() -> SIPParseError? {
        guard let method else { return SIPParseError("not a request") }
        if let problem = commonProblem() { return problem }
        guard let cseq else { return SIPParseError("Bad CSeq") }
        guard cseq.method == method else { return SIPParseError("CSeq method \(cseq.method) does not match the request's \(method)") }
        guard let uri = requestURI, SIPURI(parsing: uri) != nil else { return SIPParseError("Bad Request-URI") }
        if let maxForwards = headers.first("Max-Forwards") {
            // Digits, leading zeros allowed (`0068`), at most 255.
            guard headers.count("Max-Forwards") == 1, (1...10).contains(maxForwards.utf8.count), maxForwards.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let value = Int(maxForwards), (0...255).contains(value)
            else {
                return SIPParseError("Bad Max-Forwards")
            }
        }
        for contact in headers.values("Contact") {
            if contact == "*", method == "REGISTER" { continue }
            guard SIPNameAddress(parsing: contact) != nil else { return SIPParseError("Bad Contact") }
        }
        return nil
    }

    /// The same checks for a response (without the Request-URI and Max-Forwards): a response
    /// that fails them is dropped (§18.1.2).
    public func responseProblem() -> SIPParseError? {
        guard status != nil else { return SIPParseError("not a response") }
        if let problem = commonProblem() { return problem }
        guard cseq != nil else { return SIPParseError("Bad CSeq") }
        return nil
    }

    private func commonProblem() -> SIPParseError? {
        for name in ["Call-ID", "CSeq", "From", "To"] {
            let count = headers.count(name)
            if count == 0 { return SIPParseError("Missing \(name)") }
            if count > 1 { return SIPParseError("More than one \(name)") }
        }
        guard let callID, !callID.isEmpty, !callID.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 }) else { return SIPParseError("Bad Call-ID") }
        guard from != nil else { return SIPParseError("Bad From") }
        guard to != nil else { return SIPParseError("Bad To") }
        // (Every Via parsed once: none at all is missing, one that does not parse is bad.)
        guard let vias else { return SIPParseError("Bad Via") }
        guard !vias.isEmpty else { return SIPParseError("Missing Via") }
        return nil
    }
}
