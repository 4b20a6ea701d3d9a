import Foundation
import Hummingbird
import NIOCore

/// A small part of a stored blob, read on the request's thread (issue 13): one open, one pread, one close, from the
/// page cache in microseconds, where streaming it through the file I/O thread pool cost several thread wake-ups.
/// Larger parts still stream.
enum SmallFile {
    /// Parts up to this many bytes are read here.
    static let limit: Int64 = 64 << 10

    static func read(_ path: String, _ range: ClosedRange<Int64>) throws -> ByteBuffer {
        let count = Int(range.count)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HTTPError(.internalServerError, message: "the stored content of this file cannot be read (errno \(errno))") }
        defer { close(fd) }
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var done = 0
        while done < count {
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { bytes in
                pread(fd, bytes.baseAddress, count - done, off_t(range.lowerBound) + off_t(done))
            }
            if read < 0, errno == EINTR { continue }
            guard read > 0 else {
                throw HTTPError(.internalServerError, message: "the stored content of this file ended early (\(done) of \(count) bytes read)")
            }
            done += read
        }
        return buffer
    }
}
