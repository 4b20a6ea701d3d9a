import Foundation
import Synchronization
import Testing

import RunModel
@testable import WorkerRuntime

@Suite("Worker context (spec §5)")
struct WorkerContextTests {
    @Test func platformHttpCallsReachTheHandlerAsTheWorker() async throws {
        let result = try await Shared.run(
            """
            export default async (context, data) => {
              const r = await context.clients.platformHttp.post('/api/things', { a: 1 }, { 'X-Test': '1' });
              const g = await context.clients.platformHttp.get('/api/slow');
              let status = 0;
              try { await context.clients.platformHttp.get('/api/missing'); } catch (e) { status = e.status; }
              return { method: r.data.method, body: r.data.body, worker: r.data.worker, token: r.data.token === context.platformToken, g: g.status, status };
            };
            """, worker: "http-worker",
            // Three host calls answered by test tasks, which a full suite's load can hold up: room, not a timing.
            limits: RunLimits(wallMillis: 30_000))
        #expect(result.outcome == .success(resultJSON: #"{"method":"POST","body":{"a":1},"worker":"http-worker","token":true,"g":200,"status":404}"#))
    }

    /// Minted on first use (issue 13): a run that never reads `context.platformToken` costs no mint, one that does
    /// mints once, and replies to its other calls that come while it waits for the token still settle.
    @Test func thePlatformTokenIsMintedOnlyWhenTheWorkerReadsIt() async throws {
        final class Mints: Sendable { let count = Atomic<Int>(0) }
        let mints = Mints()
        let module = try await Shared.pool.compile("export default async () => 1;")
        let unused = PlatformToken {
            mints.count.add(1, ordering: .relaxed)
            return "never"
        }
        let quiet = await Shared.pool.run(RunJob(workerKey: "no-token", module: module, dataJSON: "{}", platformToken: unused))
        #expect(quiet.outcome == .success(resultJSON: "1"))
        #expect(mints.count.load(ordering: .relaxed) == 0 && unused.close() == nil)

        // The mint takes long enough for the axios reply to come first: the run must keep it for its loop.
        let slow = PlatformToken {
            mints.count.add(1, ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.3)
            return "minted-token"
        }
        let reader = try await Shared.pool.compile(
            """
            export default async (context) => {
              const early = context.clients.axios.get('https://api.example.test/x');
              const first = context.platformToken;
              const r = await early;
              const p = await context.clients.platformHttp.get('/api/things');
              return { first, again: context.platformToken === first, early: r.data, echoed: p.data.token };
            };
            """)
        let result = await Shared.pool.run(
            RunJob(workerKey: "token-reader", module: reader, dataJSON: "{}", platformToken: slow, limits: RunLimits(wallMillis: 30_000)))
        #expect(
            result.outcome
                == .success(
                    resultJSON: #"{"first":"minted-token","again":true,"early":"hello from https://api.example.test/x","echoed":"minted-token"}"#))
        #expect(mints.count.load(ordering: .relaxed) == 1 && slow.close() == "minted-token")
    }

    @Test func axiosReachesOnlyAllowedHosts() async throws {
        let result = try await Shared.run(
            """
            export default async (context) => {
              const ok = await context.clients.axios.get('https://api.example.test/x');
              let refused = '', failed = 0;
              try { await context.clients.axios.get('https://evil.com/'); } catch (e) { refused = e.message; }
              try { await context.clients.axios.post('https://api.example.test/fail', {}); } catch (e) { failed = e.response.status; }
              return { data: ok.data, refused, failed };
            };
            """,
            // Not a test of the wall limit: a loaded machine may take seconds for three host calls.
            limits: RunLimits(wallMillis: 30_000))
        guard case .success(let json?) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(json.contains(#""data":"hello from https://api.example.test/x""#))
        #expect(json.contains("not on this server's egress allow-list"))
        #expect(json.contains(#""failed":500"#))
    }

    @Test func secretsPropertiesAndBasics() async throws {
        let module = try await Shared.pool.compile(
            """
            export default async (context, data) => ({
              secret: context.secrets.get('apiKey') === 's3cr3t', missing: context.secrets.get('nope') === undefined,
              prop: context.properties.get('region'), base: context.baseUrl,
              remaining: context.getRemainingExecutionTime() > 0 && context.getRemainingExecutionTime() <= 5000,
              enums: [DownloadStatus.DOWNLOAD_STOP, UploadStatus.UPLOAD_WARN, ActionStatus.PROCEED, Status.STATUS_SUCCESS, RepoType.REPO_TYPE_LOCAL, DownloadStatus[2]],
              absent: [typeof setTimeout, typeof setInterval, typeof setImmediate, typeof require, typeof process, typeof WebAssembly, typeof module],
            });
            """)
        let result = await Shared.pool.run(
            RunJob(
                workerKey: "basics", module: module, dataJSON: "{}", secrets: ["apiKey": "s3cr3t"], properties: ["region": "eu"],
                baseURL: "http://127.0.0.1:9"))
        #expect(
            result.outcome
                == .success(
                    resultJSON:
                        #"{"secret":true,"missing":true,"prop":"eu","base":"http://127.0.0.1:9","remaining":true,"enums":[2,3,1,4,1,"DOWNLOAD_STOP"],"absent":["undefined","undefined","undefined","undefined","undefined","undefined","undefined"]}"#
                ))
    }

    @Test func cryptoMatchesKnownVectors() async throws {
        let result = try await Shared.run(
            """
            export default async (context) => [
              context.crypto.hash('sha256', 'abc'),
              context.crypto.hmac('sha256', 'key', 'The quick brown fox jumps over the lazy dog'),
              context.crypto.hash('sha512', '', 'base64').length,
              context.crypto.randomBytes(16).length,
            ];
            """)
        #expect(
            result.outcome
                == .success(
                    resultJSON:
                        #"["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",88,32]"#
                ))
    }

    @Test func stateIsReturnedOnSuccessAndLimitsAreEnforced() async throws {
        let ok = try await Shared.run(
            """
            export default async (context) => {
              context.state.set('n', Number(context.state.get('n') || 0) + 1);
              context.state.set('obj', { a: 1 });
              context.state.delete('gone');
              return context.state.getAll();
            };
            """, state: ["n": "4", "gone": "x"])
        #expect(ok.state == ["n": "5", "obj": #"{"a":1}"#])
        let tooMany = try await Shared.run(
            "export default async (context) => { for (let i = 0; i < 11; i++) context.state.set('k' + i, 'v'); };")
        #expect(tooMany.outcome == .threw(WorkerError(type: "Error", message: "state holds at most 10 items", line: 1)))
        #expect(tooMany.state == nil)
        let longKey = try await Shared.run("export default async (context) => { context.state.set('x'.repeat(41), 'v'); };")
        guard case .threw(let error) = longKey.outcome else { Issue.record("\(longKey.outcome)"); return }
        #expect(error.message.contains("1 to 40"))
        let longValue = try await Shared.run("export default async (context) => { context.state.set('k', 'v'.repeat(251)); };")
        guard case .threw(let valueError) = longValue.outcome else { Issue.record("\(longValue.outcome)"); return }
        #expect(valueError.message.contains("at most 250"))
    }

    @Test func logsAreCapturedWithLevelsAndSecretsMasked() async throws {
        let source = """
            export default async (context) => {
              console.log('a', 1, { b: [2] }, null, undefined);
              console.warn('careful');
              console.error(new TypeError('bad'));
              console.debug('hidden unless debug');
              console.info('key is', context.secrets.get('k'));
              return { leaked: context.secrets.get('k') };
            };
            """
        let plain = try await Shared.run(source, secrets: ["k": "hunter2"])
        #expect(plain.logs == "[info ] - a 1 {\"b\":[2]} null undefined\n[warn ] - careful\n[error] - TypeError: bad\n[info ] - key is ***")
        #expect(plain.outcome == .success(resultJSON: #"{"leaked":"***"}"#))
        let debug = try await Shared.run(source, secrets: ["k": "hunter2"], debug: true)
        #expect(debug.logs.contains("[debug] - hidden unless debug"))
    }

    @Test func warmContextKeepsModuleStateAndNewCodeGetsAFreshOne() async throws {
        let counter = "let runs = 0;\nexport default async () => ++runs;"
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        var results: [RunOutcome] = []
        for _ in 0..<3 { results.append(try await Shared.run(counter, worker: "counter", pool: pool).outcome) }
        #expect(results == [.success(resultJSON: "1"), .success(resultJSON: "2"), .success(resultJSON: "3")])
        let changed = try await Shared.run(counter + "\n// v2", worker: "counter", pool: pool)
        #expect(changed.outcome == .success(resultJSON: "1"))
        let other = try await Shared.run(counter, worker: "other-worker", pool: pool)
        #expect(other.outcome == .success(resultJSON: "1"))
    }

    @Test func errorLinesPointAtTheTypeScriptSource() async throws {
        let result = try await Shared.run(
            """
            import { PlatformContext } from 'jfrog-workers';
            import { BeforeDownloadRequest } from './types';

            interface Thing {
              name: string;
              size: number;
            }

            export default async (context: PlatformContext, data: BeforeDownloadRequest) => {
              const thing: Thing = { name: 'a', size: 1 };
              if (thing.size > 0) {
                throw new RangeError(`too big: ${thing.name}`);
              }
            };
            """)
        #expect(result.outcome == .threw(WorkerError(type: "RangeError", message: "too big: a", line: 12)))
    }

    @Test func moduleLevelErrorsAreReported() async throws {
        let result = try await Shared.run("const x: number = 1;\nthrow new Error('at load ' + x);\nexport default async () => 1;")
        #expect(result.outcome == .threw(WorkerError(type: "Error", message: "at load 1", line: 2)))
        let notFunction = try await Shared.run("export default 42;")
        #expect(notFunction.outcome == .threw(WorkerError(type: "TypeError", message: "the worker's default export is not a function")))
        try await Shared.expectHealthy()
    }

    @Test func customErrorClassesStillWorkWithFrozenBuiltins() async throws {
        let result = try await Shared.run(
            """
            class WorkerFailure extends Error {
              constructor(message: string) { super(message); this.name = 'WorkerFailure'; }
            }
            export default async () => {
              const o: any = {};
              o.toString = () => 'custom';
              try { throw new WorkerFailure('nope'); } catch (e) { return [e.name, e.message, String(o)]; }
            };
            """)
        #expect(result.outcome == .success(resultJSON: #"["WorkerFailure","nope","custom"]"#))
    }
}

@Suite("Compiling worker code")
struct CompileTests {
    @Test func syntaxErrorsCarryLineAndColumn() async {
        let error = await #expect(throws: CompileError.self) {
            try await Shared.pool.compile("export default async () => {\n  const x = ;\n};")
        }
        #expect(error?.line == 2)
        #expect(error?.column == 13)
    }

    @Test func valueImportsAreRefusedWithTheirPlaceAndTypeOnlyImportsDropped() async throws {
        let error = await #expect(throws: CompileError.self) {
            try await Shared.pool.compile("const a = 1;\n  import fs from 'fs';\nexport default async () => fs.readFileSync('/etc/passwd');")
        }
        #expect(error?.message.contains("import from 'fs' is not allowed") == true)
        #expect(error?.line == 2 && error?.column == 3)
        let named = await #expect(throws: CompileError.self) {
            try await Shared.pool.compile("import { get } from 'axios';\nexport default async () => get('x');")
        }
        #expect(named?.message.contains("import from 'axios'") == true && named?.line == 1)
        // Imports whose names are used only as types are elided by TypeScript, as the reference's build does.
        for source in [
            "import { AxiosRequestConfig } from 'axios';\nexport default async (context: any, data: AxiosRequestConfig) => data.url;",
            "import type { AxiosResponse } from 'axios';\nexport default async (): Promise<AxiosResponse | undefined> => undefined;",
            "import * as ax from 'axios';\nexport default async (c: any, d: ax.AxiosRequestConfig) => 1;",
        ] {
            let module = try await Shared.pool.compile(source)
            #expect(!module.javaScript.contains("require"), "\(module.javaScript)")
        }
        for source in [
            "import x = require('fs');\nexport default async () => 1;", "export * from 'x';\nexport default async () => 1;",
            "export default async () => { await import('fs'); };", "import 'fs';\nexport default async () => 1;",
            "import * as ax from 'axios';\nexport default async () => ax;",
        ] {
            await #expect(throws: CompileError.self) { try await Shared.pool.compile(source) }
        }
    }

    @Test func aDefaultExportIsRequired() async {
        let error = await #expect(throws: CompileError.self) { try await Shared.pool.compile("export const handler = async () => 1;") }
        #expect(error?.message.contains("no default export") == true)
        for source in ["async function run() { return 1; }\nexport { run as default };", "export default async function () { return 1; }"] {
            await #expect(throws: Never.self) { try await Shared.pool.compile(source) }
        }
    }

    @Test func codeOfExactlyTheLimitCompilesAndOneMoreDoesNot() async throws {
        let head = "export default async () => 'big';\n//"
        let source = head + String(repeating: "x", count: RunLimits.maxCodeCharacters - head.count)
        #expect(source.count == 100_000)
        let result = try await Shared.run(source)
        #expect(result.outcome == .success(resultJSON: #""big""#))
        let error = await #expect(throws: CompileError.self) { try await Shared.pool.compile(source + "x") }
        #expect(error?.message.contains("100001 characters") == true)
    }

    @Test func plainJavaScriptCompiles() async throws {
        let result = try await Shared.run(
            "const plus = (a, b) => a + b;\nexport default async function (context, data) { return plus(data.x, 1); }", data: #"{"x":1}"#)
        #expect(result.outcome == .success(resultJSON: "2"))
    }
}
