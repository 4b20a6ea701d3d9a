import Foundation
import Synchronization
import RunModel

/// Keeps one runaway worker from taking every executor (spec §10: breaking a limit never harms other runs).
///
/// A worker may always have `freeSlots` runs at once (the executors but one, so others always find one); more only
/// while none of its runs has been going for `slowAfter`. A worker whose last run broke a limit (CPU, wall time,
/// memory) is on probation: it runs one at a time. Runs held back wait here, not in the executor queue. After
/// `tripAfter` limit breaks in a row it is suspended for `cooldown`: its runs fail at once, without running, until
/// one trial run after the cooldown succeeds.
final class RunGuard: Sendable {
    struct Entry {
        var limitFailures = 0
        var suspendedUntil: ContinuousClock.Instant?
        var inFlight: [Int: ContinuousClock.Instant] = [:]
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    enum Admission {
        case run(ticket: Int)
        case suspended(seconds: Int)
        /// Held back longer than the queue wait allows.
        case timedOut
    }

    let entries = Mutex<[String: Entry]>([:])
    let tickets = Atomic<Int>(0)
    let tripAfter: Int
    let cooldown: Duration
    let freeSlots: Int
    let slowAfter: Duration

    let maxWait: Duration
    let waiterIDs = Atomic<UInt64>(0)

    init(
        executors: Int, tripAfter: Int = 3, cooldown: Duration = .seconds(30), slowAfter: Duration = .milliseconds(100),
        maxWait: Duration = .seconds(30)
    ) {
        self.maxWait = maxWait
        self.freeSlots = max(1, executors - 1)
        self.tripAfter = tripAfter
        self.cooldown = cooldown
        self.slowAfter = slowAfter
    }

    /// Whether another run of this worker may start now.
    func mayStart(_ entry: Entry, now: ContinuousClock.Instant) -> Bool {
        if entry.inFlight.isEmpty { return true }
        if entry.limitFailures > 0 { return false }
        if entry.inFlight.count < freeSlots { return true }
        return entry.inFlight.values.allSatisfy { now - $0 < slowAfter }
    }

    /// Waits for the worker's turn (at most `maxWait` in all); `.suspended` and `.timedOut` mean do not run it.
    func admit(_ key: String) async -> Admission {
        let deadline = ContinuousClock.now + maxWait
        while true {
            enum Step {
                case go(Int), wait, refuse(Int)
            }
            let now = ContinuousClock.now
            let step: Step = entries.withLock { entries in
                var entry = entries[key, default: Entry()]
                defer { entries[key] = entry }
                if let until = entry.suspendedUntil, now < until {
                    return .refuse(Int((until - now).components.seconds) + 1)
                }
                guard mayStart(entry, now: now) else { return .wait }
                let ticket = tickets.add(1, ordering: .relaxed).newValue
                entry.inFlight[ticket] = now
                return .go(ticket)
            }
            switch step {
            case .go(let ticket): return .run(ticket: ticket)
            case .refuse(let seconds): return .suspended(seconds: seconds)
            case .wait:
                if ContinuousClock.now >= deadline { return .timedOut }
                let id = waiterIDs.add(1, ordering: .relaxed).newValue
                // Woken by a finishing run of the worker, or by the deadline, whichever comes first.
                let timer = Task { [weak self] in
                    // Cancelled while suspended: the caller's task ends anyway.
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    self?.wake(key, id: id)
                }
                await withCheckedContinuation { continuation in
                    let parked = entries.withLock { entries -> Bool in
                        guard var entry = entries[key], !mayStart(entry, now: .now) else { return false }
                        entry.waiters[id] = continuation
                        entries[key] = entry
                        return true
                    }
                    if !parked { continuation.resume() }
                }
                timer.cancel()
            }
        }
    }

    /// Resumes one parked waiter (its deadline passed); nothing when it was woken already.
    func wake(_ key: String, id: UInt64) {
        let waiter = entries.withLock { entries -> CheckedContinuation<Void, Never>? in
            entries[key]?.waiters.removeValue(forKey: id)
        }
        waiter?.resume()
    }

    /// Records how the admitted run ended and lets the next waiter try.
    func finish(_ key: String, ticket: Int, outcome: RunOutcome) {
        let woken: [CheckedContinuation<Void, Never>] = entries.withLock { entries in
            guard var entry = entries[key] else { return [] }
            entry.inFlight[ticket] = nil
            switch outcome {
            case .cpuLimit, .wallLimit, .memoryLimit:
                entry.limitFailures += 1
                if entry.limitFailures >= tripAfter { entry.suspendedUntil = .now + cooldown }
            case .executorCrashed:
                // The executor died while this worker ran in it (each executor runs one run at a time): the
                // worker's doing, like a limit break.
                entry.limitFailures += 1
                if entry.limitFailures >= tripAfter { entry.suspendedUntil = .now + cooldown }
            case .queueWait:
                break
            default:
                entry.limitFailures = 0
                entry.suspendedUntil = nil
            }
            let waiters = Array(entry.waiters.values)
            entry.waiters = [:]
            if entry.inFlight.isEmpty && entry.limitFailures == 0 && waiters.isEmpty {
                entries[key] = nil
            } else {
                entries[key] = entry
            }
            return waiters
        }
        for waiter in woken { waiter.resume() }
    }
}
