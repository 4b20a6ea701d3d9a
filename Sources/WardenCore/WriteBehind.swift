import Logging
import ServiceLifecycle
import Synchronization

/// Writes items in batches, one batch at a time, in the order they came: whatever is queued when a batch starts
/// is written in one call of `write` (one transaction). A batch of enqueued items only waits up to `linger` for
/// more (until `batchTarget` are queued): a transaction costs about the same for one row as for a hundred, so
/// under load the rows share it. Two ways in:
/// - `enqueue`: behind the answer (issue 13). It returns once the item is queued, and waits only while `capacity`
///   items already are (back-pressure, never a drop). What a kill -9 loses is what is queued and not yet written:
///   under load about one batch and what came during its `linger`, at most `capacity` items. A clean stop (this
///   service's end) writes them all.
/// - `write`: the caller returns once its item is stored (or with the write's error), so nothing it acknowledges
///   is lost; concurrent writers share one transaction.
/// `flush` waits until everything queued before it is written: a read that must see this server's own writes
/// (statistics, the history) flushes first.
public final class WriteBehind<Item: Sendable>: Service, Sendable {
    typealias Done = CheckedContinuation<Result<Void, any Error>, Never>

    /// Items queued and not yet written (the batch being written included).
    public var backlog: Int { state.withLock { $0.queued - $0.written } }

    struct State {
        var pending: [Item] = []
        /// Items get numbers in the order queued; those below `written` have been written (or failed).
        var queued = 0
        var written = 0
        var writing = false
        var done: [(number: Int, continuation: Done)] = []
        /// Enqueuers waiting for room: woken after each batch, to try again.
        var room: [CheckedContinuation<Void, Never>] = []
    }

    let state = Mutex(State())
    let capacity: Int
    let linger: Duration
    let batchTarget: Int
    let name: String
    let logger: Logger
    let writeBatch: @Sendable ([Item]) async throws -> Void

    /// `name` says what is lost in the log line of a failed batch of enqueued items.
    init(
        name: String, capacity: Int = 10_000, linger: Duration = .milliseconds(5), batchTarget: Int = 256, logger: Logger,
        write: @escaping @Sendable ([Item]) async throws -> Void
    ) {
        self.name = name
        self.capacity = max(1, capacity)
        self.linger = linger
        self.batchTarget = max(1, batchTarget)
        self.logger = logger
        self.writeBatch = write
    }

    /// Queues `item` to be written behind the caller's answer: at once when there is room (most calls, without
    /// suspending), after a batch when `capacity` items are queued.
    func enqueue(_ item: Item) async {
        while !offer(item) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let full = state.withLock { state -> Bool in
                    guard state.pending.count >= capacity else { return false }
                    state.room.append(continuation)
                    return true
                }
                if !full { continuation.resume() }
            }
        }
    }

    /// Queues `item` if there is room (starting the drain when none runs); false when the queue is full.
    private func offer(_ item: Item) -> Bool {
        let (accepted, lead) = state.withLock { state -> (Bool, Bool) in
            guard state.pending.count < capacity else { return (false, false) }
            return (true, queue(item, in: &state))
        }
        if lead { Task { await self.drain() } }
        return accepted
    }

    /// Writes `item` with whatever else is queued; returns once it is stored.
    func write(_ item: Item) async throws {
        let result = await withCheckedContinuation { (continuation: Done) in
            let lead = state.withLock { state -> Bool in
                let lead = queue(item, in: &state)
                state.done.append((state.queued - 1, continuation))
                return lead
            }
            if lead { Task { await self.drain() } }
        }
        try result.get()
    }

    /// Returns once every item queued before the call has been written (or has failed, which the log says).
    public func flush() async {
        _ = await withCheckedContinuation { (continuation: Done) in
            let finished = state.withLock { state -> Bool in
                guard state.written < state.queued else { return true }
                state.done.append((state.queued - 1, continuation))
                return false
            }
            if finished { continuation.resume(returning: .success(())) }
        }
    }

    /// Runs until the server stops, then writes what is queued.
    public func run() async throws {
        try? await gracefulShutdown()
        await flush()
    }

    /// Adds `item`; true when no batch is being written, so the caller starts the drain.
    private func queue(_ item: Item, in state: inout State) -> Bool {
        state.pending.append(item)
        state.queued += 1
        guard !state.writing else { return false }
        state.writing = true
        return true
    }

    /// Writes batches until nothing is queued.
    private func drain() async {
        while true {
            await gather()
            let batch = state.withLock { state -> [Item] in
                let batch = state.pending
                state.pending = []
                if batch.isEmpty { state.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            let result: Result<Void, any Error>
            do {
                try await writeBatch(batch)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            let (finished, room) = state.withLock { state -> ([Done], [CheckedContinuation<Void, Never>]) in
                state.written += batch.count
                let written = state.written
                let finished = state.done.filter { $0.number < written }.map(\.continuation)
                state.done.removeAll { $0.number < written }
                let room = state.room
                state.room = []
                return (finished, room)
            }
            if case .failure(let error) = result {
                logger.error("\(name) could not be written (\(batch.count) lost): \(error)")
            }
            for continuation in finished { continuation.resume(returning: result) }
            // The waiters for room try again; those that find it full wait for the next batch.
            for continuation in room { continuation.resume() }
        }
    }

    /// Waits up to `linger`, a millisecond at a time, for more items to share the batch's transaction; it ends as
    /// soon as `batchTarget` are queued or anyone waits (a `write` or a `flush` for its items, an enqueuer for room),
    /// so that no caller's wait grows by it, and at once when nothing is queued (the drain then ends; the next
    /// item starts another).
    private func gather() async {
        var waited = Duration.zero
        while waited < linger {
            let ready = state.withLock {
                $0.pending.isEmpty || $0.pending.count >= batchTarget || !$0.done.isEmpty || !$0.room.isEmpty
            }
            if ready { return }
            // Not cancelled: the drain is a task of its own that nothing cancels.
            try? await Task.sleep(for: .milliseconds(1))
            waited += .milliseconds(1)
        }
    }
}
