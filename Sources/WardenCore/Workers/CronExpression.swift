/// A 5-field cron expression (minute hour day-of-month month day-of-week) with `*`, lists, ranges and steps.
public struct CronExpression: Sendable, Equatable {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    public let daysOfWeek: Set<Int>
    /// Cron's rule: when both day fields are restricted, a day matching either fires.
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    static let names = ["minute", "hour", "day of month", "month", "day of week"]
    static let ranges = [0...59, 0...23, 1...31, 1...12, 0...7]

    /// Parses `text`; the error says which field is wrong and why.
    public init(_ text: String) throws(WardenError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw WardenError.invalid(
                "filterCriteria.schedule.cron", "'\(text)' has \(fields.count) fields; a cron expression has 5 (minute hour day month weekday)")
        }
        var sets: [Set<Int>] = []
        for (index, field) in fields.enumerated() {
            sets.append(try Self.parse(field, range: Self.ranges[index], name: Self.names[index]))
        }
        minutes = sets[0]
        hours = sets[1]
        daysOfMonth = sets[2]
        months = sets[3]
        daysOfWeek = Set(sets[4].map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
    }

    static func parse(_ field: String, range: ClosedRange<Int>, name: String) throws(WardenError) -> Set<Int> {
        var values = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count) else { throw bad(field, name, "'\(part)' has more than one '/'") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw bad(field, name, "step '\(pieces[1])' is not a positive number") }
                step = parsed
            }
            var low = range.lowerBound
            var high = range.upperBound
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count), let first = Int(bounds[0]) else {
                    throw bad(field, name, "'\(pieces[0])' is not a number or range")
                }
                low = first
                high = first
                if bounds.count == 2 {
                    guard let last = Int(bounds[1]) else { throw bad(field, name, "'\(bounds[1])' is not a number") }
                    high = last
                } else if pieces.count == 2 {
                    high = range.upperBound
                }
                guard range.contains(low), range.contains(high), low <= high else {
                    throw bad(field, name, "\(low)-\(high) is outside \(range.lowerBound)-\(range.upperBound)")
                }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    static func bad(_ field: String, _ name: String, _ reason: String) -> WardenError {
        WardenError.invalid("filterCriteria.schedule.cron", "\(name) field '\(field)': \(reason)")
    }

    /// True when the expression fires at this minute (fields of a calendar date in the schedule's time zone).
    public func matches(minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        let dayOK = daysOfMonth.contains(day)
        let weekdayOK = daysOfWeek.contains(weekday % 7)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dayOK || weekdayOK }
        return dayOK && weekdayOK
    }
}
