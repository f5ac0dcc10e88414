import Foundation
import HTTPTypes
import HubEngine
import HubModel
import HubStore
import Hummingbird
import NIOCore

/// An error answered as `{"error": {"code": ..., "message": ...}}` with an HTTP status: the one
/// error shape of every endpoint.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Seconds to wait before trying again (429).
    public var retryAfterSeconds: Int?

    public var headers: HTTPFields { [.contentType: "application/json; charset=utf-8"] }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(status, ErrorBody(error: .init(code: code, message: message)))
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return response
    }

    /// The HTTP form of an inbox refusal.
    static func from(_ error: InboxError) -> APIError {
        switch error.code {
        case .unauthorized: return APIError(.unauthorized, code: "unauthorized", message: error.message)
        case .forbidden: return APIError(.forbidden, code: "forbidden", message: error.message)
        case .notFound: return APIError(.notFound, code: "not_found", message: error.message)
        case .invalid: return APIError(.unprocessableContent, code: "invalid_request", message: error.message)
        case .conflict: return APIError(.conflict, code: "conflict", message: error.message)
        case .rateLimited:
            var refusal = APIError(.tooManyRequests, code: "rate_limited", message: error.message)
            refusal.retryAfterSeconds = error.retryAfter.map { Int(($0.timeInterval).rounded(.up)) } ?? 60
            return refusal
        }
    }

    static func invalidJSON(_ detail: String) -> APIError { APIError(.badRequest, code: "invalid_json", message: detail) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message: message) }
    static func invalid(_ message: String) -> APIError { APIError(.unprocessableContent, code: "invalid_request", message: message) }

    /// The HTTP form of a store error.
    static func from(_ error: StoreError) -> APIError {
        switch error.code {
        case .notFound: APIError(.notFound, code: "not_found", message: error.message)
        case .conflict: APIError(.conflict, code: "conflict", message: error.message)
        case .invalid: APIError(.unprocessableContent, code: "invalid_request", message: error.message)
        case .unavailable: APIError(.serviceUnavailable, code: "unavailable", message: error.message)
        }
    }
}

/// JSON responses with the hub's encoder.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let data = (try? HubJSON.makeEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
