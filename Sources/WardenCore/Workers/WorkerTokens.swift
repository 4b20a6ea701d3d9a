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

    /// The grants, and when expired ones were last dropped (a revoke drops each run's own; this catches the rest).
    let grants = Mutex<(byValue: [String: Grant], prunedAt: Date)>(([:], Date()))

    public init() {}

    /// A token acting for `name` as a plain user (it can execute shared workers, manage nothing) with the
    /// repository `rights` given: a worker's run token has its owner's narrowed to its manifest, a runner's upload
    /// token only its run's archive folder. `eventDepth` is the depth its requests act at (see
    /// `Principal.eventDepth`): a worker run's token is its run's depth + 1; a runner's upload token, which no
    /// worker run holds, is 0.
    public func mint(name: String, rights: RepositoryRights, lifetime: TimeInterval, eventDepth: Int = 0, readsTokens: Bool = false) -> String {
        let value = TokenRecord.generateValue()
        let grant = Grant(
            principal: Principal(name: name, scope: .user, eventDepth: max(0, eventDepth), repositoryRights: rights, readsTokens: readsTokens),
            expiresAt: Date().addingTimeInterval(lifetime))
        grants.withLock { grants in
            let now = Date()
            if now.timeIntervalSince(grants.prunedAt) > 10 {
                grants.byValue = grants.byValue.filter { $0.value.expiresAt > now }
                grants.prunedAt = now
            }
            grants.byValue[value] = grant
        }
        return value
    }

    public func revoke(_ value: String) {
        _ = grants.withLock { $0.byValue.removeValue(forKey: value) }
    }

    func principal(for value: String) -> Principal? {
        grants.withLock { grants in
            guard let grant = grants.byValue[value], grant.expiresAt > Date() else { return nil }
            return grant.principal
        }
    }
}
