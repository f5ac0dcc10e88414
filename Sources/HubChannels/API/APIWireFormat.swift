import Foundation
import HubModel

/// What integrators POST to `/webhooks/<account>`: a customer's message, or a status report on a
/// message the hub sent them. See docs/api-channel.md.
struct APIInboundBody: Decodable {
    /// "message" (the default) or "status".
    var type: String?
    /// The integrator's id for the message (dedupe key), or for "status" the id it returned when
    /// accepting the delivery (or the hub's message id).
    var messageId: String
    var from: Sender?
    var to: String?
    var text: String?
    var attachments: [APIAttachment]?
    var sentAt: Date?
    var threadKey: String?
    var subject: String?
    var attributes: [String: String]?
    var metadata: [String: JSONValue]?
    /// For "status": sent, delivered, read or failed.
    var status: String?
    var error: String?

    struct Sender: Decodable {
        var id: String
        var name: String?
        /// "api" (default), or "phone"/"email" to join customers known by those.
        var kind: String?
    }
}

/// An attachment as integrators describe it.
struct APIAttachment: Codable {
    var url: String
    var contentType: String?
    var size: Int?
    var filename: String?
}

/// What the hub answers to a stored message.
struct APIInboundReply: Encodable, JSONWritable {
    var messageId: String
    var conversationId: String
    var customerId: String
    var duplicate: Bool

    func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("conversationId", conversationId)
        writer.field("customerId", customerId)
        writer.key("duplicate")
        writer.bool(duplicate)
        writer.field("messageId", messageId)
        writer.endObject()
    }
}

/// What the hub POSTs to the integrator for each delivery.
struct APIOutboundBody: Encodable {
    var deliveryId: String
    var idempotencyKey: String
    var messageId: String?
    var conversationId: String?
    var to: Recipient
    var text: String?
    var attachments: [APIAttachment]
    var subject: String?
    var inReplyTo: String?
    var options: [String: JSONValue]
    var attempt: Int
    /// When this attempt was made: receivers may refuse stale requests (the signature covers it).
    var sentAt: Date

    struct Recipient: Encodable {
        var kind: String
        var scope: String
        var address: String
    }
}

/// What the integrator may answer to a delivery.
struct APIOutboundReply: Decodable {
    var id: String?
}
