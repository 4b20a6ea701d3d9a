import Foundation
import Testing

@testable import WardenCore

@Suite("Cron and schedules")
struct CronTests {
    @Test func parsesListsRangesAndSteps() throws {
        let cron = try CronExpression("*/15 9-17 1,15 * 1-5")
        #expect(cron.minutes == [0, 15, 30, 45])
        #expect(cron.hours == Set(9...17))
        #expect(cron.daysOfMonth == [1, 15])
        #expect(cron.daysOfWeek == Set(1...5))
        #expect(try CronExpression("0 0 * * 7").daysOfWeek == [0])
        #expect(try CronExpression("5/20 * * * *").minutes == [5, 25, 45])
    }

    @Test(arguments: [
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "a * * * *", "5-1 * * * *",
    ])
    func refusesBadExpressionsNamingTheField(_ text: String) {
        let error = #expect(throws: WardenError.self) { try CronExpression(text) }
        #expect(error?.message.hasPrefix("filterCriteria.schedule.cron: ") == true)
    }

    @Test func dueUsesTheSchedulesTimeZone() throws {
        // 2026-11-23 00:30 UTC is 09:30 in Tokyo (a Monday there).
        let date = try #require(ISO8601DateFormatter().date(from: "2026-11-23T00:30:10Z"))
        #expect(WorkerScheduler.isDue(Schedule(cron: "30 9 * * 1", timezone: "Asia/Tokyo"), at: date))
        #expect(!WorkerScheduler.isDue(Schedule(cron: "30 9 * * 1", timezone: "UTC"), at: date))
        #expect(WorkerScheduler.isDue(Schedule(cron: "30 0 * * *", timezone: "UTC"), at: date))
        #expect(!WorkerScheduler.isDue(Schedule(cron: "*/7 * * * *", timezone: "UTC"), at: date))
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        let cron = try CronExpression("0 0 13 * 5")
        #expect(cron.matches(minute: 0, hour: 0, day: 13, month: 2, weekday: 2))
        #expect(cron.matches(minute: 0, hour: 0, day: 4, month: 2, weekday: 5))
        #expect(!cron.matches(minute: 0, hour: 0, day: 4, month: 2, weekday: 3))
    }
}
