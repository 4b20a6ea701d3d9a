/// Which page of a listing a caller asked for (GitLab's `page` and `per_page`), as the core normalises it: pages
/// count from 1, 20 items a page by default, at most 100; a page past the end is empty.
public struct Paging: Sendable, Equatable {
    public static let defaultSize = 20
    public static let maxSize = 100

    public var page: Int
    public var size: Int

    public init(page: Int64? = nil, size: Int64? = nil) {
        self.page = max(1, page.map { Int(clamping: $0) } ?? 1)
        let asked = size.map { Int(clamping: $0) } ?? Self.defaultSize
        self.size = asked < 1 ? Self.defaultSize : min(asked, Self.maxSize)
    }

    /// The page of `items`.
    public func page<Item>(of items: [Item]) -> Page<Item> {
        let slice = Array(items.dropFirst(Checked.pageStart(page: page, size: size)).prefix(size))
        return Page(items: slice, page: page, size: size, total: items.count)
    }
}

/// One page of a listing, with what a client needs to ask for the others.
public struct Page<Item> {
    public var items: [Item]
    public var page: Int
    public var size: Int
    public var total: Int

    /// At least 1, also for an empty listing.
    public var pages: Int { max(1, Checked.sum(total, size - 1) / size) }
    public var next: Int? { page < pages ? page + 1 : nil }
    public var previous: Int? { page > 1 ? min(page - 1, pages) : nil }

    public func map<Other>(_ transform: (Item) throws -> Other) rethrows -> Page<Other> {
        Page<Other>(items: try items.map(transform), page: page, size: size, total: total)
    }
}

extension Page: Sendable where Item: Sendable {}

/// The order of a runner's jobs (GitLab: `order_by=id`, `sort=asc|desc`, newest first by default).
public struct JobOrder: Sendable, Equatable {
    public var ascending: Bool

    /// As the store keeps them.
    public static let oldestFirst = JobOrder(ascending: true)

    init(ascending: Bool) { self.ascending = ascending }

    /// Refuses any `orderBy` but `id` and any `sort` but `asc` and `desc`, naming the parameter.
    public init(orderBy: String?, sort: String?) throws(WardenError) {
        if let orderBy, orderBy != "id" { throw WardenError.invalid("order_by", "does not have a valid value") }
        let sort = sort ?? "desc"
        guard sort == "asc" || sort == "desc" else { throw WardenError.invalid("sort", "does not have a valid value") }
        ascending = sort == "asc"
    }
}
