import AsyncHTTPClient
import Foundation
import HubModel
import NIOCore
import NIOHTTP1

/// One JSON POST to a provider's send API and what came back. Shared by the adapters whose APIs
/// take and answer JSON (Meta's Send API, Telegram's Bot API), which differ only in how they read
/// the answer.
struct ProviderJSONCall {
    /// The HTTP status of the answer.
    var status: Int
    var headers: HTTPHeaders
    /// The answer's body as JSON; nil when it is empty or not JSON (a proxy's HTML error page).
    var answer: JSONValue?

    /// POSTs `body` as JSON to `url`. A request that cannot be sent or whose answer cannot be read
    /// is a transient failure. Failures name the request by `shownAs`, never by `url`: Meta and
    /// Telegram put their tokens in the URL, and a failure's reason is logged and stored.
    static func post(
        _ body: JSONValue, to url: String, shownAs: String, httpClient: HTTPClient, timeout: Duration
    ) async throws(DeliveryFailure) -> ProviderJSONCall {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "Switchboard-Hub")
        request.body = .bytes(ByteBuffer(string: JSONWriter.text(of: body)))
        do {
            let response = try await httpClient.execute(request, timeout: APIChannelAdapter.timeAmount(timeout))
            let reply = try await response.body.collect(upTo: 256 * 1024)
            return ProviderJSONCall(status: Int(response.status.code), headers: response.headers, answer: try? JSONReader.parse(String(buffer: reply)))
        } catch {
            throw .transient("POST \(shownAs) failed: \(error)")
        }
    }

    /// The wait a `Retry-After: <seconds>` header asks for (the HTTP-date form is not used by
    /// these providers).
    var retryAfterHeader: Duration? {
        headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { .seconds(max(0, $0)) }
    }
}

extension DeliveryFailure {
    /// The same failure with every occurrence of `secret` in its reason replaced: the last line of
    /// defence for tokens that travel in URLs, should a library's error description quote one.
    func redacting(_ secret: String) -> DeliveryFailure {
        guard !secret.isEmpty, reason.contains(secret) else { return self }
        var copy = self
        copy.reason = reason.replacingOccurrences(of: secret, with: "<redacted>")
        return copy
    }
}
