import Foundation
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

    /// The executor's idle timeout (a receive timeout on its socket): it ends a wait with no byte of a next frame,
    /// never one in the middle of a frame, whose rest is waited for however late it comes.
    @Test func aReceiveTimeoutEndsOnlyAWaitBetweenFrames() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { for fd in fds { close(fd) } }
        let receiver = FrameSocket(fd: fds[0])
        #expect(receiver.setReceiveTimeout(millis: 20))
        #expect(throws: WireError.timedOut) { try receiver.receive() }
        var writer = WireWriter(tag: MessageTag.ready.rawValue)
        writer.u64(42)
        let frame = writer.frame()
        try FrameSocket.send(Array(frame[..<3]), to: fds[1])
        let rest = Array(frame[3...])
        let sender = fds[1]
        // The rest comes after several timeouts' worth of waiting.
        let late = Thread {
            usleep(150_000)
            try? FrameSocket.send(rest, to: sender)
        }
        late.start()
        #expect(try receiver.receive() == Array(frame[4...]))
        #expect(receiver.setReceiveTimeout(millis: 0))
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
