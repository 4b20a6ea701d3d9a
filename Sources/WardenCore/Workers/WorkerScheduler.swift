import Foundation
import Logging
import ServiceLifecycle

/// Fires SCHEDULED_EVENT workers on their 5-field cron, in their IANA time zone, once per minute slot.
///
/// Each slot is claimed in the database before the run, so replicas sharing the database (or a restart inside the
/// same minute) never fire it twice. Runs get `{"triggerID": "<key>@<slot>"}` and are triggered by `scheduler`.
public struct WorkerScheduler: Service {
    let workers: any WorkerStore
    let claims: any ScheduleClaimStore
    /// Where the runs of a minute go, as every event's do.
    let events: EventDispatcher
    let logger: Logger

    public init(
        workers: any WorkerStore, claims: any ScheduleClaimStore, events: EventDispatcher, logger: Logger = Logger(label: "warden.scheduler")
    ) {
        self.workers = workers
        self.claims = claims
        self.events = events
        self.logger = logger
    }

    /// Runs until cancelled or shut down gracefully, ticking just after each minute starts; a tick under way when
    /// the server shuts down gracefully finishes (its runs end and are recorded) before this returns.
    public func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = Date()
            let next = (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60.2
            // Woken early by a shutdown or a cancellation: the loop ends below.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(next - now.timeIntervalSince1970)) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            _ = await tick(at: Date())
        }
    }

    /// Fires every worker due in the minute of `date`; returns the keys it fired.
    @discardableResult
    public func tick(at date: Date) async -> [String] {
        let slot = Int64(date.timeIntervalSince1970 / 60)
        let all: [StoredWorker]
        do {
            all = try await workers.all()
        } catch {
            logger.error("the scheduler could not read the workers; minute \(slot) fires nothing: \(error)")
            return []
        }
        var fired: [String] = []
        for stored in all where stored.worker.enabled && stored.worker.action == .scheduledEvent {
            guard let schedule = stored.worker.filterCriteria.schedule, Self.isDue(schedule, at: date) else { continue }
            let key = stored.worker.key
            do {
                // Another replica (or this one before a restart) fired this minute already.
                guard try await claims.claim(workerKey: key, slot: slot) else { continue }
            } catch {
                logger.error("the scheduler could not claim minute \(slot) of worker '\(key)'; it does not fire: \(error)")
                continue
            }
            do {
                _ = try await events.scheduled(stored, slot: slot)
            } catch {
                logger.error("the scheduled run of worker '\(key)' at minute \(slot) failed to start: \(error)")
            }
            fired.append(key)
        }
        do {
            try await claims.forgetClaims(before: slot - 24 * 60)
        } catch {
            // Old claims only take room; the next tick tries again.
            logger.warning("the scheduler could not forget old claims: \(error)")
        }
        return fired
    }

    /// True when `schedule` fires in the minute of `date`.
    public static func isDue(_ schedule: Schedule, at date: Date) -> Bool {
        // Both were checked when the worker was saved; a schedule that no longer parses never fires.
        guard let cron = try? CronExpression(schedule.cron), let zone = TimeZone(identifier: schedule.timezone) else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month, let weekday = parts.weekday else {
            return false
        }
        return cron.matches(minute: minute, hour: hour, day: day, month: month, weekday: weekday - 1)
    }
}
