import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The executing side of a Candor runner (`warden runner`): runs a plan's stages in order in a fresh work folder,
/// with a time limit per stage, writes the log in Candor's format and uploads the archived files.
public final class StageRunner: Sendable {
    public let workFolder: String
    public let stageTimeout: Double
    /// `podman` or `docker` when one answers `info`; otherwise stages run with the local shell.
    public let engine: String?

    /// Runs going on here, and those asked to stop (`POST /cancel/:runId`).
    let runs = Mutex<(active: Set<String>, canceled: Set<String>)>(([], []))

    public init(workFolder: String, stageTimeout: Double, engine: String?) throws {
        self.workFolder = workFolder
        self.stageTimeout = stageTimeout
        self.engine = engine
        try FileManager.default.createDirectory(atPath: (workFolder as NSString).appendingPathComponent("logs"), withIntermediateDirectories: true)
    }

    /// The first container engine that works here, if any.
    public static func detectEngine() -> String? {
        for engine in ["podman", "docker"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [engine, "info"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            // A shell that cannot start is tried with the next one.
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return engine }
        }
        return nil
    }

    /// Where a run's log lives; `nil` for a run id that could reach outside the log folder.
    public func logPath(runID: String) -> String? {
        guard Self.isSafe(runID) else { return nil }
        return (workFolder as NSString).appendingPathComponent("logs/\(runID).log")
    }

    static func isSafe(_ runID: String) -> Bool {
        !runID.isEmpty && runID.count <= 100 && runID.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
            && runID.allSatisfy(\.isASCII)
    }

    public struct StageResult: Sendable, Equatable {
        public var name: String
        public var status: String
        public var exitCode: Int
    }

    public struct Outcome: Sendable, Equatable {
        public var status: String
        public var stages: [StageResult]
        public var archived: [String]
    }

    /// Where archived files go: `PUT <url>/<path>` with a bearer token.
    public struct Upload: Sendable {
        public var url: String
        public var token: String

        public init(url: String, token: String) {
            self.url = url
            self.token = token
        }
    }

    public func run(runID: String, plan: PipelinePlan, upload: Upload?, put: @Sendable (URL, String, Data) async throws -> Int) async throws
        -> Outcome
    {
        guard let logPath = logPath(runID: runID) else { throw WardenError.invalid("runId", "may hold only letters, digits, '-' and '_'") }
        guard runs.withLock({ $0.active.insert(runID).inserted }) else { throw WardenError(.conflict, "run \(runID) is going on already") }
        defer {
            runs.withLock {
                _ = $0.active.remove(runID); _ = $0.canceled.remove(runID)
            }
        }
        let folder = (workFolder as NSString).appendingPathComponent("runs/\(runID)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        // Closing a log already written to the end loses nothing.
        defer { try? log.close() }
        var results: [StageResult] = []
        var failed = false
        var errored = false
        var canceled = false
        for (index, stage) in plan.stages.enumerated() {
            log.write(Data("**************** [\(index + 1)/\(plan.stages.count)] ****************\n".utf8))
            if failed {
                log.write(Data("Stage \(stage.name) skipped\n".utf8))
                results.append(StageResult(name: stage.name, status: "Skipped", exitCode: -1))
                continue
            }
            log.write(Data("Stage \(stage.name) (image \(stage.image)\(engine.map { ", \($0)" } ?? ", local shell"))\n".utf8))
            do {
                let code = try await runStage(stage, in: folder, log: log, runID: runID)
                log.write(Data("Process exited with status code \(code)\n".utf8))
                let status = code == 0 ? "Passed" : "Failed"
                results.append(StageResult(name: stage.name, status: status, exitCode: Int(code)))
                if code != 0 { failed = true }
            } catch StageError.canceled {
                log.write(Data("Stage \(stage.name) was canceled\nProcess exited with status code -4\n".utf8))
                results.append(StageResult(name: stage.name, status: "Canceled", exitCode: -4))
                failed = true
                canceled = true
            } catch StageError.timedOut {
                log.write(
                    Data(
                        "Stage \(stage.name) ran over its time limit of \(Int(stageTimeout)) s and was stopped\nProcess exited with status code -3\n"
                            .utf8))
                results.append(StageResult(name: stage.name, status: "Failed", exitCode: -3))
                failed = true
            } catch {
                log.write(Data("Stage \(stage.name) could not start: \(error)\n".utf8))
                results.append(StageResult(name: stage.name, status: "Error", exitCode: -2))
                failed = true
                errored = true
            }
        }
        var archived: [String] = []
        if !failed, let upload {
            for path in plan.archive ?? [] {
                let file = (folder as NSString).appendingPathComponent(path)
                guard let data = FileManager.default.contents(atPath: file) else {
                    log.write(Data("Archive: \(path) does not exist, not archived\n".utf8))
                    continue
                }
                guard let target = URL(string: upload.url + "/" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)) else {
                    continue
                }
                let status: Int
                do {
                    status = try await put(target, upload.token, data)
                } catch {
                    log.write(Data("Archive: \(path) could not be uploaded: \(error)\n".utf8))
                    errored = true
                    continue
                }
                if (200..<300).contains(status) {
                    archived.append(path)
                    log.write(Data("Archive: \(path) (\(data.count) bytes) stored\n".utf8))
                } else {
                    log.write(Data("Archive: \(path) was refused (\(status))\n".utf8))
                    errored = true
                }
            }
        }
        // A work folder left behind is removed at the next start of the runner.
        try? FileManager.default.removeItem(atPath: folder)
        return Outcome(status: canceled ? "Canceled" : errored ? "Error" : failed ? "Failed" : "Passed", stages: results, archived: archived)
    }

    /// Stops a run going on here: its stage's whole process tree, and the stages after it are skipped. `false` when
    /// no run of that id is going on.
    public func cancel(runID: String) -> Bool {
        runs.withLock { runs in
            guard runs.active.contains(runID) else { return false }
            runs.canceled.insert(runID)
            return true
        }
    }

    enum StageError: Error { case timedOut, canceled }

    /// SIGTERM to the tree, a grace of two seconds, then SIGKILL to whatever is left of it.
    static func stop(_ process: Process, tree pid: Int32) async {
        let tree = [pid] + descendants(of: pid)
        for member in tree { kill(member, SIGTERM) }
        // Cancelled while waiting: the process is killed below all the same.
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        for member in tree + descendants(of: pid) { kill(member, SIGKILL) }
    }

    /// Every process below `pid`, from /proc.
    static func descendants(of pid: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        // Without /proc, only the stage's own process is stopped.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            // A process that ended meanwhile has no stat file: it is skipped.
            guard let child = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[child] = parent }
        }
        var found: [Int32] = []
        var frontier = [pid]
        while let current = frontier.popLast() {
            for (child, parent) in parents where parent == current {
                found.append(child)
                frontier.append(child)
            }
        }
        return found
    }

    func runStage(_ stage: PlanStage, in folder: String, log: FileHandle, runID: String) async throws -> Int32 {
        let script = (["set -e"] + stage.script).joined(separator: "\n")
        let process = Process()
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder, "CI": "true"]
        for variable in stage.environment {
            let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        if let engine {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            var arguments = [engine, "run", "--rm", "-v", "\(folder):/work", "-w", "/work"]
            if let runtime = stage.runtime { arguments += ["--runtime", runtime] }
            for variable in stage.environment { arguments += ["-e", variable] }
            process.arguments = arguments + [stage.image, "sh", "-c", script]
            process.environment = ["PATH": environment["PATH"] ?? "/usr/bin:/bin"]
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script]
            process.environment = environment
        }
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(stageTimeout)
        while process.isRunning {
            // Everything the script started goes too (an orphan holding the log open would outlive the stage).
            if runs.withLock({ $0.canceled.contains(runID) }) {
                await Self.stop(process, tree: pid)
                throw StageError.canceled
            }
            if Date() > deadline {
                await Self.stop(process, tree: pid)
                throw StageError.timedOut
            }
            // Cancelled while waiting: the loop checks again at once.
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}
