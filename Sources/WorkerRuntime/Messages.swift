import RunModel
/// The messages between the server (parent) and an executor process. Each frame's body starts with a tag byte.
enum MessageTag: UInt8 {
    // parent → executor
    case run = 1
    case hostReply = 2
    case compile = 3
    case shutdown = 4
    // executor → parent
    case ready = 10
    case hostCall = 11
    case runResult = 12
    case compileResult = 13
}

struct RunRequest {
    var runID: UInt64
    var contextKey: String
    /// Present when the executor does not hold `contextKey` yet.
    var module: CompiledModule?
    /// Warm contexts the executor must drop first (the parent decides what an executor keeps).
    var evict: [String]
    var infoJSON: String
    var dataJSON: String
    var debug: Bool
    var limits: RunLimits
    /// Drop the context once the run is over (a test run's context is never kept).
    var discardAfter = false

    func encode() -> [UInt8] {
        var writer = WireWriter(tag: MessageTag.run.rawValue)
        writer.u64(runID)
        writer.string(contextKey)
        writer.bool(module != nil)
        if let module {
            writer.string(module.javaScript)
            writer.int32s(module.lineMap)
            writer.string(module.sourceHash)
        }
        writer.strings(evict)
        writer.string(infoJSON)
        writer.string(dataJSON)
        writer.bool(debug)
        writer.u64(UInt64(limits.cpuMillis))
        writer.u64(UInt64(limits.wallMillis))
        writer.i64(limits.memoryBytes)
        writer.u64(UInt64(limits.maxOutputBytes))
        writer.u64(UInt64(limits.maxLogBytes))
        writer.bool(discardAfter)
        return writer.frame()
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> RunRequest {
        let runID = try reader.u64()
        let contextKey = try reader.string()
        var module: CompiledModule?
        if try reader.bool() {
            module = CompiledModule(javaScript: try reader.string(), lineMap: try reader.int32s(), sourceHash: try reader.string())
        }
        let evict = try reader.strings()
        let infoJSON = try reader.string()
        let dataJSON = try reader.string()
        let debug = try reader.bool()
        let limits = RunLimits(
            cpuMillis: Int(try reader.u64()), wallMillis: Int(try reader.u64()), memoryBytes: try reader.i64(),
            maxOutputBytes: Int(try reader.u64()), maxLogBytes: Int(try reader.u64()))
        let discardAfter = try reader.bool()
        return RunRequest(
            runID: runID, contextKey: contextKey, module: module, evict: evict, infoJSON: infoJSON, dataJSON: dataJSON, debug: debug,
            limits: limits, discardAfter: discardAfter)
    }
}

/// How the executor reports the outcome kind on the wire.
enum OutcomeCode: UInt8 {
    case success = 0, threw, cpuLimit, wallLimit, memoryLimit, floatingPromise, outputTooLarge
}

struct RunReply {
    var runID: UInt64
    var outcome: RunOutcome
    var logs: String
    var stateJSON: String
    var stats: RunStats
    /// The executor dropped the context (it was terminated, or failed to load).
    var contextDiscarded: Bool
    /// The executor exits after this reply (it hit the memory cap) and must be replaced.
    var recycle: Bool
    /// The worker's answer in parts, when the run asked for it and succeeded.
    var answer: WorkerAnswer.Reading? = nil

    func encode() -> [UInt8] {
        var writer = WireWriter(tag: MessageTag.runResult.rawValue)
        writer.u64(runID)
        switch outcome {
        case .success(let json):
            writer.u8(OutcomeCode.success.rawValue)
            writer.bool(json != nil)
            writer.string(json ?? "")
        case .threw(let error):
            writer.u8(OutcomeCode.threw.rawValue)
            writer.string(error.type)
            writer.string(error.message)
            writer.i64(Int64(error.line ?? 0))
        case .cpuLimit: writer.u8(OutcomeCode.cpuLimit.rawValue)
        case .wallLimit: writer.u8(OutcomeCode.wallLimit.rawValue)
        case .memoryLimit: writer.u8(OutcomeCode.memoryLimit.rawValue)
        case .floatingPromise: writer.u8(OutcomeCode.floatingPromise.rawValue)
        case .outputTooLarge(let bytes):
            writer.u8(OutcomeCode.outputTooLarge.rawValue)
            writer.u64(UInt64(bytes))
        case .queueWait, .executorCrashed:
            preconditionFailure("decided by the parent, never sent by an executor")
        }
        writer.string(logs)
        writer.string(stateJSON)
        writer.i64(stats.cpuNanos)
        writer.i64(stats.wallNanos)
        writer.i64(stats.peakMemoryBytes)
        writer.bool(contextDiscarded)
        writer.bool(recycle)
        writer.answer(answer)
        return writer.frame()
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> RunReply {
        let runID = try reader.u64()
        let code = try reader.u8()
        let outcome: RunOutcome
        switch OutcomeCode(rawValue: code) {
        case .success:
            let present = try reader.bool()
            let json = try reader.string()
            outcome = .success(resultJSON: present ? json : nil)
        case .threw:
            let type = try reader.string()
            let message = try reader.string()
            let line = try reader.i64()
            outcome = .threw(WorkerError(type: type, message: message, line: line > 0 ? Int(line) : nil))
        case .cpuLimit: outcome = .cpuLimit
        case .wallLimit: outcome = .wallLimit
        case .memoryLimit: outcome = .memoryLimit
        case .floatingPromise: outcome = .floatingPromise
        case .outputTooLarge: outcome = .outputTooLarge(bytes: Int(try reader.u64()))
        case nil: throw WireError.unknownTag(code)
        }
        return RunReply(
            runID: runID, outcome: outcome, logs: try reader.string(), stateJSON: try reader.string(),
            stats: RunStats(cpuNanos: try reader.i64(), wallNanos: try reader.i64(), peakMemoryBytes: try reader.i64()),
            contextDiscarded: try reader.bool(), recycle: try reader.bool(), answer: try reader.answer())
    }
}

/// A host call from a worker (platformHttp, axios) that the parent answers.
struct HostCallMessage {
    /// The kind of the one synchronous call: the run's platform token, which the pool answers itself.
    static let platformToken = "platformToken"

    var runID: UInt64
    var callID: UInt64
    var kind: String
    var payloadJSON: String

    func encode() -> [UInt8] {
        var writer = WireWriter(tag: MessageTag.hostCall.rawValue)
        writer.u64(runID)
        writer.u64(callID)
        writer.string(kind)
        writer.string(payloadJSON)
        return writer.frame()
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> HostCallMessage {
        HostCallMessage(runID: try reader.u64(), callID: try reader.u64(), kind: try reader.string(), payloadJSON: try reader.string())
    }
}

struct HostReplyMessage {
    var callID: UInt64
    var ok: Bool
    /// On success the response JSON `{status, headers, body}`; on failure the error message.
    var payload: String

    func encode() -> [UInt8] {
        var writer = WireWriter(tag: MessageTag.hostReply.rawValue)
        writer.u64(callID)
        writer.bool(ok)
        writer.string(payload)
        return writer.frame()
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> HostReplyMessage {
        HostReplyMessage(callID: try reader.u64(), ok: try reader.bool(), payload: try reader.string())
    }
}

struct CompileRequest {
    var id: UInt64
    var source: String

    func encode() -> [UInt8] {
        var writer = WireWriter(tag: MessageTag.compile.rawValue)
        writer.u64(id)
        writer.string(source)
        return writer.frame()
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> CompileRequest {
        CompileRequest(id: try reader.u64(), source: try reader.string())
    }
}

struct CompileReply {
    var id: UInt64
    var result: Result<(javaScript: String, lineMap: [Int32]), CompileError>

    func encode() -> [UInt8] {
        var writer = WireWriter(tag: MessageTag.compileResult.rawValue)
        writer.u64(id)
        switch result {
        case .success(let module):
            writer.bool(true)
            writer.string(module.javaScript)
            writer.int32s(module.lineMap)
        case .failure(let error):
            writer.bool(false)
            writer.string(error.message)
            writer.i64(Int64(error.line))
            writer.i64(Int64(error.column))
        }
        return writer.frame()
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> CompileReply {
        let id = try reader.u64()
        if try reader.bool() {
            return CompileReply(id: id, result: .success((try reader.string(), try reader.int32s())))
        }
        let message = try reader.string()
        let line = Int(try reader.i64())
        let column = Int(try reader.i64())
        return CompileReply(id: id, result: .failure(CompileError(message: message, line: line, column: column)))
    }
}

enum Frames {
    static func simple(_ tag: MessageTag) -> [UInt8] {
        var writer = WireWriter(tag: tag.rawValue)
        return writer.frame()
    }
}

// A worker's answer on the wire: a kind (0 not read, 1 nothing, 2 an answer, 3 unreadable), then its parts.
extension WireWriter {
    mutating func answer(_ reading: WorkerAnswer.Reading?) {
        switch reading {
        case nil: u8(0)
        case .nothing: u8(1)
        case .unreadable(let reason):
            u8(3)
            string(reason)
        case .answer(let answer):
            u8(2)
            switch answer.status {
            case .absent: u8(0)
            case .number(let number):
                u8(1)
                u64(number.bitPattern)
            case .name(let name):
                u8(2)
                string(name)
            }
            optionalString(answer.message)
            bool(answer.modifiedRepoPath != nil)
            if let modified = answer.modifiedRepoPath {
                optionalString(modified.key)
                string(modified.path)
            }
            u32(UInt32(answer.headers.count))
            for header in answer.headers {
                string(header.name)
                strings(header.values)
            }
        }
    }

    mutating func optionalString(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }
}

extension WireReader {
    mutating func answer() throws(WireError) -> WorkerAnswer.Reading? {
        let kind = try u8()
        switch kind {
        case 0: return nil
        case 1: return .nothing
        case 3: return .unreadable(try string())
        case 2:
            var answer = WorkerAnswer()
            let status = try u8()
            switch status {
            case 0: break
            case 1: answer.status = .number(Double(bitPattern: try u64()))
            case 2: answer.status = .name(try string())
            default: throw WireError.unknownTag(status)
            }
            answer.message = try optionalString()
            if try bool() {
                let key = try optionalString()
                answer.modifiedRepoPath = WorkerAnswer.RepoPath(key: key, path: try string())
            }
            let count = Int(try u32())
            guard count <= bytes.count else { throw WireError.truncated }
            for _ in 0..<count { answer.headers.append(WorkerAnswer.Header(name: try string(), values: try strings())) }
            return .answer(answer)
        default: throw WireError.unknownTag(kind)
        }
    }

    mutating func optionalString() throws(WireError) -> String? { try bool() ? try string() : nil }
}
