import Foundation
import HubChannels
import HubConfig
import HubModel
import HubRouting
import Testing

/// A configuration laid out in a temporary directory.
struct ConfigFixture {
    let root: URL

    init(channels: [String: String], rules: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hub-config-\(UUID().uuidString)")
        for (directory, files) in [("channels", channels), ("routing-rules", rules)] {
            let folder = root.appendingPathComponent(directory)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        }
    }

    func load(environment: [String: String] = ["API_SECRET": "s"]) -> ConfigLoadResult {
        defer { try? FileManager.default.removeItem(at: root) }
        return ConfigLoader(schemas: [TestSchemas.api], environment: environment)
            .load(channelsDirectory: root.appendingPathComponent("channels").path, routingRulesDirectory: root.appendingPathComponent("routing-rules").path)
    }
}

/// The `api` kind's schema as the tests need it (the real one lives in HubChannels).
enum TestSchemas {
    struct Options: ChannelOptions { var url: String? }

    static let api = ChannelKindSchema(kind: .api, requiredSecrets: ["signingSecret"], optionalSecrets: ["inboundToken"]) { options, _ in
        var result = Options()
        for (key, node) in options?.entries ?? [] {
            if key == "outboundURL" { result.url = node.string } else { node.error("unknown option '\(key)'") }
        }
        return result
    }
}

let minimalRules = """
    skills:
      - id: billing
    queues:
      - id: support
    agents:
      - id: alice
        name: Alice
        skills: { billing: 5 }
        queues: { support: 1 }
    """

let minimalChannel = """
    kind: api
    id: api-demo
    queue: support
    secrets:
      signingSecret: API_SECRET
    """

@Suite("Configuration loading")
struct ConfigLoaderTests {
    @Test("the sample configuration in the repository loads without errors")
    func sampleConfiguration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // Every kind this build ships, as the hub loads them.
        let result = ConfigLoader(schemas: ChannelCatalog.schemas, environment: [:])
            .load(channelsDirectory: root.appendingPathComponent("channels").path, routingRulesDirectory: root.appendingPathComponent("routing-rules").path)
        #expect(result.errors.isEmpty, "\(result.errors)")
        let configuration = try #require(result.configuration)
        #expect(configuration.channels.count >= 1)
        #expect(configuration.routing.queues.contains { $0.id == "support" })
        #expect(configuration.routing.agents.count >= 3)
        // Without the secret variables, accounts that need one load but stay inactive, with a
        // warning each. The e-mail account and the SIP trunk need none: they receive on the hub's
        // own listeners (the relay password and the trunk's digest password are optional).
        let ownListeners: Set<ChannelKind> = [.email, .voice]
        let needSecrets = configuration.channels.filter { !ownListeners.contains($0.kind) }
        #expect(needSecrets.allSatisfy { !$0.isActive })
        #expect(result.warnings.count >= needSecrets.count)
        let listening = configuration.channels.filter { ownListeners.contains($0.kind) }
        #expect(Set(listening.map(\.kind)) == ownListeners && listening.allSatisfy(\.isActive))
    }

    @Test("a valid configuration reads into typed values")
    func typedValues() throws {
        let channel = """
            kind: api
            id: api-demo
            name: Demo
            queue: support
            priority: 5
            defaultRegion: cn
            secrets:
              signingSecret: API_SECRET
              inboundToken: API_TOKEN
            options:
              outboundURL: http://127.0.0.1:9/x
            delivery:
              maxAttempts: 3
              initialBackoff: 500ms
              maxBackoff: 1h30m
            """
        let rules = """
            skills: [billing, { id: lang-zh, name: Chinese }]
            queues:
              - id: support
                channels: [api, voice]
                strategy: { voice: ringAll, default: leastActive }
                serviceLevel: { voice: 15s, messaging: { within: 2m, percent: 90 } }
            agents:
              - id: alice
                login: Alice.W
                name: Alice
                role: admin
                email: Alice@Example.com
                sip: sip:alice@pbx.example
                skills: { billing: 10, lang-zh: 1 }
                queues:
                  support: { tier: 2, position: 3 }
                capacity: { voice: 0, messaging: 6 }
            """
        let result = try ConfigFixture(channels: ["api.yaml": channel], rules: ["rules.yml": rules]).load(environment: ["API_SECRET": "s3", "API_TOKEN": "t"])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let configuration = try #require(result.configuration)
        let account = try #require(configuration.channel("api-demo"))
        #expect(account.kind == .api)
        #expect(account.priority == 5)
        #expect(account.defaultRegion == "CN")
        #expect(account.identityScope == "api-demo")
        #expect(account.secrets["signingSecret"]?.value == "s3")
        #expect(account.secrets["signingSecret"]?.description == "<secret from $API_SECRET>")
        #expect(account.isActive)
        #expect((account.options as? TestSchemas.Options)?.url == "http://127.0.0.1:9/x")
        #expect(account.delivery.maxAttempts == 3)
        #expect(account.delivery.initialBackoff == .milliseconds(500))
        #expect(account.delivery.maxBackoff == .seconds(5400))
        let queue = try #require(configuration.routing.queue("support"))
        #expect(queue.channels == [.api, .voice])
        #expect(queue.policy.strategy == PerMedium(voice: .ringAll, messaging: .leastActive, email: .leastActive))
        #expect(queue.policy.serviceLevel[.voice] == ServiceLevelTarget(threshold: .seconds(15), percent: 80))
        #expect(queue.policy.serviceLevel[.messaging] == ServiceLevelTarget(threshold: .seconds(120), percent: 90))
        #expect(configuration.routing.skills.map(\.id) == ["billing", "lang-zh"])
        let alice = try #require(configuration.routing.agents.first?.agent)
        #expect(alice.login == "Alice.W")
        #expect(alice.role == .admin)
        #expect(alice.email == "alice@example.com")
        #expect(alice.sipAddress == "sip:alice@pbx.example")
        #expect(alice.skills == ["billing": 10, "lang-zh": 1])
        #expect(alice.queues == [QueueMembership(queueID: "support", tier: 2, position: 3)])
        #expect(alice.capacity == [.voice: 0, .messaging: 6, .email: 5])
    }

    /// One broken input and the diagnostic it must produce: file, line, column, and words.
    struct BrokenCase: CustomTestStringConvertible, Sendable {
        var name: String
        var channel: String = minimalChannel
        var rules: String = minimalRules
        var file: String
        var line: Int
        var column: Int
        var mentions: [String]
        var testDescription: String { name }
    }

    static let brokenCases: [BrokenCase] = [
        BrokenCase(name: "YAML syntax", channel: "kind: api\nid: [unclosed\n", file: "channels/a.yaml", line: 3, column: 1, mentions: ["YAML syntax error"]),
        BrokenCase(name: "misspelt key", channel: minimalChannel + "\nqeue: support\n", file: "channels/a.yaml", line: 6, column: 1, mentions: ["unknown key 'qeue'", "did you mean 'queue'"]),
        BrokenCase(name: "unknown kind", channel: minimalChannel.replacingOccurrences(of: "kind: api", with: "kind: fax"), file: "channels/a.yaml", line: 1, column: 7, mentions: ["unknown channel kind 'fax'"]),
        BrokenCase(name: "kind without adapter", channel: minimalChannel.replacingOccurrences(of: "kind: api", with: "kind: sms"), file: "channels/a.yaml", line: 1, column: 7, mentions: ["not supported by this build", "api"]),
        BrokenCase(name: "inline secret", channel: minimalChannel.replacingOccurrences(of: "signingSecret: API_SECRET", with: "signingSecret: hunter2-value"), file: "channels/a.yaml", line: 5, column: 18, mentions: ["never inline", "'hun…'"]),
        BrokenCase(name: "missing required secret", channel: "kind: api\nid: api-demo\n", file: "channels/a.yaml", line: 1, column: 1, mentions: ["missing required secret 'signingSecret'"]),
        BrokenCase(name: "bad id", channel: minimalChannel.replacingOccurrences(of: "id: api-demo", with: "id: Api Demo"), file: "channels/a.yaml", line: 2, column: 5, mentions: ["'Api Demo' is not a valid id"]),
        BrokenCase(name: "unknown queue on account", channel: minimalChannel.replacingOccurrences(of: "queue: support", with: "queue: suport"), file: "channels/a.yaml", line: 3, column: 8, mentions: ["unknown queue 'suport'", "did you mean 'support'"]),
        BrokenCase(name: "bad region", channel: minimalChannel + "\ndefaultRegion: XX\n", file: "channels/a.yaml", line: 6, column: 16, mentions: ["unknown region 'XX'"]),
        BrokenCase(name: "bad duration", channel: minimalChannel + "\ndelivery:\n  maxBackoff: soon\n", file: "channels/a.yaml", line: 7, column: 15, mentions: ["expected a duration", "'soon'"]),
        BrokenCase(name: "backoff order", channel: minimalChannel + "\ndelivery:\n  initialBackoff: 1m\n  maxBackoff: 10s\n", file: "channels/a.yaml", line: 7, column: 3, mentions: ["maxBackoff (10s) is shorter than initialBackoff (1m)"]),
        BrokenCase(name: "option rejected by the kind", channel: minimalChannel + "\noptions:\n  colour: red\n", file: "channels/a.yaml", line: 7, column: 11, mentions: ["unknown option 'colour'"]),
        BrokenCase(name: "unknown skill on agent", rules: minimalRules.replacingOccurrences(of: "{ billing: 5 }", with: "{ billing: 5, biling: 3 }"), file: "routing-rules/r.yaml", line: 8, column: 35, mentions: ["unknown skill 'biling'", "did you mean 'billing'"]),
        BrokenCase(name: "skill level out of range", rules: minimalRules.replacingOccurrences(of: "{ billing: 5 }", with: "{ billing: 11 }"), file: "routing-rules/r.yaml", line: 8, column: 24, mentions: ["agents[0].skills.billing", "11 is out of range (1...10)"]),
        BrokenCase(name: "unknown queue on agent", rules: minimalRules.replacingOccurrences(of: "{ support: 1 }", with: "{ sales: 1 }"), file: "routing-rules/r.yaml", line: 9, column: 22, mentions: ["unknown queue 'sales'"]),
        BrokenCase(name: "unknown strategy", rules: minimalRules.replacingOccurrences(of: "  - id: support", with: "  - id: support\n    strategy: fastest"), file: "routing-rules/r.yaml", line: 5, column: 15, mentions: ["unknown strategy 'fastest'"]),
        BrokenCase(name: "missing agent name", rules: minimalRules.replacingOccurrences(of: "    name: Alice\n", with: ""), file: "routing-rules/r.yaml", line: 6, column: 5, mentions: ["agents[0]", "missing required key 'name'"]),
        BrokenCase(name: "duplicate queue", rules: minimalRules.replacingOccurrences(of: "  - id: support", with: "  - id: support\n  - id: support"), file: "routing-rules/r.yaml", line: 5, column: 5, mentions: ["duplicate queue id 'support'", "first defined at"]),
        BrokenCase(name: "list where a mapping belongs", rules: "queues:\n  id: support\n", file: "routing-rules/r.yaml", line: 2, column: 3, mentions: ["expected a list"]),
    ]

    @Test("every mistake is reported with file, line, column and what is wrong", arguments: brokenCases)
    func broken(_ broken: BrokenCase) throws {
        let result = try ConfigFixture(channels: ["a.yaml": broken.channel], rules: ["r.yaml": broken.rules]).load()
        #expect(result.configuration == nil)
        let errors = result.errors
        let match = errors.first { error in
            error.location.file.hasSuffix(broken.file) && error.location.line == broken.line
                && broken.mentions.allSatisfy { error.description.contains($0) }
        }
        #expect(match != nil, "no error at \(broken.file):\(broken.line) mentioning \(broken.mentions); got \(errors.map(\.description))")
        if let match { #expect(match.location.column == broken.column, "\(match)") }
    }

    @Test("an unset secret variable is a warning, and the account is inactive with a reason")
    func unsetSecret() throws {
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel], rules: ["r.yaml": minimalRules]).load(environment: [:])
        let configuration = try #require(result.configuration)
        #expect(result.errors.isEmpty)
        #expect(result.warnings.map(\.description) == [
            "\(result.warnings[0].location.file):5:18: warning: secrets.signingSecret: environment variable API_SECRET is not set: the account stays inactive until it is"
        ])
        #expect(configuration.channels[0].inactiveReason == "channel account 'api-demo' is missing secret: signingSecret (set API_SECRET)")
    }

    @Test("several files are checked across: duplicate ids and logins between files")
    func acrossFiles() throws {
        let second = """
            agents:
              - id: alice
                name: Another Alice
              - id: bob
                login: ALICE
                name: Bob
            """
        let result = try ConfigFixture(channels: ["a.yaml": minimalChannel, "b.yaml": minimalChannel], rules: ["r.yaml": minimalRules, "s.yaml": second]).load()
        let messages = result.errors.map(\.description)
        #expect(messages.contains { $0.contains("s.yaml:2:5") && $0.contains("duplicate agent id 'alice'") && $0.contains("r.yaml:6:5") })
        #expect(messages.contains { $0.contains("s.yaml:5:12") && $0.contains("login 'ALICE' is already used") })
        #expect(messages.contains { $0.contains("b.yaml:1:1") && $0.contains("duplicate channel account id 'api-demo'") })
    }

    @Test("a missing directory is an error; an empty channels directory a warning")
    func directories() {
        let missing = ConfigLoader(schemas: [TestSchemas.api], environment: [:]).load(channelsDirectory: "/nonexistent/channels", routingRulesDirectory: "/nonexistent/rules")
        #expect(missing.errors.map(\.description) == [
            "/nonexistent/channels: error: the channel accounts directory does not exist",
            "/nonexistent/rules: error: the routing rules directory does not exist",
        ])
    }

    @Test("durations", arguments: [("30s", 30_000), ("250ms", 250), ("5m", 300_000), ("4h", 14_400_000), ("1h30m", 5_400_000), ("2d", 172_800_000), ("45", 45_000)])
    func durations(text: String, milliseconds: Int64) throws {
        let duration = try #require(ConfigDuration.parse(text))
        #expect(duration == .milliseconds(milliseconds))
        #expect(ConfigDuration.parse(ConfigDuration.format(duration)) == duration)
    }

    @Test("not durations", arguments: ["", "s", "5 minutes", "-5s", "1.5h", "5x", "h5"])
    func notDurations(text: String) {
        #expect(ConfigDuration.parse(text) == nil)
    }
}

@Suite("Agents' SIP phones in the configuration")
struct AgentPhoneConfigTests {
    static func rules(_ agent: String) -> String {
        """
        queues:
          - id: support
        agents:
          - id: alice
            name: Alice
            queues: { support: 1 }
        \(agent.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    @Test("sip with sipPassword (from the environment) and sipContact: the phone; the password never inline; a phone needs a sip address")
    func phones() throws {
        let good = try ConfigFixture(
            channels: ["api.yaml": minimalChannel],
            rules: ["agents.yaml": Self.rules("sip: sip:Alice@Switchboard.test\nsipPassword: ALICE_SIP\nsipContact: sip:alice@192.0.2.5:5062")])
            .load(environment: ["API_SECRET": "s", "ALICE_SIP": "pw"])
        let phone = try #require(good.configuration?.routing.agents.first?.phone)
        #expect(phone.addressOfRecord == "sip:Alice@switchboard.test", "the user part as written (digest user names are case-sensitive)")
        #expect(phone.password?.value == "pw" && phone.password?.variable == "ALICE_SIP")
        #expect(phone.staticContact == "sip:alice@192.0.2.5:5062")

        let unset = try ConfigFixture(channels: ["api.yaml": minimalChannel], rules: ["agents.yaml": Self.rules("sip: sip:alice@switchboard.test\nsipPassword: ALICE_SIP")])
            .load()
        #expect(unset.configuration?.routing.agents.first?.phone?.password == nil)
        #expect(unset.diagnostics.contains { $0.severity == .warning && $0.message.contains("ALICE_SIP is not set") })

        let inline = try ConfigFixture(channels: ["api.yaml": minimalChannel], rules: ["agents.yaml": Self.rules("sip: sip:alice@switchboard.test\nsipPassword: hunter2")])
            .load()
        #expect(inline.configuration == nil)
        #expect(inline.diagnostics.contains { $0.severity == .error && $0.message.contains("never inline") })

        let twice = try ConfigFixture(
            channels: ["api.yaml": minimalChannel],
            rules: ["agents.yaml": """
                queues:
                  - id: support
                agents:
                  - { id: a1, name: A1, queues: [support], sip: "sip:front@sales.example", sipPassword: P1 }
                  - { id: a2, name: A2, queues: [support], sip: "sip:front@support.example", sipPassword: P2 }
                """]).load(environment: ["API_SECRET": "s", "P1": "x", "P2": "y"])
        #expect(twice.configuration == nil)
        #expect(twice.diagnostics.contains { $0.severity == .error && $0.message.contains("'front' is already another agent's phone") })

        let orphan = try ConfigFixture(channels: ["api.yaml": minimalChannel], rules: ["agents.yaml": Self.rules("sipPassword: ALICE_SIP")]).load()
        #expect(orphan.diagnostics.contains { $0.severity == .error && $0.message.contains("needs the agent's 'sip' address") })
    }
}
