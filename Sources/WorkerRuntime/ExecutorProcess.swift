import CWardenSystem
import Foundation
import RunModel
import JavaScriptSandbox
import Synchronization

/// The server's handle on one `warden executor` child: spawn, send, a reader thread for what comes back, kill.
///
/// Sendable because all mutable state is inside `state` (a Mutex) and writes to the socket hold `writeLock`.
final class ExecutorProcess: Sendable {
    struct State {
        var run: (id: UInt64, continuation: CheckedContinuation<RunReply?, Never>)?
        var compiles: [UInt64: CheckedContinuation<CompileReply?, Never>] = [:]
        /// Why the parent killed the process, which becomes the outcome of the run inside it.
        var killReason: RunOutcome?
        var exited = false
        var exitDescription = ""
        var readyAt: Int64?
        var readyWaiter: CheckedContinuation<Bool, Never>?
    }

    let pid: pid_t
    let fd: Int32
    let writeLock = Mutex(())
    let state = Mutex(State())

    private init(pid: pid_t, fd: Int32) {
        self.pid = pid
        self.fd = fd
    }

    /// Starts `command` (the `warden` binary and its `executor` arguments) with a socketpair and starts reading.
    static func spawn(
        command: [String], onHostCall: @escaping @Sendable (ExecutorProcess, HostCallMessage) -> Void,
        onExit: @escaping @Sendable (ExecutorProcess) -> Void
    ) throws -> ExecutorProcess {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw ExecutorPoolError("socketpair failed: errno \(errno)")
        }
        var pid: pid_t = 0
        var cStrings = command.map { strdup($0) }
        cStrings.append(nil)
        defer { for pointer in cStrings { free(pointer) } }
        let rc = cStrings.withUnsafeMutableBufferPointer { argv in
            warden_spawn_with_socket(command[0], argv.baseAddress, fds[1], &pid)
        }
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw ExecutorPoolError("could not start executor \(command[0]): \(String(cString: strerror(rc)))")
        }
        let process = ExecutorProcess(pid: pid, fd: fds[0])
        let thread = Thread { process.readLoop(onHostCall: onHostCall, onExit: onExit) }
        thread.name = "executor-\(pid)"
        thread.start()
        return process
    }

    func send(_ frame: [UInt8]) -> Bool {
        writeLock.withLock { _ in (try? FrameSocket.send(frame, to: fd)) != nil }
    }

    /// Sends a run and waits for its reply; `nil` when the process died first (see `killReason`).
    func run(_ request: RunRequest) async -> RunReply? {
        await withCheckedContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard !state.exited else { return false }
                state.run = (request.runID, continuation)
                return true
            }
            guard accepted else { return continuation.resume(returning: nil) }
            _ = send(request.encode())  // on failure the reader sees the end of the stream and answers nil
        }
    }

    func compile(_ request: CompileRequest) async -> CompileReply? {
        await withCheckedContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard !state.exited else { return false }
                state.compiles[request.id] = continuation
                return true
            }
            guard accepted else { return continuation.resume(returning: nil) }
            _ = send(request.encode())
        }
    }

    /// SIGKILL, once, remembering why: the reader turns the end of the stream into `reason` for the run inside. True
    /// when this call sent it.
    @discardableResult
    func kill(because reason: RunOutcome) -> Bool {
        let shouldKill = state.withLock { state -> Bool in
            guard !state.exited, state.killReason == nil else { return false }
            state.killReason = reason
            return true
        }
        if shouldKill { Foundation.kill(pid, SIGKILL) }
        return shouldKill
    }

    /// SIGKILL for a run past its deadline, but only while a run is still waiting for its reply: a reply that
    /// arrived just before the deadline (the server busy elsewhere before it freed the slot) must not cost the
    /// executor its life and its warm contexts. True when this call sent it.
    @discardableResult
    func killUnansweredRun(because reason: RunOutcome) -> Bool {
        let shouldKill = state.withLock { state -> Bool in
            guard !state.exited, state.killReason == nil, state.run != nil else { return false }
            state.killReason = reason
            return true
        }
        if shouldKill { Foundation.kill(pid, SIGKILL) }
        return shouldKill
    }

    /// Waits for the executor's first message; false when it exited before sending it.
    func waitUntilReady() async -> Bool {
        await withCheckedContinuation { continuation in
            let answer = state.withLock { state -> Bool? in
                if state.readyAt != nil { return true }
                if state.exited { return false }
                state.readyWaiter = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    var isExited: Bool { state.withLock { $0.exited } }

    private func readLoop(
        onHostCall: @Sendable (ExecutorProcess, HostCallMessage) -> Void, onExit: @Sendable (ExecutorProcess) -> Void
    ) {
        let socket = FrameSocket(fd: fd)
        while let body = try? socket.receive() {
            var reader = WireReader(body)
            guard let tag = try? reader.u8() else { break }
            switch MessageTag(rawValue: tag) {
            case .ready:
                let waiter = state.withLock { state in
                    state.readyAt = ProcessProbe.monotonicNanos()
                    defer { state.readyWaiter = nil }
                    return state.readyWaiter
                }
                waiter?.resume(returning: true)
            case .runResult:
                guard let reply = try? RunReply.decode(&reader) else { break }
                let continuation = state.withLock { state -> CheckedContinuation<RunReply?, Never>? in
                    guard let run = state.run, run.id == reply.runID else { return nil }
                    state.run = nil
                    return run.continuation
                }
                continuation?.resume(returning: reply)
            case .compileResult:
                guard let reply = try? CompileReply.decode(&reader) else { break }
                state.withLock { $0.compiles.removeValue(forKey: reply.id) }?.resume(returning: reply)
            case .hostCall:
                guard let call = try? HostCallMessage.decode(&reader) else { break }
                onHostCall(self, call)
            default:
                break
            }
        }
        close(fd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let description = Self.describe(status: status)
        let (run, compiles) = state.withLock { state in
            state.exited = true
            state.exitDescription = description
            defer {
                state.run = nil
                state.compiles = [:]
            }
            return (state.run, state.compiles)
        }
        run?.continuation.resume(returning: nil)
        state.withLock { state in
            defer { state.readyWaiter = nil }
            return state.readyWaiter
        }?.resume(returning: false)
        for continuation in compiles.values { continuation.resume(returning: nil) }
        onExit(self)
    }

    static func describe(status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "killed by signal \(signal)"
    }
}

/// A failure of the pool itself (it could not start an executor, it was shut down).
public struct ExecutorPoolError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
