/// How a customer's address is shown to someone without the right to see it: a phone number
/// keeps its country code, its first digits and its last four (`+86138****5678`, as Chinese
/// banks print them), an e-mail address its first letter and its domain (`l***@example.com`),
/// a provider id (openid, PSID) its first and last four characters.
public enum ContactMask {
    public static func mask(_ address: String, kind: HandleKind) -> String {
        switch kind {
        case .phone: maskPhone(address)
        case .email: maskEmail(address)
        default: maskIdentifier(address)
        }
    }

    /// The four digits before the last four become `*`; anything shorter than eight digits keeps
    /// only its last two.
    static func maskPhone(_ address: String) -> String {
        var characters = Array(address)
        let digitPositions = characters.indices.filter { characters[$0].isNumber }
        if digitPositions.count >= 8 {
            for position in digitPositions[(digitPositions.count - 8)..<(digitPositions.count - 4)] { characters[position] = "*" }
        } else {
            for position in digitPositions.dropLast(2) { characters[position] = "*" }
        }
        return String(characters)
    }

    static func maskEmail(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@"), at != address.startIndex else { return maskIdentifier(address) }
        return String(address[address.startIndex]) + "***" + address[at...]
    }

    static func maskIdentifier(_ address: String) -> String {
        guard address.count > 10 else { return String(repeating: "*", count: address.count) }
        return String(address.prefix(4)) + "****" + String(address.suffix(4))
    }
}
