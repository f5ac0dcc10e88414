import ArgumentParser
import AsyncHTTPClient
import BenchmarkSupport
import Foundation
import GRDB
import HubModel
import HubRouting
import HubStore
import NIOCore
import NIOHTTP1

/// `GET /v1/metrics/channels` over a 30-day window holding a million events, against a release hub
/// process. The benchmark writes a month of contact-center traffic into a fresh hub's event log
/// (contacts on seven channels through six queues and sixty agents on shifts: arrivals, offers,
/// assignments, replies with delivery reports, abandons, transfers, wrap-ups, tickets, surveys,
/// SLA breaches), starts the hub, which counts the whole log into its aggregates (timed), then
/// times reports over the month in several groupings.
@main
struct MetricsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub-metrics-bench", abstract: "Time metrics reports over a month of events.")

    @Option(help: "The hub executable (build it with `swift build -c release --product hub`).")
    var hub: String = ".build/release/hub"

    @Option(help: "Events to write (at least).")
    var events: Int = 1_000_000

    @Option(help: "Days the events span.")
    var days: Int = 30

    @Option(help: "Timed requests per report shape.")
    var requests: Int = 50

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    static let start = HubJSON.parseTimestamp("2026-11-01T00:00:00Z")!

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hub-metrics-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try writeConfiguration(scratch)
        let environment = ["BENCH_SIGNING_SECRET": "bench-secret", "HUB_ADMIN_TOKEN": "bench-admin"]

        // A first start creates the database; the hub stops before the log is written.
        let first = try HubUnderTest(binary: hub, scratch: scratch, durability: "normal", environment: environment, logLevel: "info")
        _ = try await first.waitUntilListening()
        first.stop(signal: SIGTERM)
        try await first.waitForExit()

        let clock = ContinuousClock()
        let writing = clock.now
        let database = scratch.appendingPathComponent("data/hub.sqlite").path
        var traffic = Traffic(days: days, minimumEvents: events)
        let written = try traffic.write(to: database)
        let writeTime = writing.duration(to: clock.now)
        log("wrote \(written.events) events (\(written.contacts) contacts) in \(writeTime)")

        let server = try HubUnderTest(binary: hub, scratch: scratch, durability: "normal", environment: environment, logLevel: "info")
        defer { server.stop(signal: SIGKILL) }
        let listening = clock.now
        let base = try await server.waitUntilListening()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        let end = Self.start.addingTimeInterval(Double(days) * 86_400)
        let month = "from=\(HubJSON.formatTimestamp(Self.start))&to=\(HubJSON.formatTimestamp(end))"

        // The hub counts the log at start: wait until the month's offered contacts are all there.
        var projected = 0
        while projected < written.contacts {
            let body = try await get(http, base + "/v1/metrics/channels?\(month)&groupBy=")
            projected = Int(try Self.total(body, "offered"))
            if projected < written.contacts { try await Task.sleep(for: .milliseconds(200)) }
            if listening.duration(to: clock.now) > .seconds(1800) { throw HubUnderTest.Failure("the hub did not count the log in 30 minutes") }
        }
        let projectionTime = listening.duration(to: clock.now)
        log("the hub counted \(written.events) events in \(projectionTime) (from listening)")

        var rows: [Row] = []
        for (name, query) in [
            ("total", "groupBy="), ("by channel", "groupBy=channel"), ("by channel and queue", "groupBy=channel,queue"),
            ("by agent", "groupBy=agent"), ("by channel and day", "groupBy=channel,day"), ("by channel and hour", "groupBy=channel,hour"),
            ("by channel and hour, 4 figures", "groupBy=channel,hour&figures=offered,handled,abandoned,serviceLevel"),
            ("by channel, CSV", "groupBy=channel&format=csv"),
            ("last 60 minutes by channel", "minutes=60&to=\(HubJSON.formatTimestamp(end))&groupBy=channel"),
            ("an odd window (09:17-17:43 on 20 days)", "from=2026-11-03T09:17:00Z&to=2026-11-23T17:43:00Z&groupBy=channel,queue"),
        ] {
            let url = base + "/v1/metrics/channels?" + (query.hasPrefix("minutes") || query.hasPrefix("from") ? query : "\(month)&\(query)")
            var bytes = 0
            for _ in 0..<5 { bytes = try await get(http, url).readableBytes }
            var times: [Double] = []
            for _ in 0..<requests {
                let began = clock.now
                _ = try await get(http, url)
                let elapsed = began.duration(to: clock.now)
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            times.sort()
            rows.append(Row(report: name, bytes: bytes, p50: percentile(times, 0.5), p90: percentile(times, 0.9), max: times.last ?? 0))
        }
        let rss = server.statusKilobytes("VmRSS") ?? 0
        let size = (try? FileManager.default.attributesOfItem(atPath: database)[.size] as? Int) ?? 0
        let result = Result(
            events: written.events, contacts: written.contacts, days: days, writeSeconds: Self.seconds(writeTime),
            projectionSeconds: Self.seconds(projectionTime), databaseMB: Double(size) / 1_048_576, hubResidentMB: Double(rss) / 1024, reports: rows)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print("events \(result.events), contacts \(result.contacts), \(days) days; database \(Int(result.databaseMB)) MB; hub resident \(Int(result.hubResidentMB)) MB")
            print("counted by the hub at start in \(String(format: "%.1f", result.projectionSeconds)) s (\(Int(Double(result.events) / result.projectionSeconds)) events/s)")
            print("| report over the month | response bytes | p50 ms | p90 ms | max ms |")
            print("|---|---|---|---|---|")
            for row in rows {
                print("| \(row.report) | \(row.bytes) | \(String(format: "%.1f", row.p50)) | \(String(format: "%.1f", row.p90)) | \(String(format: "%.1f", row.max)) |")
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func total(_ body: ByteBuffer, _ figure: String) throws -> Double {
        let value = try HubJSON.makeDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
        guard case .array(let groups)? = value["groups"] else { return 0 }
        var sum = 0.0
        for group in groups {
            switch group["figures"]?[figure] {
            case .int(let number)?: sum += Double(number)
            case .double(let number)?: sum += number
            default: break
            }
        }
        return sum
    }

    func get(_ http: HTTPClient, _ url: String) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer bench-admin")
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw HubUnderTest.Failure("GET \(url): \(response.status.code) \(String(buffer: body))") }
        return body
    }

    func writeConfiguration(_ scratch: URL) throws {
        let channels = scratch.appendingPathComponent("channels")
        let rules = scratch.appendingPathComponent("routing-rules")
        try FileManager.default.createDirectory(at: channels, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        try """
        kind: api
        id: bench
        queue: general
        secrets:
          signingSecret: BENCH_SIGNING_SECRET
        """.write(to: channels.appendingPathComponent("bench.yaml"), atomically: true, encoding: .utf8)
        var text = "queues:\n"
        for queue in Traffic.queues { text += "  - id: \(queue)\n" }
        text += "agents:\n"
        for agent in Traffic.agents { text += "  - { id: \(agent), name: \(agent), queues: [\(Traffic.queues.joined(separator: ", "))] }\n" }
        try text.write(to: rules.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
    }

    struct Row: Encodable {
        var report: String
        var bytes: Int
        var p50: Double
        var p90: Double
        var max: Double
    }

    struct Result: Encodable {
        var events: Int
        var contacts: Int
        var days: Int
        var writeSeconds: Double
        var projectionSeconds: Double
        var databaseMB: Double
        var hubResidentMB: Double
        var reports: [Row]
    }
}

func log(_ text: String) {
    FileHandle.standardError.write(Data("[hub-metrics-bench] \(text)\n".utf8))
}

/// A month of traffic as event log rows, from a fixed seed.
struct Traffic {
    static let channels: [ChannelKind] = [.voice, .sms, .email, .wechat, .messenger, .telegram, .api]
    static let queues = ["general", "billing", "tech", "vip", "sales", "returns"]
    static let agents = (0..<60).map { String(format: "a%02d", $0) }

    let days: Int
    let minimumEvents: Int
    private var random = SplitMix64(seed: 20261201)
    private var rows: [(kind: String, at: Date, actor: String, customer: String?, conversation: String?, ticket: String?, agent: String?, payload: String)] = []

    init(days: Int, minimumEvents: Int) {
        self.days = days
        self.minimumEvents = minimumEvents
    }

    private mutating func add(
        _ kind: EventKind, _ at: Date, actor: String, customer: String? = nil, conversation: String? = nil, ticket: String? = nil,
        agent: String? = nil, _ payload: String
    ) {
        rows.append((kind.rawValue, at, actor, customer, conversation, ticket, agent, payload))
    }

    /// Writes the rows into the log (after what the hub wrote at its first start) and moves the
    /// readers that act on events past them: they are history, not news.
    mutating func write(to path: String) throws -> (events: Int, contacts: Int) {
        let contacts = generate()
        let queue = try DatabaseQueue(path: path)
        for chunk in stride(from: 0, to: rows.count, by: 50_000) {
            let slice = rows[chunk..<min(rows.count, chunk + 50_000)]
            try queue.write { db in
                let statement = try db.makeStatement(
                    sql: """
                        INSERT INTO event (kind, occurredAt, actor, customerID, conversationID, ticketID, agentID, payload)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for row in slice {
                    try statement.execute(arguments: [
                        row.kind, Int64((row.at.timeIntervalSince1970 * 1000).rounded()), row.actor, row.customer, row.conversation, row.ticket,
                        row.agent, row.payload,
                    ])
                }
            }
        }
        try queue.write { db in
            let head = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM event") ?? 0
            try db.execute(sql: "UPDATE counter SET value = ? WHERE name LIKE 'reader:%'", arguments: [head])
        }
        return (rows.count, contacts)
    }

    /// Contacts spread over the days, each with its events; agents' shifts around them.
    private mutating func generate() -> Int {
        let encoder = HubJSON.makeEncoder()
        let perDay = max(1, minimumEvents / max(1, days) / 13)
        var contacts = 0
        var ticketNumber = 0
        for day in 0..<days {
            let midnight = MetricsBenchmark.start.addingTimeInterval(Double(day) * 86_400)
            // Shifts: each agent available 8 hours with a break, starting between 06:00 and 14:00.
            var shifts: [(Date, String, String)] = []
            for (index, agent) in Self.agents.enumerated() {
                let begin = midnight.addingTimeInterval(Double(6 + index % 9) * 3600)
                shifts.append((begin, agent, #"{"state":"available"}"#))
                shifts.append((begin.addingTimeInterval(4 * 3600), agent, #"{"state":"away","reason":"break"}"#))
                shifts.append((begin.addingTimeInterval(4.5 * 3600), agent, #"{"state":"available"}"#))
                shifts.append((begin.addingTimeInterval(8.5 * 3600), agent, #"{"state":"offline"}"#))
            }
            shifts.sort { $0.0 < $1.0 }
            var nextShift = 0
            for index in 0..<perDay {
                let arrival = midnight.addingTimeInterval(6 * 3600 + Double(index) / Double(perDay) * 16 * 3600 + random.unit() * 30)
                while nextShift < shifts.count, shifts[nextShift].0 <= arrival {
                    let (at, agent, presence) = shifts[nextShift]
                    add(.agentPresence, at, actor: "agent:\(agent)", agent: agent, #"{"agentId":"\#(agent)","presence":\#(presence),"by":"agent:\#(agent)"}"#)
                    nextShift += 1
                }
                contacts += 1
                contact(contacts, at: arrival, encoder: encoder, ticketNumber: &ticketNumber)
            }
            for (at, agent, presence) in shifts[nextShift...] {
                add(.agentPresence, at, actor: "agent:\(agent)", agent: agent, #"{"agentId":"\#(agent)","presence":\#(presence),"by":"agent:\#(agent)"}"#)
            }
        }
        return contacts
    }

    private mutating func contact(_ number: Int, at arrival: Date, encoder: JSONEncoder, ticketNumber: inout Int) {
        let channel = Self.channels[random.below(Self.channels.count)]
        let queue = Self.queues[random.below(Self.queues.count)]
        let agent = Self.agents[random.below(Self.agents.count)]
        let id = "conv_\(number)"
        let customer = "cust_\(number % 20_000)"
        var conversation = Conversation(
            id: Conversation.ID(id), customerID: Customer.ID(customer), handleID: nil, channelKind: channel, channelAccountID: "bench",
            queueID: queue, createdAt: arrival)
        let json = { (value: Conversation) in String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) }
        add(.conversationCreated, arrival, actor: "channel:bench", customer: customer, conversation: id, json(conversation))
        add(.messageReceived, arrival, actor: "channel:bench", customer: customer, conversation: id, #"{"author":{"kind":"customer"}}"#)
        let queued = arrival.addingTimeInterval(0.05)
        add(.routingQueued, queued, actor: "system:router", conversation: id, #"{"queue":"\#(queue)","resumed":false}"#)
        let wait = random.unit() * (channel == .email ? 1800 : 90)
        if random.unit() < 0.1 {
            // The customer leaves.
            conversation.status = .closed
            let left = queued.addingTimeInterval(wait)
            add(.conversationUpdated, left, actor: "channel:bench", customer: customer, conversation: id, #"{"conversation":\#(json(conversation)),"changes":["status"]}"#)
            add(.routingEnded, left, actor: "system:router", conversation: id, #"{"reason":{"cancelled":"withdrawn"}}"#)
            return
        }
        let offered = queued.addingTimeInterval(wait)
        add(.offerCreated, offered, actor: "system:router", conversation: id, agent: agent, #"{"offerId":"o\#(number)","agentId":"\#(agent)"}"#)
        let assigned = offered.addingTimeInterval(random.unit() * 8)
        conversation.assigneeID = Agent.ID(agent)
        add(.conversationUpdated, assigned, actor: "system:router", customer: customer, conversation: id, agent: agent, #"{"conversation":\#(json(conversation)),"changes":["assigneeID"]}"#)
        add(.routingAssigned, assigned, actor: "system:router", conversation: id, agent: agent, #"{"agentId":"\#(agent)","offerId":"o\#(number)"}"#)
        var at = assigned
        for _ in 0..<(channel == .voice ? 0 : 2) {
            at = at.addingTimeInterval(20 + random.unit() * 100)
            add(.messageQueued, at, actor: "agent:\(agent)", customer: customer, conversation: id, agent: agent, #"{"author":{"kind":"agent","id":"\#(agent)"}}"#)
            add(.messageStatusChanged, at.addingTimeInterval(1), actor: "system", conversation: id, #"{"status":"sent","previous":"queued"}"#)
            let fate = random.unit()
            let report = fate < 0.02 ? #"{"status":"failed","previous":"sent"}"# : #"{"status":"delivered","previous":"sent"}"#
            if channel != .email || fate < 0.02 { add(.messageStatusChanged, at.addingTimeInterval(3), actor: "system", conversation: id, report) }
            at = at.addingTimeInterval(30 + random.unit() * 120)
            add(.messageReceived, at, actor: "channel:bench", customer: customer, conversation: id, #"{"author":{"kind":"customer"}}"#)
        }
        var holder = agent
        if random.unit() < 0.05 {
            // Passed on to another agent.
            holder = Self.agents[(random.below(Self.agents.count - 1) + 1 + Self.agents.firstIndex(of: agent)!) % Self.agents.count]
            at = at.addingTimeInterval(30)
            add(.routingQueued, at, actor: "system:router", conversation: id, #"{"queue":"\#(queue)","resumed":false}"#)
            at = at.addingTimeInterval(10)
            add(.routingAssigned, at, actor: "system:router", conversation: id, agent: holder, #"{"agentId":"\#(holder)"}"#)
        }
        at = at.addingTimeInterval(channel == .voice ? 60 + random.unit() * 400 : 30)
        conversation.status = .closed
        add(.conversationUpdated, at, actor: "agent:\(holder)", customer: customer, conversation: id, agent: holder, #"{"conversation":\#(json(conversation)),"changes":["status"]}"#)
        add(.routingCompleted, at, actor: "system:router", conversation: id, agent: holder, #"{"agentId":"\#(holder)"}"#)
        if channel == .voice {
            add(.agentWrapUp, at, actor: "system:router", conversation: id, agent: holder, #"{"state":"started"}"#)
            add(.agentWrapUp, at.addingTimeInterval(15), actor: "system:router", conversation: id, agent: holder, #"{"state":"ended"}"#)
        }
        if random.unit() < 0.25 {
            ticketNumber += 1
            let ticketID = "tkt_\(ticketNumber)"
            var ticket = Ticket(
                id: Ticket.ID(ticketID), number: TicketNumber(rawValue: ticketNumber), subject: "bench", status: .open,
                customerID: Customer.ID(customer), assigneeID: Agent.ID(holder), queueID: queue, conversationIDs: [Conversation.ID(id)],
                createdAt: assigned, channelAccountID: "bench")
            let ticketJSON = { (value: Ticket) in String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) }
            add(.ticketCreated, assigned, actor: "agent:\(holder)", customer: customer, conversation: id, ticket: ticketID, agent: holder, ticketJSON(ticket))
            ticket.status = .solved
            ticket.solvedAt = at
            add(
                .ticketUpdated, at, actor: "agent:\(holder)", customer: customer, ticket: ticketID, agent: holder,
                #"{"ticket":\#(ticketJSON(ticket)),"changes":["status"],"previousStatus":"open"}"#)
            if random.unit() < 0.03 {
                add(.slaBreached, at, actor: "system:sla", ticket: ticketID, #"{}"#)
            }
            if random.unit() < 0.5 {
                var survey = CSATSurvey(
                    id: CSATSurvey.ID("csat_\(ticketNumber)"), ticketID: Ticket.ID(ticketID), customerID: Customer.ID(customer),
                    agentID: Agent.ID(holder), queueID: queue, channelAccountID: "bench", token: "t\(ticketNumber)", eventSequence: 0, sentAt: at,
                    expiresAt: at.addingTimeInterval(7 * 86_400))
                add(.csatSent, at, actor: "system", customer: customer, ticket: ticketID, String(decoding: (try? encoder.encode(survey)) ?? Data(), as: UTF8.self))
                if random.unit() < 0.4 {
                    survey.score = 1 + random.below(5)
                    survey.answeredAt = at.addingTimeInterval(600)
                    let answered = CSATAnsweredPayload(survey: survey, ticketNumber: TicketNumber(rawValue: ticketNumber), reopened: false)
                    add(
                        .csatAnswered, at.addingTimeInterval(600), actor: "channel:bench", customer: customer, ticket: ticketID,
                        String(decoding: (try? encoder.encode(answered)) ?? Data(), as: UTF8.self))
                }
            }
        }
    }
}

extension SplitMix64 {
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
