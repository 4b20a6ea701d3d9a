import CWardenSystem
import Foundation
import NIOCore
import NIOPosix
import RunModel
import JavaScriptSandbox
import Synchronization

/// The server's handle on one `warden executor` child: spawn, send, read what comes back on an event loop, kill.
///
/// What the executor sends is read by a NIO channel on one of the server's event loops (`ExecutorChannelHandler`),
/// not by a thread of its own: a reply resumes its run on that loop, so a run's round trip wakes no extra thread.
/// What the server sends goes straight to the socket from the sending thread (`send`, through a descriptor of our
/// own, never blocking); only a frame the socket cannot take at once is handed to the channel, which writes it as
/// the executor reads, and every frame after it follows the same way until the channel has written them all.
///
/// Sendable because all mutable state is inside `state` and `writer` (Mutexes).
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
        /// Set by the first end of the stream seen, so that the process is reaped once.
        var ending = false
    }

    /// The sending side: our own descriptor of the socket (closed once the process has ended), the channel once it is
    /// registered, and how many frames the channel still has to write (while any, a frame may not overtake them).
    struct Writer {
        var fd: Int32
        var channel: Channel?
        var beforeChannel: [ByteBuffer] = []
        var queuedInChannel = 0
    }

    let pid: pid_t
    let loop: EventLoop
    let writer: Mutex<Writer>
    let state = Mutex(State())
    let onHostCall: @Sendable (ExecutorProcess, HostCallMessage) -> Void
    let onExit: @Sendable (ExecutorProcess) -> Void

    private init(
        pid: pid_t, writeFD: Int32, loop: EventLoop, onHostCall: @escaping @Sendable (ExecutorProcess, HostCallMessage) -> Void,
        onExit: @escaping @Sendable (ExecutorProcess) -> Void
    ) {
        self.pid = pid
        self.loop = loop
        self.writer = Mutex(Writer(fd: writeFD))
        self.onHostCall = onHostCall
        self.onExit = onExit
    }

    /// Starts `command` (the `warden` binary and its `executor` arguments) with a socketpair whose server end is read
    /// on `loop`.
    static func spawn(
        command: [String], on loop: EventLoop, onHostCall: @escaping @Sendable (ExecutorProcess, HostCallMessage) -> Void,
        onExit: @escaping @Sendable (ExecutorProcess) -> Void
    ) throws -> ExecutorProcess {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw ExecutorPoolError("socketpair failed: errno \(errno)")
        }
        let writeFD = fcntl(fds[0], F_DUPFD_CLOEXEC, 0)
        guard writeFD >= 0 else {
            let code = errno
            close(fds[0])
            close(fds[1])
            throw ExecutorPoolError("could not duplicate the executor socket: errno \(code)")
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
            close(writeFD)
            throw ExecutorPoolError("could not start executor \(command[0]): \(String(cString: strerror(rc)))")
        }
        let process = ExecutorProcess(pid: pid, writeFD: writeFD, loop: loop, onHostCall: onHostCall, onExit: onExit)
        ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(ExecutorFrameDecoder()), ExecutorChannelHandler(process: process))
                }
            }
            .withConnectedSocket(fds[0])
            .whenComplete { result in
                switch result {
                case .success(let channel): process.registered(channel)
                case .failure:
                    // The channel could not take the socket (a descriptor the system refused): nothing can read the
                    // executor, so it is ended like one that died.
                    Foundation.kill(process.pid, SIGKILL)
                    process.streamEnded()
                }
            }
        return process
    }

    /// Sends one frame without ever blocking; false once the process has ended.
    @discardableResult
    func send(_ frame: [UInt8]) -> Bool {
        writer.withLock { writer -> Bool in
            guard writer.fd >= 0 else { return false }
            let rest: ByteBuffer
            if writer.queuedInChannel == 0 && writer.beforeChannel.isEmpty {
                let written = Self.writeNow(frame, to: writer.fd)
                guard written >= 0 else { return false }
                if written == frame.count { return true }
                rest = ByteBuffer(bytes: frame[written...])
            } else {
                rest = ByteBuffer(bytes: frame)
            }
            guard let channel = writer.channel else {
                writer.beforeChannel.append(rest)
                return true
            }
            writer.queuedInChannel += 1
            // Enqueued while the lock is held, so that frames reach the channel in the order they were sent.
            channel.eventLoop.execute { self.write(rest, on: channel) }
            return true
        }
    }

    /// As much of `frame` as the socket takes now (MSG_DONTWAIT: the sender's thread is never held), or -1 when the
    /// socket is closed or broken.
    private static func writeNow(_ frame: [UInt8], to fd: Int32) -> Int {
        var written = 0
        while written < frame.count {
            let count = frame.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.send(fd, base + written, raw.count - written, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return written }
                return -1
            }
            written += count
        }
        return written
    }

    /// On the channel's loop: writes a frame the socket could not take at once, and counts it done when written.
    private func write(_ buffer: ByteBuffer, on channel: Channel) {
        channel.writeAndFlush(buffer).whenComplete { _ in
            self.writer.withLock { $0.queuedInChannel -= 1 }
        }
    }

    /// The channel is registered: frames that waited for it go first, in order.
    private func registered(_ channel: Channel) {
        writer.withLock { writer in
            writer.channel = channel
            let waiting = writer.beforeChannel
            writer.beforeChannel = []
            writer.queuedInChannel += waiting.count
            for buffer in waiting { channel.eventLoop.execute { self.write(buffer, on: channel) } }
        }
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
            send(request.encode())  // on failure the channel sees the end of the stream and answers nil
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
            send(request.encode())
        }
    }

    /// SIGKILL, remembering why: the end of the stream becomes `reason` for the run inside.
    func kill(because reason: RunOutcome) {
        let shouldKill = state.withLock { state -> Bool in
            guard !state.exited, state.killReason == nil else { return false }
            state.killReason = reason
            return true
        }
        if shouldKill { Foundation.kill(pid, SIGKILL) }
    }

    /// SIGKILL for a run past its deadline, but only while a run is still waiting for its reply: a reply that
    /// arrived just before the deadline (the server busy elsewhere before it freed the slot) must not cost the
    /// executor its life and its warm contexts.
    func killUnansweredRun(because reason: RunOutcome) {
        let shouldKill = state.withLock { state -> Bool in
            guard !state.exited, state.killReason == nil, state.run != nil else { return false }
            state.killReason = reason
            return true
        }
        if shouldKill { Foundation.kill(pid, SIGKILL) }
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

    /// One whole frame from the executor, on the channel's loop. False when it makes no sense (the channel closes).
    func received(_ body: [UInt8]) -> Bool {
        var reader = WireReader(body)
        guard let tag = try? reader.u8() else { return false }
        switch MessageTag(rawValue: tag) {
        case .ready:
            let waiter = state.withLock { state in
                state.readyAt = ProcessProbe.monotonicNanos()
                defer { state.readyWaiter = nil }
                return state.readyWaiter
            }
            waiter?.resume(returning: true)
        case .runResult:
            guard let reply = try? RunReply.decode(&reader) else { return false }
            let continuation = state.withLock { state -> CheckedContinuation<RunReply?, Never>? in
                guard let run = state.run, run.id == reply.runID else { return nil }
                state.run = nil
                return run.continuation
            }
            continuation?.resume(returning: reply)
        case .compileResult:
            guard let reply = try? CompileReply.decode(&reader) else { return false }
            state.withLock { $0.compiles.removeValue(forKey: reply.id) }?.resume(returning: reply)
        case .hostCall:
            guard let call = try? HostCallMessage.decode(&reader) else { return false }
            onHostCall(self, call)
        default:
            return false
        }
        return true
    }

    /// The executor's end of the socket is closed (it exited, or was killed): reap it off the event loop, then fail
    /// whatever still waits on it.
    func streamEnded() {
        let first = state.withLock { state -> Bool in
            defer { state.ending = true }
            return !state.ending
        }
        if first { DispatchQueue.global().async { self.reap() } }
    }

    private func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        writer.withLock { writer in
            if writer.fd >= 0 { close(writer.fd) }
            writer.fd = -1
        }
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

/// Cuts the executor's stream into frames: a 32-bit little-endian length, then the body.
struct ExecutorFrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = [UInt8]

    func decode(buffer: inout ByteBuffer) throws -> [UInt8]? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) else { return nil }
        guard Int(length) <= FrameSocket.maxFrame else { throw WireError.frameTooLarge(Int(length)) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readBytes(length: Int(length))
    }

    func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> [UInt8]? { try decode(buffer: &buffer) }
}

/// Hands each frame to its process on the channel's loop, and the end of the stream (or a frame that makes no
/// sense, which closes it) to the process's reaping.
final class ExecutorChannelHandler: ChannelInboundHandler {
    typealias InboundIn = [UInt8]
    let process: ExecutorProcess

    init(process: ExecutorProcess) { self.process = process }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !process.received(unwrapInboundIn(data)) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        process.streamEnded()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}
