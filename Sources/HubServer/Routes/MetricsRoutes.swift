import Foundation
import HTTPTypes
import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import Hummingbird
import NIOCore

/// The managers' figures: `GET /v1/metrics/channels` (JSON, or CSV with `format=csv`) for
/// supervisors and admins, and `GET /metrics` in Prometheus' text format for a scraper holding
/// the scrape token (or a supervisor's or the admin token). docs/metrics.md defines every figure.
enum MetricsRoutes {
    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine) {
        let metrics = engine.metrics
        api.get("metrics/channels") { request, context in
            _ = try ResourceRoutes.requireSupervisor(context)
            let query = try ReportQuery(request.uri.queryParameters, now: Date())
            let report = try await metrics.report(
                from: query.from, to: query.to, grouping: query.grouping, figures: query.figures.count == MetricFigure.allCases.count ? nil : query.figures)
            if query.csv || (request.headers[.accept]?.contains("text/csv") ?? false) && query.format == nil {
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "text/csv; charset=utf-8",
                        .contentDisposition: "attachment; filename=\"metrics-\(HubJSON.formatTimestamp(report.from))-\(HubJSON.formatTimestamp(report.to)).csv\"",
                    ],
                    body: .init(byteBuffer: ByteBuffer(string: csv(report, figures: query.figures))))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: jsonBytes(report, groupBy: query.groupByNames, figures: query.figures))))
        }
        let alerts = engine.alerts
        api.get("metrics/alerts") { _, context in
            _ = try ResourceRoutes.requireSupervisor(context)
            return JSONResponse.make(.ok, JSONValue.object(["items": .array(try await alerts.raised())]))
        }
    }

    /// `GET /metrics`.
    static func addExposition(
        to router: Router<HubRequestContext>, engine: Engine, exporter: PrometheusExporter, adminToken: Secret?, scrapeToken: Secret?
    ) {
        let auth = AuthMiddleware(adminToken: adminToken, auth: engine.auth)
        let metrics = engine.metrics
        let store = engine.store
        router.get("metrics") { request, _ in
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
                throw APIError(.unauthorized, code: "unauthorized", message: "send 'Authorization: Bearer <scrape token>' (HUB_METRICS_TOKEN)")
            }
            let token = String(header.dropFirst(7))
            if let scrapeToken, WebhookSignature.constantTimeEquals(token, scrapeToken.value) {
                // The scraper's own token.
            } else {
                guard try await auth.viewer(for: request).seesAll else {
                    throw APIError(.forbidden, code: "forbidden", message: "this needs the scrape token, a supervisor or an admin")
                }
            }
            let body = try await exporter.exposition(metrics, store: store)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    /// A report's window and grouping from the query string.
    struct ReportQuery {
        var from: Date
        var to: Date
        var grouping: MetricGrouping
        var groupByNames: [String]
        /// The figures to answer (`figures=offered,handled`); all when not given.
        var figures: [MetricFigure]
        var format: String?
        var csv: Bool { format == "csv" }

        static let groupings: [(String, MetricGrouping)] = [
            ("channel", .channel), ("queue", .queue), ("agent", .agent), ("hour", .hour), ("day", .day),
        ]

        init(_ parameters: Parameters, now: Date) throws {
            format = parameters["format"].map(String.init)
            if let format, format != "csv", format != "json" { throw APIError.invalid("format is json or csv") }
            if let minutes = parameters["minutes"] {
                guard parameters["from"] == nil, let count = Int(minutes), (1...527_040).contains(count) else {
                    throw APIError.invalid("minutes is a whole number of minutes from 1 to 527040 (a year), without from")
                }
                to = try parameters["to"].map { try SurveyRoutes.timestamp(String($0), name: "to") } ?? now
                from = to.addingTimeInterval(-Double(count) * 60)
            } else {
                to = try parameters["to"].map { try SurveyRoutes.timestamp(String($0), name: "to") } ?? now
                from = try parameters["from"].map { try SurveyRoutes.timestamp(String($0), name: "from") } ?? to.addingTimeInterval(-86_400)
            }
            guard from < to else { throw APIError.invalid("from must be before to") }
            guard to.timeIntervalSince(from) <= 366 * 86_400 else { throw APIError.invalid("a report spans at most 366 days") }
            let names = (parameters["groupBy"].map(String.init) ?? "channel").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            var grouping: MetricGrouping = []
            for name in names {
                guard let match = Self.groupings.first(where: { $0.0 == name }) else {
                    throw APIError.invalid("groupBy takes channel, queue, agent, hour and day, separated by commas; not '\(name)'")
                }
                grouping.insert(match.1)
            }
            if grouping.contains(.hour) && grouping.contains(.day) { throw APIError.invalid("group by hour or by day, not both") }
            if grouping.contains(.hour), to.timeIntervalSince(from) > 93 * 86_400 {
                throw APIError.invalid("group by hour spans at most 93 days: group by day instead")
            }
            self.grouping = grouping
            groupByNames = Self.groupings.map(\.0).filter { name in names.contains(name) }
            figures = MetricFigure.allCases
            if let list = parameters["figures"] {
                var chosen: [MetricFigure] = []
                for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                    guard let figure = MetricFigure(rawValue: name) else {
                        throw APIError.invalid("unknown figure '\(name)' (see docs/metrics.md)")
                    }
                    chosen.append(figure)
                }
                guard !chosen.isEmpty else { throw APIError.invalid("figures names at least one figure") }
                figures = MetricFigure.allCases.filter(chosen.contains)
            }
        }
    }

    /// The report as JSON, written straight to bytes: a month by hour is thousands of groups of
    /// fifty figures, too many for a tree of values first.
    static func jsonBytes(_ report: MetricsReport, groupBy: [String], figures: [MetricFigure] = MetricFigure.allCases) -> [UInt8] {
        var writer = JSONWriter(capacity: 512 + report.groups.count * (80 + figures.count * 28))
        writer.beginObject()
        writer.key("behind")
        writer.int(report.behind)
        writer.key("from")
        writer.date(report.from)
        writer.key("groupBy")
        writer.beginArray()
        for name in groupBy { writer.string(name) }
        writer.endArray()
        writer.key("groups")
        writer.beginArray()
        // Periods repeat across channels and queues: each formatted once.
        var periods: [Int64: String] = [:]
        for entry in report.groups {
            writer.beginObject()
            if let agent = entry.group.agent {
                writer.key("agent")
                writer.string(agent)
            }
            if let channel = entry.group.channel {
                writer.key("channel")
                writer.string(channel)
            }
            writer.key("figures")
            writer.beginObject()
            for figure in figures {
                writer.key(figure.rawValue)
                if let value = figure.value(entry.counters) { writer.double(value) } else { writer.null() }
            }
            writer.endObject()
            if let period = entry.group.period {
                let text = periods[period] ?? HubJSON.formatTimestamp(Date(timeIntervalSince1970: Double(period * 60)))
                periods[period] = text
                writer.key("period")
                writer.string(text)
            }
            if let queue = entry.group.queue {
                writer.key("queue")
                writer.string(queue)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.key("now")
        now(report.now).writeJSON(to: &writer)
        writer.key("to")
        writer.date(report.to)
        writer.endObject()
        return writer.bytes
    }

    static func now(_ now: MetricsNow) -> JSONValue {
        .object([
            "at": .string(HubJSON.formatTimestamp(now.at)),
            "queues": .array(
                now.queues.map {
                    .object([
                        "channel": .string($0.channel), "queue": .string($0.queue), "waiting": .int(Int64($0.waiting)),
                        "longestWaitSeconds": .double($0.longestWaitSeconds),
                    ])
                }),
            "agents": .array(now.agents.map { .object(["medium": .string($0.medium), "state": .string($0.state), "count": .int(Int64($0.count))]) }),
        ])
    }

    /// A group's key as text: the period's start as a timestamp.
    static func key(_ group: MetricGroup) -> [String: String] {
        var key: [String: String] = [:]
        if let period = group.period { key["period"] = HubJSON.formatTimestamp(Date(timeIntervalSince1970: Double(period * 60))) }
        if let channel = group.channel { key["channel"] = channel }
        if let queue = group.queue { key["queue"] = queue }
        if let agent = group.agent { key["agent"] = agent }
        return key
    }

    /// RFC 4180: a header line, CRLF line ends, fields quoted where they hold a comma, a quote or
    /// a line break; an empty field where a figure has no value.
    static func csv(_ report: MetricsReport, figures: [MetricFigure] = MetricFigure.allCases) -> String {
        let keys = ["period", "channel", "queue", "agent"]
        var lines = [(["from", "to"] + keys + figures.map(\.rawValue)).joined(separator: ",")]
        let window = [HubJSON.formatTimestamp(report.from), HubJSON.formatTimestamp(report.to)]
        for entry in report.groups {
            let key = key(entry.group)
            let values = figures.map { figure in figure.value(entry.counters).map(number) ?? "" }
            lines.append((window + keys.map { field(key[$0] ?? "") } + values).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
