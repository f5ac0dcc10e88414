/// `application/x-www-form-urlencoded` bodies and query strings (the WHATWG URL standard's
/// form encoding): what Twilio and most SMS gateways send, and what their REST APIs take.
public enum FormURLEncoding {
    /// Why a form body was refused.
    public struct Malformed: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Decodes `a=1&b=x+y%21`: `+` is a space, `%XX` a byte; the bytes must be UTF-8. Fields keep
    /// their order; a name may repeat. Empty pairs (`a=1&&b=2`) are skipped, as browsers do.
    /// - Throws: `Malformed` for a bad percent escape or bytes that are not UTF-8.
    public static func decode(_ body: some Collection<UInt8>) throws(Malformed) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        var name: [UInt8] = []
        var value: [UInt8] = []
        var inValue = false
        var iterator = body.makeIterator()
        var index = 0
        func finish() throws(Malformed) {
            defer {
                name.removeAll(keepingCapacity: true)
                value.removeAll(keepingCapacity: true)
                inValue = false
            }
            guard !name.isEmpty || !value.isEmpty || inValue else { return }
            guard let decodedName = String(validating: name, as: UTF8.self), let decodedValue = String(validating: value, as: UTF8.self) else {
                throw Malformed(reason: "field \(fields.count + 1) is not UTF-8 once percent-decoded")
            }
            fields.append((decodedName, decodedValue))
        }
        while let byte = iterator.next() {
            index += 1
            switch byte {
            case UInt8(ascii: "&"):
                try finish()
            case UInt8(ascii: "=") where !inValue:
                inValue = true
            case UInt8(ascii: "+"):
                if inValue { value.append(0x20) } else { name.append(0x20) }
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw Malformed(reason: "a '%' at byte \(index) is not followed by two hexadecimal digits")
                }
                index += 2
                let decoded = high << 4 | low
                if inValue { value.append(decoded) } else { name.append(decoded) }
            default:
                if inValue { value.append(byte) } else { name.append(byte) }
            }
        }
        try finish()
        return fields
    }

    /// Encodes fields for a request body: unreserved characters stay, a space becomes `+`,
    /// everything else `%XX` of its UTF-8 bytes.
    public static func encode(_ fields: [(name: String, value: String)]) -> String {
        var result: [UInt8] = []
        for (offset, field) in fields.enumerated() {
            if offset > 0 { result.append(UInt8(ascii: "&")) }
            append(field.name, to: &result)
            result.append(UInt8(ascii: "="))
            append(field.value, to: &result)
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Percent-encodes one component for a query string (a space is `%20`, not `+`).
    public static func percentEncode(_ text: String) -> String {
        var result: [UInt8] = []
        for byte in text.utf8 {
            if isUnreserved(byte) {
                result.append(byte)
            } else {
                result.append(UInt8(ascii: "%"))
                result.append(hexDigits[Int(byte >> 4)])
                result.append(hexDigits[Int(byte & 0xF)])
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func append(_ text: String, to result: inout [UInt8]) {
        for byte in text.utf8 {
            if isUnreserved(byte) {
                result.append(byte)
            } else if byte == 0x20 {
                result.append(UInt8(ascii: "+"))
            } else {
                result.append(UInt8(ascii: "%"))
                result.append(hexDigits[Int(byte >> 4)])
                result.append(hexDigits[Int(byte & 0xF)])
            }
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
