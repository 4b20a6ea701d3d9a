import Foundation
import Testing

import RunModel
@testable import WorkerRuntime

/// A compile's time limit is the compile's own: the compiler executor loads TypeScript before it says it is ready,
/// so a load made slow (here on purpose, in a full suite by every server's compiler starting at once) does not
/// fail the first compile.
@Suite("The compiler's start")
struct CompilerStartTests {
    @Test func aSlowTypeScriptLoadDoesNotCountAgainstTheFirstCompile() async throws {
        let real = try String(contentsOfFile: "/usr/share/nodejs/typescript/lib/typescript.js", encoding: .utf8)
        let slow = FileManager.default.temporaryDirectory.appendingPathComponent("slow-typescript-\(UUID().uuidString).js")
        // Six seconds of loading before the real compiler, past the five a compile may take.
        try ("{ const end = Date.now() + 6000; while (Date.now() < end) {} }\n" + real).write(to: slow, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: slow) }
        let pool = try ExecutorPool(
            configuration: .init(
                executorCommand: [TestBinary.warden, "executor"], executors: 1, typeScriptPath: slow.path, compileTimeout: .seconds(5)),
            handler: FakeHostHandler())
        defer { pool.shutdown() }
        let module = try await pool.compile("export default async (context: unknown, data: { n: number }) => data.n + 1;")
        let result = await pool.run(RunJob(workerKey: "after-slow-load", module: module, dataJSON: #"{"n":1}"#))
        #expect(result.outcome == .success(resultJSON: "2"))
    }
}
