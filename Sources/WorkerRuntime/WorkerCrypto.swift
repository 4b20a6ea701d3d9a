import Crypto
import Foundation
import RunModel

/// `context.crypto`: digests, HMACs and random bytes from swift-crypto, encoded as hex or base64.
enum WorkerCrypto {
    static func hash(algorithm: String, data: [UInt8], encoding: String) throws -> String {
        let digest: [UInt8]
        switch algorithm.lowercased() {
        case "sha256": digest = Array(SHA256.hash(data: data))
        case "sha384": digest = Array(SHA384.hash(data: data))
        case "sha512": digest = Array(SHA512.hash(data: data))
        case "sha1": digest = Array(Insecure.SHA1.hash(data: data))
        case "md5": digest = Array(Insecure.MD5.hash(data: data))
        default: throw HostError("unsupported hash algorithm '\(algorithm)'; use sha256, sha384, sha512, sha1 or md5")
        }
        return try encode(digest, encoding)
    }

    static func hmac(algorithm: String, key: [UInt8], data: [UInt8], encoding: String) throws -> String {
        let symmetric = SymmetricKey(data: key)
        let code: [UInt8]
        switch algorithm.lowercased() {
        case "sha256": code = Array(HMAC<SHA256>.authenticationCode(for: data, using: symmetric))
        case "sha384": code = Array(HMAC<SHA384>.authenticationCode(for: data, using: symmetric))
        case "sha512": code = Array(HMAC<SHA512>.authenticationCode(for: data, using: symmetric))
        case "sha1": code = Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: symmetric))
        default: throw HostError("unsupported HMAC algorithm '\(algorithm)'; use sha256, sha384, sha512 or sha1")
        }
        return try encode(code, encoding)
    }

    static func randomBytes(count: Int, encoding: String) throws -> String {
        guard (0...65_536).contains(count) else { throw HostError("randomBytes takes 0 to 65536 bytes, got \(count)") }
        var generator = SystemRandomNumberGenerator()
        return try encode((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }, encoding)
    }

    static func encode(_ bytes: [UInt8], _ encoding: String) throws -> String {
        switch encoding.lowercased() {
        case "hex": return Hex.string(bytes)
        case "base64": return Data(bytes).base64EncodedString()
        default: throw HostError("unsupported encoding '\(encoding)'; use hex or base64")
        }
    }

    /// SHA-256 of a string, hex: how the runtime names a version of worker source.
    static func sourceHash(_ source: String) -> String {
        Hex.string(SHA256.hash(data: Array(source.utf8)))
    }
}
