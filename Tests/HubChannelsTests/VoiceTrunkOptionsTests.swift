@testable import HubChannels
import HubConfig
import HubModel
import Testing

@Suite("voice trunk options")
struct VoiceTrunkOptionsTests {
    static func account(_ options: String, secrets: String = "") -> String {
        """
        kind: voice
        id: trunk
        queue: support
        defaultRegion: CN
        \(secrets)
        options:
        \(options)
        """
    }

    @Test func aTrunkIsReadWithItsNumbersAddressesAndCredentials() throws {
        let result = try ChannelFile.load(
            Self.account(
                """
                  numbers: ["+861088886666", "4008001234", support]
                  addresses: [203.0.113.7, 198.51.100.0/24, "2001:db8::/32"]
                  username: carrier
                  queuedStatus: 180
                """, secrets: "secrets: { password: TRUNK_PASSWORD }"),
            environment: ["TRUNK_PASSWORD": "pw"])
        #expect(result.errors.isEmpty, "\(result.errors)")
        let account = try #require(result.configuration?.channels.first)
        let options = try #require(account.options as? VoiceTrunkOptions)
        #expect(options.numbers == ["+861088886666", "4008001234", "support"])
        #expect(options.addresses.map(\.description) == ["203.0.113.7", "198.51.100.0/24", "2001:db8:0:0:0:0:0:0/32"])
        #expect(options.username == "carrier" && options.queuedStatus == 180)
        #expect(account.secrets["password"]?.value == "pw")
    }

    @Test func mistakesAreReportedWhereTheyAre() throws {
        for (options, problem) in [
            ("  addresses: [127.0.0.1]", "numbers"),
            ("  numbers: []", "numbers must be a list"),
            ("  numbers: [\"+861088886666\"]\n  addresses: [300.1.1.1]", "not an IP address"),
            ("  numbers: [\"+861088886666\"]\n  addresses: [10.0.0.0/33]", "not an IP address"),
            ("  numbers: [\"+861088886666\"]\n  queuedStatus: 181", "queuedStatus"),
            ("  numbers: [\"+861088886666\"]\n  adresses: [127.0.0.1]", "adresses"),
        ] {
            let result = try ChannelFile.load(Self.account(options))
            #expect(
                result.diagnostics.contains { $0.message.contains(problem) }, "\(options): \(result.diagnostics.map(\.message))")
        }
    }

    @Test func addressRangesMatchByPrefix() throws {
        let network = try #require(SIPAddressRange(parsing: "198.51.100.0/24"))
        #expect(network.contains("198.51.100.1") && network.contains("198.51.100.255"))
        #expect(!network.contains("198.51.101.1") && !network.contains("2001:db8::1") && !network.contains("not an address"))
        let odd = try #require(SIPAddressRange(parsing: "10.0.0.0/9"))
        #expect(odd.contains("10.127.255.255") && !odd.contains("10.128.0.0"))
        let six = try #require(SIPAddressRange(parsing: "2001:db8::/32"))
        #expect(six.contains("2001:db8:ffff::1") && six.contains("[2001:db8::5]") && !six.contains("2001:db9::1"))
        let host = try #require(SIPAddressRange(parsing: "127.0.0.1"))
        #expect(host.contains("127.0.0.1") && host.contains("::ffff:127.0.0.1") && !host.contains("127.0.0.2"))
        #expect(try #require(SIPAddressRange(parsing: "::1")).contains("0:0:0:0:0:0:0:1"))
        // An address read once and matched against several ranges gives what each range says.
        for address in ["198.51.100.7", "::FFFF:198.51.100.7", "[2001:db8::5]", "10.127.0.1", "127.0.0.1"] {
            let bytes = try #require(SIPAddressRange.bytes(of: address))
            for range in [network, odd, six, host] { #expect(range.contains(bytes: bytes) == range.contains(address), "\(range) \(address)") }
        }
        #expect(network.contains("::FFFF:198.51.100.7"))
        for bad in ["", "1.2.3", "1.2.3.4.5", "01234.1.1.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "g::1", "1.2.3.4/-1"] {
            #expect(SIPAddressRange(parsing: bad) == nil, "\(bad)")
        }
    }

    /// The byte-by-byte reading of dotted quads (every SIP datagram's source) says what the
    /// general parser says, on random addresses and their mutilations.
    @Test func dottedQuadsAgreeWithTheParser() {
        var random = SystemRandomNumberGenerator()
        let pieces = ["0", "00", "000", "1", "01", "9", "99", "255", "256", "300", "1000", "+1", "-1", "a", "", " 1", "1 ", "٣"]
        var quads = 0
        for round in 0..<5_000 {
            var text: String
            if round % 2 == 0 {
                text = (0..<4).map { _ in String(Int.random(in: 0...255, using: &random)) }.joined(separator: ".")
            } else {
                let count = Int.random(in: 1...6, using: &random)
                text = (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined(separator: Bool.random(using: &random) ? "." : ":")
            }
            let mutilated = round % 7 == 3 && !text.isEmpty
            if mutilated { text.remove(at: text.index(text.startIndex, offsetBy: Int.random(in: 0..<text.count, using: &random))) }
            let general = SIPAddressRange.parsedBytes(of: text)
            let quad = SIPAddressRange.dottedQuad(text)
            if let quad { #expect(quad == general, "\(text)") }
            if round % 2 == 0, !mutilated {
                // A well-formed quad takes the fast path.
                quads += 1
                #expect(quad != nil, "\(text)")
            }
            #expect(SIPAddressRange.bytes(of: text) == general, "\(text)")
        }
        #expect(quads > 2_000)
    }
}
