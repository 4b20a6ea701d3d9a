import Crypto
import Foundation

/// Seals secret values with AES-GCM under the server's master key; the worker and secret names are bound in as
/// authenticated data, so a sealed value copied to another worker or name does not open.
public struct SecretVault: Sendable {
    let key: SymmetricKey

    public init(masterKey: Data) throws(WardenError) {
        guard masterKey.count == 32 else { throw WardenError(.unavailable, "the master key must be 32 bytes, got \(masterKey.count)") }
        key = SymmetricKey(data: masterKey)
    }

    /// A fresh random 256-bit master key.
    public static func generateMasterKey() -> Data { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) } }

    public func seal(_ value: String, worker: String, name: String) throws -> Data {
        let box = try AES.GCM.seal(Data(value.utf8), using: key, authenticating: Data("\(worker)\u{0}\(name)".utf8))
        guard let combined = box.combined else { throw WardenError(.unavailable, "sealing a secret failed") }
        return combined
    }

    public func open(_ sealed: Data, worker: String, name: String) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let plain = try AES.GCM.open(box, using: key, authenticating: Data("\(worker)\u{0}\(name)".utf8))
        return String(decoding: plain, as: UTF8.self)
    }
}
