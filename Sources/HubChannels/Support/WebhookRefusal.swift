import HubModel
import Logging

/// How an adapter refuses a webhook request: the hub's JSON error with the right status, a log
/// line saying why, and one more in the account's rejection count.
struct WebhookRefusal: Sendable {
    let accountID: String
    let logger: Logger
    let rejections: WebhookRejections

    func callAsFunction(_ status: Int, _ code: String, _ message: String) -> WebhookResponse {
        rejections.count(account: accountID, reason: code)
        logger.warning(
            "webhook rejected", metadata: ["account": "\(accountID)", "status": "\(status)", "code": "\(code)", "reason": "\(message)"])
        return .error(status, code: code, message: message)
    }

    /// An ingest failure: `unavailable` is 503 so that the provider retries; an unusable event is
    /// `invalidStatus` (providers differ in what they expect).
    func callAsFunction(_ error: IngestError, invalidStatus: Int) -> WebhookResponse {
        switch error.code {
        case .invalidEvent: self(invalidStatus, "invalid_message", error.message)
        case .unknownAccount: self(404, "unknown_channel_account", error.message)
        case .unavailable: self(503, "unavailable", "the message was not stored, try again: \(error.message)")
        }
    }
}
