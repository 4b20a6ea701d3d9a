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

    /// Makes sure this vault's key is the one the database's secrets were sealed with: the first server to start
    /// stores a value sealed with its key; every later start (of any server on the database) must open it.
    public func checkKey(against settings: any SettingStore) async throws {
        let sealed = try seal(Self.keyCheck, worker: "", name: "master-key-check")
        let stored = try await settings.setting("master-key-check", ifAbsent: sealed)
        guard (try? open(stored, worker: "", name: "master-key-check")) == Self.keyCheck else {
            throw WardenError(
                .unavailable,
                "this master key does not open the secrets stored in the database: every server on one database needs the key the first one used (WARDEN_MASTER_KEY, or the same master.key file)"
            )
        }
    }

    static let keyCheck = "the secrets of this database are sealed with this key"

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
