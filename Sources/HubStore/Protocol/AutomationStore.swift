import Foundation
import HubModel

/// Events the hub's automations record.
public protocol AutomationStore: Sendable {
    /// Appends an event once per `key` (a second call with the key records nothing).
    /// - Returns: whether it was recorded now.
    func recordEvent(onceFor key: String, _ kind: EventKind, refs: EventRefs, payload: JSONValue, at date: Date, actor: Actor) async throws -> Bool
    /// Adds tags to a customer (those it lacks), with a `customer.updated` event, once per `key`.
    /// - Returns: the customer as it is now.
    func addCustomerTags(_ tags: [String], to customerID: Customer.ID, onceFor key: String, at date: Date, actor: Actor) async throws -> Customer?
}
