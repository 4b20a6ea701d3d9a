import RunModel

/// Which executor a run gets, and when: the executor pool's decisions as a value, with no process, clock or lock, so
/// that every rule is tested on its own (in the manner of postgres-nio's connection state machine). The pool holds
/// one inside its lock, feeds it the time and its events, and acts on what it answers: the waiter to resume (its
/// `Token`, a continuation in the pool) and the executor index it got.
struct PoolSchedule<Token> {
    /// What a busy slot runs, for admission.
    struct Running {
        var runClass: RunClass
        var share: String?
        var startedAt: Int64
    }

    struct Slot {
        var running: Running?
        /// Context key → last use, for least-recently-used eviction.
        var loaded: [String: UInt64] = [:]
        /// When the run in this slot is past its wall limit and its executor is killed.
        var deadline: Int64?
        var busy: Bool { running != nil }
    }

    struct Waiter {
        var id: UInt64
        var contextKey: String
        var runClass: RunClass
        var share: String?
        var enqueuedAt: Int64
        var token: Token
    }

    private(set) var slots: [Slot]
    private(set) var waiters: [Waiter] = []
    var tick: UInt64 = 0
    /// Caller runs (tests, executes, reruns) at once, at most: all executors but one.
    let callerSlots: Int
    /// Runs of one share at once while any of them is slow, at most: all executors but one.
    let shareSlots: Int
    /// Warm contexts an executor keeps.
    let warmPerExecutor: Int
    /// A run that has gone on this long (ns) is slow: a share with slow runs cannot take more executors.
    static var slowAfter: Int64 { 100_000_000 }

    init(executors: Int, warmPerExecutor: Int) {
        slots = Array(repeating: Slot(), count: executors)
        callerSlots = max(1, executors - 1)
        shareSlots = max(1, executors - 1)
        self.warmPerExecutor = max(1, warmPerExecutor)
    }

    /// A free executor's index for a run that arrives at `now`, preferring one that holds `contextKey` warm; `nil`
    /// when none is free or admission holds the run back, in which case it waits in line with `token`.
    mutating func admit(id: UInt64, contextKey: String, runClass: RunClass, share: String?, now: Int64, token: Token) -> Int? {
        if let index = start(contextKey: contextKey, runClass: runClass, share: share, now: now) { return index }
        waiters.append(Waiter(id: id, contextKey: contextKey, runClass: runClass, share: share, enqueuedAt: now, token: token))
        return nil
    }

    /// The slot a run that arrives at `now` gets at once, as `admit` would give it; `nil` leaves it out of line.
    mutating func start(contextKey: String, runClass: RunClass, share: String?, now: Int64) -> Int? {
        guard mayStart(runClass, share, now: now), let index = freeSlot(for: contextKey) else { return nil }
        slots[index].running = Running(runClass: runClass, share: share, startedAt: now)
        return index
    }

    /// The run granted slot `index` loads `contextKey`: whether the executor needs the module sent, and the warm
    /// contexts it must drop first to keep at most `warmPerExecutor` (least recently used first).
    mutating func load(_ contextKey: String, in index: Int, deadline: Int64) -> (needsModule: Bool, evict: [String]) {
        tick += 1
        var slot = slots[index]
        let needsModule = slot.loaded[contextKey] == nil
        var evict: [String] = []
        if needsModule {
            while slot.loaded.count >= warmPerExecutor, let oldest = slot.loaded.min(by: { $0.value < $1.value }) {
                slot.loaded[oldest.key] = nil
                evict.append(oldest.key)
            }
        }
        slot.loaded[contextKey] = tick
        slot.deadline = deadline
        slots[index] = slot
        return (needsModule, evict)
    }

    /// The run in slot `index` ended. When its executor is still the one it ran on (`sameExecutor`), the deadline
    /// goes and the context too unless `keepContext`; a replaced executor's slot was reset already. Returns the
    /// waiters that now get an executor.
    mutating func release(_ index: Int, contextKey: String, keepContext: Bool, sameExecutor: Bool, now: Int64) -> [(Token, Int)] {
        if sameExecutor {
            slots[index].deadline = nil
            if !keepContext { slots[index].loaded[contextKey] = nil }
        }
        slots[index].running = nil
        return dispatch(now: now)
    }

    /// Slot `index` has a fresh executor: nothing warm, no deadline (the old one's would kill the new process).
    mutating func reset(_ index: Int) {
        slots[index].loaded = [:]
        slots[index].deadline = nil
    }

    /// The slots whose run is past its deadline at `now`.
    func overdue(at now: Int64) -> [Int] {
        slots.indices.filter { slots[$0].deadline.map { now > $0 } ?? false }
    }

    /// Removes and returns the waiters that have waited longer than `maxWait` at `now`.
    mutating func expire(at now: Int64, maxWait: Int64) -> [Token] {
        var expired: [Token] = []
        waiters.removeAll { waiter in
            guard now - waiter.enqueuedAt > maxWait else { return false }
            expired.append(waiter.token)
            return true
        }
        return expired
    }

    /// Removes and returns every waiter (the pool is closing).
    mutating func removeAllWaiters() -> [Token] {
        defer { waiters = [] }
        return waiters.map(\.token)
    }

    /// Admission: a caller run only while fewer than `callerSlots` caller runs go on, and a run of a share only
    /// while that share holds fewer than `shareSlots` executors or all of its runs are still quick (so a project's
    /// quick downloads keep every executor busy, and its slow ones cannot).
    func mayStart(_ runClass: RunClass, _ share: String?, now: Int64) -> Bool {
        if runClass == .caller, slots.count(where: { $0.running?.runClass == .caller }) >= callerSlots { return false }
        if let share {
            let mine = slots.compactMap(\.running).filter { $0.share == share }
            if mine.count >= shareSlots, mine.contains(where: { now - $0.startedAt >= Self.slowAfter }) { return false }
        }
        return true
    }

    /// A free slot that holds `contextKey` warm, else the free slot holding the fewest warm contexts.
    func freeSlot(for contextKey: String) -> Int? {
        var fallback: Int?
        for (index, slot) in slots.enumerated() where !slot.busy {
            if slot.loaded[contextKey] != nil { return index }
            if let chosen = fallback, slots[chosen].loaded.count <= slot.loaded.count { continue }
            fallback = index
        }
        return fallback
    }

    /// Hands free executors to waiting runs: policy runs first, then events, then callers, each in arrival order,
    /// skipping those admission holds back; for one executor, a waiter whose worker it holds warm goes first
    /// within the most urgent class.
    mutating func dispatch(now: Int64) -> [(Token, Int)] {
        var granted: [(Token, Int)] = []
        while let index = slots.indices.first(where: { !slots[$0].busy }) {
            let eligible = waiters.indices.filter { mayStart(waiters[$0].runClass, waiters[$0].share, now: now) }
            guard let urgent = eligible.map({ waiters[$0].runClass }).min() else { break }
            let loaded = slots[index].loaded
            let candidates = eligible.filter { waiters[$0].runClass == urgent }
            guard let pick = candidates.first(where: { loaded[waiters[$0].contextKey] != nil }) ?? candidates.first else { break }
            let waiter = waiters.remove(at: pick)
            slots[index].running = Running(runClass: waiter.runClass, share: waiter.share, startedAt: now)
            granted.append((waiter.token, index))
        }
        return granted
    }
}
