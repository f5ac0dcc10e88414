import Foundation
import HTTPTypes
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

    public var headers: HTTPFields { [.contentType: "application/json; charset=utf-8"] }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status, ErrorBody(error: .init(code: code, message: message)))
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
