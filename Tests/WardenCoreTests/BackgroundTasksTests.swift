import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import WardenCore

/// Work that outlives a request runs at once and ends with the server (issue 12, services in one group).
@Suite("Background tasks")
struct BackgroundTasksTests {
    @Test func aPieceRunsAtOnceWithoutTheGroup() async throws {
        let tasks = BackgroundTasks()
        let (done, finish) = AsyncStream.makeStream(of: Void.self)
        tasks.spawn("a piece") { finish.yield() }
        var iterator = done.makeAsyncIterator()
        await iterator.next()
        // It removes itself once done (bounded: a piece that never leaves fails the test rather than hanging it).
        var turns = 0
        while tasks.count > 0 && turns < 100_000 {
            await Task.yield()
            turns += 1
        }
        #expect(tasks.count == 0)
    }

    @Test func aGracefulShutdownCancelsThePiecesAndWaitsForWhatTheyWrite() async throws {
        let log = LogCapture()
        let tasks = BackgroundTasks(logger: log.logger)
        let written = Mutex<[String]>([])
        let (started, tellStarted) = AsyncStream.makeStream(of: Void.self)
        tasks.spawn("a long piece") {
            tellStarted.yield()
            do {
                try await Task.sleep(for: .seconds(3_600))
                written.withLock { $0.append("ended") }
            } catch {
                // What a CI run does when it is cut: it records that, after the cancellation.
                await Task.yield()
                written.withLock { $0.append("cut") }
            }
        }
        var iterator = started.makeAsyncIterator()
        await iterator.next()
        let group = ServiceGroup(services: [tasks], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { running in
            running.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await running.waitForAll()
        }
        #expect(written.withLock { $0 } == ["cut"])
        #expect(tasks.count == 0)
        tasks.spawn("a late piece") { written.withLock { $0.append("late") } }
        #expect(log.lines.withLock { $0 }.contains("warning: a late piece was not started: the server is stopping"))
        #expect(written.withLock { $0 } == ["cut"])
    }
}
