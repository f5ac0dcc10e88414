import Testing

@testable import SIPCore

@Suite("SIP URIs and addresses")
struct SIPURITests {
    @Test("the parts of a SIP URI, unescaped, with the host lower-cased")
    func parts() throws {
        let uri = try #require(SIPURI(parsing: "sips:al%69ce:se%63ret@AtLanTa.example.COM:5061;transport=TCP;lr?subject=project%20x"))
        #expect(uri.scheme == "sips")
        #expect(uri.user == "alice" && uri.password == "secret")
        #expect(uri.host == "atlanta.example.com" && uri.port == 5061)
        #expect(uri.parameters == [SIPParameter("transport", "TCP"), SIPParameter("lr")])
        #expect(uri.headers == "subject=project%20x")
        #expect(uri.description == "sips:alice:secret@atlanta.example.com:5061;transport=TCP;lr?subject=project%20x")

        let ipv6 = try #require(SIPURI(parsing: "sip:[2001:DB8::10]:5070"))
        #expect(ipv6.host == "[2001:db8::10]" && ipv6.port == 5070 && ipv6.user == nil)
        let tel = try #require(SIPURI(parsing: "tel:+1-201-555-0123;phone-context=example.com"))
        #expect(tel.scheme == "tel" && tel.host == "+1-201-555-0123" && tel.parameters[parameter: "phone-context"] == "example.com")
        let user = try #require(SIPURI(parsing: "sip:user;par=u%40example.net@example.com"))
        #expect(user.user == "user;par=u@example.net" && user.host == "example.com")
        let other = try #require(SIPURI(parsing: "urn:service:sos"))
        #expect(other.scheme == "urn" && other.opaque == "service:sos" && other.description == "urn:service:sos")
    }

    @Test("parameters: names lower-cased, values as written, quoted ones unquoted (a ';' inside quotes kept), whitespace around each trimmed; malformed lists refused")
    func parameterLists() {
        let list = SIPGrammar.parameterList(#"tag=abc;lr; Maddr = 1.2.3.4 ;x="a;b\"c";received=[2001:db8::1]"#)
        #expect(list == [
            SIPParameter("tag", "abc"), SIPParameter("lr"), SIPParameter("maddr", "1.2.3.4"), SIPParameter("x", #"a;b"c"#),
            SIPParameter("received", "[2001:db8::1]"),
        ])
        #expect(list?.map(\.name) == ["tag", "lr", "maddr", "x", "received"])
        #expect(SIPGrammar.parameterList(#"x="粤语""#) == [SIPParameter("x", "粤语")])
        for bad in ["", ";", "a;;b", "a;", #"a="open"#, "=x", "a=", "a=b c", "a b", "a=<x>", #"a="x"y"#] {
            #expect(SIPGrammar.parameterList(bad) == nil, "\(bad)")
        }
    }

    @Test("malformed URIs are refused", arguments: [
        "", "sip:", "sip:user@", "sip:host:99999", "sip:host:port", "sip:bad host", "sip:[2001:db8::1", "sip:a@b;=x", "sip:a@b;x=\"open",
        "sip:%zz@host", "1sip:a@b", "sip:-bad.example.com",
    ])
    func malformed(_ text: String) {
        #expect(SIPURI(parsing: text) == nil)
    }

    /// RFC 3261 §19.1.4's examples.
    @Test("equivalence as RFC 3261 §19.1.4 defines it, on its own examples")
    func equivalence() throws {
        let equal = [
            ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
            ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
            ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
            ("sip:alice@atlanta.com?subject=project%20x&priority=urgent", "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
        ]
        for (a, b) in equal {
            let left = try #require(SIPURI(parsing: a))
            let right = try #require(SIPURI(parsing: b))
            #expect(left.matches(right) && right.matches(left), "\(a) = \(b)")
        }
        let different = [
            ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
            ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
            ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
        ]
        for (a, b) in different {
            let left = try #require(SIPURI(parsing: a))
            let right = try #require(SIPURI(parsing: b))
            #expect(!left.matches(right) && !right.matches(left), "\(a) ≠ \(b)")
        }
    }

    @Test("name-addr and addr-spec: display names quoted or not, parameters of the header apart from the URI's")
    func nameAddresses() throws {
        let quoted = try #require(SIPNameAddress(parsing: #""Bob \"the\" <Builder>" <sip:bob@biloxi.example.com;transport=udp>;tag=a48s"#))
        #expect(quoted.displayName == #"Bob "the" <Builder>"#)
        #expect(quoted.uri.parameters[parameter: "transport"] == "udp")
        #expect(quoted.tag == "a48s")
        #expect(quoted.description == #""Bob \"the\" <Builder>" <sip:bob@biloxi.example.com;transport=udp>;tag=a48s"#)
        let token = try #require(SIPNameAddress(parsing: "Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8"))
        #expect(token.displayName == "Anonymous" && token.tag == "hyh8")
        var bare = try #require(SIPNameAddress(parsing: "sip:+12125551212@server.phone2net.com;tag=887s"))
        #expect(bare.displayName == nil && bare.uri.parameters.isEmpty && bare.tag == "887s")
        bare.tag = "new"
        #expect(bare.description == "<sip:+12125551212@server.phone2net.com>;tag=new")
        for bad in ["<sip:a@b", "\"open <sip:a@b>", "<sip:a@b> junk", "Two Words! <sip:a@b>x", "<>"] {
            #expect(SIPNameAddress(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("Via values: transport, sent-by, parameters; malformed ones refused")
    func vias() throws {
        let via = try #require(SIPVia(parsing: "SIP/2.0/tcp client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101;rport=4711"))
        #expect(via.transport == "TCP" && via.host == "client.atlanta.example.com" && via.port == 5060)
        #expect(via.branch == "z9hG4bK74bf9" && via.parameters[parameter: "received"] == "192.0.2.101")
        #expect(via.description == "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101;rport=4711")
        for bad in ["SIP/2.0 host", "SIP/3.0/UDP host", "SIP/2.0/UDP", "SIP/2.0/UDP host:70000", "SIP/2.0/UDP host;branch="] {
            #expect(SIPVia(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("read by byte: ports at their bounds, escapes of multi-byte characters, blanks inside the grammar, values cut out of longer text")
    func byteBoundaries() throws {
        #expect(SIPURI(parsing: "sip:h:0")?.port == 0)
        #expect(SIPURI(parsing: "sip:h:65535")?.port == 65535)
        #expect(SIPURI(parsing: "sip:h:00080")?.port == 80)
        for bad in ["sip:h:65536", "sip:h:000080", "sip:h:", "sip:[::1]:99999", "sip:[::1]x", "sip:[::1]:", "sip:[]", "sip:@h", "sip:%E5%BC@h", "sip:%FF@h"] {
            #expect(SIPURI(parsing: bad) == nil, "\(bad)")
        }
        let escaped = try #require(SIPURI(parsing: "sip:%E5%BC%A0:@[::1]:5062;transport=udp?x=1"))
        #expect(escaped.user == "张" && escaped.password == "" && escaped.host == "[::1]" && escaped.port == 5062 && escaped.headers == "x=1")
        #expect(SIPURI(parsing: "  sip:Bob@Example.COM  ")?.host == "example.com")
        #expect(SIPURI(parsing: "TEL:+8610;phone-context=x")?.scheme == "tel")
        #expect(SIPURI(parsing: "tel:;x=1") == nil && SIPURI(parsing: "tel:1;") == nil)

        let line = "To: \"张 三\" <sip:zhang@example.com>;tag=9 (rest)"
        let value = line.dropFirst(4).prefix(while: { $0 != "(" })
        let quoted = try #require(SIPNameAddress(parsing: value))
        #expect(quoted.displayName == "张 三" && quoted.uri.user == "zhang" && quoted.tag == "9")
        let tokens = try #require(SIPNameAddress(parsing: "Alice  \t Smith <sip:a@b>"))
        #expect(tokens.displayName == "Alice  \t Smith")
        #expect(SIPNameAddress(parsing: "张 <sip:a@b>") == nil)
        #expect(SIPNameAddress(parsing: "<sip:a@b> ; tag = x ")?.tag == "x")

        let via = try #require(SIPVia(parsing: " sip / 2.0 / udp  host.example : 5060 ; branch=z9hG4bKx "))
        #expect(via.transport == "UDP" && via.host == "host.example" && via.port == 5060 && via.branch == "z9hG4bKx")
        for bad in ["SIP/2.0/UDPhost", "SIP/2.0/U\u{00C9} host", "SIP/2.1/UDP host", "SIPS/2.0/UDP host", "SIP/2.0/ host"] {
            #expect(SIPVia(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("ASCII lower-casing byte by byte gives what lowercased() gives, for any text")
    func lowercasing() {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09-_.;=<>\"\\ \tÄöİßΣ中文😀e\u{301}".unicodeScalars)
        var samples = ["", "From", "CALL-ID", "sip", "Atlanta.EXAMPLE.com", "İstanbul", "ΣΑΣ", "x-Ünknown"]
        for _ in 0..<2_000 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &random) { text.append(alphabet.randomElement(using: &random)!) }
            samples.append(String(text))
        }
        for text in samples {
            #expect(SIPGrammar.lowercasedASCII(text) == text.lowercased(), "\(text)")
            #expect(SIPGrammar.lowercasedASCII(text[...]) == text.lowercased())
        }
    }

    @Test("a header's lookup key is its canonical name lower-cased: known, compact and unknown names in any case")
    func headerKeys() {
        var names = Array(SIPHeaders.knownNames.values) + SIPHeaders.compactForms.values.map { $0 } + ["X-Custom", "q", "Q", "", "Ünknown-Name"]
        names += SIPHeaders.compactForms.keys.map { String(UnicodeScalar($0)) } + SIPHeaders.compactForms.keys.map { String(UnicodeScalar($0)).uppercased() }
        names += names.map { $0.uppercased() } + names.map { $0.lowercased() }
        for name in names {
            #expect(SIPHeaders.key(name) == SIPHeaders.canonicalName(name).lowercased(), "\(name)")
            // A field's name and key come from one lower-casing: the same two.
            let both = SIPHeaders.canonicalNameAndKey(name)
            #expect(both.name == SIPHeaders.canonicalName(name) && both.key == SIPHeaders.key(name), "\(name)")
        }
        // The canonical spelling: a known name's in any case, a compact form's long name, any
        // other name as written.
        for known in SIPHeaders.knownNames.values {
            #expect(SIPHeaders.canonicalName(known.uppercased()) == known && SIPHeaders.canonicalName(known.lowercased()) == known, "\(known)")
        }
        #expect(SIPHeaders.canonicalName("f") == "From" && SIPHeaders.canonicalName("I") == "Call-ID")
        #expect(SIPHeaders.canonicalName("X-cUSTOM") == "X-cUSTOM" && SIPHeaders.key("X-cUSTOM") == "x-custom")
        var headers = SIPHeaders()
        headers.add("f", "<sip:a@b>;tag=1")
        #expect(headers.first("FROM") == "<sip:a@b>;tag=1" && headers.first("f") == "<sip:a@b>;tag=1")
    }
}
