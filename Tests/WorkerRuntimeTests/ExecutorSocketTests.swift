import Foundation
import NIOCore
import Testing

import RunModel
@testable import WorkerRuntime

/// The executor's socket as the server drives it (issue 13): read on an event loop, written without ever blocking
/// the sender. A frame larger than the socket takes at once goes partly straight to the socket and the rest through
/// the channel, and every frame after it must wait its turn, or the stream would interleave.
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
    /// The executor sends all its calls before it reads any answer, so an answer written by blocking on the socket
    /// would wait for an executor that waits for the server; answers come from concurrent tasks, so one that
    /// overtook a frame still being written would interleave with it. Four such runs go at once on two executors.
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

    /// A frame that arrives in pieces is put together by the channel's decoder, and one that claims more than the
    /// wire allows closes the stream instead of being waited for.
    @Test func theDecoderWaitsForWholeFramesAndRefusesOversizedOnes() throws {
        let decoder = ExecutorFrameDecoder()
        var frame = WireWriter(tag: MessageTag.ready.rawValue)
        frame.u64(42)
        let bytes = frame.frame()
        var buffer = ByteBuffer(bytes: bytes[..<3])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer = ByteBuffer(bytes: bytes)
        #expect(try decoder.decode(buffer: &buffer) == Array(bytes[4...]))
        #expect(buffer.readableBytes == 0)
        var oversized = ByteBuffer(bytes: [0xff, 0xff, 0xff, 0x7f])
        #expect(throws: WireError.frameTooLarge(0x7fff_ffff)) { try decoder.decode(buffer: &oversized) }
    }
}
