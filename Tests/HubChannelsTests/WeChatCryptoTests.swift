import Foundation
import Testing

@testable import HubChannels

/// The official WXBizMsgCrypt vectors (channels.md 4.1 and 4.3), wechatpy's, and tamper and
/// fuzz tests for WeChatCrypto.
@Suite struct WeChatCryptoTests {
    // MARK: Keys of the vectors

    static let weComKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    static let weComCorpID = "wx5823bf96d3bd56c7"
    static let oaKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

    static func weCom() throws -> WeChatCrypto {
        try WeChatCrypto(token: "QDG6eK", encodingAESKey: weComKey, receiveID: weComCorpID)
    }

    static func sampleC() throws -> WeChatCrypto {
        try WeChatCrypto(token: "spamtest", encodingAESKey: oaKey, receiveID: "wx2c2769f8efd9abc2")
    }

    static func wechatpy() throws -> WeChatCrypto {
        try WeChatCrypto(token: "123456", encodingAESKey: "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", receiveID: "wx49f0ab532d5d035a")
    }

    static func bytes(_ ascii: String) -> [UInt8] { Array(ascii.utf8) }

    // MARK: 4.1 Plain signature

    @Test func plainSignature() throws {
        #expect(WeChatCrypto.signature(["pamtest", "1409304348", "xxxxxx"]) == "76480565cbe296026c53aaacd1ad523a1ddba24f")
        let crypto = try WeChatCrypto(token: "pamtest", encodingAESKey: Self.oaKey, receiveID: "wxb11529c136998cb6")
        #expect(crypto.verifyPlain(signature: "76480565cbe296026c53aaacd1ad523a1ddba24f", timestamp: "1409304348", nonce: "xxxxxx"))
        #expect(!crypto.verifyPlain(signature: "76480565cbe296026c53aaacd1ad523a1ddba24e", timestamp: "1409304348", nonce: "xxxxxx"))
        #expect(!crypto.verifyPlain(signature: "76480565cbe296026c53aaacd1ad523a1ddba24f", timestamp: "1409304349", nonce: "xxxxxx"))
        #expect(!crypto.verifyPlain(signature: "", timestamp: "1409304348", nonce: "xxxxxx"))
    }

    /// Sorting is by bytes, so the order of the parts never matters.
    @Test func signatureIgnoresPartOrder() {
        #expect(WeChatCrypto.signature(["xxxxxx", "pamtest", "1409304348"]) == WeChatCrypto.signature(["pamtest", "1409304348", "xxxxxx"]))
    }

    // MARK: B, WeCom URL verification

    static let echoB = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="

    @Test func vectorBURLVerification() throws {
        let crypto = try Self.weCom()
        #expect(crypto.verify(msgSignature: "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", timestamp: "1409659589", nonce: "263014780", encrypt: Self.echoB))
        #expect(try crypto.decrypt(Self.echoB) == "1616140317555161061")
    }

    // MARK: WeCom message decrypt (official C# / Java sample)

    static let weComEncrypt = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
    static let weComPlain = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>"
    static var weComBody: String {
        "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[\(weComEncrypt)]]></Encrypt></xml>"
    }

    @Test func weComMessageDecrypt() throws {
        let crypto = try Self.weCom()
        let plain = try crypto.decryptMessage(
            body: Self.weComBody, msgSignature: "477715d11cdb4164915debcba66cb864d751f3e6", timestamp: "1409659813", nonce: "1372623149")
        #expect(plain == Self.weComPlain)
        // The sample's random prefix reproduces the ciphertext exactly.
        #expect(try crypto.encrypt(Self.weComPlain, random: Self.bytes("0960688932c47ef1")) == Self.weComEncrypt)
        let push = try WeChatPush(xml: plain)
        #expect(push.kind == .text(content: "hello"))
        #expect(push.agentID == 218)
        #expect(push.fromUserName == "mycreate")
        #expect(push.msgID == "4561255354251345929")
    }

    // MARK: A, OA encrypt with a fixed random (official Java test)

    @Test func vectorAEncryptWithFixedRandom() throws {
        let crypto = try WeChatCrypto(token: "pamtest", encodingAESKey: Self.oaKey, receiveID: "wxb11529c136998cb6")
        let random = Self.bytes("aaaabbbbccccdddd")
        #expect(try crypto.encrypt("我是中文abcd123", random: random) == "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==")
        let a2 = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>"
        let a2Encrypt = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb"
        #expect(try crypto.encrypt(a2, random: random) == a2Encrypt)
        #expect(try crypto.decrypt(a2Encrypt) == a2)
    }

    // MARK: C and D, OA decrypt (official Python and C++ samples)

    static let encryptC = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="

    @Test func vectorCDecryptKeepsNewlines() throws {
        let crypto = try Self.sampleC()
        #expect(crypto.verify(msgSignature: "5d197aaffba7e9b25a30732f161a50dee96bd5fa", timestamp: "1409735669", nonce: "1320562132", encrypt: Self.encryptC))
        let plain = try crypto.decrypt(Self.encryptC)
        #expect(plain == "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>")
    }

    @Test func vectorDDecryptAndParse() throws {
        let crypto = try Self.sampleC()
        let encrypt = "mfBCs65c67CeJw22u4VT2TD73q5H06+ocrAIxswCaeZ/d/Lw0msSZFHY0teqgSYiI1zR2gD2DKrB3TIrmX/liNSDrGqS8jSI/WPeKB5VPr7Ezr7gomZAyGCwJSgT1TRFWPfONGJMxuj2nk4faTuspAuVIFQ6SHwZuJBZC7mcJp7Cgr9cUhATQWDbOPaE7ukZBTV2YqyzH+UI2AK+J1S47cE79k1RX8t0hcTz/O0hlK8DGXKnvYv88qKQcI7z4iaajqHfRVZKBNyOODabs+It+ZfM3dWTeFcPgDbGtIEnpt/EDtuuA/zMvtkaKdHdswPnVZQ+xdwbYr3ldGvfT8HlEYEgkgKaThxTFobVlwzu2ZkXCjicbP3xdr15Iq48ObgzPpqYuZ3IEoyggZDKClquk0u0orMck4GTF/XyE8yGzc4="
        // Compatible mode: the outer body repeats the plaintext fields next to <Encrypt>.
        let body = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>"
        let plain = try crypto.decryptMessage(
            body: body, msgSignature: "003fee52ecc56afb46c00b5c7721be87860ce785", timestamp: "1410349438", nonce: "298025754")
        let push = try WeChatPush(xml: plain)
        #expect(push.kind == .text(content: "abcdteT"))
        #expect(push.msgID == "6057404712141979648")
        #expect(push.createTime == 1410349438)
        #expect(push.toUserName == "gh_10f6c3c3ac5a")
        #expect(push.fromUserName == "oyORnuP8q7ou2gfYjqLzSIWZf0rs")
        #expect(push.agentID == nil)
    }

    // MARK: E, third-party platform, all-zero key

    @Test func vectorEDecryptAndEncryptedReply() throws {
        let crypto = try WeChatCrypto(token: "AAAAA", encodingAESKey: String(repeating: "A", count: 43), receiveID: "wx134c8103faa5a59e")
        let encrypt = "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg=="
        #expect(crypto.verify(msgSignature: "6c12a4205838198b8fa631b3220723bb07f1015c", timestamp: "1715943329", nonce: "1590219412", encrypt: encrypt))
        let plain = try crypto.decrypt(encrypt)
        #expect(plain.utf8.count == 292)
        let push = try WeChatPush(xml: plain)
        #expect(push.kind == .event(.unknown(event: "debug_demo")))
        #expect(push.xml["debug_str"] == "hello world")

        let reply = try crypto.encryptedReply(
            "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>", timestamp: "1713424427", nonce: "415670741",
            random: Self.bytes("999951349e8ee746"))
        let replyEncrypt = "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7"
        #expect(reply == "<xml><Encrypt><![CDATA[\(replyEncrypt)]]></Encrypt><MsgSignature><![CDATA[03e0812039325c2712ef5f0f980fd14c70d6e307]]></MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>")
        let envelope = try WeChatXML(reply)
        #expect(envelope["MsgSignature"] == "03e0812039325c2712ef5f0f980fd14c70d6e307")
    }

    // MARK: wechatpy tests/test_crypto.py, WeCom mode

    @Test func wechatpyVerifyURL() throws {
        let crypto = try Self.wechatpy()
        let echo = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
        #expect(crypto.verify(msgSignature: "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", timestamp: "1411443780", nonce: "437374425", encrypt: echo))
        #expect(try crypto.decrypt(echo) == "5927782489442352469")
        // wechatpy's negative case: one nonce digit off.
        #expect(!crypto.verify(msgSignature: "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", timestamp: "1411443780", nonce: "437374424", encrypt: echo))
    }

    @Test func wechatpyDecrypt() throws {
        let crypto = try Self.wechatpy()
        let encrypt = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
        let body = "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA[\(encrypt)]]></Encrypt>\n<AgentID><![CDATA[1]]></AgentID>\n</xml>"
        let plain = try crypto.decryptMessage(
            body: body, msgSignature: "74d92dfeb87ba7c714f89d98870ae5eb62dff26d", timestamp: "1411525903", nonce: "461056294")
        let push = try WeChatPush(xml: plain)
        #expect(push.kind == .text(content: "test"))
        #expect(push.fromUserName == "messense")
        #expect(push.agentID == 1)
        #expect(push.msgID == "4363689963896700987")
    }

    @Test func wechatpyEncrypt() throws {
        let crypto = try Self.wechatpy()
        let message = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
        let reply = try crypto.encryptedReply(message, timestamp: "1411525903", nonce: "461056294", random: Self.bytes("1234567890123456"))
        let envelope = try WeChatXML(reply)
        #expect(envelope["Encrypt"] == "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3")
        #expect(envelope["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533")
        #expect(envelope["TimeStamp"] == "1411525903")
        #expect(envelope["Nonce"] == "461056294")
    }

    // MARK: Chinese inbound vector (channels.md 4.3)

    @Test func chineseInboundVector() throws {
        let crypto = try WeChatCrypto(token: "pamtest", encodingAESKey: Self.oaKey, receiveID: "wxb11529c136998cb6")
        let message = "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><FromUserName><![CDATA[oCustomer001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我的订单还没到]]></Content><MsgId>24000000000000001</MsgId></xml>"
        let encrypt = "Q3stYC6hdFzMh9T8HCvyDMis7zmf7fd9eBlL2f4BcHFPlw1ZX6GiWqnh3h7M0JRTJgAk3ugF3lto4psKDuf/7qGuOrCaEV+hVVtZ80gqr6Z/s/w85oFZsjBXIKkflzRm6tDFoOqrUzRwOdfGLwLHdU/mLxfuJzBtXsq5CeHKnGpiRmNti6/KykzDJlHUdNQCTsKF/HfuOdKQfHGiLBBzqHykQnFcAwIX9ivUFY0mS0/5uMKhkAkmruWfIO3Z4onL6AeA8q8IQmGOQ9my8OB4SUOwPKvJQr/rjmGJqpD/9NRuF0I5OCc6hch/+mfzzRjqW1bv7hZyid75B/qH7mhW5+h2YHTbifu19lnLNZhVIRtKWGsIBbEaE6CTmeDGld/hiMISpY8/dLa+HTXeZlBlxmwa84VLfPcJyXkYFP2OfAg="
        #expect(try crypto.encrypt(message, random: Self.bytes("0123456789abcdef")) == encrypt)
        #expect(WeChatCrypto.signature(["pamtest", "1700000000", "424242", encrypt]) == "e3992690ecd2c7d1118e2dae903b635ecea5114a")
        let body = "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>"
        let plain = try crypto.decryptMessage(body: body, msgSignature: "e3992690ecd2c7d1118e2dae903b635ecea5114a", timestamp: "1700000000", nonce: "424242")
        #expect(try WeChatPush(xml: plain).kind == .text(content: "我的订单还没到"))
    }

    // MARK: Cross-check with wechatpy 1.8.18

    /// Generated by wechatpy 1.8.18, an independent implementation, with
    /// `pip install wechatpy==1.8.18 && python3 crosscheck.py`: `WeChatCrypto("hubtoken", <OA key>,
    /// "wxb11529c136998cb6").encrypt_message(msg, "987654321", "1700000123")` with
    /// `PrpCrypto.get_random_string` patched to return "Hub0Random0Pfx16". The script also
    /// decrypts each envelope back with wechatpy before printing it.
    static let crossCheck: [(name: String, message: String, encrypt: String, signature: String)] = [
        (
            "chinese",
            "<xml><ToUserName><![CDATA[gh_hub]]></ToUserName><FromUserName><![CDATA[oCustomer002]]></FromUserName><CreateTime>1700000123</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[您好，我想查询退款进度 🙏]]></Content><MsgId>24000000000000002</MsgId></xml>",
            "+fSbDTls9AQqrYGw9pkWmhrbdTyRXC1KCqHL8TuPBlmZF010+l71rdekEYq0pNh5SO5rp9Bu+H7+PJWZNWcH9odTKKO+6BbIMA5uYIx8/+03kLFwJVxtlpm9+MGAtHV6ctisTd58FaDw/igZdWu2EX6RuIJBO6RkkT9F/pG+fFLtI72bME57g3i5mVHgB3nhMGDQbR4mWpsqLRRFodk8bjMhyZPceRdRqPvJcqqaHmii4iGLA/lNMJhSDfaTIP2tHSB7jvoi1g29rI04lHwlnuaUGcSQdGITSaFEoJ2OM00NO1hktsjDDoakJJtVQIFXARQosHG30kDQUlDvGPawBeAOYwAfgWT04JYCfl8PepR5o/UlzapcTvcznoD/4H3phGgbyDG5p8C2oEn1za/4wXPqoKlJNYioXKfc5Qnjc2M=",
            "8bdb90bc25eb8c8e84daf76506704c4912b1a71a"
        ),
        (
            "long",
            "<xml><Content><![CDATA[" + String(repeating: "工单状态更新 #1234: order shipped. ", count: 80) + "]]></Content></xml>",
            [
            "+fSbDTls9AQqrYGw9pkWmrzN94nDLTwDrZkNfjKvHulUCdoGwSf+p/zZ8ByJUmVZHNSzWgOLLggggTcNG0hRN42zir31sNa3hJiF",
            "nCqhC4pdVepK0uSyLHa/zflcgMplIEdC2JOfLfF4rE/I1c1ze/5CKFjwzNVLIjIEOCGNKeTPPdkmhOQs19EqRM/lThiePwhhL6Z1",
            "tMKZCzDmpvpnTZDalGRgi54FtxjUgIDJLQuujenB3ABaMNki7bPpwvC/q4A0A1Of+kDhwBD/qmiMpGHUe3nn5A6wZE6IkTu9HGiu",
            "XZA8aj0l/SAMkymgh8qd5/Sg+Ti5niq0JMe+jocIw8cFr0k6kUrU9rr+itY3iiMWY3GKmsSp6Dj+Ne3ySp0ximKJsv1UwgNec524",
            "5X7DICQnaVqZSOa9th5rsNbt7/WD+Nnb3cpNRaGBjqJzdmw6g3+UnoMJRZKT2FuwnPMLwBbJaOvJ+pHrzRYNMbs2zaYkmwPPCMGn",
            "wngMUS/gf/px+3UMxgmUV4cuUp0kAtGTnfQBeaxWeiRpm8vNsGoM5htqNHnqsxTcFaPLYDkn/bp+IYG1xwjJV0MXv16D4k8Puu8m",
            "k2wAzckWZDYX33duF1t+114JZdtMcY5eprt8ZVvQZH3jan2xvkEbtAz2hxWfrGqzOYj7UIevmiC0DW0LvJQQzm4hHz6Ggf+B2YCQ",
            "c2t+33VaHYUqiEGs6d2g2sCPF81hi/CIlqc9N7Aqw1KVGiysLD5+IjR9SA4hv/rSmkDX8QHJQIaz21zT+ITVtgO50/yiyDN2iiPU",
            "0Ycu/DRz7iz0VKOZfFjT7HiLpV+K9Y5eTPuW7xLLw+EkifhfU4l2UcnBXGdw+XxWJCMEfUHIryqUpTU8ibaOf6Z3ZIGe2mrzB65P",
            "1ODZ8k6iGUqQPEkfxfITJIQO84VWVflaJZ8dNJebPVP3JUKTupaRThTubVfbyjGp792jCKHIn0YQqKrTlOdT+2xp/XBWWwduBt21",
            "nngLmvwTmZujFiFfUKZTB+3DDbyyIFCQmZ+Wm2FGZVoBvUhdtJaZ6wDWA1a+aPsnEMUCx05QMKozCs7ti927VF0qwymIj4iwrWU7",
            "DSRGI0LWuv2F3DN/HqHGYoJPDGfAK1yglu/XeS0+fVFXbRn3/SO71YDCzymW9DEETh1oZLvE1PuurTyf9A9/asGwYRmCtCqXkVd4",
            "Xj8d9CImIqPZhUsWUbQDMYZTUUSA836LxSnxDLLc5wgl7Lynovgg+X5GpN9SSOgTXX2B+y/zaD9iECMgwlChdqopJHN2RdViFU2P",
            "55dlEaqc/MA/1M+qSfQUiabjLP3ZYJpjYp1O5QJeXWcg3Z9TBTU6emiscSu96DT6h9l+AM2yMaUYmpkuOzLqzyB0sJFboGI9gzbg",
            "IG7eI/T/F/GJd2Z9ijqFqwnL5ITzE86qtGvAMN4akMFkEt7m3Vjfey2uUb08ZLAyU6BHI+Zu5KxoI9qj00FfI4qWzhfiqAVTR6Xh",
            "TlFdR7G5HIs64FhXMVLLCZL0ykcI1eu8CliDy7EA630HRqm3XDYDgmq7X5+W4OcpcNmd7cOU22ZUi4cLMWdarhrhA75d2WLT00op",
            "wkrC52WR2ZBT33DkZRPKP4W/vBPaQ9Cs+/eUNcO0C8mwfdktlg+rFkmLjYcVHA98RaM+s95rQjcwJYysgJNnIGSItg+cOZOqEOt8",
            "PC/2ObmnRNtS1AeUzcZz3Qe6ThjM5wNt1cVA2gyECm2nSg3Jx5oK9TnRxH19gdGaQJ2FLsSeqFYNU67nHFFH7cjCW9EG437P3tq0",
            "3XSLHCjTkvhl1uDAjXEqnruF3br2wWF6Ee//F703UaQhYtFH2nOp6XHa+7fuG49Xgv3SsjoWT7vMY+TtqlVnIuImnaOeQGrYZR/G",
            "+eQMORduooXC7c2kTXWEEXC1g5Rmu2GXzhgEJFUj9BJ++NJFyGNxjI8AYYhW6x9JS2GnX6pVNcLnVxTdfuMg4/MfLTcxeldOrTOu",
            "OQtBZXlVPulvPkThAy9lBlJgfNz4P5dP5Q8P0GZw4N6zV95dEV1JKRg+4+hFxHhunkPJLBPA9RIzpr59GJzwhfCcAS8Nb/crsAQF",
            "3onu7GzWCY1/beAtoNCYNTjiGp3eIgqGHoiUzLz7FYNPQBpufMUoW8xOhc7rP8vBMNQO2uB/PdIIVFHxLAYw6mHoqiFcdBsnDXJy",
            "WnFXsNcgRoGVkc4cqxBQ+GGKrwDOUG/QeJQPnEFY37IqOSJrfI3P9oqqcdsjbtOycePqNqNAftpX1RUSksMnuBbaAm1KxhnYpwgZ",
            "GwcVCHBb+pcjeUiZt0VB7x99f4WXTOX6Z90++/qMG7WTHHEMFOvo2/4J+8fgwEoALUilCngLDrIBaqnrItJkYLbV93ExiHvRB/K2",
            "rbSmu+xCPqOtlrYr1fjHGbw4J30k5NosamJls5ph6Wb9/HcGREbZ1Tqxc+pdoivyn7eyM09Nv+JUH8tXDtRi+UFdV0lyddaSzpTL",
            "VCtAX2qldkKyPoI0SRpBPnXTvvjnMPTxhcCSmLEbAevROfW9I/qAV08/hvJTAn8KOEUDSdyX1noV2rPa3tkJaZA9yEGP1zCU5Nhm",
            "KC9Ox5ETLTHACq8KDLo153rv2a/9U2LfA3ELX8U/bfLIhIn6wYIzKScF/qBP1vzTaChIHiWBGWiynwG5TEPTJVL8+IgOYfceFNQ/",
            "aMgeS4b7DaCM1ZgviQmUQRsHLy3PzYE13sTSqoTCQjlGeo1Q702k4WbXCpPQswcB7vcU2tJyfWdT3f9jna7gIF2C59PijZamlhtp",
            "st5hThCebwK1o28ummeRm/dIVT0a55FFffIdLvF/eYgs7RHIInIr14N8qNjGe7xzJt4AbrjGO7TAcjztf6fQPCa9AKmfO9txiMS8",
            "btqSnI2+dgqEElicJ3DFgxOrwNssbvFHfZsNFBcD86EcqDeRhPIMr5gBC1EQMwm4N5X1FqR1CKCTtBAGeIKsQhTGux9kxhbZ1mDQ",
            "929UwlvEGFmZ3HvtNVxY14pd53xnR98SYJL3fISChCqRmIzuEuArayjpgclAM2nUDDca7dD/y1a3J2eZlFfbhax/J0mZUssksTFH",
            "p+L9CV/hQBAUT0U+M0p7JX5KJtn5j2+0E+ehkNquF1pL85msNOXrSZkk7yP3aicL1F8mi9hVyda9BsorOhGnn50s0Bjyn1Epuikl",
            "mnf1ACOsxImX3XKkSGWGmfg54IMJU+6OlXMgUUtjACSsuCrXHs/tXUpgN4ervA0luoslQcTo758XTY+REz2lvyZOr3vwtyb9aUfr",
            "Y3w8ofKCQNqXWNYFtHapAX/WvNxvQ62QmFGXKorlHy0dkZGhW86Pn2knFSwIvtvlpl+5ASlpwag+RtlafGLYgvTzRBn3gbafnDfO",
            "JywfomhON6DEMIRqXaEOxOedy5vboMBzhZvBV4F/tlZPzfr2bAoaA5qxdnnD3/9qugFVjaZ7JW2LcNsUUcIUUTyBAwsRGaLr7GEk",
            "e7nJYRo7Q//7/4kJYlZCQKtSspOxUUrVm2kDwVu7ZV8wHyxfaCrtE5hSMtqxK8Dq//mdDnTbYcQ6UURxwPkjUMjzkqMBDhNmkJZ6",
            "ZQ/VBKQuHT5A4OW0B1Ub06/uNb7EkWFn1jpCa40qv0rdM83ZO8beVcld6AxxvuyrvlH4O4b1x915UdlS4JDa4zfpIYxvyfHcijL/",
            "lNmVixP4nndf6lIMg2eKE5CijDHgfky6VKuFGw2hm5FVgiMrkZBgaXy3JTIIngOVnItR+LBoLqEz4CWPaxESgjrtct8Uq+kt1pLQ",
            "RdkjvdakVYnDhPCX+AWtGQf/LLaqMTKBVAjaINzhaptItEQljRjGJVXfc3/8d+QwCs47HvU8oGyydxc7DG2BxLoUaDjCCIP8GL1B",
            "jG2k7RQkkTo2LfJZfNum8zX3x0uTSMYI0Dn4MrFg7orsYrE9HPxyAOLHDPoVlyTL0hZConqbx/Rp58BgNUVk/WJ8lKwkzvAJk3/y",
            "GIiG7E/4cTWNJ1Kl32+l5uyCkW5s/DlAMvohxYPNUZ12fNnl0ubwPqTCQRfsPbnnd4YGNyam7YUU+jHnJLhUm13b7A6nC3B9BdYC",
            "j6IremFxgwwiYv/cPco2JDPZs+CxpTZ4B6xeK453g/mRXew8/yD2Jj0yjiGJFZO+NNRCe3bAlNMnc++ElXwsdicyNRWM58VUGhg+",
            "87WwxtFRHiXAV5LBSwZEDBavQaBEXvQdePFykJtbFs+oW8qEI9CwaOodg187iem6cZMua0x+BlO1TjNOhnTylITYyiwCaUfDhqef",
            "d7L0UCvUvaOG5AieG5PHalRVDF0Y976KzYvwK7pKxTGfTIJEuGYBzdsCOAFJOQQ3ODOa4UUawFintOBg4GfPrcGfYE2k4hUEYfsl",
            "wipQRA7L5MRJP4a4lFUVJF+y2Vb0Ft/kCcMM8GTI4sbTNVX2a9WlNnZ81T8eAfXqijdpw6kLveiA+n/nTKfGlB3WAbERy3HHM6a5",
            "/aiYYQsrk3uyDKWqKl0TCao=",
            ].joined(),
            "9ef5be4361f59d0b1a8a12a03a7d6516ea11d985"
        ),
        ("empty", "", "+fSbDTls9AQqrYGw9pkWmriV6Fd/P/vAHBw2+9J+Z3/Kgx+bM00ZUmjAj355/tMCTfmrlx/witWS1QGvzJMNtA==", "273a325b011b32ce5a5dca193ac97a906f11f45c"),
    ]

    @Test(arguments: 0..<3) func wechatpyCrossCheck(_ index: Int) throws {
        let vector = Self.crossCheck[index]
        let crypto = try WeChatCrypto(token: "hubtoken", encodingAESKey: Self.oaKey, receiveID: "wxb11529c136998cb6")
        let reply = try crypto.encryptedReply(vector.message, timestamp: "1700000123", nonce: "987654321", random: Self.bytes("Hub0Random0Pfx16"))
        let envelope = try WeChatXML(reply)
        #expect(envelope["Encrypt"] == vector.encrypt, "\(vector.name)")
        #expect(envelope["MsgSignature"] == vector.signature, "\(vector.name)")
        let body = "<xml><Encrypt><![CDATA[\(vector.encrypt)]]></Encrypt></xml>"
        #expect(try crypto.decryptMessage(body: body, msgSignature: vector.signature, timestamp: "1700000123", nonce: "987654321") == vector.message)
    }

    // MARK: Keys

    @Test func illegalKeysAreRefused() {
        for key in [String(Self.oaKey.dropLast()), Self.oaKey + "A", "", String(repeating: "!", count: 43), String(repeating: "中", count: 43)] {
            #expect(throws: WeChatCryptoError.illegalAESKey) {
                try WeChatCrypto(token: "t", encodingAESKey: key, receiveID: "wx")
            }
        }
        #expect(WeChatCryptoError.illegalAESKey.code == -40004)
    }

    @Test func errorCodesAreTheOfficialOnes() {
        #expect(WeChatCryptoError.allCases.map(\.code) == Array((-40010 ... -40001).reversed()))
        #expect(WeChatCryptoError.receiveIDMismatch.description.contains("-40005"))
    }

    // MARK: Tampering

    @Test func tamperedSignatureIsRejected() throws {
        let crypto = try Self.weCom()
        let good = "477715d11cdb4164915debcba66cb864d751f3e6"
        for index in [0, 20, 39] {
            var bytes = Array(good.utf8)
            bytes[index] = bytes[index] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            let bad = String(decoding: bytes, as: UTF8.self)
            let error = #expect(throws: WeChatCryptoError.self) {
                try crypto.decryptMessage(body: Self.weComBody, msgSignature: bad, timestamp: "1409659813", nonce: "1372623149")
            }
            #expect(error == .signatureMismatch)
            #expect(error?.code == -40001)
        }
        #expect(throws: WeChatCryptoError.signatureMismatch) {
            try crypto.decryptMessage(body: Self.weComBody, msgSignature: good, timestamp: "1409659814", nonce: "1372623149")
        }
    }

    /// One changed base64 character of `Encrypt`: the signature no longer matches, and even
    /// decrypting it without the check never yields the original message.
    @Test func tamperedCiphertextIsRejected() throws {
        let crypto = try Self.weCom()
        let original = Array(Self.weComEncrypt.utf8)
        // First block (random), a middle block, the last full block (padding) and the final character.
        for index in [0, 5, 200, original.count - 30, original.count - 3] {
            var bytes = original
            bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let tampered = String(decoding: bytes, as: UTF8.self)
            #expect(!crypto.verify(msgSignature: "477715d11cdb4164915debcba66cb864d751f3e6", timestamp: "1409659813", nonce: "1372623149", encrypt: tampered))
            let body = "<xml><Encrypt><![CDATA[\(tampered)]]></Encrypt></xml>"
            #expect(throws: WeChatCryptoError.signatureMismatch) {
                try crypto.decryptMessage(body: body, msgSignature: "477715d11cdb4164915debcba66cb864d751f3e6", timestamp: "1409659813", nonce: "1372623149")
            }
            let decrypted = try? crypto.decrypt(tampered)
            #expect(decrypted != Self.weComPlain)
        }
    }

    @Test func wrongReceiveIDIsRejected() throws {
        let other = try WeChatCrypto(token: "QDG6eK", encodingAESKey: Self.weComKey, receiveID: "wx5823bf96d3bd56c8")
        #expect(throws: WeChatCryptoError.receiveIDMismatch) { try other.decrypt(Self.echoB) }
        let prefix = try WeChatCrypto(token: "QDG6eK", encodingAESKey: Self.weComKey, receiveID: "wx5823bf96d3bd56c")
        #expect(throws: WeChatCryptoError.receiveIDMismatch) { try prefix.decrypt(Self.echoB) }
        let empty = try WeChatCrypto(token: "QDG6eK", encodingAESKey: Self.weComKey, receiveID: "")
        #expect(throws: WeChatCryptoError.receiveIDMismatch) { try empty.decrypt(Self.echoB) }
    }

    @Test func malformedCiphertextThrowsTheRightError() throws {
        let crypto = try Self.weCom()
        #expect(throws: WeChatCryptoError.base64DecodeFailed) { try crypto.decrypt("not base64!") }
        #expect(throws: WeChatCryptoError.base64DecodeFailed) { try crypto.decrypt("QUJD\nREVG") }
        #expect(throws: WeChatCryptoError.decryptFailed) { try crypto.decrypt("") }
        // 15 and 17 bytes: not whole AES blocks.
        #expect(throws: WeChatCryptoError.decryptFailed) { try crypto.decrypt(Data(repeating: 1, count: 15).base64EncodedString()) }
        #expect(throws: WeChatCryptoError.decryptFailed) { try crypto.decrypt(Data(repeating: 1, count: 17).base64EncodedString()) }
        #expect(throws: WeChatCryptoError.parseXMLFailed) {
            try crypto.decryptMessage(body: "<xml><ToUserName>x</ToUserName></xml>", msgSignature: "", timestamp: "", nonce: "")
        }
        #expect(throws: WeChatCryptoError.parseXMLFailed) {
            try crypto.decryptMessage(body: "<!DOCTYPE xml><xml/>", msgSignature: "", timestamp: "", nonce: "")
        }
    }

    /// Buffers that decrypt but are not WeChat's layout: each must throw -40008, never trap.
    @Test func malformedPlaintextIsIllegalBuffer() throws {
        let crypto = try Self.weCom()
        let random = [UInt8](repeating: 0x61, count: 16)
        let corp = Array(Self.weComCorpID.utf8)
        func block(_ body: [UInt8], pad: UInt8? = nil) -> [UInt8] {
            // Pads to 32 like WeChat unless a pad value is forced; then fills to a 16-byte multiple.
            var plain = body
            if let pad {
                while (plain.count + 1) % 16 != 0 { plain.append(0) }
                plain.append(pad)
            } else {
                let count = 32 - plain.count % 32
                plain += repeatElement(UInt8(count), count: count)
            }
            return plain
        }
        let cases: [(String, [UInt8])] = [
            ("pad byte 0", block(random + [0, 0, 0, 1, 0x41] + corp, pad: 0)),
            ("pad byte 33", block(random + [0, 0, 0, 1, 0x41] + corp, pad: 33)),
            ("pad byte 255", block(random + [0, 0, 0, 1, 0x41] + corp, pad: 255)),
            ("inconsistent padding", random + [0, 0, 0, 1, 0x41] + corp + [9, 9, 9, 9, 9, 9, 9, 3, 3]),
            ("pad longer than buffer", [UInt8](repeating: 32, count: 16)),
            ("shorter than random and length", block(Array(random.prefix(10)))),
            ("no length", block(random)),
            ("length larger than the buffer", block(random + [0, 0, 1, 0, 0x41] + corp)),
            ("length 2^32-1", block(random + [0xFF, 0xFF, 0xFF, 0xFF, 0x41] + corp)),
            ("message not UTF-8", block(random + [0, 0, 0, 2, 0xC3, 0x28] + corp)),
        ]
        for (name, plain) in cases {
            let sealed = try crypto.seal(plain)
            let error = #expect(throws: WeChatCryptoError.self, "\(name)") { try crypto.decrypt(sealed) }
            #expect(error == .illegalBuffer, "\(name)")
        }
        // A length that eats the receive ID leaves an empty one: the ID check catches that.
        let sealed = try crypto.seal(block(random + [0, 0, 0, 19] + Array("A".utf8) + corp))
        #expect(throws: WeChatCryptoError.receiveIDMismatch) { try crypto.decrypt(sealed) }
    }

    @Test func randomPrefixMustBe16Bytes() throws {
        let crypto = try Self.weCom()
        #expect(throws: WeChatCryptoError.encryptFailed) { try crypto.encrypt("x", random: [1, 2, 3]) }
        #expect(throws: WeChatCryptoError.encryptFailed) { try crypto.seal([1, 2, 3]) }
    }

    // MARK: Round trips and fuzzing

    /// Every length from 0 to 100 bytes, so that each pad value 1...32 (a whole block of 32s
    /// included) occurs; each decrypts back to the message.
    @Test func roundTripAllPadLengths() throws {
        let crypto = try Self.weCom()
        var pads = Set<Int>()
        for length in 0...100 {
            let message = String(repeating: "x", count: length)
            let plain = try WeChatCrypto.pack(message, random: Array(repeating: 7, count: 16), receiveID: Self.weComCorpID)
            #expect(plain.count % 32 == 0)
            pads.insert(Int(plain.last!))
            #expect(try crypto.decrypt(crypto.encrypt(message)) == message)
        }
        #expect(pads == Set(1...32))
    }

    /// The random prefix differs between calls, so equal replies do not encrypt alike.
    @Test func randomPrefixVaries() throws {
        let crypto = try Self.weCom()
        #expect(try crypto.encrypt("same") != crypto.encrypt("same"))
    }

    @Test func fuzzRandomCiphertextNeverTraps() throws {
        let crypto = try Self.weCom()
        var generator = WeChatFuzzGenerator(seed: 0x5EED_0001)
        let iterations = 3000
        var reached = 0
        for _ in 0..<iterations {
            let count = Int.random(in: 0...200, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half as base64 of random bytes, half as random text (mostly invalid base64).
            let input = Bool.random(using: &generator)
                ? Data(bytes).base64EncodedString()
                : String(decoding: bytes, as: UTF8.self)
            _ = try? crypto.decrypt(input)
            reached += 1
        }
        #expect(reached == iterations)
    }

    /// Random plaintexts sealed under the real key exercise the layout checks past AES.
    @Test func fuzzRandomPlaintextNeverTraps() throws {
        let crypto = try Self.weCom()
        var generator = WeChatFuzzGenerator(seed: 0x5EED_0002)
        let iterations = 3000
        var reached = 0
        var decrypted = 0
        for _ in 0..<iterations {
            let blocks = Int.random(in: 1...8, using: &generator)
            var plain = (0..<(blocks * 16)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Make the padding and a short length plausible often enough to reach the later checks.
            if Bool.random(using: &generator) { plain[plain.count - 1] = UInt8.random(in: 1...32, using: &generator) }
            if Bool.random(using: &generator), plain.count >= 20 { plain[16] = 0; plain[17] = 0; plain[18] = 0 }
            if (try? crypto.decrypt(crypto.seal(plain))) != nil { decrypted += 1 }
            reached += 1
        }
        #expect(reached == iterations)
        #expect(decrypted < iterations)
    }
}

/// A small seeded generator (SplitMix64) so that the fuzz loops are reproducible.
struct WeChatFuzzGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
