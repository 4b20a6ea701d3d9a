import RunModel
import Testing

@testable import WorkerRuntime

/// The pool's decisions without processes, clocks or locks (issue 12): slots, warm contexts, waiters, admission
/// and deadlines, one rule per test. Tokens are plain numbers standing for the waiting runs.
@Suite("Executor pool schedule")
struct PoolScheduleTests {
    typealias Schedule = PoolSchedule<Int>
    static let slow = Schedule.slowAfter

    static func schedule(executors: Int = 2, warm: Int = 2) -> Schedule { Schedule(executors: executors, warmPerExecutor: warm) }

    @Test func aRunTakesAFreeExecutorAtOnce() {
        var schedule = Self.schedule()
        #expect(schedule.admit(id: 1, contextKey: "a", runClass: .event, share: nil, now: 0, token: 1) != nil)
        #expect(schedule.waiters.isEmpty)
    }

    @Test func aRunWaitsWhenEveryExecutorIsBusy() {
        var schedule = Self.schedule(executors: 1)
        #expect(schedule.admit(id: 1, contextKey: "a", runClass: .event, share: nil, now: 0, token: 1) == 0)
        #expect(schedule.admit(id: 2, contextKey: "b", runClass: .event, share: nil, now: 0, token: 2) == nil)
        #expect(schedule.waiters.map(\.token) == [2])
        let granted = schedule.release(0, contextKey: "a", keepContext: true, sameExecutor: true, now: 1)
        #expect(granted.map(\.0) == [2])
        #expect(granted.map(\.1) == [0])
    }

    @Test func aFreeExecutorThatHoldsTheWorkerWarmIsPreferred() {
        var schedule = Self.schedule()
        let first = schedule.admit(id: 1, contextKey: "a", runClass: .event, share: nil, now: 0, token: 1) ?? -1
        _ = schedule.load("a", in: first, deadline: 100)
        _ = schedule.release(first, contextKey: "a", keepContext: true, sameExecutor: true, now: 1)
        // Both are free; the one holding `a` warm is chosen, whichever index it has.
        #expect(schedule.admit(id: 2, contextKey: "a", runClass: .event, share: nil, now: 2, token: 2) == first)
    }

    @Test func loadingPastTheWarmLimitEvictsTheLeastRecentlyUsed() {
        var schedule = Self.schedule(executors: 1, warm: 2)
        #expect(schedule.load("a", in: 0, deadline: 1) == (needsModule: true, evict: []))
        #expect(schedule.load("b", in: 0, deadline: 1) == (needsModule: true, evict: []))
        #expect(schedule.load("a", in: 0, deadline: 1) == (needsModule: false, evict: []))
        // `b` is now the least recently used.
        #expect(schedule.load("c", in: 0, deadline: 1) == (needsModule: true, evict: ["b"]))
        #expect(Set(schedule.slots[0].loaded.keys) == ["a", "c"])
    }

    @Test func aContextNotKeptIsForgotten() {
        var schedule = Self.schedule(executors: 1)
        _ = schedule.admit(id: 1, contextKey: "t", runClass: .caller, share: nil, now: 0, token: 1)
        _ = schedule.load("t", in: 0, deadline: 10)
        _ = schedule.release(0, contextKey: "t", keepContext: false, sameExecutor: true, now: 1)
        #expect(schedule.slots[0].loaded.isEmpty)
        #expect(schedule.slots[0].deadline == nil)
    }

    @Test func aReplacedExecutorsSlotIsLeftAsItsResetMadeIt() {
        var schedule = Self.schedule(executors: 1)
        _ = schedule.admit(id: 1, contextKey: "a", runClass: .event, share: nil, now: 0, token: 1)
        _ = schedule.load("a", in: 0, deadline: 10)
        schedule.reset(0)
        _ = schedule.load("fresh", in: 0, deadline: 20)
        _ = schedule.release(0, contextKey: "a", keepContext: false, sameExecutor: false, now: 1)
        // The run of the old executor does not clear what the new one holds.
        #expect(schedule.slots[0].deadline == 20)
        #expect(schedule.slots[0].loaded["fresh"] != nil)
        #expect(!schedule.slots[0].busy)
    }

    @Test func policiesGoFirstThenEventsThenCallers() {
        var schedule = Self.schedule(executors: 1)
        _ = schedule.admit(id: 1, contextKey: "busy", runClass: .event, share: nil, now: 0, token: 0)
        _ = schedule.admit(id: 2, contextKey: "c", runClass: .caller, share: nil, now: 1, token: 3)
        _ = schedule.admit(id: 3, contextKey: "e", runClass: .event, share: nil, now: 2, token: 2)
        _ = schedule.admit(id: 4, contextKey: "p", runClass: .policy, share: nil, now: 3, token: 1)
        var order: [Int] = []
        var running = 0
        for step in 0..<3 {
            let granted = schedule.release(running, contextKey: "x", keepContext: true, sameExecutor: true, now: Int64(10 + step))
            order += granted.map(\.0)
            running = granted.first?.1 ?? 0
        }
        #expect(order == [1, 2, 3])
    }

    @Test func withinAClassAWaiterWhoseWorkerIsWarmGoesFirst() {
        var schedule = Self.schedule(executors: 1)
        _ = schedule.admit(id: 1, contextKey: "warm", runClass: .event, share: nil, now: 0, token: 0)
        _ = schedule.load("warm", in: 0, deadline: 100)
        _ = schedule.admit(id: 2, contextKey: "cold", runClass: .event, share: nil, now: 1, token: 1)
        _ = schedule.admit(id: 3, contextKey: "warm", runClass: .event, share: nil, now: 2, token: 2)
        let granted = schedule.release(0, contextKey: "warm", keepContext: true, sameExecutor: true, now: 3)
        #expect(granted.map(\.0) == [2])
    }

    @Test func callerRunsLeaveAnExecutorForTheOthers() {
        var schedule = Self.schedule(executors: 3)
        #expect(schedule.admit(id: 1, contextKey: "a", runClass: .caller, share: nil, now: 0, token: 1) != nil)
        #expect(schedule.admit(id: 2, contextKey: "b", runClass: .caller, share: nil, now: 0, token: 2) != nil)
        // Two of three executors run caller runs: a third caller waits though one is free, a policy does not.
        #expect(schedule.admit(id: 3, contextKey: "c", runClass: .caller, share: nil, now: 0, token: 3) == nil)
        #expect(schedule.admit(id: 4, contextKey: "d", runClass: .policy, share: nil, now: 0, token: 4) != nil)
    }

    @Test func aShareWithSlowRunsCannotTakeMoreExecutors() {
        var schedule = Self.schedule(executors: 3)
        _ = schedule.admit(id: 1, contextKey: "a", runClass: .event, share: "project:p", now: 0, token: 1)
        _ = schedule.admit(id: 2, contextKey: "b", runClass: .event, share: "project:p", now: 0, token: 2)
        // While both are quick, the project may take the last executor too.
        #expect(schedule.mayStart(.event, "project:p", now: Self.slow - 1))
        // Once one of them is slow, it may not; another project may.
        #expect(!schedule.mayStart(.event, "project:p", now: Self.slow))
        #expect(schedule.mayStart(.event, "project:q", now: Self.slow))
        #expect(schedule.admit(id: 3, contextKey: "c", runClass: .event, share: "project:p", now: Self.slow, token: 3) == nil)
    }

    @Test func aWaiterHeldBackByAdmissionIsPassedOverNotBlocking() {
        var schedule = Self.schedule(executors: 2)
        _ = schedule.admit(id: 1, contextKey: "a", runClass: .caller, share: nil, now: 0, token: 1)
        _ = schedule.admit(id: 2, contextKey: "b", runClass: .event, share: nil, now: 0, token: 2)
        _ = schedule.admit(id: 3, contextKey: "c", runClass: .caller, share: nil, now: 1, token: 3)
        _ = schedule.admit(id: 4, contextKey: "d", runClass: .event, share: nil, now: 2, token: 4)
        // The event run ends: the waiting caller may not start (one caller already runs), the event may.
        let granted = schedule.release(1, contextKey: "b", keepContext: true, sameExecutor: true, now: 3)
        #expect(granted.map(\.0) == [4])
        #expect(schedule.waiters.map(\.token) == [3])
    }

    @Test func waitersPastTheQueueWaitExpire() {
        var schedule = Self.schedule(executors: 1)
        _ = schedule.admit(id: 1, contextKey: "a", runClass: .event, share: nil, now: 0, token: 0)
        _ = schedule.admit(id: 2, contextKey: "b", runClass: .event, share: nil, now: 10, token: 1)
        _ = schedule.admit(id: 3, contextKey: "c", runClass: .event, share: nil, now: 50, token: 2)
        #expect(schedule.expire(at: 100, maxWait: 60) == [1])
        #expect(schedule.waiters.map(\.token) == [2])
    }

    @Test func aRunPastItsDeadlineIsOverdue() {
        var schedule = Self.schedule()
        _ = schedule.admit(id: 1, contextKey: "a", runClass: .event, share: nil, now: 0, token: 0)
        _ = schedule.load("a", in: 0, deadline: 100)
        #expect(schedule.overdue(at: 100).isEmpty)
        #expect(schedule.overdue(at: 101) == [0])
    }

    @Test func closingHandsBackEveryWaiter() {
        var schedule = Self.schedule(executors: 1)
        _ = schedule.admit(id: 1, contextKey: "a", runClass: .event, share: nil, now: 0, token: 0)
        _ = schedule.admit(id: 2, contextKey: "b", runClass: .event, share: nil, now: 0, token: 1)
        _ = schedule.admit(id: 3, contextKey: "c", runClass: .policy, share: nil, now: 0, token: 2)
        #expect(schedule.removeAllWaiters() == [1, 2])
        #expect(schedule.waiters.isEmpty)
    }
}
