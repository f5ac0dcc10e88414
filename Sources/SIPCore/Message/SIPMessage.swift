/// A SIP request or response (RFC 3261 §7): a start line, header fields in the order they came,
/// and a body of bytes. Values are kept as text after unfolding; structured views (URIs, Via,
/// name-addr, CSeq) are parsed on demand, the ones every layer reads (From, To, CSeq, the top
/// Via) once per received message (`parseCommonHeaders`).
public struct SIPMessage: Sendable, Hashable {
    public enum StartLine: Sendable, Hashable {
        case request(method: String, uri: String)
        case response(status: Int, reason: String)
    }

    public var startLine: StartLine
    public var headers: SIPHeaders {
        // Any change of the headers forgets what was parsed of them.
        didSet { common = nil }
    }
    public var body: [UInt8]

    /// From, To, CSeq and the top Via as parsed from the headers (nil: not parsed; each value nil
    /// when missing or malformed). The validation, the transaction and dialog layers and the
    /// B2BUA each read them, about ten times a message; parsing them each time was a twentieth of
    /// the hub's CPU at a thousand calls a second.
    /// (In a class: one reference, so that the message stays small to copy.)
    private var common: CommonHeaders?

    final class CommonHeaders: Sendable {
        let from: SIPNameAddress?
        let to: SIPNameAddress?
        let cseq: SIPCSeq?
        let topVia: SIPVia?

        init(from: SIPNameAddress?, to: SIPNameAddress?, cseq: SIPCSeq?, topVia: SIPVia?) {
            self.from = from
            self.to = to
            self.cseq = cseq
            self.topVia = topVia
        }
    }

    public init(startLine: StartLine, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    public static func request(_ method: String, uri: String, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) -> SIPMessage {
        SIPMessage(startLine: .request(method: method, uri: uri), headers: headers, body: body)
    }

    public static func response(_ status: Int, _ reason: String? = nil, headers: SIPHeaders = SIPHeaders(), body: [UInt8] = []) -> SIPMessage {
        SIPMessage(startLine: .response(status: status, reason: reason ?? SIPStatus.reason(for: status)), headers: headers, body: body)
    }

    public var isRequest: Bool {
        if case .request = startLine { true } else { false }
    }

    /// The request's method, or nil for a response.
    public var method: String? {
        if case .request(let method, _) = startLine { method } else { nil }
    }

    /// The request's Request-URI text, or nil for a response.
    public var requestURI: String? {
        if case .request(_, let uri) = startLine { uri } else { nil }
    }

    /// The response's status code, or nil for a request.
    public var status: Int? {
        if case .response(let status, _) = startLine { status } else { nil }
    }

    /// Parses From, To, CSeq and the top Via once, for the readers that follow (the transport
    /// does it for each message it hands on, after stamping the Via). A later change of the
    /// headers drops them again.
    public mutating func parseCommonHeaders() {
        common = CommonHeaders(from: Self.parseFrom(headers), to: Self.parseTo(headers), cseq: Self.parseCSeq(headers), topVia: Self.parseTopVia(headers))
    }

    /// Messages are equal by their start line, headers and body (what was parsed of them aside).
    public static func == (lhs: SIPMessage, rhs: SIPMessage) -> Bool {
        lhs.startLine == rhs.startLine && lhs.headers == rhs.headers && lhs.body == rhs.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(startLine)
        hasher.combine(headers)
        hasher.combine(body)
    }

    public var callID: String? { headers.first("Call-ID") }

    /// The CSeq header, parsed; nil when missing or malformed.
    public var cseq: SIPCSeq? { if let common { common.cseq } else { Self.parseCSeq(headers) } }

    /// Every Via value, top first; nil when one of them is malformed.
    public var vias: [SIPVia]? {
        var vias: [SIPVia] = []
        for value in headers.values("Via") {
            guard let via = SIPVia(parsing: value) else { return nil }
            vias.append(via)
        }
        return vias
    }

    /// The topmost Via (the one a transaction is matched by), parsed alone: `vias?.first` parses
    /// every Via of the message for it.
    public var topVia: SIPVia? { if let common { common.topVia } else { Self.parseTopVia(headers) } }

    public var from: SIPNameAddress? { if let common { common.from } else { Self.parseFrom(headers) } }
    public var to: SIPNameAddress? { if let common { common.to } else { Self.parseTo(headers) } }

    private static func parseCSeq(_ headers: SIPHeaders) -> SIPCSeq? { headers.first("CSeq").flatMap(SIPCSeq.init(parsing:)) }
    private static func parseTopVia(_ headers: SIPHeaders) -> SIPVia? { headers.firstValue("Via").flatMap(SIPVia.init(parsing:)) }
    private static func parseFrom(_ headers: SIPHeaders) -> SIPNameAddress? { headers.first("From").flatMap(SIPNameAddress.init(parsing:)) }
    private static func parseTo(_ headers: SIPHeaders) -> SIPNameAddress? { headers.first("To").flatMap(SIPNameAddress.init(parsing:)) }

    /// The message as it goes on the wire: canonical header names, one field per line, and a
    /// Content-Length that matches the body (replacing any the headers held).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        // The start line cannot be split either: CR, LF and NUL become spaces.
        switch startLine {
        case .request(let method, let uri):
            out.append(contentsOf: "\(SIPHeaders.clean(method)) \(SIPHeaders.clean(uri)) SIP/2.0\r\n".utf8)
        case .response(let status, let reason):
            out.append(contentsOf: "SIP/2.0 \(status) \(SIPHeaders.clean(reason))\r\n".utf8)
        }
        for field in headers.fields where field.key != "content-length" {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Content-Length: \(body.count)\r\n\r\n".utf8)
        out.append(contentsOf: body)
        return out
    }
}

/// The CSeq header: a sequence number and the method it numbers.
public struct SIPCSeq: Sendable, Hashable, CustomStringConvertible {
    public var number: UInt32
    public var method: String

    public init(number: UInt32, method: String) {
        self.number = number
        self.method = method
    }

    /// `1 INVITE`: a number below 2^31 (§8.1.1.5), whitespace, a method token.
    public init?(parsing text: String) {
        // By byte (every message's CSeq is read): two fields between runs of spaces and tabs.
        var text = text
        let parsed = text.withUTF8 { bytes -> (UInt32, String)? in
            func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            var index = 0
            func field() -> Range<Int> {
                while index < bytes.count, isBlank(bytes[index]) { index += 1 }
                let start = index
                while index < bytes.count, !isBlank(bytes[index]) { index += 1 }
                return start..<index
            }
            let digits = field()
            let method = field()
            guard field().isEmpty, !digits.isEmpty, digits.count <= 10, SIPGrammar.isToken(bytes, method) else { return nil }
            var number: UInt64 = 0
            for byte in bytes[digits] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                number = number * 10 + UInt64(byte - UInt8(ascii: "0"))
            }
            guard number < 1 << 31 else { return nil }
            return (UInt32(number), String(decoding: UnsafeBufferPointer(rebasing: bytes[method]), as: UTF8.self))
        }
        guard let parsed else { return nil }
        (number, method) = parsed
    }

    public var description: String { "\(number) \(method)" }
}

/// Reason phrases of the status codes the hub sends (RFC 3261 §21 and companions).
public enum SIPStatus {
    public static func reason(for status: Int) -> String {
        switch status {
        case 100: "Trying"
        case 180: "Ringing"
        case 181: "Call Is Being Forwarded"
        case 182: "Queued"
        case 183: "Session Progress"
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 413: "Request Entity Too Large"
        case 415: "Unsupported Media Type"
        case 416: "Unsupported URI Scheme"
        case 420: "Bad Extension"
        case 423: "Interval Too Brief"
        case 480: "Temporarily Unavailable"
        case 481: "Call/Transaction Does Not Exist"
        case 482: "Loop Detected"
        case 483: "Too Many Hops"
        case 484: "Address Incomplete"
        case 486: "Busy Here"
        case 487: "Request Terminated"
        case 488: "Not Acceptable Here"
        case 491: "Request Pending"
        case 500: "Server Internal Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Server Time-out"
        case 505: "Version Not Supported"
        case 513: "Message Too Large"
        case 600: "Busy Everywhere"
        case 603: "Decline"
        case 604: "Does Not Exist Anywhere"
        case 606: "Not Acceptable"
        default: status < 200 ? "Progress" : status < 300 ? "OK" : "Error"
        }
    }
}
