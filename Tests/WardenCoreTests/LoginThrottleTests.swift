import Foundation
import Testing

@testable import WardenCore

@Suite("Login throttle")
struct LoginThrottleTests {
    @Test func failuresPerUserAndPerAddressAreCountedOverTheWindow() {
        let throttle = LoginThrottle(perUser: 3, perAddress: 5, window: 60, maxTracked: 100)
        let start = Date(timeIntervalSince1970: 1_000_000)
        for index in 0..<3 { throttle.failed(username: "ada", address: "10.0.0.\(index)", now: start) }
        #expect(throttle.wait(username: "ada", address: "10.0.0.9", now: start) == 60)
        #expect(throttle.wait(username: "ada", address: "10.0.0.9", now: start.addingTimeInterval(61)) == nil)
        // One address guessing many names is held back by its own count.
        for index in 0..<5 { throttle.failed(username: "user\(index)", address: "192.0.2.1", now: start) }
        #expect(throttle.wait(username: "someone", address: "192.0.2.1", now: start.addingTimeInterval(1)) == 59)
        #expect(throttle.wait(username: "someone", address: "192.0.2.2", now: start.addingTimeInterval(1)) == nil)
        throttle.succeeded(username: "ada")
        #expect(throttle.wait(username: "ada", address: "", now: start) == nil)
    }

    @Test func memoryIsBounded() {
        let throttle = LoginThrottle(maxTracked: 50)
        for index in 0..<500 { throttle.failed(username: "u\(index)", address: "a\(index)") }
        #expect(throttle.failures.withLock { $0.count } <= 50)
    }
}
