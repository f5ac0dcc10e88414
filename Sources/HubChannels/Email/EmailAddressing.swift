import HubModel

/// The plus-addresses the hub writes and reads on an e-mail account: `support+c<token>@…` in a
/// reply's Reply-To names the conversation (a second threading path that survives clients which
/// drop References), and `support+b<token>@…` as the envelope sender (VERP) names the delivery a
/// bounce is about. Tokens are the lower-cased ULIDs of the ids (mail systems may fold case).
public enum EmailAddressing {
    /// What a recipient address of one of the hub's mailboxes says.
    public enum Tag: Sendable, Hashable {
        case none
        case conversation(Conversation.ID)
        case delivery(Delivery.ID)
        /// A plus-address the hub did not write (`support+orders@…`): delivered to the mailbox.
        case other(String)
    }

    /// Splits `local+tag@domain` into the base address (lower-cased) and its tag.
    public static func split(_ address: String) -> (base: String, tag: Tag) {
        let lowered = address.lowercased()
        guard let at = lowered.lastIndex(of: "@") else { return (lowered, .none) }
        let local = lowered[..<at]
        let domain = lowered[at...]
        guard let plus = local.firstIndex(of: "+") else { return (lowered, .none) }
        let base = String(local[..<plus]) + domain
        let tag = String(local[local.index(after: plus)...])
        return (base, parse(tag))
    }

    static func parse(_ tag: String) -> Tag {
        guard let kind = tag.first, tag.count == 27 else { return tag.isEmpty ? .none : .other(tag) }
        let ulid = tag.dropFirst().uppercased()
        guard ulid.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) else { return .other(tag) }
        switch kind {
        case "c": return .conversation(Conversation.ID(Conversation.identifierPrefix + "_" + ulid))
        case "b": return .delivery(Delivery.ID(Delivery.identifierPrefix + "_" + ulid))
        default: return .other(tag)
        }
    }

    /// `support+c<token>@example.com` for a conversation.
    public static func replyAddress(_ base: String, conversation: Conversation.ID) -> String {
        tagged(base, "c", conversation.rawValue)
    }

    /// `support+b<token>@example.com` for a delivery's envelope sender.
    public static func bounceAddress(_ base: String, delivery: Delivery.ID) -> String {
        tagged(base, "b", delivery.rawValue)
    }

    private static func tagged(_ base: String, _ kind: String, _ id: String) -> String {
        guard let underscore = id.firstIndex(of: "_"), let at = base.lastIndex(of: "@") else { return base }
        let token = id[id.index(after: underscore)...].lowercased()
        return base[..<at] + "+" + kind + token + base[at...]
    }
}
