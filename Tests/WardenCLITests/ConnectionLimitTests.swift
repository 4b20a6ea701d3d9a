import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Half-open and slow connections against a live server (loopback only, bounded in count and time): they are closed
/// after the idle timeout, and past the connection cap a request is answered 503 instead of waiting.
@Suite("Connection limits on a live server")
struct ConnectionLimitTests {
    /// Long enough for the tries past the cap to end within it on a machine loaded by the other tests (8 s was not,
    /// once the replicas' tests ran beside it).
    static let idleSeconds = 16

    @Test(.timeLimit(.minutes(2)))
    func halfOpenConnectionsAreClosedAndThoseOverTheCapAreRefused() async throws {
        let data = try temporaryFolder("warden-connections")
        defer { try? FileManager.default.removeItem(at: data) }
        let server = try await LiveServer.launch(
            data: data, environment: ["WARDEN_HTTP_MAX_CONNECTIONS": "20", "WARDEN_HTTP_IDLE_TIMEOUT_SECONDS": String(Self.idleSeconds)])
        defer { server.stop() }

        // A connection that keeps sending requests (opened first, so within the cap) stays open past the idle
        // timeout, while the idle ones are closed.
        let busy = try LoopbackSocket(port: server.port)
        defer { busy.close() }
        let kept = Task { () -> [String] in
            var answers: [String] = []
            for _ in 0..<(Self.idleSeconds / 2 + 3) {
                try busy.write("GET /worker/api/v1/system/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
                let answer = busy.read(seconds: 2)
                answers.append(answer.closed ? "closed" : String(answer.text.prefix(12)))
            }
            return answers
        }
        try await Task.sleep(for: .milliseconds(300))

        // Twenty half-open connections (nothing sent) and five that stall inside a request head take the cap.
        let silent = try (0..<20).map { _ in try LoopbackSocket(port: server.port) }
        let stalled = try (0..<5).map { _ in try LoopbackSocket(port: server.port) }
        defer { for socket in silent + stalled { socket.close() } }
        for socket in stalled { try socket.write("GET /worker/api/v1/system/liveness HTTP/1.1\r\nHost: x\r\nX-Slow: ") }
        let opened = Date()
        // Past the cap, a complete request is told why at once. The server counts a connection once it has taken it
        // in, which a loaded machine may not have done for all of them yet: a new connection each try, until one is
        // refused (each closed again at once, so the tries do not count).
        var refusal = (text: "", closed: false)
        for _ in 0..<20 where !refusal.text.hasPrefix("HTTP/1.1 503") {
            let extra = try LoopbackSocket(port: server.port)
            try extra.write("GET /worker/api/v1/system/readiness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            refusal = extra.read(seconds: 3)
            extra.close()
            if !refusal.text.hasPrefix("HTTP/1.1 503") { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(Date().timeIntervalSince(opened) < Double(Self.idleSeconds), "the tries ran into the idle timeout; the test says nothing")
        #expect(refusal.text.hasPrefix("HTTP/1.1 503"), "\(refusal.text)")
        #expect(refusal.text.contains("too many open connections"))
        #expect(refusal.closed)

        for socket in silent + stalled {
            let answer = socket.read(seconds: Double(Self.idleSeconds) + 30)
            #expect(answer.closed, "a connection was still open after the idle timeout: \(answer.text)")
        }
        #expect(try await kept.value == Array(repeating: "HTTP/1.1 200", count: Self.idleSeconds / 2 + 3))
        let ready = try await server.request("GET", "/worker/api/v1/system/readiness")
        #expect(ready.status == 200)
    }
}

extension LoopbackSocket {
    /// What arrives within `seconds`, until the peer closes: `(text, closed)`.
    func read(seconds: Double) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&poller, 1, left) > 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received += buffer[0..<count]
        }
        return (String(decoding: received, as: UTF8.self), false)
    }
}

/// Its one stored property is an immutable descriptor; a test hands a socket to one task at a time.
extension LoopbackSocket: @unchecked Sendable {}
