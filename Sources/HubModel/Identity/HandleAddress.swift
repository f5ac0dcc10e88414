/// The normalized key of a handle: kind, scope and address. Two handles with equal keys are the
/// same person on the same channel.
public struct HandleAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public var kind: HandleKind
    /// Where a provider-issued id is valid (an app id, page id or channel account id); empty for
    /// global kinds.
    public var scope: String
    /// E.164 for phones, lower-cased for e-mail, as given (trimmed) for provider ids.
    public var address: String

    /// A key from already-normalized parts.
    public init(kind: HandleKind, scope: String = "", address: String) {
        self.kind = kind
        self.scope = kind.isGlobal ? "" : scope
        self.address = address
    }

    /// Normalizes a raw address as received from a provider or typed by a person.
    /// - Parameters:
    ///   - kind: what the address is.
    ///   - raw: the address as given ("+86 138 0013 8000", "Li.Lei@Example.COM", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").
    ///   - scope: the provider scope for non-global kinds.
    ///   - defaultRegion: ISO 3166 region for phone numbers written in national form.
    /// - Throws: `HandleAddressError` naming what is wrong.
    public static func normalize(
        kind: HandleKind, raw: String, scope: String = "", defaultRegion: String? = nil
    ) throws(HandleAddressError) -> HandleAddress {
        let trimmed = raw.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .empty(kind) }
        switch kind {
        case .phone:
            do {
                let number = try PhoneNumber(parsing: trimmed, defaultRegion: defaultRegion)
                return HandleAddress(kind: .phone, address: number.e164)
            } catch {
                throw .invalidPhoneNumber(trimmed, error)
            }
        case .email:
            return HandleAddress(kind: .email, address: try normalizeEmail(trimmed))
        case .sip:
            var uri = trimmed
            if uri.hasPrefix("<"), uri.hasSuffix(">") { uri = String(uri.dropFirst().dropLast()) }
            guard uri.lowercased().hasPrefix("sip:") || uri.lowercased().hasPrefix("sips:") else {
                throw .invalidSIPURI(trimmed)
            }
            return HandleAddress(kind: .sip, address: uri.lowercased())
        case .wechat, .wecom, .messenger, .instagram, .telegram, .webchat, .api:
            guard trimmed.count <= 256, !trimmed.contains(where: \.isNewline) else {
                throw .invalidProviderID(kind, trimmed)
            }
            if !kind.isGlobal, scope.isEmpty { throw .missingScope(kind) }
            return HandleAddress(kind: kind, scope: scope, address: trimmed)
        }
    }

    private static func normalizeEmail(_ raw: String) throws(HandleAddressError) -> String {
        var address = raw
        if address.lowercased().hasPrefix("mailto:") { address = String(address.dropFirst(7)) }
        // "Li Lei <li.lei@example.com>": keep what is inside the angle brackets.
        if let open = address.lastIndex(of: "<"), let close = address.lastIndex(of: ">"), open < close {
            address = String(address[address.index(after: open)..<close])
        }
        address = address.trimmingWhitespace().lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !address.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," })
        else { throw .invalidEmail(raw) }
        return address
    }

    public var description: String {
        scope.isEmpty ? "\(kind.rawValue):\(address)" : "\(kind.rawValue):\(scope)/\(address)"
    }
}

/// Why a handle address could not be normalized.
public enum HandleAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty(HandleKind)
    case invalidPhoneNumber(String, PhoneNumberError)
    case invalidEmail(String)
    case invalidSIPURI(String)
    case invalidProviderID(HandleKind, String)
    case missingScope(HandleKind)

    public var description: String {
        switch self {
        case .empty(let kind): "the \(kind.rawValue) address is empty"
        case .invalidPhoneNumber(let raw, let error): "'\(raw)' is not a usable phone number: \(error)"
        case .invalidEmail(let raw): "'\(raw)' is not an e-mail address"
        case .invalidSIPURI(let raw): "'\(raw)' is not a SIP URI (expected sip:user@host)"
        case .invalidProviderID(let kind, let raw):
            "'\(raw.prefix(40))' is not a valid \(kind.rawValue) id (at most 256 characters, one line)"
        case .missingScope(let kind): "a \(kind.rawValue) id needs a scope (the app, page or account it belongs to)"
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
