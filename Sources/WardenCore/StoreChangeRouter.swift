import ServiceLifecycle

/// Hands each change another server committed (`StoreChangeFeed`) to everything this server keeps in memory, so that
/// a worker deployed, a token revoked or a file uploaded on one server is what every other serves next. A service of
/// the server's group, for as long as it serves.
public struct StoreChangeRouter: Service {
    let feed: any StoreChangeFeed
    let forgetters: [@Sendable (StoreChange) -> Void]

    public init(feed: any StoreChangeFeed, forgetters: [@Sendable (StoreChange) -> Void]) {
        self.feed = feed
        self.forgetters = forgetters
    }

    public func run() async throws {
        for await change in feed.changes().cancelOnGracefulShutdown() {
            for forget in forgetters { forget(change) }
        }
    }
}
