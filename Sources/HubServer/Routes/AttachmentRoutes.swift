import Foundation
import HTTPTypes
import HubChannels
import HubEngine
import HubModel
import HubStore
import Hummingbird
import NIOCore

/// `GET /v1/messages/{id}/attachments/{position}`: a customer's attachment from the hub's own
/// store, for whoever may read the message's conversation. Served as a download with the type the
/// content was checked to be, never sniffed by the browser.
enum AttachmentRoutes {
    /// Kept content; a store that cannot be read is a 503 (try again), not a missing copy.
    static func content(_ reference: String, _ engine: Engine) async throws -> [UInt8]? {
        do {
            return try await engine.ingest.content(reference)
        } catch {
            throw APIError(.serviceUnavailable, code: "store_unavailable", message: "the hub's store could not be read; try again")
        }
    }

    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine) {
        api.get("messages/:id/attachments/:position") { _, context in
            let viewer = try context.requireViewer()
            let id = Message.ID(try context.parameters.require("id"))
            guard let position = Int(try context.parameters.require("position")) else { throw APIError.invalid("position is a number") }
            guard let message = try await engine.store.message(id) else { throw APIError.notFound("no message \(id)") }
            // The same rule as reading the conversation (404 for "not yours" too).
            _ = try await engine.inbox.conversation(message.conversationID, for: viewer)
            guard message.attachments.indices.contains(position) else { throw APIError.notFound("message \(id) has no attachment \(position)") }
            let attachment = message.attachments[position]
            switch attachment.status {
            case .pending?: throw APIError(.conflict, code: "not_fetched_yet", message: "the attachment is still being fetched from the provider")
            case .refused?: throw APIError(.gone, code: "refused", message: "the attachment was not kept: \(attachment.problem ?? "refused")")
            case .stored?, nil: break
            }
            guard attachment.isStored, let bytes = try await Self.content(attachment.reference, engine) else {
                throw APIError(.notFound, code: "not_stored", message: "the hub holds no copy of this attachment (its reference is \(attachment.isStored ? "missing" : "external"))")
            }
            var headers: HTTPFields = [
                .contentType: attachment.contentType ?? "application/octet-stream", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ]
            let name = attachment.filename ?? "attachment-\(position)"
            // RFC 5987: the filename's UTF-8 bytes percent-encoded (unreserved characters kept).
            headers[.contentDisposition] = "attachment; filename*=UTF-8''\(FormURLEncoding.percentEncode(name))"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        // The original of a received message (an e-mail exactly as it arrived, `message/rfc822`).
        api.get("messages/:id/raw") { _, context in
            let viewer = try context.requireViewer()
            let id = Message.ID(try context.parameters.require("id"))
            let reference = try await engine.inbox.rawMessage(id, for: viewer)
            guard let bytes = try await Self.content(reference, engine) else {
                throw APIError(.notFound, code: "not_stored", message: "the original of message \(id) is missing from the hub's store")
            }
            let headers: HTTPFields = [
                .contentType: "message/rfc822", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                .contentDisposition: "attachment; filename=\"\(id.rawValue).eml\"",
            ]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
