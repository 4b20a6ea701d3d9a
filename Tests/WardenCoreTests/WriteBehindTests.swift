import Foundation
import Synchronization
import Testing

@testable import WardenCore

/// A token store in memory that counts its reads.
final class MemoryTokens: TokenStore {
    let stored = Mutex<[TokenRecord]>([])
    let reads = Atomic<Int>(0)

    func create(_ token: TokenRecord) async throws { stored.withLock { $0.append(token) } }
    func token(hash: String) async throws -> TokenRecord? {
        reads.add(1, ordering: .relaxed)
        return stored.withLock { $0.first { $0.hash == hash } }
    }
    func all() async throws -> [TokenRecord] { stored.withLock { $0 } }
    func revoke(id: String) async throws -> Bool {
        stored.withLock { all in
            let before = all.count
            all.removeAll { $0.id == id }
            return all.count < before
        }
    }
    /// A change made beside the cache (another process on the same database).
    func removeBeside(id: String) { stored.withLock { $0.removeAll { $0.id == id } } }
    var readCount: Int { reads.load(ordering: .relaxed) }
}

/// A clock a test moves by hand.
final class ManualClock: Sendable {
    let nanos = Atomic<Int64>(0)
    func advance(milliseconds: Int64) { nanos.add(milliseconds * 1_000_000, ordering: .relaxed) }
    var read: @Sendable () -> Int64 { { self.nanos.load(ordering: .relaxed) } }
}

/// Authentication from memory (issue 13): a known token costs no read; a revoke through the store is refused on
/// the very next request; a change beside it is seen once the entry is a second old; expiry is checked every time.
@Suite("Verified tokens from memory")
struct CachedTokenStoreTests {
    static func record(_ id: String, value: String, expiresAt: Int64? = nil) -> TokenRecord {
        TokenRecord(id: id, name: id, hash: TokenRecord.hash(of: value), scope: .user, createdAt: 0, expiresAt: expiresAt)
    }

    @Test func aKnownTokenIsReadOnce() async throws {
        let memory = MemoryTokens()
        let cache = CachedTokenStore(memory, clock: ManualClock().read)
        try await cache.create(Self.record("a", value: "va"))
        let authenticator = Authenticator(tokens: cache)
        for _ in 0..<100 { #expect(try await authenticator.principal(forToken: "va").name == "a") }
        #expect(memory.readCount == 1)
    }

    @Test func aRevokedTokenIsRefusedOnTheNextRequest() async throws {
        let memory = MemoryTokens()
        let cache = CachedTokenStore(memory, clock: ManualClock().read)
        try await cache.create(Self.record("a", value: "va"))
        let authenticator = Authenticator(tokens: cache)
        _ = try await authenticator.principal(forToken: "va")
        #expect(try await cache.revoke(id: "a"))
        await #expect(throws: WardenError.self) { try await authenticator.principal(forToken: "va") }
    }

    @Test func aRevokeBesideTheCacheIsSeenWithinTheRevalidationTime() async throws {
        let memory = MemoryTokens()
        let clock = ManualClock()
        let cache = CachedTokenStore(memory, revalidateAfterNanos: 1_000_000_000, clock: clock.read)
        try await cache.create(Self.record("a", value: "va"))
        let authenticator = Authenticator(tokens: cache)
        _ = try await authenticator.principal(forToken: "va")
        memory.removeBeside(id: "a")
        clock.advance(milliseconds: 999)
        #expect(try await authenticator.principal(forToken: "va").name == "a")
        clock.advance(milliseconds: 1)
        await #expect(throws: WardenError.self) { try await authenticator.principal(forToken: "va") }
    }

    @Test func anExpiredTokenIsRefusedFromTheCache() async throws {
        let memory = MemoryTokens()
        let cache = CachedTokenStore(memory, clock: ManualClock().read)
        try await cache.create(Self.record("a", value: "va", expiresAt: 5_000))
        let authenticator = Authenticator(tokens: cache)
        #expect(try await authenticator.principal(forToken: "va", now: 4_999).name == "a")
        await #expect(throws: WardenError.self) { try await authenticator.principal(forToken: "va", now: 5_000) }
        #expect(memory.readCount == 1)
    }

    @Test func unknownValuesAreNotCached() async throws {
        let memory = MemoryTokens()
        let cache = CachedTokenStore(memory, clock: ManualClock().read)
        let authenticator = Authenticator(tokens: cache)
        for _ in 0..<3 { await #expect(throws: WardenError.self) { try await authenticator.principal(forToken: "guess") } }
        #expect(memory.readCount == 3)
        // Made afterwards, the value is known at once.
        try await cache.create(Self.record("late", value: "guess"))
        #expect(try await authenticator.principal(forToken: "guess").name == "late")
    }

    @Test func aFullCacheStartsOverAndStillAnswers() async throws {
        let memory = MemoryTokens()
        let cache = CachedTokenStore(memory, capacity: 2, clock: ManualClock().read)
        for index in 0..<3 { try await cache.create(Self.record("t\(index)", value: "v\(index)")) }
        let authenticator = Authenticator(tokens: cache)
        for index in 0..<3 { #expect(try await authenticator.principal(forToken: "v\(index)").name == "t\(index)") }
        #expect(cache.cache.state.withLock { $0.entries.count } <= 2)
    }
}

/// Writes behind the answer (issue 13): in order, batched, flushed on demand and at the end, bounded.
@Suite("Writes behind the answer")
struct WriteBehindTests {
    final class Sink: Sendable {
        let batches = Mutex<[[Int]]>([])
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let failing: Bool
        init(failing: Bool = false) { self.failing = failing }
        func write(_ items: [Int]) async throws {
            batches.withLock { $0.append(items) }
            if failing { throw Failure() }
        }
        var items: [Int] { batches.withLock { $0.flatMap { $0 } } }
    }

    @Test func enqueuedItemsAreAllWrittenInOrderByAFlush() async throws {
        let sink = Sink()
        let writer = WriteBehind<Int>(name: "numbers", logger: LogCapture().logger) { try await sink.write($0) }
        for number in 0..<500 { await writer.enqueue(number) }
        await writer.flush()
        #expect(sink.items == Array(0..<500))
        #expect(sink.batches.withLock { $0.count } < 500)
    }

    /// Enqueued items wait for more to share their transaction, up to `linger` or until `batchTarget` are queued;
    /// a flush or a write never waits for the linger (here an hour: a test that waited for it would hit its limit, ten
    /// minutes, which a run of every test at once on two loaded cores can take for the few milliseconds it sleeps).
    @Test(.timeLimit(.minutes(10))) func enqueuedItemsGatherIntoBatchesAndWaitersCutTheLingerShort() async throws {
        let sink = Sink()
        let writer = WriteBehind<Int>(name: "numbers", linger: .seconds(3_600), batchTarget: 10, logger: LogCapture().logger) {
            try await sink.write($0)
        }
        for number in 0..<25 {
            await writer.enqueue(number)
            // Time for a drain that did not wait to write each item alone.
            try await Task.sleep(for: .milliseconds(2))
        }
        await writer.flush()
        #expect(sink.items == Array(0..<25))
        let batches = sink.batches.withLock { $0 }
        #expect(batches.dropLast().allSatisfy { $0.count >= 10 }, "\(batches)")
        try await writer.write(25)
        #expect(sink.items.last == 25)
    }

    @Test func aWriteReturnsOnceItsItemIsStoredAndTellsItsError() async throws {
        let sink = Sink()
        let writer = WriteBehind<Int>(name: "numbers", logger: LogCapture().logger) { try await sink.write($0) }
        try await writer.write(7)
        #expect(sink.items == [7])
        let failing = Sink(failing: true)
        let refused = WriteBehind<Int>(name: "numbers", logger: LogCapture().logger) { try await failing.write($0) }
        await #expect(throws: Failure.self) { try await refused.write(8) }
    }

    @Test func aLostBatchOfEnqueuedItemsIsLogged() async throws {
        let log = LogCapture()
        let sink = Sink(failing: true)
        let writer = WriteBehind<Int>(name: "numbers", logger: log.logger) { try await sink.write($0) }
        await writer.enqueue(1)
        await writer.flush()
        #expect(log.lines.withLock { $0 } == ["error: numbers could not be written (1 lost): the disk is full"])
    }

    @Test func aFullQueueMakesTheNextEnqueueWaitAndLosesNothing() async throws {
        let sink = Sink()
        let writer = WriteBehind<Int>(name: "numbers", capacity: 4, logger: LogCapture().logger) { items in
            try await Task.sleep(for: .milliseconds(2))
            try await sink.write(items)
        }
        await withTaskGroup(of: Void.self) { group in
            for number in 0..<200 { group.addTask { await writer.enqueue(number) } }
        }
        #expect(writer.state.withLock { $0.pending.count } <= 4)
        await writer.flush()
        #expect(sink.items.sorted() == Array(0..<200))
        #expect(sink.batches.withLock { $0.allSatisfy { $0.count <= 4 } })
    }

    @Test func theServiceWritesWhatIsQueuedWhenTheServerStops() async throws {
        let sink = Sink()
        let writer = WriteBehind<Int>(name: "numbers", logger: LogCapture().logger) { items in
            try await Task.sleep(for: .milliseconds(20))
            try await sink.write(items)
        }
        let running = Task { try await writer.run() }
        for number in 0..<10 { await writer.enqueue(number) }
        running.cancel()
        try await running.value
        #expect(sink.items == Array(0..<10))
    }
}
