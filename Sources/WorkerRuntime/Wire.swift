import RunModel
#if canImport(Glibc)
    import Glibc
#endif

/// Builds one message body for the executor socket: fixed-width little-endian integers and length-prefixed UTF-8.
///
/// A hand-rolled binary form rather than Codable JSON because it is on every run's path: the socket round trip is
/// the largest cost of a warm run, and the payloads it carries are JSON text already, passed through untouched.
struct WireWriter {
    private(set) var bytes: [UInt8] = [0, 0, 0, 0]  // room for the frame length

    init(tag: UInt8) { bytes.append(tag) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }
    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            u32(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
    mutating func strings(_ values: [String]) {
        u32(UInt32(values.count))
        for value in values { string(value) }
    }
    mutating func int32s(_ values: [Int32]) {
        u32(UInt32(values.count))
        for value in values { u32(UInt32(bitPattern: value)) }
    }

    /// The finished frame: the body's length, then the body.
    mutating func frame() -> [UInt8] {
        let length = UInt32(bytes.count - 4).littleEndian
        withUnsafeBytes(of: length) { raw in
            for index in 0..<4 { bytes[index] = raw[index] }
        }
        return bytes
    }
}

/// Reads what `WireWriter` wrote; every read checks the bounds and throws `WireError` past the end.
struct WireReader {
    let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8() throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw WireError.truncated }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func bool() throws(WireError) -> Bool { try u8() != 0 }
    mutating func u32() throws(WireError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw WireError.truncated }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
        offset += 4
        return value
    }
    mutating func u64() throws(WireError) -> UInt64 {
        let low = UInt64(try u32())
        let high = UInt64(try u32())
        return low | high << 32
    }
    mutating func i64() throws(WireError) -> Int64 { Int64(bitPattern: try u64()) }
    mutating func string() throws(WireError) -> String {
        let count = Int(try u32())
        guard offset + count <= bytes.count else { throw WireError.truncated }
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }
    mutating func strings() throws(WireError) -> [String] {
        let count = Int(try u32())
        guard count <= bytes.count else { throw WireError.truncated }
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try string()) }
        return values
    }
    mutating func int32s() throws(WireError) -> [Int32] {
        let count = Int(try u32())
        guard count <= bytes.count else { throw WireError.truncated }
        var values: [Int32] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(Int32(bitPattern: try u32())) }
        return values
    }
}

enum WireError: Error, Equatable {
    case truncated
    case unknownTag(UInt8)
    case frameTooLarge(Int)
    case closed
    /// No byte of a next frame came within the receive timeout (`setReceiveTimeout`).
    case timedOut
    case io(Int32)
}

/// One end of the executor socket: whole frames out, whole frames in.
///
/// Reads go through a buffer so that a small frame costs one `read`. Writes from several threads are the caller's
/// to serialise.
final class FrameSocket {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 65536)
    static let maxFrame = 64 << 20

    init(fd: Int32) { self.fd = fd }

    /// Writes all of `frame`, retrying short writes and interrupted calls.
    func send(_ frame: [UInt8]) throws(WireError) { try Self.send(frame, to: fd) }

    /// Writes all of `frame` to `fd`; usable from any thread that holds the writer's lock.
    static func send(_ frame: [UInt8], to fd: Int32) throws(WireError) {
        var written = 0
        while written < frame.count {
            let count = frame.withUnsafeBytes { raw in
                // A frame is never empty (it has a length prefix), so it has an address.
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + written, raw.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw WireError.io(errno)
            }
            written += count
        }
    }

    /// True when a whole frame is already buffered, so that `receive` will not block.
    var hasBufferedFrame: Bool {
        guard buffer.count - start >= 4 else { return false }
        return buffer.count - start - 4 >= Int(lengthAt(start))
    }

    /// The next frame's body; blocks until it has arrived. Throws `.closed` at end of stream.
    func receive() throws(WireError) -> [UInt8] {
        try fill(4)
        let length = Int(lengthAt(start))
        guard length <= Self.maxFrame else { throw WireError.frameTooLarge(length) }
        try fill(4 + length)
        let body = Array(buffer[start + 4..<start + 4 + length])
        start += 4 + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return body
    }

    /// Makes a `receive` that has no byte of a next frame after `millis` throw `.timedOut` (0: wait for ever); true
    /// when the socket took it.
    func setReceiveTimeout(millis: Int32) -> Bool {
        var value = timeval(tv_sec: Int(millis / 1_000), tv_usec: Int(millis % 1_000) * 1_000)
        return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) == 0
    }

    /// Waits up to `timeoutMillis` (-1: forever) for the socket to have data; true when it has.
    func waitReadable(timeoutMillis: Int32) -> Bool {
        if hasBufferedFrame { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, timeoutMillis)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    private func lengthAt(_ index: Int) -> UInt32 {
        UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8 | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24
    }

    private func fill(_ needed: Int) throws(WireError) {
        while buffer.count - start < needed {
            if start > 0 && start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            let want = needed - (buffer.count - start)
            if scratch.count < want { scratch = [UInt8](repeating: 0, count: want) }
            let count = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { throw WireError.closed }
            if count < 0 {
                if errno == EINTR { continue }
                // A receive timeout ends a wait only between frames; inside one, the rest is waited for.
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    if buffer.count == start { throw WireError.timedOut }
                    continue
                }
                throw WireError.io(errno)
            }
            buffer.append(contentsOf: scratch[0..<count])
        }
    }
}
