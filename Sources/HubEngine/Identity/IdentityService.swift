import Foundation
import HubConfig
import HubModel
import HubStore

/// Customers and their handles: creating, linking, merging and unmerging, with addresses
/// normalized the same way ingest normalizes them.
public struct IdentityService: Sendable {
    let store: any HubStore
    let channels: ChannelDirectory
    let configuration: EngineConfiguration
    let now: @Sendable () -> Date

    /// A handle as a person or another system gives it.
    public struct HandleInput: Sendable, Hashable, Codable {
        public var kind: HandleKind
        public var address: String
        /// For provider ids: the channel account whose scope they belong to.
        public var channelAccountID: String?
        public var displayName: String?

        public init(kind: HandleKind, address: String, channelAccountID: String? = nil, displayName: String? = nil) {
            self.kind = kind
            self.address = address
            self.channelAccountID = channelAccountID
            self.displayName = displayName
        }
    }

    /// Normalizes a handle input.
    /// - Throws: `StoreError.invalid` naming what is wrong.
    public func normalize(_ input: HandleInput) throws -> HandleAddress {
        var scope = ""
        var region = configuration.defaultRegion
        if let accountID = input.channelAccountID {
            guard let account = channels.account(accountID) else { throw StoreError.invalid("no channel account '\(accountID)'") }
            scope = account.identityScope
            region = account.defaultRegion ?? region
        }
        do {
            return try HandleAddress.normalize(kind: input.kind, raw: input.address, scope: scope, defaultRegion: region)
        } catch {
            throw StoreError.invalid("\(error)")
        }
    }

    /// Creates a customer with handles.
    public func createCustomer(
        name: String?, tier: CustomerTier = .standard, tags: [String] = [], locale: String? = nil, handles: [HandleInput], actor: Actor
    ) async throws -> Customer {
        let date = now()
        let customer = Customer(id: .generate(at: date), name: name, tier: tier, tags: tags, locale: locale, createdAt: date)
        let stored = try handles.map { input in
            Handle(id: .generate(at: date), customerID: customer.id, address: try normalize(input), displayName: input.displayName, createdAt: date)
        }
        try await store.createCustomer(customer, handles: stored, actor: actor)
        return customer
    }

    /// Links another handle to a customer.
    public func linkHandle(_ input: HandleInput, to customerID: Customer.ID, actor: Actor) async throws -> Handle {
        let date = now()
        let handle = Handle(id: .generate(at: date), customerID: customerID, address: try normalize(input), displayName: input.displayName, createdAt: date)
        return try await store.linkHandle(handle, actor: actor)
    }

    /// Merges `mergedID` into `survivorID`.
    public func merge(_ mergedID: Customer.ID, into survivorID: Customer.ID, actor: Actor) async throws -> CustomerMerge {
        let date = now()
        return try await store.mergeCustomers(survivorID: survivorID, mergedID: mergedID, mergeID: .generate(at: date), at: date, actor: actor)
    }

    /// Undoes the merge of `mergedID`.
    public func unmerge(_ mergedID: Customer.ID, actor: Actor) async throws -> CustomerMerge {
        try await store.unmergeCustomer(mergedID, at: now(), actor: actor)
    }

    /// The customer a handle belongs to, looked up the way ingest would.
    public func customer(for input: HandleInput) async throws -> Customer? {
        guard let handle = try await store.handle(try normalize(input)) else { return nil }
        return try await store.customer(handle.customerID)
    }
}
