import Foundation

/// Fires SCHEDULED_EVENT workers on their 5-field cron, in their IANA time zone, once per minute slot.
///
/// Each slot is claimed in the database before the run, so replicas sharing the database (or a restart inside the
/// same minute) never fire it twice. Runs get `{"triggerID": "<key>@<slot>"}` and are triggered by `scheduler`.
public struct WorkerScheduler: Sendable {
    let workers: any WorkerStore
    let claims: any ScheduleClaimStore
    let service: WorkerService

    public init(workers: any WorkerStore, claims: any ScheduleClaimStore, service: WorkerService) {
        self.workers = workers
        self.claims = claims
        self.service = service
    }

    /// Runs until the task is cancelled, ticking just after each minute starts.
    public func run() async {
        while !Task.isCancelled {
            let now = Date()
            let next = (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60.2
            try? await Task.sleep(for: .seconds(next - now.timeIntervalSince1970))
            if Task.isCancelled { return }
            _ = await tick(at: Date())
        }
    }

    /// Fires every worker due in the minute of `date`; returns the keys it fired.
    @discardableResult
    public func tick(at date: Date) async -> [String] {
        let slot = Int64(date.timeIntervalSince1970 / 60)
        guard let all = try? await workers.all() else { return [] }
        var fired: [String] = []
        for stored in all where stored.worker.enabled && stored.worker.action.name == "SCHEDULED_EVENT" {
            guard let schedule = stored.worker.filterCriteria.schedule, Self.isDue(schedule, at: date) else { continue }
            guard (try? await claims.claim(workerKey: stored.worker.key, slot: slot)) == true else { continue }
            let trigger = "{\"triggerID\":\"\(stored.worker.key)@\(slot)\"}"
            _ = try? await service.runStored(stored, dataJSON: trigger, triggeredBy: "scheduler")
            fired.append(stored.worker.key)
        }
        try? await claims.forgetClaims(before: slot - 24 * 60)
        return fired
    }

    /// True when `schedule` fires in the minute of `date`.
    public static func isDue(_ schedule: Schedule, at date: Date) -> Bool {
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
