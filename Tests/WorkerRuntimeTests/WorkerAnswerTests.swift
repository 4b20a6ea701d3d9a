import Foundation
import Testing

import RunModel
@testable import WorkerRuntime

/// A synchronous worker's answer is read in the executor (issue 13), from the value it has just written: the
/// executor's reading must be the one `WorkerAnswer.read(json:)` gives for the same result JSON, whatever the value.
@Suite("Answers read in the executor")
struct WorkerAnswerTests {
    static let answers = [
        "undefined", "null", "1", "'STOP'", "[{ status: 2 }]", "{}", "{ status: 1, message: 'ok' }",
        "{ status: 'DOWNLOAD_STOP', message: 5 }", "{ status: 2, message: 'no' }", "{ status: 3.0 }", "{ status: 2.5 }",
        "{ status: true }", "{ status: { a: 1 } }", "{ status: [2] }", "{ status: null, message: 'm' }",
        "{ modifiedRepoPath: { key: 5, path: 'a/b' } }", "{ modifiedRepoPath: { key: 'other', path: 'x.bin' } }",
        "{ modifiedRepoPath: { path: 3 } }", "{ modifiedRepoPath: 'a/b' }",
        "{ headers: { 'X-A': { value: ['a', 1, true, false, 1.5, null, {}, [1], 2 ** 60, -7] }, 'X-B': 'plain', 'X-C': 5, 'X-D': { value: 'no' }, 'X-E': { value: [] } } }",
        "{ headers: [['X-A', ['a']]] }", "{ headers: 'X-A: a' }",
        // Lone surrogates (half an emoji cut by slice) become U+FFFD on both sides.
        "{ status: 1, message: '🙂'.slice(0, 1) + ' cut', headers: { ['X-' + '🙂'.slice(1)]: '🙂'.slice(0, 1) } }",
        // A getter runs once, when the value is written: the reading is of what was written.
        "(() => { let n = 0; return { get status() { n += 1; return n === 1 ? 2 : 1; }, message: 'first' }; })()",
        "{ __proto__: { status: 2 }, message: 'inherited status is not the answer\\'s' }",
        "{ status: 1, toJSON() { return { status: 2, message: 'from toJSON' }; } }",
    ]

    @Test(arguments: answers)
    func theExecutorReadsWhatTheServerWouldRead(_ answer: String) async throws {
        let module = try await Shared.pool.compile("export default async () => (\(answer));")
        let result = await Shared.pool.run(RunJob(workerKey: "answers", module: module, dataJSON: "{}", readsAnswer: true))
        guard case .success(let json) = result.outcome else {
            Issue.record("\(answer): \(result.outcome)")
            return
        }
        let read = try #require(result.answer, "\(answer): no answer read")
        #expect(read == WorkerAnswer.read(json: json), "\(answer) → \(json ?? "undefined")")
    }

    @Test func anAnswerIsReadOnlyWhenTheJobAsks() async throws {
        let module = try await Shared.pool.compile("export default async () => ({ status: 2 });")
        let asked = await Shared.pool.run(RunJob(workerKey: "asked", module: module, dataJSON: "{}", readsAnswer: true))
        #expect(asked.answer == .answer(WorkerAnswer(status: .number(2))))
        let plain = await Shared.pool.run(RunJob(workerKey: "asked", module: module, dataJSON: "{}"))
        #expect(plain.outcome == .success(resultJSON: #"{"status":2}"#) && plain.answer == nil)
    }

    /// What the worker answers reaches the caller as a stop message: the run's secrets are masked in it, as in its JSON.
    @Test func secretsAreMaskedInTheAnswer() async throws {
        let module = try await Shared.pool.compile(
            """
            export default async (context) => ({
              status: 2, message: 'key ' + context.secrets.get('key'),
              modifiedRepoPath: { key: context.secrets.get('key'), path: 'p/' + context.secrets.get('key') },
              headers: { ['X-' + context.secrets.get('key')]: { value: [context.secrets.get('key')] } },
            });
            """)
        let result = await Shared.pool.run(
            RunJob(workerKey: "masked", module: module, dataJSON: "{}", secrets: ["key": "s3cr3t"], readsAnswer: true))
        guard case .answer(let answer) = result.answer else {
            Issue.record("\(String(describing: result.answer))")
            return
        }
        #expect(answer.message == "key ***")
        #expect(answer.modifiedRepoPath == WorkerAnswer.RepoPath(key: "***", path: "p/***"))
        #expect(answer.headers == [WorkerAnswer.Header(name: "X-***", values: ["***"])])
    }
}
