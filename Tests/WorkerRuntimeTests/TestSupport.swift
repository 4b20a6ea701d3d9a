import Foundation
import Synchronization
import Testing

import RunModel
@testable import WorkerRuntime

/// The `warden` binary built beside this test bundle; executors are started from it.
enum TestBinary {
    static var warden: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("warden").path
    }
}

/// Answers host calls the way a server would, without one: platformHttp paths under `/api/`, axios to
/// `*.example.test` only.
struct FakeHostHandler: HostCallHandler {
    let egress = EgressPolicy(allowedHosts: ["*.example.test"])

    func handle(_ call: HostCall, from origin: HostCallOrigin) async throws -> HostResponse {
        switch call.kind {
        case .platformHttp:
            if call.url.hasPrefix("/api/missing") {
                return HostResponse(status: 404, headers: ["Content-Type": "application/json"], body: #"{"errors":[{"status":404}]}"#)
            }
            if call.url.hasPrefix("/api/slow") { try await Task.sleep(for: .milliseconds(200)) }
            if call.url.hasPrefix("/api/gate/") { await Gate.named(String(call.url.dropFirst("/api/gate/".count))).pass() }
            var body = ""
            switch call.body {
            case .text(let text): body = JSONText.quote(text)
            case .json(let json): body = json
            case nil: body = "null"
            }
            let echo =
                "{\"method\":\(JSONText.quote(call.method)),\"url\":\(JSONText.quote(call.url)),\"worker\":\(JSONText.quote(origin.workerKey)),\"token\":\(JSONText.quote(origin.platformToken)),\"body\":\(body)}"
            return HostResponse(status: 200, headers: ["Content-Type": "application/json"], body: echo)
        case .axios:
            if let refusal = egress.refusal(for: call.url) { throw HostTestError(refusal) }
            if call.url.contains("/fail") { return HostResponse(status: 500, body: "boom") }
            return HostResponse(status: 200, headers: ["Content-Type": "text/plain"], body: "hello from \(call.url)")
        }
    }
}

/// Holds a worker's `platformHttp.get('/api/gate/<name>')` until the test opens the gate: a run that stays inside
/// its executor for exactly as long as the test needs, whatever the machine's load.
final class Gate: Sendable {
    static let all = Mutex<[String: Gate]>([:])

    let entered: AsyncStream<Void>
    let enter: AsyncStream<Void>.Continuation
    let opened: AsyncStream<Void>
    let opener: AsyncStream<Void>.Continuation

    init() {
        (entered, enter) = AsyncStream.makeStream(of: Void.self)
        (opened, opener) = AsyncStream.makeStream(of: Void.self)
    }

    static func named(_ name: String) -> Gate {
        all.withLock { gates in
            if let gate = gates[name] { return gate }
            let gate = Gate()
            gates[name] = gate
            return gate
        }
    }

    /// The worker's side: says it arrived, then waits for the gate to open.
    func pass() async {
        enter.yield()
        for await _ in opened { return }
    }

    /// The test's side: returns once a run waits at the gate.
    func waitUntilEntered() async {
        for await _ in entered { return }
    }

    func open() { opener.finish() }
}

struct HostTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One pool for the whole test run: starting the compiler (loading typescript.js) is the slow part.
enum Shared {
    static let pool: ExecutorPool = try! makePool(executors: 2, maxQueueWait: .seconds(120))

    /// A pool of its own for a test that needs few executors, a short queue wait, or executors it may kill.
    static func makePool(executors: Int, maxQueueWait: Duration = .seconds(30)) throws -> ExecutorPool {
        try ExecutorPool(
            configuration: .init(executorCommand: [TestBinary.warden, "executor"], executors: executors, maxQueueWait: maxQueueWait),
            handler: FakeHostHandler())
    }

    /// Compiles `source` and runs it as `worker` with `data`.
    static func run(
        _ source: String, worker: String = "w-\(UUID().uuidString.prefix(8))", data: String = "{}", secrets: [String: String] = [:],
        state: [String: String] = [:], limits: RunLimits = .default, debug: Bool = false, pool: ExecutorPool = pool
    ) async throws -> RunResult {
        let module = try await pool.compile(source)
        return await pool.run(
            RunJob(
                workerKey: worker, module: module, dataJSON: data, secrets: secrets, state: state, baseURL: "http://localhost:8080",
                platformToken: PlatformToken(fixed: "tok-\(worker)"), debug: debug, limits: limits))
    }

    /// Runs `code` as `worker` on `pool` with `{"attack":true}`, then again with `{"attack":false}`: the second run's
    /// result, which shows what the first could leave behind for it.
    static func afterAnAttack(_ code: String, worker: String, pool: ExecutorPool) async throws -> RunResult {
        _ = try await run(code, worker: worker, data: #"{"attack":true}"#, pool: pool)
        return try await run(code, worker: worker, data: #"{"attack":false}"#, pool: pool)
    }

    static let normalWorker = """
        export default async (context, data) => {
          console.log('normal run');
          return { status: DownloadStatus.DOWNLOAD_PROCEED, echo: data.n * 2 };
        };
        """

    /// Asserts that the pool still runs an ordinary worker correctly.
    static func expectHealthy(pool: ExecutorPool = pool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await run(normalWorker, worker: "normal", data: #"{"n":21}"#, pool: pool)
        #expect(result.outcome == .success(resultJSON: #"{"status":1,"echo":42}"#), sourceLocation: sourceLocation)
        #expect(result.logs == "[info ] - normal run", sourceLocation: sourceLocation)
    }
}
