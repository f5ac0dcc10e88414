import Foundation
import HubEngine
import HubModel
import HubStore
import Prometheus

/// The figures in Prometheus' text format. The counts are the projection's totals since the log
/// began, per channel and queue (counters, `_total`); agents' time per agent and state; queues
/// and agents now as gauges. The same registry carries what the process reports through
/// swift-metrics (HTTP requests, when `hub` bootstraps the metrics system with it).
public actor PrometheusExporter {
    public nonisolated let registry: PrometheusCollectorRegistry
    private var gauges: [String: Gauge] = [:]
    private var counters: [String: Counter] = [:]
    /// What each counter last showed: a counter never goes down (Prometheus would read a reset).
    private var shown: [String: Double] = [:]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Each count's metric name and help, by channel and queue (docs/metrics.md, "Prometheus").
    static let counted: [(MetricField, String, String, seconds: Bool)] = [
        (.offered, "hub_contacts_offered_total", "Contacts that entered a queue", false),
        (.handled, "hub_contacts_handled_total", "Contacts that reached an agent", false),
        (.handledInThreshold, "hub_contacts_handled_in_threshold_total", "Contacts that reached an agent within the service level threshold", false),
        (.abandoned, "hub_contacts_abandoned_total", "Contacts whose customer left while waiting", false),
        (.shortAbandoned, "hub_contacts_short_abandoned_total", "Abandons sooner than the short-abandon threshold", false),
        (.withdrawn, "hub_contacts_withdrawn_total", "Contacts taken out of the queue by an agent or the hub", false),
        (.overflowed, "hub_contacts_overflowed_total", "Contacts that left the queue by an overflow rule", false),
        (.requeued, "hub_contacts_requeued_total", "Contacts moved to another queue by an overflow rule", false),
        (.waitMs, "hub_contact_wait_seconds_total", "Waits of the handled contacts", true),
        (.abandonWaitMs, "hub_contact_abandon_wait_seconds_total", "Waits of the abandoned contacts", true),
        (.assignments, "hub_assignments_total", "Contacts given to an agent (each agent of a transferred contact)", false),
        (.transfers, "hub_transfers_total", "Contacts an agent passed on", false),
        (.handleCount, "hub_work_items_total", "Agents' pieces of work that ended (completed or passed on)", false),
        (.handleMs, "hub_handle_seconds_total", "Time agents held contacts", true),
        (.wrapMs, "hub_wrapup_seconds_total", "Agents' wrap-up time", true),
        (.offers, "hub_offers_total", "Offers made to agents", false),
        (.offersDeclined, "hub_offers_declined_total", "Offers agents declined", false),
        (.offersMissed, "hub_offers_missed_total", "Offers nobody answered in time", false),
        (.firstResponses, "hub_first_responses_total", "Contacts' first agent replies", false),
        (.firstResponseMs, "hub_first_response_seconds_total", "Time to the contacts' first agent replies", true),
        (.inboundMessages, "hub_messages_inbound_total", "Customers' messages received", false),
        (.outboundMessages, "hub_messages_outbound_total", "Messages to customers queued", false),
        (.outboundSent, "hub_messages_sent_total", "Messages providers accepted", false),
        (.outboundDelivered, "hub_messages_delivered_total", "Messages providers reported delivered", false),
        (.outboundFailed, "hub_messages_failed_total", "Messages that failed (before or after the provider took them)", false),
        (.outboundBounced, "hub_messages_bounced_total", "Messages that failed after the provider took them", false),
        (.inboundRejected, "hub_inbound_rejected_total", "Provider requests refused (bad signature, malformed, inactive account)", false),
        (.ticketsCreated, "hub_tickets_created_total", "Tickets opened", false),
        (.ticketsResolved, "hub_tickets_resolved_total", "Tickets solved for the first time", false),
        (.resolutionMs, "hub_ticket_resolution_seconds_total", "Time from opening to first solve", true),
        (.firstContactResolved, "hub_tickets_first_contact_resolved_total", "Tickets solved in their first conversation, not reopened", false),
        (.ticketsReopened, "hub_tickets_reopened_total", "Solved tickets reopened", false),
        (.csatSent, "hub_csat_sent_total", "Satisfaction surveys sent", false),
        (.csatAnswered, "hub_csat_answered_total", "Satisfaction surveys answered", false),
        (.csatScoreSum, "hub_csat_score_total", "Sum of satisfaction scores (1-5)", false),
        (.csatSatisfied, "hub_csat_satisfied_total", "Satisfaction scores of 4 or 5", false),
        (.slaWarnings, "hub_sla_warnings_total", "SLA targets close to being missed", false),
        (.slaBreaches, "hub_sla_breaches_total", "SLA targets missed", false),
    ]

    /// The exposition as of the log's end (and the store's writer, when it has one).
    public func exposition(_ metrics: MetricsService, store: (any HubStore)? = nil) async throws -> [UInt8] {
        if let statistics = store?.writerStatistics {
            for (name, help, value) in Self.writerCounters(statistics) { setCounter(name, help: help, labels: [], to: value) }
        }
        let nowMinute = MetricKey.minute(of: Date()) + 1
        let byQueue = try await metrics.totals(fromMinute: 0, toMinute: nowMinute, grouping: [.channel, .queue])
        for (name, help, field, seconds) in Self.counted.map({ ($0.1, $0.2, $0.0, $0.seconds) }) {
            for (group, counts) in byQueue {
                let labels = [("channel", group.channel ?? ""), ("queue", group.queue ?? "")]
                let value = seconds ? Double(counts[field]) / 1000 : Double(counts[field])
                setCounter(name, help: help, labels: labels, to: value)
            }
        }
        let byAgent = try await metrics.totals(fromMinute: 0, toMinute: nowMinute, grouping: [.agent])
        for (group, counts) in byAgent {
            guard let agent = group.agent, !agent.isEmpty else { continue }
            for (state, field) in [("idle", MetricField.idleMs), ("busy", .busyMs), ("away", .awayMs)] {
                setCounter(
                    "hub_agent_state_seconds_total", help: "Time logged-in agents spent idle, busy (contacts or wrap-up in hand) or away",
                    labels: [("agent", agent), ("state", state)], to: Double(counts[field]) / 1000)
            }
        }
        let now = try await metrics.report(from: Date(), to: Date().addingTimeInterval(1), grouping: []).now
        var gaugeValues: [String: Double] = [:]
        for queue in now.queues {
            let labels = [("channel", queue.channel), ("queue", queue.queue)]
            gaugeValues[key("hub_queue_waiting", labels)] = Double(queue.waiting)
            gauge("hub_queue_waiting", help: "Contacts waiting for an agent now", labels: labels)
            gaugeValues[key("hub_queue_longest_wait_seconds", labels)] = queue.longestWaitSeconds
            gauge("hub_queue_longest_wait_seconds", help: "The longest wait of the contacts waiting now", labels: labels)
        }
        for agents in now.agents {
            let labels = [("medium", agents.medium), ("state", agents.state)]
            gaugeValues[key("hub_agents", labels)] = Double(agents.count)
            gauge("hub_agents", help: "Logged-in agents per medium and state now", labels: labels)
        }
        // Gauges of queues and states with nobody now read zero.
        for (key, gauge) in gauges { gauge.set(gaugeValues[key] ?? 0) }
        return registry.emitToBuffer()
    }

    private func key(_ name: String, _ labels: [(String, String)]) -> String {
        ([name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1}")
    }

    private func setCounter(_ name: String, help: String, labels: [(String, String)], to value: Double) {
        let key = key(name, labels)
        let counter: Counter
        if let existing = counters[key] {
            counter = existing
        } else {
            counter = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
            counters[key] = counter
        }
        // The projection's total since the log began, set whole by each scrape; never lower than
        // before (a take-back, such as a reopened ticket's first-contact resolution, shows in the
        // reports, not here).
        let value = max(value, shown[key] ?? 0)
        shown[key] = value
        counter.reset()
        if value > 0 { counter.increment(by: value) }
    }

    private func gauge(_ name: String, help: String, labels: [(String, String)]) {
        let key = key(name, labels)
        if gauges[key] == nil { gauges[key] = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels) }
    }
}

extension PrometheusExporter {
    /// The store's writer as counters: its utilization is `rate(hub_store_writer_busy_seconds_total)`.
    static func writerCounters(_ statistics: StoreWriterStatistics) -> [(String, String, Double)] {
        [
            ("hub_store_transactions_total", "Transactions of the store's writer", Double(statistics.transactions)),
            ("hub_store_writes_total", "Writes (store operations) in those transactions", Double(statistics.writes)),
            ("hub_store_writer_busy_seconds_total", "Time the store's one writer spent in transactions", statistics.busySeconds),
            ("hub_store_writer_cpu_seconds_total", "Processor time of the store's writer in its transactions", statistics.processorSeconds),
            ("hub_store_paced_transactions_total", "Transactions that waited for the commit window under concurrent load", Double(statistics.pacedTransactions)),
            ("hub_store_pacing_seconds_total", "Time transactions waited for the commit window", statistics.pacingSeconds),
        ]
    }
}
