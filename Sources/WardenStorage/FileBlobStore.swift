import Crypto
import Foundation
import Synchronization
import WardenCore

/// Blobs as files under `<data>/blobs/ab/cd/<sha256>`, written first to `<data>/blobs/tmp/`, fsynced and renamed:
/// a reader never sees half a file, and equal content is stored once.
public final class FileBlobStore: BlobStore {
    public let root: String
    let temporary: String

    /// `staging`: the folder of `<root>/tmp` this server writes uploads into, when several servers share the root
    /// (each clears only its own: another's holds its uploads under way); `nil` for `<root>/tmp` itself.
    public init(root: String, staging: String? = nil) throws {
        self.root = root
        let shared = (root as NSString).appendingPathComponent("tmp")
        temporary = staging.map { (shared as NSString).appendingPathComponent($0) } ?? shared
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // What an interrupted upload left behind is never referenced: clear it.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] {
            try? FileManager.default.removeItem(atPath: (temporary as NSString).appendingPathComponent(name))
        }
    }

    public func stage() throws -> any StagedBlob {
        try FileStagedBlob(path: (temporary as NSString).appendingPathComponent(UUID().uuidString))
    }

    public func filePath(sha256: String) -> String {
        let a = sha256.prefix(2)
        let b = sha256.dropFirst(2).prefix(2)
        return "\(root)/\(a)/\(b)/\(sha256)"
    }

    public func materialize(_ blob: any StagedBlob, digest: BlobDigest) throws {
        guard let staged = blob as? FileStagedBlob else { throw WardenError(.badRequest, "not a blob of this store") }
        let target = filePath(sha256: digest.sha256)
        if FileManager.default.fileExists(atPath: target) {
            staged.discard()
            return
        }
        let folder = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard rename(staged.path, target) == 0 else {
            throw WardenError(.unavailable, "cannot store the blob: \(String(cString: strerror(errno)))")
        }
        staged.moved()
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    public func release(sha256: String) {
        unlink(filePath(sha256: sha256))
    }

    public func storedBlobs() -> [String] {
        var hashes: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let name = walker.nextObject() as? String {
            if name.hasPrefix("tmp") { continue }
            let file = (name as NSString).lastPathComponent
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular, file.count == 64, file.allSatisfy(\.isHexDigit) {
                hashes.append(file)
            }
        }
        return hashes
    }

    public func usedBytes() -> Int64 {
        var total: Int64 = 0
        guard let walker = FileManager.default.enumerator(atPath: root) else { return 0 }
        while let name = walker.nextObject() as? String {
            if name.hasPrefix("tmp") { continue }
            if let size = walker.fileAttributes?[.size] as? NSNumber, walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular {
                total += size.int64Value
            }
        }
        return total
    }
}

/// One upload's temporary file, hashed as it is written.
final class FileStagedBlob: StagedBlob, @unchecked Sendable {
    let path: String
    let lock = NSLock()
    var descriptor: Int32
    var sha256 = SHA256()
    var sha1 = Insecure.SHA1()
    var md5 = Insecure.MD5()
    var size: Int64 = 0
    var finished = false

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WardenError(.unavailable, "cannot create a temporary file: \(String(cString: strerror(errno)))") }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try lock.withLock {
            sha256.update(bufferPointer: bytes)
            sha1.update(bufferPointer: bytes)
            md5.update(bufferPointer: bytes)
            var offset = 0
            while offset < bytes.count {
                guard let base = bytes.baseAddress else { break }  // an empty buffer has no address and nothing to write
                let written = write(descriptor, base + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WardenError(.unavailable, "cannot write the upload: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
            size += Int64(bytes.count)
        }
    }

    func seal() throws -> BlobDigest {
        try lock.withLock {
            guard fsync(descriptor) == 0 else { throw WardenError(.unavailable, "cannot flush the upload: \(String(cString: strerror(errno)))") }
            close(descriptor)
            descriptor = -1
            return BlobDigest(
                sha256: Self.hex(sha256.finalize()), sha1: Self.hex(sha1.finalize()), md5: Self.hex(md5.finalize()), size: size)
        }
    }

    /// The file now lives at its content address.
    func moved() { lock.withLock { finished = true } }

    func discard() {
        lock.withLock {
            if descriptor >= 0 {
                close(descriptor)
                descriptor = -1
            }
            if !finished {
                unlink(path)
                finished = true
            }
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !finished { unlink(path) }
    }

    static func hex<D: Digest>(_ digest: D) -> String {
        let table: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(D.byteCount * 2)
        for byte in digest {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
