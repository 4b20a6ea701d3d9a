import ArgumentParser
import Foundation
import WardenCore
import RunModel
import WorkerRuntime

/// `warden worker run FILE --action ACTION --data JSON|@file`: runs a worker locally, no server needed.
struct WorkerRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a worker file locally, with no server, and print the test-run envelope.",
        discussion: """
            Example:
              warden worker run hooks/block-by-property/worker.ts --action BEFORE_DOWNLOAD \\
                --data @hooks/block-by-property/payload.json --secret apiKey=s3cr3t --debug

            Exit status: 0 when the run succeeded (STATUS_SUCCESS), 1 when it failed (STATUS_FAIL or a compile error),
            2 on bad arguments.
            """)

    @Argument(help: "The worker's source file (TypeScript or JavaScript).") var file: String
    @Option(help: "The action the worker is bound to, e.g. BEFORE_DOWNLOAD.") var action: String
    @Option(help: "The request data: JSON text, or @path of a JSON file.") var data: String = "{}"
    @Option(name: .customLong("secret"), help: "A secret as key=value (repeatable).") var secrets: [String] = []
    @Option(name: .customLong("property"), help: "A property as key=value (repeatable).") var properties: [String] = []
    @Flag(help: "Keep console.debug lines in the logs.") var debug = false
    @Option(help: "CPU time limit in milliseconds.") var cpuLimit: Int = RunLimits.default.cpuMillis
    @Option(help: "Wall time limit in milliseconds.") var wallLimit: Int = RunLimits.default.wallMillis

    func validate() throws {
        guard WorkerAction.named(action) != nil else {
            throw ValidationError("--action: unknown action '\(action)'; one of \(WorkerAction.all.map(\.name).joined(separator: ", "))")
        }
        _ = try pairs(secrets, option: "--secret")
        _ = try pairs(properties, option: "--property")
        guard cpuLimit > 0, wallLimit > 0 else { throw ValidationError("--cpu-limit and --wall-limit must be positive") }
    }

    func run() async throws {
        guard let action = WorkerAction.named(action) else { throw ExitCode(2) }
        guard let source = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("FILE: cannot read '\(file)'")
        }
        let dataJSON = try requestData()
        let pool = try ExecutorPool(
            configuration: .init(executorCommand: [SelfExecutable.path, "executor"], executors: 1), handler: LocalHostCallHandler())
        defer { pool.shutdown() }
        let module: CompiledModule
        do {
            module = try await pool.compile(source)
        } catch {
            FileHandle.standardError.write(Data("\(file):\(error.line):\(error.column): error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        var limits = RunLimits.default
        limits.cpuMillis = cpuLimit
        limits.wallMillis = wallLimit
        let job = RunJob(
            workerKey: "local", module: module, dataJSON: dataJSON, secrets: try pairs(secrets, option: "--secret"),
            properties: try pairs(properties, option: "--property"), debug: debug, limits: limits)
        let result = await pool.run(job)
        print(TestRunEnvelope.text(action: action, result: result))
        if result.executionStatus != .success { throw ExitCode(1) }
    }

    func requestData() throws -> String {
        var text = data
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("--data: cannot read '\(path)'")
            }
            text = contents
        }
        do {
            let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            let normalized = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes])
            return String(decoding: normalized, as: UTF8.self)
        } catch {
            throw ValidationError("--data: not valid JSON (\(error.localizedDescription))")
        }
    }

    func pairs(_ items: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("\(option): '\(item)' is not key=value")
            }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }
}
