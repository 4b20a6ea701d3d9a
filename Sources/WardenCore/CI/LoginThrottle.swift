import Foundation
import Synchronization

/// Failed logins counted per user name and per client address over a sliding window: past `perUser` (or
/// `perAddress`) failures in `window`, further attempts are refused without checking the password (each check costs
/// 210,000 PBKDF2 rounds, so the throttle also keeps guessing from costing the server its CPU). A success clears the
/// user's count. Memory is bounded: at most `maxTracked` names and addresses are kept, the stalest dropped first.
final class LoginThrottle: Sendable {
    let perUser: Int
    let perAddress: Int
    let window: TimeInterval
    let maxTracked: Int
    let failures = Mutex<[String: [Date]]>([:])

    init(perUser: Int = 5, perAddress: Int = 20, window: TimeInterval = 900, maxTracked: Int = 10_000) {
        self.perUser = perUser
        self.perAddress = perAddress
        self.window = window
        self.maxTracked = maxTracked
    }

    /// Seconds until another attempt may be made, or `nil` when one may be made now.
    func wait(username: String, address: String, now: Date = Date()) -> Int? {
        failures.withLock { failures in
            var longest: TimeInterval?
            for (key, limit) in [("user:" + username, perUser), ("address:" + address, perAddress)] where !address.isEmpty || key.hasPrefix("user:") {
                let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
                failures[key] = recent.isEmpty ? nil : recent
                guard recent.count >= limit, let oldest = recent.first else { continue }
                longest = max(longest ?? 0, window - now.timeIntervalSince(oldest))
            }
            return longest.map { max(1, Int($0.rounded(.up))) }
        }
    }

    func failed(username: String, address: String, now: Date = Date()) {
        failures.withLock { failures in
            for key in ["user:" + username] + (address.isEmpty ? [] : ["address:" + address]) {
                failures[key, default: []].append(now)
            }
            if failures.count > maxTracked {
                let stalest = failures.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }.prefix(
                    failures.count - maxTracked)
                for (key, _) in stalest { failures[key] = nil }
            }
        }
    }

    func succeeded(username: String) {
        _ = failures.withLock { $0.removeValue(forKey: "user:" + username) }
    }
}
