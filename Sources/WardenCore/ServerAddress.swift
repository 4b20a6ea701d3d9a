import Synchronization

/// The server's own URL, as workers' `context.baseUrl`, artifact event payloads and runners' archive URLs carry it.
/// Known from the configuration at start, and set once more when the port is bound (it differs with port 0); every
/// service that needs it reads this one.
public final class ServerAddress: Sendable {
    let current: Mutex<String>

    public init(_ url: String) { current = Mutex(url) }

    public var url: String { current.withLock { $0 } }

    /// The URL once the listening port is known.
    public func update(_ url: String) { current.withLock { $0 = url } }
}
