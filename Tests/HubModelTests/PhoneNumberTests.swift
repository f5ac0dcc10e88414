import Foundation
import HubModel
import Testing

struct ValidPhoneCase: Sendable, CustomTestStringConvertible {
    let input: String
    let region: String?
    let expected: String

    init(_ input: String, _ region: String?, _ expected: String) {
        self.input = input
        self.region = region
        self.expected = expected
    }

    var testDescription: String { "\(input.debugDescription) in \(region ?? "no region") → \(expected)" }
}

struct InvalidPhoneCase: Sendable, CustomTestStringConvertible {
    let input: String
    let region: String?
    let error: PhoneNumberError

    init(_ input: String, _ region: String?, _ error: PhoneNumberError) {
        self.input = input
        self.region = region
        self.error = error
    }

    var testDescription: String {
        // The case name and payload; `description` is a long sentence meant for people.
        let name = Mirror(reflecting: error).children.first.map { "\($0.label ?? "")(\(String(reflecting: $0.value)))" }
        return "\(input.debugDescription) in \(region ?? "no region") → .\(name ?? "\(error)")"
    }
}

let validPhoneCases: [ValidPhoneCase] = [
    // Already international.
    ValidPhoneCase("+8613800138000", nil, "+8613800138000"),
    ValidPhoneCase("+86 138 0013 8000", nil, "+8613800138000"),
    ValidPhoneCase("  +86 138 0013 8000\n", nil, "+8613800138000"),
    ValidPhoneCase("+86\u{00A0}138\u{00A0}0013\u{00A0}8000", nil, "+8613800138000"),
    ValidPhoneCase("+86\t138-0013.8000", nil, "+8613800138000"),
    ValidPhoneCase("(+86) 138 0013 8000", nil, "+8613800138000"),
    ValidPhoneCase("+1 (201) 555-0123", nil, "+12015550123"),
    ValidPhoneCase("+1 201 555 0123", "XX", "+12015550123"),
    ValidPhoneCase("+44 (0)20 7946 0958", nil, "+442079460958"),
    ValidPhoneCase("+39 06 1234 5678", nil, "+390612345678"),
    ValidPhoneCase("+7 800 555 35 35", nil, "+78005553535"),
    ValidPhoneCase("+52 1 55 1234 5678", nil, "+5215512345678"),
    ValidPhoneCase("+852 2123 4567", nil, "+85221234567"),
    ValidPhoneCase("+62 812-3456-7890", nil, "+6281234567890"),
    // Calling codes with no table region get only the 8...15 total-digit check.
    ValidPhoneCase("+383 44 123 456", nil, "+38344123456"),
    ValidPhoneCase("+880 1712-345678", nil, "+8801712345678"),
    ValidPhoneCase("+800 1234 5678", nil, "+80012345678"),
    // Full-width digits, plus and punctuation from CJK input methods; other decimal digits.
    ValidPhoneCase("＋８６ １３８ ００１３ ８０００", nil, "+8613800138000"),
    ValidPhoneCase("１３８００１３８０００", "CN", "+8613800138000"),
    ValidPhoneCase("（０１０）１２３４－５６７８", "CN", "+861012345678"),
    ValidPhoneCase("\u{0660}\u{0665}\u{0660}\u{0661}\u{0662}\u{0663}\u{0664}\u{0665}\u{0666}\u{0667}", "SA", "+966501234567"),
    // Invisible copy-and-paste characters.
    ValidPhoneCase("\u{200E}+972 50-123-4567\u{200F}", nil, "+972501234567"),
    ValidPhoneCase("\u{FEFF}138\u{200B}0013\u{2011}8000", "CN", "+8613800138000"),
    // tel: URIs.
    ValidPhoneCase("tel:+1-201-555-0123;ext=1", nil, "+12015550123"),
    ValidPhoneCase("tel:+86-138-0013-8000", nil, "+8613800138000"),
    ValidPhoneCase("TEL:+44 20 7946 0958", nil, "+442079460958"),
    ValidPhoneCase("tel:020-7946-0958;phone-context=+44", "GB", "+442079460958"),
    // National form with the region's trunk prefix.
    ValidPhoneCase("13800138000", "CN", "+8613800138000"),
    ValidPhoneCase("138-0013-8000", "cn", "+8613800138000"),
    ValidPhoneCase("0755 8888 1234", "CN", "+8675588881234"),
    ValidPhoneCase("(010) 1234 5678", "CN", "+861012345678"),
    ValidPhoneCase("400-888-7686", "CN", "+864008887686"),
    ValidPhoneCase("(201) 555-0123", "US", "+12015550123"),
    ValidPhoneCase("1 201 555 0123", "US", "+12015550123"),
    ValidPhoneCase("201.555.0123", " us ", "+12015550123"),
    ValidPhoneCase("416 555 0199", "CA", "+14165550199"),
    ValidPhoneCase("020 7946 0958", "GB", "+442079460958"),
    ValidPhoneCase("0800 1111", "GB", "+448001111"),
    ValidPhoneCase("030/1234567", "DE", "+49301234567"),
    ValidPhoneCase("(02) 9374 4000", "AU", "+61293744000"),
    ValidPhoneCase("0412 345 678", "AU", "+61412345678"),
    ValidPhoneCase("03-1234-5678", "JP", "+81312345678"),
    ValidPhoneCase("090-1234-5678", "JP", "+819012345678"),
    ValidPhoneCase("010-1234-5678", "KR", "+821012345678"),
    ValidPhoneCase("02 2345 6789", "TW", "+886223456789"),
    ValidPhoneCase("6123 4567", "SG", "+6561234567"),
    ValidPhoneCase("2123 4567", "HK", "+85221234567"),
    ValidPhoneCase("098765 43210", "IN", "+919876543210"),
    ValidPhoneCase("09 1234 567", "FI", "+35891234567"),
    ValidPhoneCase("050-123-4567", "IL", "+972501234567"),
    ValidPhoneCase("(11) 98765-4321", "BR", "+5511987654321"),
    ValidPhoneCase("021 123 4567", "NZ", "+64211234567"),
    ValidPhoneCase("02 123 4567", "TH", "+6621234567"),
    // No trunk prefix: Italy keeps its leading 0.
    ValidPhoneCase("06 1234 5678", "IT", "+390612345678"),
    ValidPhoneCase("612 345 678", "ES", "+34612345678"),
    // Russia: 8 is the trunk prefix but also starts real numbers.
    ValidPhoneCase("8 (495) 123-45-67", "RU", "+74951234567"),
    ValidPhoneCase("8 800 555 35 35", "RU", "+78005553535"),
    ValidPhoneCase("812 123 45 67", "RU", "+78121234567"),
    // The region's international prefix.
    ValidPhoneCase("008613800138000", "CN", "+8613800138000"),
    ValidPhoneCase("011 44 20 7946 0958", "US", "+442079460958"),
    ValidPhoneCase("0011 86 138 0013 8000", "AU", "+8613800138000"),
    ValidPhoneCase("010 86 138 0013 8000", "JP", "+8613800138000"),
    ValidPhoneCase("00 33 1 23 45 67 89", "GB", "+33123456789"),
    ValidPhoneCase("810 49 30 1234567", "RU", "+49301234567"),
    ValidPhoneCase("001 86 138 0013 8000", "SG", "+8613800138000"),
    ValidPhoneCase("00700 1 201 555 0123", "KR", "+12015550123"),
    ValidPhoneCase("0021 1 201 555 0123", "BR", "+12015550123"),
    ValidPhoneCase("990 49 30 1234567", "FI", "+49301234567"),
    ValidPhoneCase("001 1 201 555 0123", "TH", "+12015550123"),
    // Own country code written without the plus.
    ValidPhoneCase("8613800138000", "CN", "+8613800138000"),
    ValidPhoneCase("86 755 8888 1234", "CN", "+8675588881234"),
    ValidPhoneCase("44 20 7946 0958", "GB", "+442079460958"),
    ValidPhoneCase("33 1 23 45 67 89", "FR", "+33123456789"),
]

let invalidPhoneCases: [InvalidPhoneCase] = [
    InvalidPhoneCase("", nil, .empty),
    InvalidPhoneCase("   ", "CN", .empty),
    InvalidPhoneCase("\u{3000}\t", nil, .empty),
    InvalidPhoneCase("()-./", "CN", .empty),
    InvalidPhoneCase("+", nil, .empty),
    InvalidPhoneCase("tel:", nil, .empty),
    InvalidPhoneCase("tel:;ext=1", nil, .empty),
    InvalidPhoneCase("138-0013-800A", "CN", .invalidCharacter("A")),
    InvalidPhoneCase("+86 138 0013 8000 ext 12", nil, .invalidCharacter("e")),
    InvalidPhoneCase("1-800-FLOWERS", "US", .invalidCharacter("F")),
    InvalidPhoneCase("86+13800138000", "CN", .invalidCharacter("+")),
    InvalidPhoneCase("++8613800138000", nil, .invalidCharacter("+")),
    InvalidPhoneCase("+86 138*0013 8000", nil, .invalidCharacter("*")),
    InvalidPhoneCase("+86 138 0013 8000#", nil, .invalidCharacter("#")),
    InvalidPhoneCase("+86 138\n0013 8000", nil, .invalidCharacter("\n")),
    InvalidPhoneCase("+86 138 0013 800\u{00B2}", nil, .invalidCharacter("\u{00B2}")),
    InvalidPhoneCase("+86 138 0013 8000;ext=1", nil, .invalidCharacter(";")),
    InvalidPhoneCase("138 0013 8000", nil, .missingRegion("138 0013 8000")),
    InvalidPhoneCase("0086 138 0013 8000", nil, .missingRegion("0086 138 0013 8000")),
    InvalidPhoneCase("138 0013 8000", "", .missingRegion("138 0013 8000")),
    InvalidPhoneCase("138 0013 8000", "XX", .unknownRegion("XX")),
    InvalidPhoneCase("138 0013 8000", "CHN", .unknownRegion("CHN")),
    InvalidPhoneCase("+999 1234 5678", nil, .unknownCountryCode("99912345678")),
    InvalidPhoneCase("+384 44 123 456", nil, .unknownCountryCode("38444123456")),
    InvalidPhoneCase("+388 3 1234 5678", nil, .unknownCountryCode("388312345678")),
    InvalidPhoneCase("+0 123 4567 890", nil, .unknownCountryCode("01234567890")),
    InvalidPhoneCase("00 999 1234 5678", "CN", .unknownCountryCode("99912345678")),
    InvalidPhoneCase("+9", nil, .tooShort("9")),
    InvalidPhoneCase("00", "CN", .tooShort("")),
    InvalidPhoneCase("0", "CN", .tooShort("86")),
    InvalidPhoneCase("12345", "CN", .tooShort("8612345")),
    InvalidPhoneCase("+86 12345", nil, .tooShort("8612345")),
    InvalidPhoneCase("+1 201 555 012", nil, .tooShort("1201555012")),
    InvalidPhoneCase("555 0123", "US", .tooShort("15550123")),
    InvalidPhoneCase("+880 1234", nil, .tooShort("8801234")),
    InvalidPhoneCase("+86 138 0013 8000 1", nil, .tooLong("86138001380001")),
    InvalidPhoneCase("+1 201 555 01234", nil, .tooLong("120155501234")),
    InvalidPhoneCase("+44 20 7946 0958 12", nil, .tooLong("44207946095812")),
    InvalidPhoneCase("+880 1234 5678 9012 34", nil, .tooLong("88012345678901234")),
    InvalidPhoneCase("0755 8888 1234 5678", "CN", .tooLong("86755888812345678")),
]

@Suite("PhoneNumber parsing")
struct PhoneNumberParsingTests {
    @Test("Valid numbers normalize to E.164", arguments: validPhoneCases)
    func parsesValidNumber(_ testCase: ValidPhoneCase) throws {
        let number = try PhoneNumber(parsing: testCase.input, defaultRegion: testCase.region)
        #expect(number.e164 == testCase.expected)
        #expect(number.description == testCase.expected)
    }

    @Test("Invalid numbers throw the exact error", arguments: invalidPhoneCases)
    func rejectsInvalidNumber(_ testCase: InvalidPhoneCase) {
        #expect(throws: testCase.error) {
            try PhoneNumber(parsing: testCase.input, defaultRegion: testCase.region)
        }
    }

    @Test(
        "Country code is split off the E.164 form",
        arguments: [
            ("+8613800138000", "86"), ("+12015550123", "1"), ("+74951234567", "7"),
            ("+38344123456", "383"), ("+8801712345678", "880"), ("+85221234567", "852"),
        ])
    func countryCode(_ input: String, _ expected: String) throws {
        #expect(try PhoneNumber(parsing: input, defaultRegion: nil).countryCode == expected)
    }

    @Test("Plain digits (the fast path) parse as the same text with spaces around (the general path) does, number or error")
    func plainDigitsAsTheGeneralPath() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let digits = String((0..<Int.random(in: 1...18, using: &generator)).map { _ in "0123456789".randomElement(using: &generator)! })
            let text = (Bool.random(using: &generator) ? "+" : "") + digits
            let region = ["CN", "US", "GB", nil].randomElement(using: &generator)!
            let fast = Result { () throws(PhoneNumberError) in try PhoneNumber(parsing: text, defaultRegion: region) }
            let padded = " \(text)\t"
            let general = Result { () throws(PhoneNumberError) in try PhoneNumber(parsing: padded, defaultRegion: region) }
            switch (fast, general) {
            case (.success(let a), .success(let b)): #expect(a.e164 == b.e164, "\(text) in \(region ?? "no region")")
            case (.failure(let a), .failure(let b)):
                // (An error quotes the input as written.)
                #expect("\(a)" == "\(b)".replacingOccurrences(of: padded, with: text), "\(text) in \(region ?? "no region")")
            default: Issue.record("\(text) in \(region ?? "no region"): \(fast) against \(general)")
            }
        }
    }

    @Test("Different spellings of one number are equal and hash alike")
    func equalityIgnoresSpelling() throws {
        let spellings = [
            try PhoneNumber(parsing: "+86 138 0013 8000", defaultRegion: nil),
            try PhoneNumber(parsing: "13800138000", defaultRegion: "CN"),
            try PhoneNumber(parsing: "tel:+86-138-0013-8000", defaultRegion: nil),
            try PhoneNumber(parsing: "00 86 138 0013 8000", defaultRegion: "DE"),
        ]
        #expect(Set(spellings).count == 1)
    }
}

@Suite("PhoneNumber Codable")
struct PhoneNumberCodableTests {
    @Test("Encodes as a plain JSON string")
    func encodesAsString() throws {
        let number = try PhoneNumber(parsing: "+86 138 0013 8000", defaultRegion: nil)
        let data = try JSONEncoder().encode(number)
        #expect(String(decoding: data, as: UTF8.self) == "\"+8613800138000\"")
    }

    @Test("Round-trips through JSON inside other values")
    func roundTrips() throws {
        let numbers = [
            try PhoneNumber(parsing: "+8613800138000", defaultRegion: nil),
            try PhoneNumber(parsing: "(201) 555-0123", defaultRegion: "US"),
        ]
        let data = try JSONEncoder().encode(["agents": numbers])
        #expect(String(decoding: data, as: UTF8.self) == #"{"agents":["+8613800138000","+12015550123"]}"#)
        let decoded = try JSONDecoder().decode([String: [PhoneNumber]].self, from: data)
        #expect(decoded == ["agents": numbers])
    }

    @Test("Decoding normalizes hand-written international numbers")
    func decodingNormalizes() throws {
        let decoded = try JSONDecoder().decode(PhoneNumber.self, from: Data(#""+86 138-0013-8000""#.utf8))
        #expect(decoded.e164 == "+8613800138000")
    }

    @Test(
        "Decoding re-validates without a default region",
        arguments: [#""13800138000""#, #""+999 1234 5678""#, #""""#, "86", "null"])
    func decodingRejectsInvalid(_ json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(PhoneNumber.self, from: Data(json.utf8))
        }
    }

    @Test("Decoding errors carry the parse error's explanation")
    func decodingErrorExplains() {
        do {
            _ = try JSONDecoder().decode(PhoneNumber.self, from: Data(#""13800138000""#.utf8))
            Issue.record("expected a decoding error")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == PhoneNumberError.missingRegion("13800138000").description)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite("PhoneNumberError messages")
struct PhoneNumberErrorTests {
    @Test("Every error explains itself", arguments: invalidPhoneCases)
    func describesError(_ testCase: InvalidPhoneCase) {
        #expect(testCase.error.description.count > 40)
    }

    @Test("Messages name what to fix")
    func messagesAreSpecific() {
        #expect(PhoneNumberError.missingRegion("0755 8888 1234").description.contains("\"0755 8888 1234\""))
        #expect(PhoneNumberError.unknownRegion("XX").description.contains("CN, DE"))
        #expect(PhoneNumberError.unknownCountryCode("99912345678").description.contains("+99912345678"))
        #expect(PhoneNumberError.invalidCharacter("\u{200D}").description.contains("U+200D"))
        #expect(PhoneNumberError.tooShort("8612345").description.contains("+86 (CN) have 7 to 11 digits"))
        #expect(PhoneNumberError.tooLong("120155501234").description.contains("+1 (US) have 10 digits"))
        #expect(PhoneNumberError.tooShort("8801234").description.contains("8 to 15 digits"))
    }
}

@Suite("PhoneRegion table")
struct PhoneRegionTests {
    @Test("Lookups ignore case and pick the main region of a shared code")
    func lookups() {
        #expect(PhoneRegion.named("cn")?.countryCode == "86")
        #expect(PhoneRegion.named(" gb ")?.trunkPrefix == "0")
        #expect(PhoneRegion.named("XX") == nil)
        #expect(PhoneRegion.forCountryCode("1")?.code == "US")
        #expect(PhoneRegion.named("CA")?.countryCode == "1")
        #expect(PhoneRegion.forCountryCode("7")?.code == "RU")
        #expect(PhoneRegion.forCountryCode("+852")?.code == "HK")
        #expect(PhoneRegion.forCountryCode("383") == nil)
        #expect(PhoneRegion.forCountryCode(" 86 ")?.code == "CN")
        #expect(PhoneRegion.forCountryCode("+ 44") == nil)
        #expect(PhoneRegion.forCountryCode("") == nil)
        #expect(PhoneRegion.named("SG")?.trunkPrefix == nil)
        #expect(PhoneRegion.named("AU")?.internationalPrefixes.contains("0011") == true)
    }

    @Test("Covers the required regions")
    func coverage() {
        let required = [
            "CN", "HK", "MO", "TW", "SG", "JP", "KR", "IN", "AU", "NZ", "GB", "IE", "DE", "FR", "ES", "IT",
            "NL", "BE", "CH", "AT", "SE", "NO", "DK", "FI", "PL", "PT", "RU", "BR", "MX", "US", "CA", "ZA",
            "AE", "SA", "IL", "TR", "ID", "MY", "TH", "VN", "PH",
        ]
        #expect(Set(required).isSubset(of: PhoneRegion.all.map(\.code)))
        #expect(Set(PhoneRegion.all.map(\.code)).count == PhoneRegion.all.count)
    }

    @Test("Each region is self-consistent", arguments: PhoneRegion.all)
    func regionIsConsistent(_ region: PhoneRegion) throws {
        #expect(PhoneRegion.named(region.code) == region)
        #expect(PhoneNumber.assignedCountryCodes.contains(region.countryCode))
        #expect(!region.internationalPrefixes.isEmpty)
        #expect(region.countryCode.count + region.nationalNumberLengths.upperBound <= 15)

        // The shortest and longest national numbers parse, in both forms, to the same E.164.
        for length in [region.nationalNumberLengths.lowerBound, region.nationalNumberLengths.upperBound] {
            let national = String(repeating: "5", count: length)
            let expected = "+" + region.countryCode + national
            #expect(try PhoneNumber(parsing: national, defaultRegion: region.code).e164 == expected)
            let international = try PhoneNumber(parsing: expected, defaultRegion: nil)
            #expect(international.e164 == expected)
            #expect(international.countryCode == region.countryCode)
        }
    }

    @Test("Assigned calling codes are prefix-free and exclude spare codes")
    func assignedCodes() {
        let codes = PhoneNumber.assignedCountryCodes
        #expect(codes.count == 217)
        for code in codes {
            #expect((1...3).contains(code.count) && code.allSatisfy(\.isASCII) && Int(code) != nil)
            #expect(!codes.contains { $0 != code && $0.hasPrefix(code) }, "\(code) prefixes another code")
        }
        for assigned in ["1", "7", "20", "211", "262", "299", "379", "383", "423", "599", "670", "692", "800", "878", "997"] {
            #expect(codes.contains(assigned), "\(assigned) is assigned")
        }
        for spare in ["0", "259", "28", "388", "384", "422", "671", "684", "801", "871", "969", "978", "991", "999"] {
            #expect(!codes.contains(spare), "\(spare) is spare")
        }
    }
}
