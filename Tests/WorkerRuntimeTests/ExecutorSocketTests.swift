import Foundation
import Testing

import RunModel
@testable import WorkerRuntime

/// The executor's socket under frames larger than a socket buffer, both ways and from concurrent senders: each must
/// arrive whole and none may interleave with another, and neither side may wait on the other for ever.
@Suite("Executor socket")
struct ExecutorSocketTests {
    static let echoes = """
        export default async (context, data) => {
          const calls = [];
          for (let i = 0; i < data.calls; i++) calls.push(context.clients.platformHttp.post('/api/echo', { i, s: data.s }));
          const answers = await Promise.all(calls);
          return { sent: data.s.length, echoed: answers.map(a => a.data.body.i + ':' + a.data.body.s.length) };
        };
        """

    /// Each run's 48 host calls carry 96 KiB each, and so do their answers: together far more than a socket buffer.
    /// The executor sends all its calls before it reads any answer, so a server that stopped reading while it
    /// wrote an answer would wait for an executor that waits for the server; answers come from concurrent tasks, so
    /// one that overtook a frame still being written would interleave with it. Four such runs go at once on two
    /// executors.
    @Test func framesLargerThanTheSocketTakesArriveWholeAndInOrderBothWays() async throws {
        let pool = try Shared.makePool(executors: 2)
        defer { pool.shutdown() }
        let size = 96 * 1_024
        let calls = 48
        let data = #"{"calls":\#(calls),"s":"\#(String(repeating: "x", count: size))"}"#
        let module = try await pool.compile(Self.echoes)
        let outcomes = await withTaskGroup(of: RunOutcome.self) { group in
            for run in 0..<4 {
                group.addTask {
                    await pool.run(
                        RunJob(
                            workerKey: "echo-\(run % 2)", module: module, dataJSON: data, platformToken: PlatformToken(fixed: "t"),
                            // Room for a loaded machine: a stalled socket would run into it, so it is no timing.
                            limits: RunLimits(wallMillis: 60_000))
                    ).outcome
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let echoed = (0..<calls).map { #""\#($0):\#(size)""# }.joined(separator: ",")
        let expected = RunOutcome.success(resultJSON: #"{"sent":\#(size),"echoed":[\#(echoed)]}"#)
        #expect(outcomes.count == 4)
        #expect(outcomes.filter { $0 != expected } == [])
        #expect(pool.respawnCount == 0)
        try await Shared.expectHealthy(pool: pool)
    }
}
