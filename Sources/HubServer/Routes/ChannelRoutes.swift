import HubChannels
import HubConfig
import HubEngine
import HubModel
import HubStore
import Hummingbird

/// `GET /v1/channels`: the configured channel accounts, whether each can work (and why not), where
/// its provider must send webhooks, and how many webhook requests it refused, by reason.
/// Supervisors and admins only: it names the configuration, never a secret's value.
///
/// `GET /v1/mail/spool`: the inbound mail accepted by the SMTP listener and not yet threaded
/// (Postfix's `mailq`): how many, how many wait for a retry, the oldest, the next retry.
enum ChannelRoutes {
    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine, rejections: WebhookRejections) {
        api.get("channels") { _, context in
            _ = try ResourceRoutes.requireSupervisor(context)
            let accounts = engine.channels.accounts.values.sorted { $0.id < $1.id }
            let items: [JSONValue] = accounts.map { account in
                var object: [String: JSONValue] = [
                    "id": .string(account.id), "kind": .string(account.kind.rawValue), "name": .string(account.name),
                    "active": .bool(account.isActive), "webhookPath": .string("/webhooks/\(account.id)"),
                    "secrets": .array(account.secrets.keys.sorted().map { .string($0) }),
                    "rejections": .object(rejections.counts(account: account.id).mapValues { .int(Int64($0)) }),
                ]
                if let reason = account.inactiveReason { object["inactiveReason"] = .string(reason) }
                if let queue = account.queueID { object["queue"] = .string(queue) }
                return .object(object)
            }
            return JSONResponse.make(.ok, ["items": JSONValue.array(items)])
        }
        api.get("mail/spool") { _, context in
            _ = try ResourceRoutes.requireSupervisor(context)
            let summary = try await engine.store.mailSpoolSummary()
            var object: [String: JSONValue] = ["waiting": .int(Int64(summary.waiting)), "deferred": .int(Int64(summary.deferred))]
            if let oldest = summary.oldestReceivedAt { object["oldestReceivedAt"] = .string(HubJSON.formatTimestamp(oldest)) }
            if let next = summary.nextAttemptAt { object["nextAttemptAt"] = .string(HubJSON.formatTimestamp(next)) }
            return JSONResponse.make(.ok, JSONValue.object(object))
        }
    }
}
