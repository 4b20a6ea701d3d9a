import Dispatch
import Foundation
import Synchronization

/// Evaluates AQL queries on threads of their own, never on Swift concurrency's cooperative pool: a search that
/// reads many rows would otherwise hold one of its (two, here) threads and stall every other request, readiness
/// included. At most `concurrency` searches run at once (others get 503 at once rather than queueing without end),
/// and each stops when its budget is spent (503 naming the budget).
final class SearchRunner: Sendable {
    let budget: Duration
    let concurrency: Int
    let running = Mutex(0)
    let queue = DispatchQueue(label: "warden.aql", qos: .utility, attributes: .concurrent)

    init(budget: Duration, concurrency: Int) {
        self.budget = budget
        self.concurrency = max(1, concurrency)
    }

    func evaluate(_ query: AQLQuery, _ rows: [(ArtifactItem, ArtifactProperties)], now: Int64) async throws -> AQLResult {
        let admitted = running.withLock { count -> Bool in
            guard count < concurrency else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw WardenError(.unavailable, "AQL: \(concurrency) searches are running already; try again shortly")
        }
        defer { running.withLock { $0 -= 1 } }
        let deadline = ContinuousClock.now + budget
        let budget = self.budget
        let answer: AQLResult? = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: query.evaluate(rows, now: now, overBudget: { ContinuousClock.now > deadline }))
            }
        }
        guard let answer else {
            throw WardenError(.unavailable, "AQL: the search took longer than its budget of \(budget); narrow it by repo, path or name")
        }
        return answer
    }
}
