/// Why a session description was refused.
public struct SDPError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A session description (RFC 4566) as a B2BUA needs it: the lines kept in order (so what
/// passes through is what came), with the parts that matter read from them: the origin, the
/// connection address, and each media stream with its port, protocol, formats and direction.
public struct SDPSession: Sendable, Hashable {
    public struct Line: Sendable, Hashable {
        /// `v`, `o`, `m`, `a`...: one letter (a scalar, so that looking for a line by its type
        /// compares a number, not a grapheme).
        public var type: Unicode.Scalar
        public var value: String
    }

    public struct Media: Sendable, Hashable {
        /// `audio`, `video`, `application`...
        public var type: String
        public var port: Int
        public var proto: String
        /// Payload type numbers (RTP) or format names.
        public var formats: [String]
        /// The stream's own `c=` address, else the session's.
        public var connectionAddress: String?
        /// `a=` values of the stream, in order.
        public var attributes: [String]

        /// A format's encoding: its `rtpmap`, else the static payload type's (RFC 3551), else
        /// the format itself.
        public func encoding(of format: String) -> String {
            rtpmap[format] ?? Self.staticPayloadTypes[format] ?? format
        }

        static let staticPayloadTypes = [
            "0": "PCMU/8000", "3": "GSM/8000", "4": "G723/8000", "8": "PCMA/8000", "9": "G722/8000", "18": "G729/8000",
        ]

        /// The session's own direction attribute, which a stream without one follows.
        var sessionDirection: String?

        /// `sendrecv` (the default), `sendonly`, `recvonly` or `inactive`: the stream's own, else
        /// the session's.
        public var direction: String {
            attributes.first { Self.directions.contains($0) } ?? sessionDirection ?? "sendrecv"
        }

        static let directions = ["sendrecv", "sendonly", "recvonly", "inactive"]

        /// The encoding of each payload type with an `a=rtpmap` (`0` → `PCMU/8000`).
        public var rtpmap: [String: String] {
            var map: [String: String] = [:]
            for attribute in attributes where attribute.hasPrefix("rtpmap:") {
                let rest = attribute.dropFirst("rtpmap:".count)
                guard let space = rest.firstIndex(of: " ") else { continue }
                map[String(rest[..<space])] = String(rest[rest.index(after: space)...])
            }
            return map
        }
    }

    public private(set) var lines: [Line]
    public private(set) var sessionID: String
    public private(set) var sessionVersion: UInt64
    public private(set) var connectionAddress: String?
    public private(set) var media: [Media]

    /// Parses a body (`application/sdp`): `v=0` first, then `o=`, `s=`, at least one `t=`; each
    /// `m=` well formed; lines ending in CRLF or LF; at most `maximumLines`.
    public init(parsing bytes: [UInt8], maximumLines: Int = 512) throws(SDPError) {
        // (ASCII, as nearly every description is, is UTF-8 without making a string to know it.)
        guard bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil else { throw SDPError("the description is not UTF-8") }
        var lines: [Line] = []
        // Lines are split on the byte LF (in UTF-8 no other character contains it), one CR before
        // it dropped; empty lines are skipped. Strings are made only for the values kept.
        var start = 0
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            var end = newline
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            defer { start = newline + 1 }
            if end == start { continue }
            guard lines.count < maximumLines else { throw SDPError("more than \(maximumLines) lines") }
            let line = bytes[start..<end]
            guard !line.contains(0x0D), !line.contains(0) else { throw SDPError("a CR or NUL inside a line") }
            guard line.count >= 2, bytes[start + 1] == UInt8(ascii: "="), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[start]) else {
                throw SDPError("a line that is not type=value: \(String(decoding: line, as: UTF8.self).prefix(40))")
            }
            lines.append(Line(type: Unicode.Scalar(bytes[start]), value: String(decoding: bytes[(start + 2)..<end], as: UTF8.self)))
        }
        guard lines.first == Line(type: "v", value: "0") else { throw SDPError("the first line must be v=0") }
        guard let origin = lines.first(where: { $0.type == "o" }) else { throw SDPError("no o= line") }
        let originFields = origin.value.split(separator: " ")
        guard originFields.count == 6, let version = UInt64(originFields[2]) else { throw SDPError("a malformed o= line") }
        guard lines.contains(where: { $0.type == "s" }) else { throw SDPError("no s= line") }
        guard lines.contains(where: { $0.type == "t" }) else { throw SDPError("no t= line") }
        self.lines = lines
        sessionID = String(originFields[1])
        sessionVersion = version
        var sessionConnection: String?
        var media: [Media] = []
        for line in lines {
            switch line.type {
            case "c":
                let address = try Self.connectionAddress(line.value)
                if media.isEmpty { sessionConnection = address } else { media[media.count - 1].connectionAddress = address }
            case "m":
                let fields = line.value.split(separator: " ")
                let portText = fields.count >= 4 ? fields[1].split(separator: "/", omittingEmptySubsequences: false)[0] : ""
                guard fields.count >= 4, portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let port = Int(portText), (0...65535).contains(port)
                else {
                    throw SDPError("a malformed m= line: \(line.value.prefix(60))")
                }
                media.append(
                    Media(
                        type: String(fields[0]), port: port, proto: String(fields[2]), formats: fields[3...].map(String.init), connectionAddress: nil,
                        attributes: []))
            case "a" where !media.isEmpty:
                media[media.count - 1].attributes.append(line.value)
            default:
                break
            }
        }
        let sessionDirection = lines.prefix { $0.type != "m" }.first { $0.type == "a" && Media.directions.contains($0.value) }?.value
        for index in media.indices { media[index].sessionDirection = sessionDirection }
        for index in media.indices where media[index].connectionAddress == nil {
            guard let sessionConnection else { throw SDPError("a media stream without a connection address") }
            media[index].connectionAddress = sessionConnection
        }
        connectionAddress = sessionConnection
        self.media = media
    }

    /// `IN IP4 192.0.2.10` (or IP6); the address, without a multicast TTL.
    static func connectionAddress(_ value: String) throws(SDPError) -> String {
        let fields = value.split(separator: " ")
        let address = fields.count == 3 ? fields[2].split(separator: "/", omittingEmptySubsequences: false)[0] : ""
        guard fields.count == 3, fields[0] == "IN", fields[1] == "IP4" || fields[1] == "IP6", !address.isEmpty else {
            throw SDPError("a malformed c= line: \(value.prefix(60))")
        }
        return String(address)
    }

    /// The lines with CRLF endings, as they came.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            out.append(contentsOf: "\(line.type)=\(line.value)\r\n".utf8)
        }
        return out
    }

    /// The encodings both descriptions list for their first audio stream (an answer's choice
    /// among the offer's), in the answer's order, compared by name (payload types 96 and up are
    /// numbered by each side as it likes).
    public static func commonAudioFormats(offer: SDPSession, answer: SDPSession) -> [String] {
        guard let offered = offer.media.first(where: { $0.type == "audio" }), let answered = answer.media.first(where: { $0.type == "audio" })
        else { return [] }
        let offeredEncodings = Set(offered.formats.map { offered.encoding(of: $0).lowercased() })
        return answered.formats.map { answered.encoding(of: $0) }.filter { offeredEncodings.contains($0.lowercased()) }
    }
}
