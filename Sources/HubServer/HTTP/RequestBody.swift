import Foundation
import HubModel
import Hummingbird
import NIOCore

extension Request {
    /// The body, at most `limit` bytes.
    /// - Throws: `APIError` 413 when it is longer.
    mutating func collectBody(limit: Int) async throws -> ByteBuffer {
        do {
            return try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "the request body is larger than \(limit) bytes")
        }
    }

    /// The body decoded as JSON with the hub's conventions.
    /// - Throws: `APIError` 400 with what is wrong, 413 when too long, 415 when not JSON.
    mutating func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        try await decodeJSON(type, limit: limit, allowEmpty: false)!
    }

    /// Like `decodeJSON(_:limit:)`; with `allowEmpty`, an empty body is nil.
    mutating func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int, allowEmpty: Bool) async throws -> T? {
        if let contentType = headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send application/json, not \(contentType)")
        }
        let buffer = try await collectBody(limit: limit)
        if buffer.readableBytes == 0 && allowEmpty { return nil }
        do {
            return try HubJSON.makeDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.invalidJSON(JSONProblem.describe(error))
        }
    }
}
