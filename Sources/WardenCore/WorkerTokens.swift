import Foundation
import Synchronization

/// Short-lived tokens a worker's run calls the platform with (`context.platformToken`): minted when the run
/// starts, valid until shortly after its wall limit, dropped when it ends. Kept in memory only: they never outlive
/// the run, so they never need to survive a restart.
public final class WorkerTokens: Sendable {
    struct Grant {
        var principal: Principal
        var expiresAt: Date
    }

    let grants = Mutex<[String: Grant]>([:])

    public init() {}

    /// A token acting for `workerKey` as a plain user (it can execute shared workers, nothing it does not own).
    /// `eventDepth` is the depth its requests act at (see `Principal.eventDepth`): a worker run's token is its run's
    /// depth + 1; a runner's upload token, which no worker run holds, is 0.
    public func mint(for workerKey: String, lifetime: TimeInterval, eventDepth: Int = 0) -> String {
        let value = TokenRecord.generateValue()
        let grant = Grant(
            principal: Principal(name: "worker:\(workerKey)", scope: .user, eventDepth: max(0, eventDepth)),
            expiresAt: Date().addingTimeInterval(lifetime))
        grants.withLock { grants in
            let now = Date()
            grants = grants.filter { $0.value.expiresAt > now }
            grants[value] = grant
        }
        return value
    }

    public func revoke(_ value: String) {
        _ = grants.withLock { $0.removeValue(forKey: value) }
    }

    func principal(for value: String) -> Principal? {
        grants.withLock { grants in
            guard let grant = grants[value], grant.expiresAt > Date() else { return nil }
            return grant.principal
        }
    }
}
