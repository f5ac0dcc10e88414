import Foundation
import HubConfig
import HubModel

/// Options of a `voice` channel account: one SIP trunk (a carrier, a PBX, an SBC) whose calls to
/// the configured numbers the hub answers, queues and bridges to agents' phones.
///
/// A trunk is recognized by where its INVITEs come from (`addresses`), by digest credentials
/// (the `password` secret, with `username`), or both: with both, a call must come from a listed
/// address and authenticate.
public struct VoiceTrunkOptions: ChannelOptions, Hashable {
    /// The numbers (or SIP user names such as `support`) the trunk delivers calls to, as
    /// configured; numbers are compared in E.164 with the account's default region.
    public var numbers: [String]
    /// Source addresses the trunk's INVITEs may come from: IPv4 or IPv6 addresses, or networks in
    /// CIDR form (`203.0.113.0/24`). Empty: any address (then a password is required).
    public var addresses: [SIPAddressRange]
    /// The digest user name the trunk authenticates with (with the `password` secret).
    public var username: String?
    /// What the caller hears while waiting: `182` (Queued, RFC 3261 §21.1.5) until an agent's
    /// phone rings, then 180; or `180` from the start (some carriers only pass 180 on).
    public var queuedStatus: Int

    public init(numbers: [String], addresses: [SIPAddressRange] = [], username: String? = nil, queuedStatus: Int = 182) {
        self.numbers = numbers
        self.addresses = addresses
        self.username = username
        self.queuedStatus = queuedStatus
    }

    /// The configuration schema of `kind: voice` accounts. `password` is the trunk's digest
    /// password, when it authenticates.
    public static let schema = ChannelKindSchema(
        kind: .voice, requiredSecrets: [], optionalSecrets: ["password"], readOptions: { options, account in read(options, account: account) })

    static let keys = ["numbers", "addresses", "username", "queuedStatus"]

    static func read(_ options: ConfigMapping?, account: ConfigNode) -> VoiceTrunkOptions? {
        guard let options else {
            account.error("a voice account needs options: numbers (what the trunk calls) and addresses (where its calls come from)")
            return nil
        }
        ChannelOptionValue.reportUnknownKeys(options, known: keys, kind: .voice)
        guard let numbersNode = options.required("numbers") else { return nil }
        guard let numbers = numbersNode.stringList, !numbers.isEmpty else {
            numbersNode.error("numbers must be a list of phone numbers or SIP user names")
            return nil
        }
        var result = VoiceTrunkOptions(numbers: numbers)
        if let node = options["addresses"] {
            guard let list = node.stringList else {
                node.error("addresses must be a list of IP addresses or networks (203.0.113.7, 203.0.113.0/24)")
                return nil
            }
            for text in list {
                guard let range = SIPAddressRange(parsing: text) else {
                    node.error("'\(text)' is not an IP address or a network in CIDR form")
                    return nil
                }
                result.addresses.append(range)
            }
        }
        result.username = options["username"]?.nonEmptyString
        if let node = options["queuedStatus"], let status = node.int(in: 180...182) {
            guard status == 180 || status == 182 else {
                node.error("queuedStatus is 180 (Ringing) or 182 (Queued)")
                return nil
            }
            result.queuedStatus = status
        }
        return result
    }
}

/// An IP address or a network (`192.0.2.0/24`, `2001:db8::/32`), as raw bytes and a prefix length.
public struct SIPAddressRange: Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]
    public var prefixLength: Int

    public init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.bytes(of: String(parts[0])) else { return nil }
        self.bytes = bytes
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bytes.count * 8).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bytes.count * 8
        }
    }

    /// Whether an address (in its text form) is in the range.
    public func contains(_ address: String) -> Bool {
        guard let other = Self.bytes(of: address) else { return false }
        return contains(bytes: other)
    }

    /// Whether an address (its bytes, from `bytes(of:)`) is in the range.
    public func contains(bytes other: [UInt8]) -> Bool {
        guard other.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let address =
            bytes.count == 4
            ? bytes.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
        return prefixLength == bytes.count * 8 ? address : "\(address)/\(prefixLength)"
    }

    /// The 4 or 16 bytes of a textual IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4).
    public static func bytes(of text: String) -> [UInt8]? {
        if let quad = dottedQuad(text) { return quad }
        return parsedBytes(of: text)
    }

    /// A plain dotted-quad IPv4 address read byte by byte (the SIP element checks every datagram's
    /// source address against the trusted ranges); nil for anything else, which the general
    /// parser decides (it reads the same quads alike: tested).
    static func dottedQuad(_ text: String) -> [UInt8]? {
        let read = text.utf8.withContiguousStorageIfAvailable { raw -> [UInt8]? in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(4)
            var value = 0
            var digits = 0
            for byte in raw {
                if byte == UInt8(ascii: ".") {
                    guard digits > 0, bytes.count < 3 else { return nil }
                    bytes.append(UInt8(value))
                    value = 0
                    digits = 0
                } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                    digits += 1
                    guard digits <= 3, value <= 255 else { return nil }
                } else {
                    return nil
                }
            }
            guard digits > 0, bytes.count == 3 else { return nil }
            bytes.append(UInt8(value))
            return bytes
        }
        return read ?? nil
    }

    static func parsedBytes(of text: String) -> [UInt8]? {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if text.hasPrefix("::"), text.prefix(7).lowercased() == "::ffff:", text.contains(".") { text = text.dropFirst(7) }
        if text.contains(".") && !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
                bytes.append(value)
            }
            return bytes
        }
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
