import Testing

@testable import HubChannels

/// The strict push-XML parser: what it accepts, what it refuses and where, and the writer.
@Suite struct WeChatXMLTests {
    /// The reason a document is refused, or `nil` if it parses.
    static func reason(_ xml: String, limits: WeChatXML.Limits = .init()) -> WeChatXMLError.Reason? {
        do {
            _ = try WeChatXML(xml, limits: limits)
            return nil
        } catch {
            return error.reason
        }
    }

    // MARK: Accepting

    /// Vector C's plaintext: newlines between elements are skipped, values are not trimmed.
    @Test func parsesVectorCPlaintext() throws {
        let xml = try WeChatXML("<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>")
        #expect(xml.name == "xml")
        #expect(xml.text == nil)
        #expect(xml["ToUserName"] == "gh_10f6c3c3ac5a")
        #expect(xml["CreateTime"] == "1409735668")
        #expect(xml["Content"] == "abcdteT")
        #expect(xml["MsgId"] == "6054768590064713728")
        #expect(xml["Missing"] == nil)
        #expect(xml.childNames == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId"])
    }

    @Test func textIsNotTrimmed() throws {
        let xml = try WeChatXML("<xml>\n  <Content>  two  words\n</Content>\n  <Space> </Space><CData><![CDATA[ x ]]></CData></xml>")
        #expect(xml["Content"] == "  two  words\n")
        #expect(xml["Space"] == " ")
        #expect(xml["CData"] == " x ")
    }

    @Test func severalCDATASectionsJoin() throws {
        let xml = try WeChatXML("<xml><Content><![CDATA[a]]]]><![CDATA[>b]]>c<![CDATA[]]></Content></xml>")
        #expect(xml["Content"] == "a]]>bc")
    }

    @Test func entitiesAndCharacterReferencesDecodeInTextOnly() throws {
        let valid = try WeChatXML("<xml><T>a &lt;b&gt; &amp; &apos;&quot; &#65;&#x4E2D;&#x1F600;&#0065;</T><C><![CDATA[&lt;&#65;]]></C></xml>")
        #expect(valid["T"] == "a <b> & '\" A中😀A")
        #expect(valid["C"] == "&lt;&#65;")
    }

    @Test func nestedElements() throws {
        let xml = try WeChatXML("<xml><Event><![CDATA[scancode_push]]></Event><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>\n<ScanResult><![CDATA[1]]></ScanResult>\n</ScanCodeInfo></xml>")
        #expect(xml["ScanCodeInfo"] == nil)
        let info = try #require(xml.child("ScanCodeInfo"))
        #expect(info.name == "ScanCodeInfo")
        #expect(info["ScanType"] == "qrcode")
        #expect(info["ScanResult"] == "1")
        #expect(xml.child("Nothing") == nil)
    }

    /// pic_sysphoto, WeChat's deepest push: four levels inside `<xml>`, with a repeated `item`.
    @Test func deepestDocumentedPushParses() throws {
        let xml = try WeChatXML("<xml><Event><![CDATA[pic_sysphoto]]></Event><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[aaa]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[bbb]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>")
        let items = try #require(xml.child("SendPicsInfo")?.child("PicList")).children("item")
        #expect(items.map { $0["PicMd5Sum"] } == ["aaa", "bbb"])
        #expect(xml.child("SendPicsInfo")?["Count"] == "2")
    }

    @Test func prologVariantsAreAccepted() throws {
        let documents = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><xml><A>1</A></xml>",
            "\u{FEFF}<?xml version=\"1.0\"?>\n<xml><A>1</A></xml>\n",
            "  \n<xml ><A >1</A ></xml >",
            "<!-- leading --><xml><!-- inside --><A>1</A></xml><!-- trailing -->",
            "<?xml?><xml><A>1</A><B/><C /></xml>",
        ]
        for document in documents {
            let xml = try WeChatXML(document)
            #expect(xml["A"] == "1", "\(document)")
        }
        let empty = try WeChatXML("<xml><B/><C></C></xml>")
        #expect(empty["B"] == "")
        #expect(empty["C"] == "")
        #expect(try WeChatXML("<xml/>").childNames.isEmpty)
    }

    @Test func firstOfRepeatedNamesWins() throws {
        let xml = try WeChatXML("<xml><A>1</A><A>2</A></xml>")
        #expect(xml["A"] == "1")
        #expect(xml.children("A").compactMap(\.text) == ["1", "2"])
    }

    @Test func bytesAndStringAgree() throws {
        let document = "<xml><Content><![CDATA[我的订单]]></Content></xml>"
        #expect(try WeChatXML(Array(document.utf8))["Content"] == "我的订单")
    }

    // MARK: Refusing

    /// The classic XXE payload and its relatives are refused before anything is expanded.
    @Test func doctypeAndEntitiesAreRefused() {
        #expect(Self.reason("<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><Content>&xxe;</Content></xml>") == .doctype)
        #expect(Self.reason("<!DOCTYPE xml><xml/>") == .doctype)
        #expect(Self.reason("<!doctype xml><xml/>") == .doctype)
        #expect(Self.reason("<xml><!DOCTYPE x></xml>") == .doctype)
        #expect(Self.reason("<!ENTITY a \"b\"><xml/>") == .entityDeclaration)
        #expect(Self.reason("<xml><A><!ENTITY a \"b\"></A></xml>") == .entityDeclaration)
        #expect(Self.reason("<!ELEMENT xml ANY><xml/>") == .unsupportedMarkup)
        #expect(Self.reason("<xml><Content>&xxe;</Content></xml>") == .undefinedEntity)
        #expect(Self.reason("<xml><Content>&nbsp;</Content></xml>") == .undefinedEntity)
    }

    @Test func doctypeErrorCarriesItsPosition() throws {
        let document = "<?xml version=\"1.0\"?>\n<!DOCTYPE xml>"
        let error = #expect(throws: WeChatXMLError.self) { try WeChatXML(document) }
        #expect(error?.reason == .doctype)
        #expect(error?.position == 22)
        #expect(error?.description.contains("byte 22") == true)
    }

    @Test func processingInstructionsAreRefused() {
        #expect(Self.reason("<?php echo 1; ?><xml/>") == .processingInstruction)
        #expect(Self.reason("<?xml-stylesheet href=\"a\"?><xml/>") == .processingInstruction)
        #expect(Self.reason("<xml><?xml version=\"1.0\"?></xml>") == .processingInstruction)
        #expect(Self.reason("<xml/><?pi?>") == .processingInstruction)
        #expect(Self.reason("<?xml version=\"1.0\"?><?xml version=\"1.0\"?><xml/>") == .processingInstruction)
        #expect(Self.reason("<?xml version=\"1.0\" <xml/> ?><xml/>") == .processingInstruction)
    }

    @Test func structureErrors() {
        #expect(Self.reason("") == .missingRoot)
        #expect(Self.reason("   ") == .missingRoot)
        #expect(Self.reason("hello") == .missingRoot)
        #expect(Self.reason("<root/>") == .rootNotXML)
        #expect(Self.reason("<xmlx></xmlx>") == .rootNotXML)
        #expect(Self.reason("<xml><A></B></xml>") == .mismatchedEndTag)
        #expect(Self.reason("<xml><A></AB></xml>") == .mismatchedEndTag)
        #expect(Self.reason("<xml><A></A x></xml>") == .mismatchedEndTag)
        #expect(Self.reason("<xml></XML>") == .mismatchedEndTag)
        #expect(Self.reason("<xml><A>") == .unexpectedEnd)
        #expect(Self.reason("<xml><A>1</A>") == .unexpectedEnd)
        #expect(Self.reason("<xml><A><![CDATA[open</A></xml>") == .unexpectedEnd)
        #expect(Self.reason("<xml><!-- open</xml>") == .unexpectedEnd)
        #expect(Self.reason("<xml") == .unexpectedEnd)
        #expect(Self.reason("<xml></") == .unexpectedEnd)
        #expect(Self.reason("<xml></xml") == .unexpectedEnd)
        #expect(Self.reason("<xml id=\"1\"></xml>") == .attributes)
        #expect(Self.reason("<xml><A b='c'>1</A></xml>") == .attributes)
        #expect(Self.reason("<xml>< A>1</A></xml>") == .invalidName)
        #expect(Self.reason("<xml><1A>1</1A></xml>") == .invalidName)
        #expect(Self.reason("<xml><名>1</名></xml>") == .invalidName)
        #expect(Self.reason("<xml>text<A>1</A></xml>") == .mixedContent)
        #expect(Self.reason("<xml><A>1</A>text</xml>") == .mixedContent)
        #expect(Self.reason("<xml><A>1</A><![CDATA[x]]></xml>") == .mixedContent)
        #expect(Self.reason("<xml></xml>junk") == .trailingContent)
        #expect(Self.reason("<xml></xml><xml></xml>") == .trailingContent)
    }

    @Test func badReferencesAreRefused() {
        for reference in ["&#0;", "&#x0;", "&#xD800;", "&#x110000;", "&#;", "&#x;", "&#12a;", "&#xG1;", "&#9999999999;"] {
            #expect(Self.reason("<xml><A>\(reference)</A></xml>") == .invalidCharacterReference, "\(reference)")
        }
        #expect(Self.reason("<xml><A>&#X41;</A></xml>") == .invalidCharacterReference)
        #expect(Self.reason("<xml><A>a & b</A></xml>") == .undefinedEntity)
        #expect(Self.reason("<xml><A>&amp</A></xml>") == .undefinedEntity)
        #expect(Self.reason("<xml><A>&</A></xml>") == .undefinedEntity)
    }

    @Test func invalidUTF8IsRefused() {
        let bytes = Array("<xml><A>".utf8) + [0xC3, 0x28] + Array("</A></xml>".utf8)
        let error = #expect(throws: WeChatXMLError.self) { try WeChatXML(bytes) }
        #expect(error?.reason == .invalidUTF8)
        #expect(error?.position == 8)
        let inCDATA = Array("<xml><A><![CDATA[".utf8) + [0xFF] + Array("]]></A></xml>".utf8)
        #expect((try? WeChatXML(inCDATA)) == nil)
    }

    // MARK: Limits

    static func nested(_ levels: Int) -> String {
        let names = (0..<levels).map { "L\($0)" }
        return "<xml>" + names.map { "<\($0)>" }.joined() + "v" + names.reversed().map { "</\($0)>" }.joined() + "</xml>"
    }

    @Test func depthLimit() throws {
        #expect(Self.reason(Self.nested(4)) == nil)
        #expect(Self.reason(Self.nested(5)) == .tooDeep)
        #expect(Self.reason(Self.nested(5_000)) == .tooDeep)
        #expect(Self.reason(Self.nested(2), limits: .init(maxDepth: 1)) == .tooDeep)
        // An unclosed tower is refused at the limit too, not by running out of stack.
        #expect(Self.reason("<xml>" + String(repeating: "<a>", count: 50_000)) == .tooDeep)
    }

    @Test func elementLimit() {
        let fields = { (count: Int) in "<xml>" + String(repeating: "<A>1</A>", count: count) + "</xml>" }
        #expect(Self.reason(fields(199)) == nil)
        #expect(Self.reason(fields(200)) == .tooManyElements)
        #expect(Self.reason(fields(4), limits: .init(maxElements: 4)) == .tooManyElements)
        #expect(Self.reason(fields(3), limits: .init(maxElements: 4)) == nil)
    }

    @Test func sizeLimit() {
        let document = "<xml><A>" + String(repeating: "x", count: 100) + "</A></xml>"
        let limits = WeChatXML.Limits(maxBytes: 100)
        #expect(Self.reason(document, limits: limits) == .tooLarge)
        #expect((try? WeChatXML(Array(document.utf8), limits: limits)) == nil)
        #expect(Self.reason(document, limits: .init(maxBytes: document.utf8.count)) == nil)
        #expect(Self.reason("<xml><A>" + String(repeating: "x", count: 300 * 1024) + "</A></xml>") == .tooLarge)
    }

    // MARK: Fuzzing

    /// Random bytes, and random damage to a real push: every input throws or parses, none traps.
    @Test func fuzzNeverTraps() {
        var generator = WeChatFuzzGenerator(seed: 0x5EED_0003)
        let seed = Array(WeChatMessageTests.scanCodePush.utf8)
        let alphabet = Array("<>/![]CDATA&#;x?-= xml\"'".utf8)
        let iterations = 4000
        var reached = 0
        var parsed = 0
        for iteration in 0..<iterations {
            var input: [UInt8]
            switch iteration % 3 {
            case 0:
                input = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1:
                input = (0..<Int.random(in: 0...300, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            default:
                input = seed
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<input.count, using: &generator)
                    switch Int.random(in: 0...2, using: &generator) {
                    case 0: input[index] = alphabet.randomElement(using: &generator)!
                    case 1: input.remove(at: index)
                    default: input = Array(input[..<index])
                    }
                    if input.isEmpty { break }
                }
            }
            if (try? WeChatXML(input)) != nil { parsed += 1 }
            reached += 1
        }
        #expect(reached == iterations)
        #expect(parsed > 0)
    }

    // MARK: Writing

    @Test func renderCDATAAndText() throws {
        let xml = WeChatXML.render([
            .cdata("ToUserName", "oOPENID"),
            .integer("CreateTime", 1_700_000_000),
            .text("Note", "a<b & c>d"),
            .cdata("Content", "tricky ]]> value ]]]]>"),
            .element("Image", [.cdata("MediaId", "m1")]),
        ])
        #expect(xml == "<xml><ToUserName><![CDATA[oOPENID]]></ToUserName><CreateTime>1700000000</CreateTime><Note>a&lt;b &amp; c&gt;d</Note><Content><![CDATA[tricky ]]]]><![CDATA[> value ]]]]]]><![CDATA[>]]></Content><Image><MediaId><![CDATA[m1]]></MediaId></Image></xml>")
        let back = try WeChatXML(xml)
        #expect(back["Content"] == "tricky ]]> value ]]]]>")
        #expect(back["Note"] == "a<b & c>d")
        #expect(back["CreateTime"] == "1700000000")
        #expect(back.child("Image")?["MediaId"] == "m1")
    }

    @Test func renderPairsAsCDATA() throws {
        let xml = WeChatXML.render([("MsgType", "text"), ("Content", "已收到，我们会尽快回复 ]]>")])
        #expect(xml == "<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[已收到，我们会尽快回复 ]]]]><![CDATA[>]]></Content></xml>")
        #expect(try WeChatXML(xml)["Content"] == "已收到，我们会尽快回复 ]]>")
        #expect(WeChatXML.render([(String, String)]()) == "<xml></xml>")
    }
}
