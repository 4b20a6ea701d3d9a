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
    /// `depth` is the event depth of the run the token is for: its calls act one level deeper.
    public func mint(for workerKey: String, lifetime: TimeInterval, depth: Int = 0) -> String {
        let value = TokenRecord.generateValue()
        let grant = Grant(
            principal: Principal(name: "worker:\(workerKey)", scope: .user, eventDepth: Checked.sum(depth, 1)),
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
