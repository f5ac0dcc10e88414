import HubModel

/// A setting with a value per medium (voice, messaging, email) and a default for the others:
/// offer timeouts, wrap-up times, strategies, service levels.
public struct PerMedium<Value> {
    public var voice: Value
    public var messaging: Value
    public var email: Value

    public init(voice: Value, messaging: Value, email: Value) {
        self.voice = voice
        self.messaging = messaging
        self.email = email
    }

    /// The same value for every medium.
    public init(_ value: Value) {
        self.init(voice: value, messaging: value, email: value)
    }

    public subscript(medium: ChannelMedium) -> Value {
        get {
            switch medium {
            case .voice: voice
            case .messaging: messaging
            case .email: email
            }
        }
        // In place: a get-then-set would copy a stored collection and make every change to it
        // a copy-on-write of the whole collection.
        _modify {
            switch medium {
            case .voice: yield &voice
            case .messaging: yield &messaging
            case .email: yield &email
            }
        }
    }
}

extension PerMedium: Sendable where Value: Sendable {}
extension PerMedium: Equatable where Value: Equatable {}
extension PerMedium: Hashable where Value: Hashable {}
