import Foundation
import RunModel
import Testing
import WardenCore
import WardenServer
import WorkerRuntime

/// The core sees the executors only as a `ScriptRunner`: these runs go through that protocol to real executor
/// processes started from the `warden` binary built beside this bundle.
@Suite("Executor pool as the core's script runner")
struct ScriptRunnerAdapterTests {
    static var wardenBinary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("warden").path
    }

    static func runner() throws -> (any ScriptRunner, ExecutorPool) {
        let pool = try ExecutorPool(
            configuration: .init(executorCommand: [wardenBinary, "executor"], executors: 1), handler: LocalHostCallHandler())
        return (pool, pool)
    }

    @Test func aPlanGoesInAndARecordComesOut() async throws {
        let (runner, pool) = try Self.runner()
        defer { pool.shutdown() }
        let source = """
            export default async (context, data) => {
              console.log('saw', data.n);
              context.state.set('last', String(data.n));
              return { doubled: data.n * 2 };
            };
            """
        let module = try await runner.compile(source)
        #expect(runner.compiledModule(for: source) == module)
        let result = await runner.run(RunJob(workerKey: "adapter", module: module, dataJSON: #"{"n":21}"#))
        #expect(result.outcome == .success(resultJSON: #"{"doubled":42}"#))
        #expect(result.executionStatus == .success)
        #expect(result.logs.contains("saw 21"))
        #expect(result.state == ["last": "21"])
    }

    @Test func aCompileErrorCrossesAsItself() async throws {
        let (runner, pool) = try Self.runner()
        defer { pool.shutdown() }
        let error = await #expect(throws: CompileError.self) { try await runner.compile("export default async (context => {") }
        #expect(error?.line == 1)
    }
}
