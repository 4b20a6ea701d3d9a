import Foundation
import RunModel

/// Arithmetic on numbers that come from requests or from stored rows, none of which may trap the process.
///
/// Swift traps on overflow and on converting a non-finite or out-of-range `Double` to an integer; a server must turn
/// such input into a refusal or a clamp instead. These helpers are the one place that rule is written.
public enum Checked {
    /// `Double` to `Int64` when it is finite and inside `Int64`'s range (fractions cut toward zero); else `nil`.
    public static func int64(_ value: Double) -> Int64? {
        guard value.isFinite, value > -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 else { return nil }
        return Int64(value.rounded(.towardZero))
    }

    /// `a + b`, or the bound it passed.
    public static func sum<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? T.max : T.min) : result
    }

    /// `a * b`, or the bound it passed.
    public static func product<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? ((a < 0) == (b < 0) ? T.max : T.min) : result
    }

    /// The first index of a page: `(page - 1) * size` for 1-based pages, saturated, never negative.
    public static func pageStart(page: Int, size: Int, firstPage: Int = 1) -> Int {
        max(0, product(max(0, Checked.sum(page, -firstPage)), max(0, size)))
    }

    /// Seconds to milliseconds after `start`, saturated (a far expiry is "never" rather than a trap).
    public static func millis(after start: Int64, seconds: Int64) -> Int64 { sum(start, product(seconds, 1000)) }
    /// `start` plus a duration, in milliseconds, saturating.
    public static func millis(after start: Int64, duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return sum(sum(start, product(seconds, 1000)), attoseconds / 1_000_000_000_000_000)
    }
}

extension Checked {
    /// The whole number a decoded JSON value holds (`NSNumber` from `JSONSerialization`), or `nil` for booleans,
    /// fractions, and numbers outside `Int64`: `NSNumber.intValue` on `1e19` gives whatever the C conversion gives.
    public static func wholeNumber(_ value: Any?) -> Int64? {
        // Not `value is Bool`: on Linux an NSNumber holding 0 or 1 passes that test.
        guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
        let objCType = String(cString: number.objCType)
        if objCType == "d" || objCType == "f" {
            let double = number.doubleValue
            guard double == double.rounded() else { return nil }
            return int64(double)
        }
        if objCType == "Q" {  // unsigned 64-bit: past Int64.max when the top bit is set
            return Int64(exactly: number.uint64Value)
        }
        return number.int64Value
    }

    /// JSONSerialization gives `true`/`false` as `NSNumber` too.
    public static func isBoolean(_ number: NSNumber) -> Bool { JSONText.isBoolean(number) }

    /// Ten years in seconds: the furthest expiry a request may ask for (tokens, holds).
    public static let maxExpirySeconds: Int64 = 315_360_000
}
