import ArgumentParser
import Foundation
import JavaScriptSandbox
import RunModel
import WardenCore
import WardenHTTP
import WorkerRuntime

/// `warden`: the server, its executors and its command-line client in one binary.
@main
struct Warden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "A self-hosted worker platform: JavaScript/TypeScript workers bound to artifact events, run in sandboxed JavaScriptCore.",
        version: BuildInfo.this.line,
        subcommands: [
            ServeCommand.self, WorkerCommand.self, TokenCommand.self, PermissionCommand.self, GroupCommand.self, RunnerCommand.self, CICommand.self,
            BackupCommand.self, RestoreCommand.self, OpenAPICommand.self, ExecutorCommand.self, BenchCommand.self,
        ]
    )

    /// Exit codes: 0 success, 1 a failed run, 2 bad arguments (ArgumentParser's own usage code is 64).
    static func main() async {
        // The executor path skips the async runtime's command machinery: respawn time matters.
        let arguments = Array(CommandLine.arguments.dropFirst())
        // The server's tasks run on its event loops (issue 13: fewer thread switches per request).
        if arguments.first == "serve" { EventLoopExecutor.install() }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data(("Error: " + HumanError.describe(error, otherwise: fullMessage(for: error)) + "\n").utf8))
            Foundation.exit(code == .failure ? 1 : 2)
        }
    }
}

extension BuildInfo {
    /// This binary: the stamp its build made, and the JavaScriptCore it loaded.
    static let this = BuildInfo(
        version: BuildStamp.version, commit: BuildStamp.commit, buildDate: BuildStamp.buildDate,
        javaScriptCore: ScriptEngine.libraryVersion ?? "unknown")
}

/// `warden openapi`: the OpenAPI 3.1 document of the server's routes, as `/openapi.json` serves it.
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi", abstract: "Print the OpenAPI 3.1 document of every route (what /openapi.json serves).")

    func run() throws {
        FileHandle.standardOutput.write(Data(openAPIDocument(version: BuildInfo.this.version).utf8))
    }
}

/// `warden executor`: a child process that runs worker code for the server. Not for humans.
struct ExecutorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor", abstract: "Runs worker code for a Warden server (started by the server).", shouldDisplay: false)

    @Option(help: "The socket descriptor shared with the server.") var fd: Int32 = 3
    @Option(help: "Path of Debian's typescript.js, for the compiler executor.") var typescript: String?

    func run() throws {
        ExecutorMain.run(fd: fd, typeScriptPath: typescript)
    }
}

/// The path of this very binary, which executors are started from.
enum SelfExecutable {
    static var path: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 { return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments[0]
    }
}

/// Errors as one line a person reads: a refusal's message without its code's name, a file error as its path and
/// the system's reason, an unreachable server as its URL and the reason, never a Foundation dump.
enum HumanError {
    static func describe(_ error: any Error, otherwise: String? = nil) -> String {
        if let error = error as? WardenError { return error.message }
        if let failure = error as? CommandFailure { return failure.description }
        let ns = error as NSError
        if ns.domain == NSURLErrorDomain {
            let url =
                ns.userInfo[NSURLErrorFailingURLStringErrorKey] as? String ?? (ns.userInfo["NSErrorFailingURLStringKey"] as? String) ?? "the server"
            return "cannot reach \(url): \(reason(ns))"
        }
        if ns.domain == NSCocoaErrorDomain {
            let path = ns.userInfo[NSFilePathErrorKey] as? String
            return (path.map { "\($0): " } ?? "") + reason(ns)
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        let text = otherwise ?? String(describing: error)
        return text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text
    }

    /// The innermost reason an NSError carries: a POSIX code's text, or the deepest description.
    static func reason(_ error: NSError) -> String {
        if let inner = error.userInfo[NSUnderlyingErrorKey] as? any Error {
            let underlying = inner as NSError
            if underlying.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(underlying.code))) }
            if let text = underlying.userInfo[NSLocalizedDescriptionKey] as? String, !text.isEmpty { return text }
            return reason(underlying)
        }
        if let text = error.userInfo[NSLocalizedDescriptionKey] as? String, !text.isEmpty, text != "(null)" { return text }
        if error.domain == NSURLErrorDomain { return "network error \(error.code)" }
        return error.localizedDescription
    }

    /// A listening socket's bind that failed because the address is taken (NIO's `IOError`, errno 98).
    static func isAddressInUse(_ error: any Error) -> Bool {
        let text = String(describing: error)
        return text.contains("Address already in use") || text.contains("(errno: \(EADDRINUSE))")
    }
}
