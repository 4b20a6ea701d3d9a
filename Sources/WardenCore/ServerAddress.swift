import Synchronization

/// The server's own URL, as workers' `context.baseUrl`, artifact event payloads and runners' archive URLs carry it.
/// Known from the configuration at start, and set once more when the port is bound (it differs with port 0); every
/// service that needs it reads this one. With it, the platform's service id: what `userContext.id` names a user
/// by (`jfac@<service id>/users/<name>`, as the reference platform does), the same on every server of one database.
public final class ServerAddress: Sendable {
    let current: Mutex<String>
    public let serviceID: String

    public init(_ url: String, serviceID: String = RandomID.serviceID()) {
        current = Mutex(url)
        self.serviceID = serviceID
    }

    public var url: String { current.withLock { $0 } }

    /// The URL once the listening port is known.
    public func update(_ url: String) { current.withLock { $0 = url } }

    /// How the platform names a user (or a token's owner) to workers: `jfac@<service id>/users/<name>`.
    public func subject(of name: String) -> String { "jfac@\(serviceID)/users/\(name)" }
}
