import Synchronization

/// One thing at a time (the compiler), handed out to callers in turn rather than in arrival order: each caller's
/// requests wait in a line of its own, and the next turn goes to the next caller that has one waiting. A caller with
/// `maxWaitingPerCaller` requests waiting already is refused (429), so no caller's line grows without end.
final class FairTurns: Sendable {
    struct State {
        var busy = false
        var lines: [String: [CheckedContinuation<Void, Never>]] = [:]
        /// Callers with someone waiting, in the order their turns come.
        var order: [String] = []
    }

    let maxWaitingPerCaller: Int
    let state = Mutex(State())

    init(maxWaitingPerCaller: Int) { self.maxWaitingPerCaller = maxWaitingPerCaller }

    /// Waits for `caller`'s turn.
    func enter(_ caller: String) async throws(WardenError) {
        let full = state.withLock { state -> Bool in (state.lines[caller]?.count ?? 0) >= maxWaitingPerCaller }
        if full {
            throw WardenError(.tooManyRequests, "'\(caller)' has \(maxWaitingPerCaller) compiles waiting already; try again when they are done")
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                if state.lines[caller] == nil { state.order.append(caller) }
                state.lines[caller, default: []].append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Ends the current turn and gives the next to the next caller in line.
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.order.isEmpty else {
                state.busy = false
                return nil
            }
            let caller = state.order.removeFirst()
            var line = state.lines[caller] ?? []
            let continuation = line.removeFirst()
            if line.isEmpty {
                state.lines[caller] = nil
            } else {
                state.lines[caller] = line
                state.order.append(caller)  // its next request waits for everyone else's turn first
            }
            return continuation
        }
        next?.resume()
    }
}
