import Synchronization
import Testing

@testable import WardenCore

@Suite("Fair turns at the compiler")
struct FairTurnsTests {
    @Test func callersTakeTurnsAndALineIsBounded() async throws {
        let turns = FairTurns(maxWaitingPerCaller: 2)
        let served = Served()
        try await turns.enter("a")  // a1 holds the turn
        let queue: @Sendable (String, String) -> Task<Void, Error> = { caller, name in
            Task {
                try await turns.enter(caller)
                served.add(name)
                turns.leave()
            }
        }
        let a2 = queue("a", "a2")
        try await Task.sleep(for: .milliseconds(50))
        let a3 = queue("a", "a3")
        try await Task.sleep(for: .milliseconds(50))
        let b1 = queue("b", "b1")
        try await Task.sleep(for: .milliseconds(50))
        // A third request of a, while two of its own wait, is refused.
        await #expect(throws: WardenError.self) { try await turns.enter("a") }
        turns.leave()
        for task in [a2, a3, b1] { try await task.value }
        // In arrival order b1 would come last; in turns it comes right after a's next.
        #expect(served.names == ["a2", "b1", "a3"])
    }

    final class Served: Sendable {
        let list = Mutex<[String]>([])
        func add(_ name: String) { list.withLock { $0.append(name) } }
        var names: [String] { list.withLock { $0 } }
    }
}
