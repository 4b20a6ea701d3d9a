import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Half-open and slow connections against a live server (loopback only, bounded in count and time): they are closed
/// after the idle timeout, and past the connection cap a request is answered 503 instead of waiting.
@Suite("Connection limits on a live server")
struct ConnectionLimitTests {
    @Test(.timeLimit(.minutes(2)))
    func halfOpenConnectionsAreClosedAndThoseOverTheCapAreRefused() async throws {
        let data = try temporaryFolder("warden-connections")
        defer { try? FileManager.default.removeItem(at: data) }
        let server = try LiveServer.start(
            data: data, environment: ["WARDEN_HTTP_MAX_CONNECTIONS": "20", "WARDEN_HTTP_IDLE_TIMEOUT_SECONDS": "3"])
        defer { server.stop() }

        // Twenty half-open connections (nothing sent) and five that stall inside a request head take the cap.
        let silent = try (0..<20).map { _ in try LoopbackSocket(port: server.port) }
        let stalled = try (0..<5).map { _ in try LoopbackSocket(port: server.port) }
        defer { for socket in silent + stalled { socket.close() } }
        for socket in stalled { try socket.write("GET /worker/api/v1/system/liveness HTTP/1.1\r\nHost: x\r\nX-Slow: ") }
        // Let the server take them all in (it counts a connection once its channel is up), then past the cap a
        // complete request is told why at once.
        try await Task.sleep(for: .milliseconds(1000))
        let extra = try LoopbackSocket(port: server.port)
        defer { extra.close() }
        try extra.write("GET /worker/api/v1/system/readiness HTTP/1.1\r\nHost: x\r\n\r\n")
        let refusal = extra.read(seconds: 5)
        #expect(refusal.text.hasPrefix("HTTP/1.1 503"), "\(refusal.text)")
        #expect(refusal.text.contains("too many open connections"))
        #expect(refusal.closed)

        // The idle timeout closes every one of them; then the server answers as usual.
        for socket in silent + stalled {
            let answer = socket.read(seconds: 10)
            #expect(answer.closed, "a connection was still open after the idle timeout: \(answer.text)")
        }
        let ready = try await server.request("GET", "/worker/api/v1/system/readiness")
        #expect(ready.status == 200)

        // A connection that keeps sending requests stays open past the idle timeout.
        let busy = try LoopbackSocket(port: server.port)
        defer { busy.close() }
        for _ in 0..<3 {
            try busy.write("GET /worker/api/v1/system/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
            let answer = busy.read(seconds: 1.5)
            #expect(answer.text.hasPrefix("HTTP/1.1 200"), "\(answer.text)")
            #expect(!answer.closed)
        }
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
