import Foundation

/// A phone number in E.164 form ("+8613800138000").
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// "+" followed by the country calling code and the national significant number, digits only.
    public let e164: String

    // Stored so `countryCode` needs no table lookup; always consistent with `e164`.
    private let countryCodeLength: Int

    /// Country calling code without the plus ("86").
    public var countryCode: String { String(e164.dropFirst().prefix(countryCodeLength)) }

    /// The E.164 form.
    public var description: String { e164 }

    /// Parses and normalizes. `defaultRegion` is an ISO 3166-1 alpha-2 code (case-insensitive) used for numbers written in national form.
    ///
    /// The region is only consulted for numbers without a leading plus, so numbers already in
    /// international form parse even when the region is missing or not in the table.
    public init(parsing raw: String, defaultRegion: String?) throws(PhoneNumberError) {
        let (countryCode, nationalNumber) = try Self.resolve(raw, defaultRegion: defaultRegion)
        e164 = "+" + countryCode + nationalNumber
        countryCodeLength = countryCode.count
    }

    /// Decodes from a single JSON string, re-validated without a default region.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do throws(PhoneNumberError) {
            self = try PhoneNumber(parsing: text, defaultRegion: nil)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes as a single string in E.164 form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(e164)
    }

    /// Country calling codes assigned by ITU-T E.164, without the plus.
    ///
    /// Spare codes are left out even where they once had an owner: 259 (Zanzibar), 388 (the
    /// withdrawn European Telephony Numbering Space), 671 and 684 (Guam and American Samoa, now
    /// inside +1), 871-874 (retired Inmarsat ocean regions), 969 (South Yemen), 991 (ended trial)
    /// and 999 (reserved). 379 (Vatican City) and 997 (Kazakhstan) are assigned though little used.
    /// The set is prefix-free, so at most one code matches the start of a number.
    public static let assignedCountryCodes: Set<String> = {
        var codes: Set<String> = [
            // Zone 1 (NANP) and zone 7.
            "1", "7",
            // Zone 2: Africa and North Atlantic islands.
            "20", "211", "212", "213", "216", "218", "27", "290", "291", "297", "298", "299",
            // Zone 3: Europe.
            "30", "31", "32", "33", "34", "36", "385", "386", "387", "389", "39",
            // Zone 4: Europe.
            "40", "41", "420", "421", "423", "43", "44", "45", "46", "47", "48", "49",
            // Zone 5: the Americas outside NANP.
            "51", "52", "53", "54", "55", "56", "57", "58",
            // Zone 6: South-East Asia and Oceania.
            "60", "61", "62", "63", "64", "65", "66", "670",
            // Zone 8: East Asia and global services.
            "800", "808", "81", "82", "84", "850", "852", "853", "855", "856", "86",
            "870", "878", "880", "881", "882", "883", "886", "888",
            // Zone 9: West, Central and South Asia.
            "90", "91", "92", "93", "94", "95", "979", "98",
        ]
        let ranges: [ClosedRange<Int>] = [
            220...258, 260...269, 350...359, 370...383, 500...509, 590...599,
            672...683, 685...692, 960...968, 970...977, 992...998,
        ]
        for range in ranges {
            codes.formUnion(range.map(String.init))
        }
        return codes
    }()

    /// The assigned calling code that `digits` starts with, by longest-prefix match.
    static func callingCode(prefixing digits: some StringProtocol) -> String? {
        for length in stride(from: min(3, digits.count), through: 1, by: -1) {
            let candidate = String(digits.prefix(length))
            if assignedCountryCodes.contains(candidate) { return candidate }
        }
        return nil
    }

    /// E.164 caps a number at 15 digits including the country code.
    static let maximumDigits = 15

    /// Below this many digits in total, a number outside the region table cannot be complete.
    static let minimumDigits = 8
}

// MARK: - Parsing

extension PhoneNumber {
    /// Splits input into country code and national significant number, following the rules in order:
    /// leading plus, then the region's international prefix, then national form.
    private static func resolve(
        _ raw: String, defaultRegion: String?
    ) throws(PhoneNumberError) -> (countryCode: String, nationalNumber: String) {
        let (digits, hasPlus) = try scan(raw)
        guard !digits.isEmpty else { throw .empty }
        if hasPlus { return try international(digits) }

        guard let regionCode = defaultRegion?.trimmingCharacters(in: .whitespaces), !regionCode.isEmpty
        else { throw .missingRegion(raw) }
        guard let region = PhoneRegion.named(regionCode) else { throw .unknownRegion(regionCode) }

        if let prefix = region.internationalPrefix(of: digits) {
            return try international(String(digits.dropFirst(prefix.count)))
        }

        let national = region.nationalSignificantNumber(from: digits)
        // A number written with its own country code but no plus ("8613800138000" in CN). Only
        // taken as such when the national reading has an impossible length and this one does not,
        // so a national number that merely starts with the same digits is never misread.
        if digits.hasPrefix(region.countryCode),
            !region.acceptsNationalLength(national.count),
            region.acceptsNationalLength(
                region.nationalSignificantNumber(from: String(digits.dropFirst(region.countryCode.count))).count)
        {
            return try international(digits)
        }
        try validate(countryCode: region.countryCode, nationalNumber: national, region: region)
        return (region.countryCode, national)
    }

    /// Reads digits that start with a country calling code.
    private static func international(
        _ digits: String
    ) throws(PhoneNumberError) -> (countryCode: String, nationalNumber: String) {
        guard let countryCode = callingCode(prefixing: digits) else {
            // Digits that could still grow into a code ("+9") are incomplete rather than wrong.
            if assignedCountryCodes.contains(where: { $0.hasPrefix(digits) }) { throw .tooShort(digits) }
            throw .unknownCountryCode(digits)
        }
        var national = String(digits.dropFirst(countryCode.count))
        let region = PhoneRegion.forCountryCode(countryCode)
        if let region {
            // Drops the "(0)" that people copy from national format into "+44 (0)20 7946 0958".
            national = region.nationalSignificantNumber(from: national)
        }
        try validate(countryCode: countryCode, nationalNumber: national, region: region)
        return (countryCode, national)
    }

    private static func validate(
        countryCode: String, nationalNumber: String, region: PhoneRegion?
    ) throws(PhoneNumberError) {
        let digits = countryCode + nationalNumber
        if let region {
            if nationalNumber.count < region.nationalNumberLengths.lowerBound { throw .tooShort(digits) }
            if nationalNumber.count > region.nationalNumberLengths.upperBound { throw .tooLong(digits) }
        }
        if digits.count > maximumDigits { throw .tooLong(digits) }
        if region == nil && digits.count < minimumDigits { throw .tooShort(digits) }
    }

    /// Strips a `tel:` scheme and visual separators, returning ASCII digits and whether a leading plus was present.
    private static func scan(_ raw: String) throws(PhoneNumberError) -> (digits: String, hasPlus: Bool) {
        // The common case first, a number as carriers and the hub write it ("+8613800138000",
        // "13800138000"): ASCII digits after an optional plus. (Every call and message from a
        // phone is scanned; the Unicode path below looks up each scalar's properties.)
        let utf8 = raw.utf8
        let hasPlus = utf8.first == UInt8(ascii: "+")
        let firstDigit = hasPlus ? utf8.index(after: utf8.startIndex) : utf8.startIndex
        if firstDigit < utf8.endIndex, utf8[firstDigit...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return (String(raw[firstDigit...]), hasPlus)
        }
        return try scanAny(raw)
    }

    private static func scanAny(_ raw: String) throws(PhoneNumberError) -> (digits: String, hasPlus: Bool) {
        var text = Substring(raw.trimmingCharacters(in: .whitespacesAndNewlines))
        if text.prefix(4).lowercased() == "tel:" {
            text = text.dropFirst(4)
            // RFC 3966 parameters (";ext=", ";phone-context=") are not part of the number.
            if let semicolon = text.firstIndex(of: ";") { text = text[..<semicolon] }
        }

        var digits = ""
        var hasPlus = false
        // Scalars rather than Characters: a zero-width joiner or combining mark would otherwise
        // fuse with the digit before it into one Character that is no longer a digit.
        for scalar in text.unicodeScalars {
            if let digit = asciiDigit(scalar) {
                digits.unicodeScalars.append(digit)
            } else if scalar == "+" || scalar == "\u{FF0B}" {
                // Only separators may precede the plus, so "(+86) 138 …" is fine but "86+138" is not.
                guard digits.isEmpty, !hasPlus else { throw .invalidCharacter(Character(scalar)) }
                hasPlus = true
            } else if !isSeparator(scalar) {
                throw .invalidCharacter(Character(scalar))
            }
        }
        return (digits, hasPlus)
    }

    /// Maps any Unicode decimal digit (ASCII, full-width, Arabic-Indic, …) to its ASCII digit.
    ///
    /// Superscripts and circled digits are not decimal digits and are rejected.
    private static func asciiDigit(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        guard scalar.properties.numericType == .decimal,
            let value = scalar.properties.numericValue
        else { return nil }
        return Unicode.Scalar(UInt8(ascii: "0") + UInt8(value))
    }

    private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        if separators.contains(scalar) { return true }
        // Space, tab, NBSP, ideographic space and the like; a line break inside a number is more
        // likely two numbers run together than formatting.
        let character = Character(scalar)
        return character.isWhitespace && !character.isNewline
    }

    private static let separators: Set<Unicode.Scalar> = [
        "-", ".", "/", "(", ")",
        // Full-width forms typed with CJK input methods.
        "\u{FF0D}", "\u{FF0E}", "\u{FF0F}", "\u{FF08}", "\u{FF09}",
        // Dash look-alikes substituted by word processors and web pages.
        "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}",
        // Invisible characters that survive copy and paste: soft hyphen, zero-width space and
        // joiners, word joiner, byte-order mark, and the bidi marks around numbers on RTL pages.
        "\u{00AD}", "\u{200B}", "\u{200C}", "\u{200D}", "\u{2060}", "\u{FEFF}",
        "\u{200E}", "\u{200F}", "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}",
        "\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}",
    ]
}

/// Why a string could not be read as a phone number.
public enum PhoneNumberError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No digits at all.
    case empty
    /// A letter or symbol that cannot appear in a phone number, or a plus after the first digit.
    case invalidCharacter(Character)
    /// National-format number but no default region; the payload is the input.
    case missingRegion(String)
    /// The default region is not in the region table; the payload is the code as given.
    case unknownRegion(String)
    /// International number whose calling code is not assigned; the payload is its digits.
    case unknownCountryCode(String)
    /// Too few digits; the payload is the digits read, country code first.
    case tooShort(String)
    /// Too many digits; the payload is the digits read, country code first.
    case tooLong(String)

    /// An explanation a config author or operator can act on.
    public var description: String {
        switch self {
        case .empty:
            return "The phone number is empty; write it with its country code, for example +8613800138000."
        case .invalidCharacter(let character):
            return "The phone number contains \(Self.describe(character)), which is not allowed; "
                + "use digits, one leading +, spaces and the separators - . / ( ). "
                + "Extensions cannot be stored in a phone number."
        case .missingRegion(let input):
            return "\"\(input)\" has no country code, so a default region is needed to read it; "
                + "write it in international form starting with + (for example +86 755 8888 1234) "
                + "or set a default region such as CN or US."
        case .unknownRegion(let code):
            let supported = PhoneRegion.all.map(\.code).sorted().joined(separator: ", ")
            return "\"\(code)\" is not a supported default region; use one of these ISO 3166-1 codes: "
                + "\(supported), or write numbers in international form starting with +."
        case .unknownCountryCode(let digits):
            return "\"+\(digits)\" does not start with an assigned country calling code; "
                + "check the digits after the + or the international prefix (such as 00 or 011)."
        case .tooShort(let digits):
            if digits.isEmpty {
                return "The phone number stops after its international prefix or +; "
                    + "add the country code and the number."
            }
            return "\"+\(digits)\" is too short: \(Self.lengthRule(for: digits)). "
                + "Check for missing digits or a missing area code."
        case .tooLong(let digits):
            return "\"+\(digits)\" is too long: \(Self.lengthRule(for: digits)). "
                + "Check for extra digits or an extension, which cannot be stored in the number."
        }
    }

    /// Shows invisible and look-alike characters by their code points as well.
    private static func describe(_ character: Character) -> String {
        let codePoints = character.unicodeScalars
            .map { "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(to: 4) }
            .joined(separator: " ")
        return "\"\(character)\" (\(codePoints))"
    }

    private static func lengthRule(for digits: String) -> String {
        if let countryCode = PhoneNumber.callingCode(prefixing: digits),
            let region = PhoneRegion.forCountryCode(countryCode)
        {
            let lengths = region.nationalNumberLengths
            let count =
                lengths.lowerBound == lengths.upperBound
                ? "\(lengths.lowerBound)" : "\(lengths.lowerBound) to \(lengths.upperBound)"
            return "numbers under +\(countryCode) (\(region.code)) have \(count) digits after the country code"
        }
        return "phone numbers have \(PhoneNumber.minimumDigits) to \(PhoneNumber.maximumDigits) digits "
            + "including the country code"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
