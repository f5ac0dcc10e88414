import AsyncHTTPClient
import Foundation
import HubModel
import NIOCore
import NIOHTTP1

/// Downloads a customer's attachment over HTTP, at most `maximumBytes` (a larger body is
/// refused without being read to the end), for the adapters' `fetchAttachment`.
enum AttachmentDownload {
    /// GETs `url`; `headers` carry the provider's credentials when its media need them.
    /// `redacting` is removed from error reasons (a token in the URL).
    static func get(
        _ url: String, headers: [(String, String)] = [], httpClient: HTTPClient, maximumBytes: Int, timeout: TimeAmount, redacting: String? = nil
    ) async throws(DeliveryFailure) -> FetchedAttachment {
        func clean(_ text: String) -> String {
            guard let redacting, !redacting.isEmpty else { return text }
            return text.replacingOccurrences(of: redacting, with: "<redacted>")
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else { throw .permanent("not an http(s) URL: \(clean(String(url.prefix(100))))") }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "Switchboard-Hub")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: timeout)
        } catch {
            throw .transient(clean("GET \(url) failed: \(error)"))
        }
        let status = Int(response.status.code)
        switch status {
        case 200..<300: break
        case 404, 410: throw .permanent(clean("the provider no longer has it (\(status))"))
        case 429, 500..<600, 401, 403:
            throw .transient(
                clean("GET \(url) answered \(status)"), retryAfter: response.headers.first(name: "Retry-After").flatMap(Int.init).map { .seconds($0) })
        default: throw .permanent(clean("GET \(url) answered \(status)"))
        }
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maximumBytes {
            throw .permanent("larger than \(maximumBytes) bytes (\(length))")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw .permanent("larger than \(maximumBytes) bytes")
        } catch {
            throw .transient(clean("reading \(url) failed: \(error)"))
        }
        var filename: String?
        if let disposition = response.headers.first(name: "Content-Disposition"), let range = disposition.range(of: "filename=") {
            filename = String(disposition[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "\"; "))
        }
        return FetchedAttachment(bytes: Array(body.readableBytesView), contentType: response.headers.first(name: "Content-Type"), filename: filename)
    }
}
