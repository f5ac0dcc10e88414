import Foundation

/// How one region writes and dials phone numbers, used to read numbers written in national form.
public struct PhoneRegion: Sendable, Hashable {
    /// ISO 3166-1 alpha-2 code in upper case ("CN").
    public let code: String
    /// Country calling code without the plus ("86").
    public let countryCode: String
    /// Digits dialled before a national number inside the region ("0" in CN, "1" in NANP), if any.
    public let trunkPrefix: String?
    /// Prefixes that start an international call from the region ("00" in CN, "011" in NANP).
    public let internationalPrefixes: [String]
    /// Allowed lengths of the national significant number: digits after the country code, trunk prefix removed.
    public let nationalNumberLengths: ClosedRange<Int>

    private init(
        _ code: String,
        _ countryCode: String,
        trunk: String?,
        international: [String],
        lengths: ClosedRange<Int>
    ) {
        self.code = code
        self.countryCode = countryCode
        self.trunkPrefix = trunk
        self.internationalPrefixes = international
        self.nationalNumberLengths = lengths
    }

    /// Looks up a region by ISO code, ignoring case and surrounding whitespace.
    public static func named(_ code: String) -> PhoneRegion? {
        byCode[code.trimmingCharacters(in: .whitespaces).uppercased()]
    }

    /// The main region for a country calling code ("1" gives US, "7" gives RU), if the table has one.
    public static func forCountryCode(_ cc: String) -> PhoneRegion? {
        // (Every number parsed asks with bare digits: Foundation's trimming costs more than
        // the lookup, so it is kept for the other forms.)
        if cc.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) { return byCountryCode[cc] }
        let trimmed = cc.trimmingCharacters(in: .whitespaces)
        return byCountryCode[trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed]
    }

    /// Every region in the table, in table order.
    ///
    /// Length ranges are deliberately generous: they exist to catch garbage such as a missing or
    /// doubled digit, not to enforce each numbering plan, so they cover service numbers (toll-free,
    /// shared-cost) as well as landlines and mobiles. Every `countryCode.count + upperBound` stays
    /// within the 15 digits E.164 allows.
    public static let all: [PhoneRegion] = [
        // Mobiles have 11 digits and landlines 9-11 once the trunk 0 is gone; 7 covers the short
        // service numbers. 12 (legacy 10800 numbers) is left out so that "86 10 1234 5678" written
        // without the plus is still recognized by its country code.
        PhoneRegion("CN", "86", trunk: "0", international: ["00"], lengths: 7...11),
        // Carrier-specific IDD codes; the longest match wins, so "001" is not read as "00" + "1".
        PhoneRegion(
            "HK", "852", trunk: nil,
            international: ["00", "001", "002", "006", "007", "008", "009", "0030", "0050", "0059"],
            lengths: 8...11),
        PhoneRegion("MO", "853", trunk: nil, international: ["00"], lengths: 7...8),
        PhoneRegion(
            "TW", "886", trunk: "0", international: ["002", "005", "006", "007", "009", "019"],
            lengths: 7...10),
        // Singapore reserves 000-039 for carrier IDD codes; national numbers never start with 0.
        PhoneRegion("SG", "65", trunk: nil, international: singaporeInternationalPrefixes, lengths: 8...11),
        PhoneRegion("JP", "81", trunk: "0", international: ["010"], lengths: 8...10),
        PhoneRegion(
            "KR", "82", trunk: "0",
            international: [
                "001", "002", "005", "006", "008", "009", "00345", "00365", "00391",
                "00700", "00727", "0073", "00755", "00761", "00762", "00766",
            ],
            lengths: 8...11),
        PhoneRegion("IN", "91", trunk: "0", international: ["00"], lengths: 10...12),
        // 0011 is the standard IDD; 0014-0019 select a carrier.
        PhoneRegion(
            "AU", "61", trunk: "0", international: ["0011", "0014", "0015", "0016", "0018", "0019"],
            lengths: 6...10),
        PhoneRegion("NZ", "64", trunk: "0", international: ["00", "0161"], lengths: 8...10),
        PhoneRegion("GB", "44", trunk: "0", international: ["00"], lengths: 7...10),
        PhoneRegion("IE", "353", trunk: "0", international: ["00"], lengths: 7...10),
        // German area codes and subscriber numbers both vary in length.
        PhoneRegion("DE", "49", trunk: "0", international: ["00"], lengths: 5...13),
        PhoneRegion("FR", "33", trunk: "0", international: ["00"], lengths: 9...9),
        PhoneRegion("ES", "34", trunk: nil, international: ["00"], lengths: 9...9),
        // Italy has no trunk prefix: the leading 0 of a landline is part of the number (+39 06 …).
        PhoneRegion("IT", "39", trunk: nil, international: ["00"], lengths: 6...12),
        PhoneRegion("NL", "31", trunk: "0", international: ["00"], lengths: 7...11),
        PhoneRegion("BE", "32", trunk: "0", international: ["00"], lengths: 8...9),
        PhoneRegion("CH", "41", trunk: "0", international: ["00"], lengths: 9...12),
        PhoneRegion("AT", "43", trunk: "0", international: ["00"], lengths: 5...13),
        PhoneRegion("SE", "46", trunk: "0", international: ["00"], lengths: 6...10),
        PhoneRegion("NO", "47", trunk: nil, international: ["00"], lengths: 5...8),
        PhoneRegion("DK", "45", trunk: nil, international: ["00"], lengths: 8...8),
        // 99x are carrier-selection IDD codes alongside the standard 00.
        PhoneRegion(
            "FI", "358", trunk: "0", international: ["00", "990", "991", "994", "996", "999"],
            lengths: 5...12),
        PhoneRegion("PL", "48", trunk: nil, international: ["00"], lengths: 9...9),
        PhoneRegion("PT", "351", trunk: nil, international: ["00"], lengths: 9...9),
        // Russian national numbers can begin with 8 (800 toll-free, 812 St Petersburg), the same
        // digit as the trunk prefix; see `nationalSignificantNumber(from:)`.
        PhoneRegion("RU", "7", trunk: "8", international: ["810"], lengths: 10...10),
        // 00 followed by a two-digit carrier selection code.
        PhoneRegion(
            "BR", "55", trunk: "0",
            international: [
                "0012", "0014", "0015", "0021", "0022", "0023", "0025", "0031", "0041", "0043",
                "0055", "0065", "0099",
            ],
            lengths: 8...11),
        // Mexico dropped its trunk prefixes in 2019. 11 digits keeps the legacy mobile form
        // "+52 1 …" that WhatsApp and old address books still produce.
        PhoneRegion("MX", "52", trunk: nil, international: ["00", "09"], lengths: 10...11),
        // US comes before CA so that forCountryCode("1") returns US.
        PhoneRegion("US", "1", trunk: "1", international: ["011"], lengths: 10...10),
        PhoneRegion("CA", "1", trunk: "1", international: ["011"], lengths: 10...10),
        PhoneRegion("ZA", "27", trunk: "0", international: ["00"], lengths: 9...9),
        PhoneRegion("AE", "971", trunk: "0", international: ["00"], lengths: 7...12),
        PhoneRegion("SA", "966", trunk: "0", international: ["00"], lengths: 8...10),
        // 012-019 select a carrier.
        PhoneRegion(
            "IL", "972", trunk: "0",
            international: ["00", "012", "013", "014", "015", "016", "017", "018", "019"],
            lengths: 8...10),
        PhoneRegion("TR", "90", trunk: "0", international: ["00"], lengths: 7...10),
        PhoneRegion("ID", "62", trunk: "0", international: ["001", "007", "008", "009"], lengths: 7...12),
        PhoneRegion("MY", "60", trunk: "0", international: ["00"], lengths: 8...10),
        PhoneRegion(
            "TH", "66", trunk: "0",
            international: ["001", "002", "003", "004", "005", "006", "007", "008", "009"],
            lengths: 8...10),
        PhoneRegion("VN", "84", trunk: "0", international: ["00"], lengths: 7...10),
        PhoneRegion("PH", "63", trunk: "0", international: ["00"], lengths: 8...13),
    ]

    private static let singaporeInternationalPrefixes: [String] = (0...39).map { $0 < 10 ? "00\($0)" : "0\($0)" }

    private static let byCode: [String: PhoneRegion] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.code, $0) })

    private static let byCountryCode: [String: PhoneRegion] = Dictionary(
        all.map { ($0.countryCode, $0) }, uniquingKeysWith: { first, _ in first })
}

extension PhoneRegion {
    /// The longest international prefix that `digits` starts with, if any.
    func internationalPrefix(of digits: String) -> String? {
        internationalPrefixes.filter { digits.hasPrefix($0) }.max { $0.count < $1.count }
    }

    /// Whether a national significant number of this length is plausible here.
    func acceptsNationalLength(_ count: Int) -> Bool {
        nationalNumberLengths.contains(count)
    }

    /// Removes the trunk prefix from a national-form number, when it is one.
    func nationalSignificantNumber(from digits: String) -> String {
        guard let trunk = trunkPrefix, digits.hasPrefix(trunk) else { return digits }
        let stripped = String(digits.dropFirst(trunk.count))
        // Where the trunk prefix is 0, no national number can start with 0 (dialling would be
        // ambiguous), so the 0 is always the trunk prefix.
        if trunk.hasPrefix("0") { return stripped }
        // Otherwise the trunk digit may also begin a real number (RU "812 …" vs "8 812 …"); keep it
        // when only the unstripped form has a plausible length.
        if !acceptsNationalLength(stripped.count) && acceptsNationalLength(digits.count) {
            return digits
        }
        return stripped
    }
}
