import Testing

import RunModel
@testable import WorkerRuntime

@Suite("Wire protocol")
struct WireTests {
    @Test func runRequestRoundTrips() throws {
        let request = RunRequest(
            runID: 7, contextKey: "k#h", module: CompiledModule(javaScript: "x", lineMap: [0, 3, -1], sourceHash: "h"), evict: ["a", "b"],
            infoJSON: "{}", dataJSON: "\"é\"", debug: true,
            limits: RunLimits(cpuMillis: 5, wallMillis: 6, memoryBytes: 7, maxOutputBytes: 8, maxLogBytes: 9))
        var frame = request.encode()
        #expect(frame.count == Int(UInt32(frame[0]) | UInt32(frame[1]) << 8) + 4)
        frame.removeFirst(4)
        var reader = WireReader(frame)
        #expect(try reader.u8() == MessageTag.run.rawValue)
        let decoded = try RunRequest.decode(&reader)
        #expect(decoded.module == request.module)
        #expect(decoded.evict == ["a", "b"])
        #expect(decoded.limits == request.limits)
        #expect(decoded.dataJSON == "\"é\"")
    }

    @Test func truncatedFramesAreRejected() {
        var reader = WireReader([1, 2])
        #expect(throws: WireError.truncated) { try reader.u32() }
        var strings = WireReader([5, 0, 0, 0, 65])
        #expect(throws: WireError.truncated) { try strings.string() }
    }

    @Test func everyReplyOutcomeRoundTrips() throws {
        let outcomes: [RunOutcome] = [
            .success(resultJSON: nil), .success(resultJSON: "{}"), .threw(WorkerError(type: "T", message: "m", line: 4)), .cpuLimit, .wallLimit,
            .memoryLimit, .floatingPromise, .outputTooLarge(bytes: 12),
        ]
        for outcome in outcomes {
            var frame = RunReply(
                runID: 1, outcome: outcome, logs: "l", stateJSON: "", stats: RunStats(cpuNanos: 1), contextDiscarded: true, recycle: false
            ).encode()
            frame.removeFirst(5)
            var reader = WireReader(frame)
            let reply = try RunReply.decode(&reader)
            #expect(reply.outcome == outcome)
            #expect(reply.contextDiscarded)
        }
    }

    @Test func everyAnswerRoundTrips() throws {
        let answers: [WorkerAnswer.Reading?] = [
            nil, .nothing, .unreadable("why"), .answer(WorkerAnswer()),
            .answer(
                WorkerAnswer(
                    status: .number(-2.5), message: "m", modifiedRepoPath: .init(key: nil, path: "a/b"),
                    headers: [.init(name: "X-A", values: ["1", "é"]), .init(name: "X-B", values: [])])),
            .answer(WorkerAnswer(status: .name("STOP"), message: nil, modifiedRepoPath: .init(key: "k", path: ""))),
        ]
        for answer in answers {
            var frame = RunReply(
                runID: 1, outcome: .success(resultJSON: "{}"), logs: "", stateJSON: "{}", stats: RunStats(), contextDiscarded: false,
                recycle: false, answer: answer
            ).encode()
            frame.removeFirst(5)
            var reader = WireReader(frame)
            #expect(try RunReply.decode(&reader).answer == answer)
        }
    }
}
