import Foundation

/// Where the next page of a list begins: the sort key and the id of the last item of the page
/// before (keyset paging: a page is found through the index, however deep, and items added or
/// removed meanwhile shift nothing). Clients see it as an opaque string, `<key>.<id>`.
public struct PageCursor: Sendable, Hashable, CustomStringConvertible {
    public var key: Int64
    public var id: String

    public init(key: Int64, id: String) {
        self.key = key
        self.id = id
    }

    /// Parses the string form; nil when it is not one.
    public init?(_ text: some StringProtocol) {
        guard let dot = text.firstIndex(of: "."), let key = Int64(text[..<dot]) else { return nil }
        let id = text[text.index(after: dot)...]
        guard !id.isEmpty, id.count <= 200 else { return nil }
        self.init(key: key, id: String(id))
    }

    public var description: String { "\(key).\(id)" }
}
