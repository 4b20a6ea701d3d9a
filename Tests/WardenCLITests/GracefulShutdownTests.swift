import Foundation
import Testing

/// SIGTERM stops the server's services in order (issue 12, services in one group): the HTTP server first, then the
/// scheduler, then the asynchronous runs, which end and are recorded before the executors go.
@Suite("graceful shutdown", .serialized)
struct GracefulShutdownTests {
    @Test func anAsynchronousRunInFlightAtSigtermEndsAndIsRecorded() async throws {
        let data = try temporaryFolder("warden-graceful")
        // A wall limit above the run's 35 s wait: the run must still be in flight when the signal comes, however late
        // a loaded machine lets the test see that it started (twice over 15 s in CI, under a full suite beside
        // schemathesis, whether the test polled the server or its log).
        let server = try await LiveServer.launch(data: data, environment: ["WARDEN_LIMITS_WALL_MILLIS": "60000"])
        try await server.createRepository("libs")
        // The run marks that it started (a file its filter does not select, so no second event), then waits 35 s.
        try await server.deployWorker(
            key: "slow-after", action: "AFTER_CREATE",
            source: """
                export default async (context) => {
                  await context.clients.platformHttp.put('/artifactory/libs/started.txt', 'x');
                  await context.wait(35000);
                  return { message: 'done' };
                };
                """, repos: ["libs"], include: ["a.txt"])
        #expect(try await server.text("PUT", "/artifactory/libs/a.txt", body: "a").status == 201)
        // Signalled as soon as the run is seen to have started: its PUT's access line in the server's log (a fixed
        // sleep here once let the run end before the signal under a full suite).
        let deadline = Date().addingTimeInterval(35)
        while !server.log.contains("PUT /artifactory/libs/started.txt 201") {
            guard Date() < deadline else { throw CLIError("the AFTER_CREATE run did not start within 35 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let signalled = Int(Date().timeIntervalSince1970 * 1000)
        kill(server.process.processIdentifier, SIGTERM)
        let exited = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                server.process.waitUntilExit()
                continuation.resume(returning: server.process.terminationStatus)
            }
        }
        #expect(exited == 0, "the server exits cleanly on SIGTERM")

        let again = try await LiveServer.launch(data: data)
        defer { again.stop() }
        let runs = try await again.history("slow-after")
        // Recorded by the first server, which waited for it: started before the signal, ended after it, not run again.
        #expect(runs.count == 1, "\(runs)")
        #expect(runs.first?["executionStatus"] as? String == "STATUS_SUCCESS", "\(runs)")
        #expect((runs.first?["startTimeMillis"] as? Int ?? .max) < signalled)
        #expect((runs.first?["endTimeMillis"] as? Int ?? 0) > signalled)
        try await Task.sleep(for: .seconds(2))
        #expect(try await again.history("slow-after").count == 1)
    }
}
