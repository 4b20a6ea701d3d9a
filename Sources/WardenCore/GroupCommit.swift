import Synchronization

/// Writes items in batches: whoever arrives while no batch is being written writes everything pending in one
/// transaction; the others wait for the batch that holds their item. Each caller returns once its item is stored,
/// so nothing is acknowledged before it is written, and concurrent writers share one transaction.
final class GroupCommit<Item: Sendable>: Sendable {
    struct State {
        var pending: [(Item, CheckedContinuation<Result<Void, any Error>, Never>)] = []
        var writing = false
    }

    let state = Mutex(State())
    let write: @Sendable ([Item]) async throws -> Void

    init(write: @escaping @Sendable ([Item]) async throws -> Void) {
        self.write = write
    }

    func submit(_ item: Item) async throws {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, any Error>, Never>) in
            let lead = state.withLock { state -> Bool in
                state.pending.append((item, continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if lead { Task { await self.drain() } }
        }
        try result.get()
    }

    /// Writes batches until nothing is pending.
    func drain() async {
        while true {
            let batch = state.withLock { state -> [(Item, CheckedContinuation<Result<Void, any Error>, Never>)] in
                let batch = state.pending
                state.pending = []
                if batch.isEmpty { state.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            let result: Result<Void, any Error>
            do {
                try await write(batch.map(\.0))
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for (_, continuation) in batch { continuation.resume(returning: result) }
        }
    }
}
