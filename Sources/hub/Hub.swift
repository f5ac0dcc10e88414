import ArgumentParser
import Metrics
import Prometheus
import CHubProcess
import Foundation
import HubConfig
import HubEngine
import HubModel
import HubRouting
import HubServer
import HubStore
import SIPCore
import Logging

@main
struct Hub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Switchboard: the omnichannel conversation hub.",
        discussion: """
            Every option may also be set by its environment variable (HUB_HTTP, HUB_DATA, ...); a flag wins over \
            the environment. Secrets are never flags: channel secrets come from the variables named in channels/*.yaml, \
            the admin API token from HUB_ADMIN_TOKEN, and agents' passwords are typed (hub set-password) or sent by an \
            admin over the API.
            """,
        subcommands: [Serve.self, Migrate.self, CheckConfig.self, Simulate.self, SetPassword.self],
        defaultSubcommand: Serve.self)

    /// First the restart with huge pages for malloc (the router's state is large and read at
    /// random; `HUB_HUGE_PAGES=0` turns it off), then the command.
    static func main() async {
        chub_restart_with_huge_pages(UnsafePointer(CommandLine.unsafeArgv))
        await main(nil)
    }
}

/// Where configuration is read from.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("channels"), help: "Directory of channel account files (env HUB_CHANNELS).")
    var channels: String?

    @Option(name: .customLong("routing-rules"), help: "Directory of routing rule files (env HUB_ROUTING_RULES).")
    var routingRules: String?

    var channelsDirectory: String { channels ?? Environment.value("HUB_CHANNELS") ?? "channels" }
    var routingRulesDirectory: String { routingRules ?? Environment.value("HUB_ROUTING_RULES") ?? "routing-rules" }
}

/// Logging options.
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env HUB_LOG_LEVEL).")
    var level: String?

    @Option(name: .customLong("log-format"), help: "logfmt or json (env HUB_LOG_FORMAT).")
    var format: String?

    func bootstrap() throws -> Logger {
        let levelText = level ?? Environment.value("HUB_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError("unknown log level '\(levelText)' (use trace, debug, info, notice, warning, error or critical)")
        }
        let formatText = format ?? Environment.value("HUB_LOG_FORMAT") ?? "logfmt"
        guard let format = StructuredLogHandler.Format(rawValue: formatText.lowercased()) else {
            throw ValidationError("unknown log format '\(formatText)' (use logfmt or json)")
        }
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
        var logger = Logger(label: "hub")
        logger.logLevel = level
        return logger
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the hub (the default command).")

    @Option(name: .customLong("http"), help: "HTTP listen address host:port (env HUB_HTTP; default 127.0.0.1:8080).")
    var http: String?

    @Option(name: .customLong("data"), help: "Data directory; the database is <data>/hub.sqlite (env HUB_DATA; default ./data).")
    var data: String?

    @Option(name: .customLong("durability"), help: "full (sync every commit; survives power loss) or normal (survives a crash) (env HUB_DURABILITY).")
    var durability: String?

    @Option(
        name: .customLong("commit-window"),
        help: "Milliseconds between the starts of two store transactions while writes come from many callers at once; 0: none (env HUB_COMMIT_WINDOW; default 8).")
    var commitWindow: String?

    @Option(name: .customLong("smtp"), help: "SMTP listen address host:port for e-mail accounts (env HUB_SMTP; default 127.0.0.1:2525).")
    var smtp: String?

    @Option(name: .customLong("sip"), help: "SIP listen address host:port (UDP and TCP) for agents' phones (env HUB_SIP; default 127.0.0.1:5060).")
    var sip: String?

    @Option(name: .customLong("default-region"), help: "ISO 3166 region for national phone numbers when an account sets none (env HUB_DEFAULT_REGION).")
    var defaultRegion: String?

    @OptionGroup var config: ConfigOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = try log.bootstrap()
        var configuration = try serverConfiguration()
        let result = HubServer.loadConfiguration(configuration)
        for diagnostic in result.diagnostics {
            if diagnostic.severity == .error {
                logger.error("configuration error", metadata: ["at": "\(diagnostic.location)", "key": "\(diagnostic.path)", "problem": "\(diagnostic.message)"])
            } else {
                logger.warning("configuration warning", metadata: ["at": "\(diagnostic.location)", "key": "\(diagnostic.path)", "problem": "\(diagnostic.message)"])
            }
        }
        guard let hubConfiguration = result.configuration else {
            logger.critical("not starting: the configuration has errors (run `hub check-config` to list them)")
            throw ExitCode(2)
        }
        if let token = Environment.value("HUB_ADMIN_TOKEN") {
            configuration.adminToken = Secret(variable: "HUB_ADMIN_TOKEN", value: token)
        } else {
            logger.notice("no admin token: agents log in, integrations need HUB_ADMIN_TOKEN")
        }
        if let token = Environment.value("HUB_METRICS_TOKEN") { configuration.scrapeToken = Secret(variable: "HUB_METRICS_TOKEN", value: token) }
        do {
            let server = try await HubServer(configuration: configuration, hubConfiguration: hubConfiguration, logger: logger)
            // HTTP requests and anything else reported through swift-metrics, beside the figures at /metrics.
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: server.exporter.registry))
            try await server.run()
        } catch let error as StoreError {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    func serverConfiguration() throws -> HubServerConfiguration {
        var configuration = HubServerConfiguration()
        let address = http ?? Environment.value("HUB_HTTP") ?? "127.0.0.1:8080"
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--http must be host:port, such as 127.0.0.1:8080 or 0.0.0.0:80 (got '\(address)')")
        }
        configuration.httpHost = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        configuration.httpPort = port
        configuration.dataDirectory = data ?? Environment.value("HUB_DATA") ?? "data"
        let durabilityText = durability ?? Environment.value("HUB_DURABILITY") ?? "full"
        guard let durability = SQLiteStore.Durability(rawValue: durabilityText) else {
            throw ValidationError("--durability must be full or normal (got '\(durabilityText)')")
        }
        configuration.durability = durability
        if let text = commitWindow ?? Environment.value("HUB_COMMIT_WINDOW") {
            guard let milliseconds = Double(text), (0...1000).contains(milliseconds) else {
                throw ValidationError("--commit-window is a number of milliseconds from 0 to 1000 (got '\(text)')")
            }
            configuration.commitWindow = .microseconds(Int(milliseconds * 1000))
        }
        configuration.engine.defaultRegion = defaultRegion ?? Environment.value("HUB_DEFAULT_REGION")
        configuration.channelsDirectory = config.channelsDirectory
        configuration.routingRulesDirectory = config.routingRulesDirectory
        if let text = Environment.value("HUB_SESSION_TTL") {
            guard let seconds = Int(text), seconds >= 60 else { throw ValidationError("HUB_SESSION_TTL is a number of seconds, at least 60") }
            configuration.auth.sessionLifetime = .seconds(seconds)
        }
        if let text = Environment.value("HUB_BCRYPT_COST") {
            guard let cost = UInt8(text), (4...31).contains(cost) else { throw ValidationError("HUB_BCRYPT_COST is 4 to 31") }
            configuration.auth.bcryptCost = cost
        }
        (configuration.smtp.host, configuration.smtp.port) = try Self.listenAddress(
            smtp ?? Environment.value("HUB_SMTP") ?? "127.0.0.1:2525", option: "--smtp", examples: "127.0.0.1:2525 or 0.0.0.0:25")
        if let name = Environment.value("HUB_SMTP_HOSTNAME") { configuration.smtp.hostname = name }
        if let text = Environment.value("HUB_SMTP_MAX_SIZE") {
            guard let bytes = Int(text), bytes >= 1024 else { throw ValidationError("HUB_SMTP_MAX_SIZE is a number of bytes, at least 1024") }
            configuration.smtp.maximumMessageSize = bytes
        }
        configuration.smtp.certificatePath = Environment.value("HUB_SMTP_TLS_CERT")
        configuration.smtp.privateKeyPath = Environment.value("HUB_SMTP_TLS_KEY")
        if (configuration.smtp.certificatePath == nil) != (configuration.smtp.privateKeyPath == nil) {
            throw ValidationError("STARTTLS needs both HUB_SMTP_TLS_CERT and HUB_SMTP_TLS_KEY (PEM files)")
        }
        configuration.smtp.requireTLS = Environment.value("HUB_SMTP_REQUIRE_TLS") == "1"
        if configuration.smtp.requireTLS, configuration.smtp.certificatePath == nil {
            throw ValidationError("HUB_SMTP_REQUIRE_TLS=1 needs HUB_SMTP_TLS_CERT and HUB_SMTP_TLS_KEY: without them no mail could be accepted")
        }
        if let text = Environment.value("HUB_SMTP_MAX_SPOOLED") {
            guard let mails = Int(text), (1...10_000_000).contains(mails) else { throw ValidationError("HUB_SMTP_MAX_SPOOLED is 1 to 10000000 mails") }
            configuration.smtp.maximumSpooled = mails
        }
        if let text = Environment.value("HUB_SMTP_PROCESSING_DELAY_MS") {
            guard let milliseconds = Int(text), (0...600_000).contains(milliseconds) else {
                throw ValidationError("HUB_SMTP_PROCESSING_DELAY_MS is 0 to 600000 milliseconds")
            }
            configuration.smtp.maximumProcessingDelay = .milliseconds(milliseconds)
        }
        if let text = Environment.value("HUB_SMTP_THREADS") {
            guard let threads = Int(text), (1...64).contains(threads) else { throw ValidationError("HUB_SMTP_THREADS is 1 to 64") }
            configuration.smtp.eventLoopThreads = threads
        }
        (configuration.sip.host, configuration.sip.port) = try Self.listenAddress(
            sip ?? Environment.value("HUB_SIP") ?? "127.0.0.1:5060", option: "--sip", examples: "127.0.0.1:5060 or 0.0.0.0:5060")
        configuration.sip.realm = Environment.value("HUB_SIP_REALM")
        configuration.sip.advertisedHost = Environment.value("HUB_SIP_ADVERTISE")
        for (name, path) in [("HUB_SIP_MAX_IN_PROGRESS", \HubServerConfiguration.SIP.maximumInProgress), ("HUB_SIP_MAX_WAITING", \.maximumWaiting)] {
            guard let text = Environment.value(name) else { continue }
            guard let limit = Int(text), (0...1_000_000).contains(limit) else { throw ValidationError("\(name) is a number from 0 to 1000000") }
            configuration.sip[keyPath: path] = limit
            if limit == 0 { FileHandle.standardError.write(Data("warning: \(name)=0: every SIP request over TCP is refused with 503, over UDP dropped\n".utf8)) }
        }
        if let text = Environment.value("HUB_SIP_UDP_BUFFER") {
            guard let bytes = Int(text), (0...(1 << 30)).contains(bytes) else { throw ValidationError("HUB_SIP_UDP_BUFFER is a number of bytes from 0 to 1073741824") }
            configuration.sip.receiveBufferSize = bytes
        }
        if let text = Environment.value("HUB_SIP_PEER_RATE") {
            guard let rate = Int(text), (0...10_000_000).contains(rate) else { throw ValidationError("HUB_SIP_PEER_RATE is a number of messages per second from 0 (no limit) to 10000000") }
            configuration.sip.peerRate = rate
        }
        if let text = Environment.value("HUB_SIP_DIGEST") {
            let algorithms = text.split(separator: ",").map { name in
                SIPDigestAlgorithm.allCases.first { $0.rawValue.lowercased() == name.trimmingCharacters(in: .whitespaces).lowercased() }
            }
            guard !algorithms.isEmpty, !algorithms.contains(nil) else { throw ValidationError("HUB_SIP_DIGEST lists MD5 and/or SHA-256, such as SHA-256,MD5") }
            configuration.sip.digestAlgorithms = algorithms.compactMap { $0 }
        }
        if let text = Environment.value("HUB_CHECKPOINT_INTERVAL_MS") {
            guard let milliseconds = Int(text), (10...60_000).contains(milliseconds) else {
                throw ValidationError("HUB_CHECKPOINT_INTERVAL_MS is 10 to 60000 milliseconds")
            }
            configuration.checkpointInterval = .milliseconds(milliseconds)
        }
        return configuration
    }
}

struct SetPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-password",
        abstract: "Set an agent's password (read from the terminal, or one line of standard input), then exit.",
        discussion: "The hub must be stopped (one process per database); on a running hub an admin uses POST /v1/agents/{id}/password.")

    @Argument(help: "The agent's id, as in routing-rules/.")
    var agent: String

    @Option(name: .customLong("data"), help: "Data directory (env HUB_DATA; default ./data).")
    var data: String?

    @OptionGroup var config: ConfigOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = try log.bootstrap()
        var configuration = HubServerConfiguration()
        configuration.dataDirectory = data ?? Environment.value("HUB_DATA") ?? "data"
        configuration.channelsDirectory = config.channelsDirectory
        configuration.routingRulesDirectory = config.routingRulesDirectory
        if let text = Environment.value("HUB_BCRYPT_COST"), let cost = UInt8(text), (4...31).contains(cost) { configuration.auth.bcryptCost = cost }
        let result = HubServer.loadConfiguration(configuration)
        guard let hubConfiguration = result.configuration else {
            for diagnostic in result.errors { print(diagnostic) }
            throw ExitCode(2)
        }
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            guard let typed = getpass("Password for \(agent): ").map({ String(cString: $0) }), !typed.isEmpty else { throw ExitCode(1) }
            password = typed
        } else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("give the password on standard input")
            }
            password = line
        }
        let server = try await HubServer(configuration: configuration, hubConfiguration: hubConfiguration, logger: logger)
        do {
            try await server.engine.auth.setPassword(password, for: Agent.ID(agent), actor: .admin)
        } catch let error as InboxError {
            print("error: \(error.message)")
            throw ExitCode(1)
        }
        print("password set for \(agent)")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema, then exit.")

    @Option(name: .customLong("data"), help: "Data directory (env HUB_DATA; default ./data).")
    var data: String?

    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = try log.bootstrap()
        var configuration = HubServerConfiguration()
        configuration.dataDirectory = data ?? Environment.value("HUB_DATA") ?? "data"
        let store = try SQLiteStore(configuration: .init(path: configuration.databasePath))
        try await store.migrate()
        logger.info("database is up to date", metadata: ["database": "\(configuration.databasePath)"])
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate channels/ and routing-rules/; print every problem with file and line.")

    @OptionGroup var config: ConfigOptions

    @Flag(help: "Treat warnings (such as unset secret variables) as errors.")
    var strict = false

    func run() throws {
        var configuration = HubServerConfiguration()
        configuration.channelsDirectory = config.channelsDirectory
        configuration.routingRulesDirectory = config.routingRulesDirectory
        let result = HubServer.loadConfiguration(configuration)
        for diagnostic in result.diagnostics { print(diagnostic) }
        let failed = !result.errors.isEmpty || (strict && !result.warnings.isEmpty)
        if let hub = result.configuration {
            let rules = hub.routing
            print(
                "\(hub.channels.count) channel account(s), \(rules.skills.count) skill(s), \(rules.queues.count) queue(s), "
                    + "\(rules.agents.count) agent(s); \(result.errors.count) error(s), \(result.warnings.count) warning(s)")
        } else {
            print("\(result.errors.count) error(s), \(result.warnings.count) warning(s)")
        }
        if failed { throw ExitCode(1) }
    }
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario through the router on a virtual clock; print service level, speed of answer, abandonment, occupancy.",
        discussion: "The same scenario and seed give byte-identical output. See docs/routing.md for the scenario format.")

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(help: "Overrides the scenario's seed.")
    var seed: UInt64?

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: scenario), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read \(scenario)")
        }
        let (parsed, diagnostics) = ScenarioReader.read(file: scenario, text: text)
        for diagnostic in diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
        guard var scenario = parsed else { throw ExitCode(1) }
        if let seed { scenario.seed = seed }
        let report: SimulationReport
        do {
            report = try Simulator.run(scenario)
        } catch {
            FileHandle.standardError.write(Data("simulation failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print(json ? report.json : report.table)
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

extension Serve {
    /// `host:port` (an IPv6 host in brackets), the port 0 to 65535.
    static func listenAddress(_ text: String, option: String, examples: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(option) must be host:port, such as \(examples) (got '\(text)')")
        }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }
}
