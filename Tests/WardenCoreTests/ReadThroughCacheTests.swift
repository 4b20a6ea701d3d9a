import Synchronization
import Testing

@testable import WardenCore

/// The cache both hot-path decorators share: what a read under way may keep after a write changed its key.
@Suite("Read-through cache")
final class ReadThroughCacheTests: Sendable {
    let cache = ReadThroughCache<String, Int>(revalidateAfterNanos: 1_000, capacity: 10, clock: { 0 })
    let reads = Atomic(0)

    func value(_ key: String, answer: Int, during: () -> Void = {}) async throws -> Int? {
        try await cache.value(key) {
            reads.add(1, ordering: .relaxed)
            during()
            return answer
        }
    }

    @Test func aReadUnderWayWhenItsKeyIsForgottenDoesNotFill() async throws {
        #expect(try await value("a", answer: 1, during: { cache.forget(["a"]) }) == 1)
        #expect(try await value("a", answer: 2) == 2)
        #expect(reads.load(ordering: .relaxed) == 2)
    }

    /// Counted downloads arrive all the time under load: if each kept reads from filling, every download read storage.
    @Test func aReadUnderWayWhenItsKeyIsUpdatedStillFills() async throws {
        #expect(try await value("a", answer: 1, during: { cache.update([("a", 5)]) { $1 += $0 } }) == 1)
        #expect(try await value("a", answer: 2) == 1)
        #expect(reads.load(ordering: .relaxed) == 1)
    }

    @Test func updatesApplyInOrderToKeptValuesOnly() async throws {
        _ = try await value("a", answer: 1)
        cache.update([("a", 2), ("b", 3), ("a", 10)]) { $1 = $1 * $0 }
        #expect(try await value("a", answer: 0) == 20)
        #expect(try await value("b", answer: 7) == 7)
        #expect(reads.load(ordering: .relaxed) == 2)
    }
}
