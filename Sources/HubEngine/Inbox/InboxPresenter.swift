import Foundation
import HubModel

/// How records look to a viewer: phone numbers and e-mail addresses masked for those who mask
/// them, providers' raw metadata left out (it may repeat an address), the rest as stored.
public enum InboxPresenter {
    /// A payload fit for the viewer: in any object that has a handle's `kind` and `address` (a
    /// handle, a delivery's recipient), the address masked; `metadata` dropped, except the hub's
    /// own note of how a message was rerouted (account ids, channels and a reason, no address).
    public static func sanitize(_ value: JSONValue, for viewer: Viewer) -> JSONValue {
        switch value {
        case .array(let items):
            return .array(items.map { sanitize($0, for: viewer) })
        case .object(var object):
            // Only an outbound message's, and only the hub's own fields of it (an integrator's
            // inbound metadata could hold anything under that name).
            if let metadata = object["metadata"] {
                object["metadata"] = Self.hubMetadata(metadata, outbound: object["direction"] == .string("outbound"), for: viewer)
            }
            if viewer.masksContacts, let kindText = object["kind"]?.stringValue, let kind = HandleKind(rawValue: kindText),
                let address = object["address"]?.stringValue
            {
                object["address"] = .string(ContactMask.mask(address, kind: kind))
                object["masked"] = .bool(true)
            }
            return .object(object.mapValues { sanitize($0, for: viewer) })
        default:
            return value
        }
    }

    /// The metadata fields the hub itself writes and agents may see: how an outbound message was
    /// rerouted and the bounce report attached to it; of a received e-mail, its sanitized HTML, full
    /// text, copies (masked for those who mask), why it counts as automatic, what was malformed,
    /// and whether the original is kept. Nil when none is there.
    static func hubMetadata(_ metadata: JSONValue, outbound: Bool, for viewer: Viewer) -> JSONValue? {
        var kept: [String: JSONValue] = [:]
        if outbound {
            if let rerouted = metadata["rerouted"].flatMap(Self.reroute) { kept["rerouted"] = rerouted["rerouted"] }
            if let report = metadata["deliveryReport"]?.stringValue, report.hasPrefix("blob:") { kept["deliveryReport"] = .string(report) }
        } else {
            if case .object(let email)? = metadata["email"] {
                var fields: [String: JSONValue] = [:]
                // The HTML and the whole text quote earlier mail with its addresses: not for
                // those who see contacts masked (the text shown has the quotes removed).
                let names = viewer.masksContacts ? ["autoSubmitted"] : ["html", "fullText", "autoSubmitted"]
                for name in names { if let text = email[name]?.stringValue { fields[name] = .string(text) } }
                for name in ["truncated"] { if case .bool(let flag)? = email[name] { fields[name] = .bool(flag) } }
                if let count = email["attachmentsOmitted"]?.intValue { fields["attachmentsOmitted"] = .int(count) }
                if case .array(let problems)? = email["problems"] { fields["problems"] = .array(problems.compactMap { $0.stringValue.map(JSONValue.string) }) }
                if case .array(let copies)? = email["cc"] {
                    fields["cc"] = .array(
                        copies.compactMap(\.stringValue).map { .string(viewer.masksContacts ? ContactMask.mask($0, kind: .email) : $0) })
                }
                kept["email"] = .object(fields)
            }
            if metadata["raw"]?.stringValue?.hasPrefix("blob:") == true { kept["original"] = .bool(true) }
        }
        return kept.isEmpty ? nil : .object(kept)
    }

    /// The reroute note's known fields, as strings.
    static func reroute(_ value: JSONValue) -> JSONValue? {
        guard case .object(let fields) = value else { return nil }
        var kept: [String: JSONValue] = [:]
        for name in ["fromChannelAccountId", "fromChannel", "toChannelAccountId", "toChannel", "reason"] {
            if let text = fields[name]?.stringValue { kept[name] = .string(text) }
        }
        return .object(["rerouted": .object(kept)])
    }

    /// A value as JSON, sanitized.
    public static func view(_ value: some Encodable, for viewer: Viewer) -> JSONValue {
        sanitize((try? JSONValue(encoding: value)) ?? .null, for: viewer)
    }

    /// A customer with their handles, masked for the viewer, and whether the viewer may reveal them.
    public static func customer(_ customer: Customer, handles: [Handle], for viewer: Viewer) -> JSONValue {
        .object([
            "customer": view(customer, for: viewer), "handles": .array(handles.map { view($0, for: viewer) }),
            "canRevealContacts": .bool(viewer.masksContacts && viewer.canRevealContacts),
        ])
    }

    /// An event as the feed and timelines show it.
    public static func event(_ event: HubEvent, for viewer: Viewer) -> JSONValue {
        var refs: [String: JSONValue] = [:]
        if let id = event.refs.customerID { refs["customerId"] = .string(id.rawValue) }
        if let id = event.refs.conversationID { refs["conversationId"] = .string(id.rawValue) }
        if let id = event.refs.messageID { refs["messageId"] = .string(id.rawValue) }
        if let id = event.refs.ticketID { refs["ticketId"] = .string(id.rawValue) }
        if let id = event.refs.callID { refs["callId"] = .string(id.rawValue) }
        if let id = event.refs.agentID { refs["agentId"] = .string(id.rawValue) }
        return .object([
            "seq": .int(event.sequence), "kind": .string(event.kind.rawValue), "at": .string(HubJSON.formatTimestamp(event.occurredAt)),
            "actor": .string(event.actor.description), "refs": .object(refs),
            "data": event.kind == .callCreated || event.kind == .callUpdated ? call(event.payload, for: viewer) : sanitize(event.payload, for: viewer),
        ])
    }

    /// A call record fit for the viewer: the customer's side (`from` of an inbound call, `to` of
    /// an outbound one) masked for those who mask contacts.
    public static func call(_ record: JSONValue, for viewer: Viewer) -> JSONValue {
        guard viewer.masksContacts, case .object(var object) = record else { return record }
        let side = object["direction"] == .string("outbound") ? "to" : "from"
        if let address = object[side]?.stringValue {
            object[side] = .string(ContactMask.mask(address, kind: address.hasPrefix("+") ? .phone : .sip))
            object["masked"] = .bool(true)
        }
        return .object(object)
    }
}
