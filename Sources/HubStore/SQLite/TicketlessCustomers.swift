import HubModel
import Synchronization

/// Customers the store knows to have no ticket: the ones its ingest created (a new customer has
/// none), until a ticket is created for one or customers are merged or unmerged (which move
/// tickets between customers: then it forgets them all). The ticket and SLA services ask about
/// the tickets of every customer's message; for a new customer's first message (a caller never
/// heard of, a first WeChat message) the answer is known without a read. Kept in step with the
/// writes, inside their transactions: a customer leaves the set before the commit that gives it
/// a ticket, so no read that could see that ticket finds it still here. A write that rolls back
/// after adding a customer leaves an id no conversation has; one that rolls back after removing
/// one only costs a read.
final class TicketlessCustomers: Sendable {
    private let customers = Mutex(Set<String>())
    /// At most this many are remembered; past it, all are forgotten and the set fills again.
    let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    func contains(_ customer: Customer.ID) -> Bool {
        customers.withLock { $0.contains(customer.rawValue) }
    }

    /// A customer created just now, with no ticket.
    func created(_ customer: Customer.ID) {
        customers.withLock { set in
            if set.count >= capacity { set.removeAll(keepingCapacity: true) }
            set.insert(customer.rawValue)
        }
    }

    /// A ticket is being written for the customer.
    func gainsTicket(_ customer: Customer.ID) {
        _ = customers.withLock { $0.remove(customer.rawValue) }
    }

    /// Tickets are moving between customers.
    func forgetAll() {
        customers.withLock { $0.removeAll() }
    }

    var count: Int { customers.withLock { $0.count } }
}
