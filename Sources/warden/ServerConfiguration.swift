import ArgumentParser
import Configuration
import Foundation
import Logging
import WardenCore
import WardenHTTP
import RunModel
import WorkerRuntime

/// Everything `warden serve` is configured with. Read from (highest first) flags, environment variables
/// (`warden.limits.cpuMillis` is `WARDEN_LIMITS_CPU_MILLIS`) and a JSON file (`{"warden": {"limits": {"cpuMillis": 500}}}`),
/// with defaults after the reference service. A value that is present but wrong stops the server with a message
/// naming its key.
struct ServerConfiguration: Sendable {
    var host = "127.0.0.1"
    var port = 8080
    var dataFolder = "./data"
    var databaseURL: String?
    /// Connections to PostgreSQL at most.
    var databaseConnections = 20
    /// Where blobs live (`nil`: `<data>/blobs`); servers sharing one database share this folder too.
    var blobsFolder: String?
    /// Seconds a server holds an asynchronous run it claimed before another may take it (renewed while it runs).
    var runLeaseSeconds = 30
    var executors = ProcessInfo.processInfo.activeProcessorCount
    var allowHosts: [String] = []
    /// Hosts on the allow-list that may resolve to loopback or private addresses.
    var privateHosts: [String] = []
    var limits = RunLimits.default
    var maxQueueWaitSeconds = 30
    var historyPerWorker = 1_000
    var recordSuccessfulRuns = true
    /// What a failing synchronous worker does to the operation it guards: `open` lets it go on, `closed` stops it.
    var failPolicy = "open"
    /// The log's lowest level and its form (`LogOutput`).
    var logLevel = Logger.Level.info
    var logFormat = LogOutput.Format.text
    /// Who may read /metrics; `nil`: open on loopback, a token beyond it.
    var metricsAccess: MetricsAccess?
    var adminToken: String?
    var masterKey: String?
    /// A file holding the 32 bytes of the master key (as `<data>/master.key` does), shared by the servers of one database.
    var masterKeyFile: String?
    /// The tenant dialect's admin JWTs.
    var tenantAuth = TenantAuthSettings()
    /// Open connections at most (past it, 503 and close) and how long an idle one is kept.
    var connections = ConnectionLimits()

    init() {}

    /// `warden.metrics.access`, else open when the server listens on loopback only and token otherwise.
    var effectiveMetricsAccess: MetricsAccess {
        metricsAccess ?? (["127.0.0.1", "::1", "localhost"].contains(host) ? .open : .token)
    }

    init(reader config: ConfigReader) throws {
        host = try Self.string(config, "warden.host") ?? host
        port = try Self.int(config, "warden.port", in: 0...65_535) ?? port
        dataFolder = try Self.string(config, "warden.data") ?? dataFolder
        databaseURL = try Self.string(config, "warden.databaseUrl")
        databaseConnections = try Self.int(config, "warden.database.maxConnections", in: 1...1_000) ?? databaseConnections
        blobsFolder = try Self.string(config, "warden.blobs")
        runLeaseSeconds = try Self.int(config, "warden.events.leaseSeconds", in: 3...3_600) ?? runLeaseSeconds
        executors = try Self.int(config, "warden.executors", in: 1...256) ?? executors
        allowHosts =
            try Self.string(config, "warden.allowHosts").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }?.filter {
                !$0.isEmpty
            } ?? allowHosts
        privateHosts =
            try Self.string(config, "warden.egress.privateHosts").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }?
            .filter { !$0.isEmpty } ?? privateHosts
        limits.cpuMillis = try Self.int(config, "warden.limits.cpuMillis", in: 1...600_000) ?? limits.cpuMillis
        limits.wallMillis = try Self.int(config, "warden.limits.wallMillis", in: 1...3_600_000) ?? limits.wallMillis
        if let megabytes = try Self.int(config, "warden.limits.memoryMegabytes", in: 1...65_536) { limits.memoryBytes = Int64(megabytes) << 20 }
        limits.maxOutputBytes = try Self.int(config, "warden.limits.maxOutputBytes", in: 1...(64 << 20)) ?? limits.maxOutputBytes
        limits.maxLogBytes = try Self.int(config, "warden.limits.maxLogBytes", in: 1_000...(64 << 20)) ?? limits.maxLogBytes
        connections.maxConnections = try Self.int(config, "warden.http.maxConnections", in: 1...1_000_000) ?? connections.maxConnections
        if let seconds = try Self.int(config, "warden.http.idleTimeoutSeconds", in: 1...3_600) { connections.idleTimeout = .seconds(seconds) }
        maxQueueWaitSeconds = try Self.int(config, "warden.limits.maxQueueWaitSeconds", in: 1...3_600) ?? maxQueueWaitSeconds
        historyPerWorker = try Self.int(config, "warden.history.perWorker", in: 1...1_000_000) ?? historyPerWorker
        recordSuccessfulRuns = try Self.bool(config, "warden.history.recordSuccess") ?? recordSuccessfulRuns
        failPolicy = try Self.string(config, "warden.failPolicy") ?? failPolicy
        guard ["open", "closed"].contains(failPolicy) else {
            throw ValidationError("warden.failPolicy: '\(failPolicy)' is neither open nor closed")
        }
        if let level = try Self.string(config, "warden.log.level") {
            guard let known = Logger.Level(rawValue: level) else {
                throw ValidationError(
                    "warden.log.level: '\(level)' is not a level; use one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = known
        }
        if let format = try Self.string(config, "warden.log.format") {
            guard let known = LogOutput.Format(rawValue: format) else {
                throw ValidationError("warden.log.format: '\(format)' is neither text nor json")
            }
            logFormat = known
        }
        if let access = try Self.string(config, "warden.metrics.access") {
            guard let known = MetricsAccess(rawValue: access) else {
                throw ValidationError("warden.metrics.access: '\(access)' is neither open nor token")
            }
            metricsAccess = known
        }
        adminToken = try Self.string(config, "warden.adminToken")
        masterKey = try Self.string(config, "warden.masterKey")
        masterKeyFile = try Self.string(config, "warden.masterKeyFile")
        if masterKey != nil && masterKeyFile != nil {
            throw ValidationError("warden.masterKeyFile: give the master key once, either warden.masterKey or warden.masterKeyFile")
        }
        let certificate = try Self.string(config, "warden.tls.certificate")
        let key = try Self.string(config, "warden.tls.key")
        switch (certificate, key) {
        case (nil, nil): break
        case (let certificate?, let key?):
            do {
                connections.tls = try ServerTLS(certificateFile: certificate, keyFile: key)
            } catch let error as WardenError {
                throw ValidationError(error.message)
            }
        case (nil, _): throw ValidationError("--tls-cert (warden.tls.certificate): is required with --tls-key")
        case (_, nil): throw ValidationError("--tls-key (warden.tls.key): is required with --tls-cert")
        }
        tenantAuth.hs256Secret = try Self.string(config, "warden.tenant.auth.secret")
        if let path = try Self.string(config, "warden.tenant.auth.publicKeyFile") {
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("warden.tenant.auth.publicKeyFile: cannot read '\(path)'")
            }
            tenantAuth.rs256PublicKeyPEM = pem
        }
        tenantAuth.issuer = try Self.string(config, "warden.tenant.auth.issuer") ?? tenantAuth.issuer
        tenantAuth.audience = try Self.string(config, "warden.tenant.auth.audience") ?? tenantAuth.audience
        tenantAuth.realm = try Self.string(config, "warden.tenant.auth.realm") ?? tenantAuth.realm
    }

    /// Every key a configuration file may hold (a test keeps this list equal to the keys this file reads).
    static let knownKeys: [String] = [
        "warden.adminToken", "warden.allowHosts", "warden.blobs", "warden.config", "warden.data", "warden.database.maxConnections",
        "warden.databaseUrl", "warden.egress.privateHosts", "warden.events.leaseSeconds", "warden.executors", "warden.failPolicy",
        "warden.history.perWorker", "warden.history.recordSuccess", "warden.host", "warden.http.idleTimeoutSeconds",
        "warden.http.maxConnections", "warden.log.format", "warden.log.level", "warden.metrics.access", "warden.limits.cpuMillis",
        "warden.limits.maxLogBytes",
        "warden.limits.maxOutputBytes",
        "warden.limits.maxQueueWaitSeconds", "warden.limits.memoryMegabytes", "warden.limits.wallMillis", "warden.masterKey",
        "warden.masterKeyFile", "warden.port", "warden.tenant.auth.audience", "warden.tenant.auth.issuer", "warden.tenant.auth.publicKeyFile",
        "warden.tenant.auth.realm", "warden.tenant.auth.secret", "warden.tls.certificate", "warden.tls.key",
    ]

    /// Refuses a configuration file holding a key this server does not read (a typo would otherwise be ignored in
    /// silence), naming the key and the nearest known one.
    static func checkKeys(ofFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return }  // the file provider has refused what does not read as a JSON object already
        var leaves: [String] = []
        func walk(_ value: Any, _ key: String) {
            if let object = value as? [String: Any], !object.isEmpty {
                for (name, inner) in object { walk(inner, key.isEmpty ? name : "\(key).\(name)") }
            } else {
                leaves.append(key)
            }
        }
        walk(object, "")
        let known = Set(knownKeys)
        for key in leaves.sorted() where !known.contains(key) {
            let nearest = knownKeys.min { distance($0, key) < distance($1, key) } ?? ""
            let hint = distance(nearest, key) <= max(3, key.count / 3) ? "; did you mean '\(nearest)'?" : ""
            throw ValidationError("\(path): '\(key)' is not a setting of warden serve\(hint) (docs: warden serve --help)")
        }
    }

    /// Levenshtein distance, over characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }

    /// The worker service's settings.
    func workerSettings(baseURL: String) -> WorkerSettings {
        WorkerSettings(
            limits: limits, recordSuccessfulRuns: recordSuccessfulRuns, historyPerWorker: historyPerWorker, baseURL: baseURL,
            executors: executors, maxQueueWait: .seconds(maxQueueWaitSeconds))
    }

    static func string(_ config: ConfigReader, _ key: String) throws -> String? {
        guard let value = config.string(forKey: ConfigKey(key)) else { return nil }
        return value.isEmpty ? nil : value
    }

    static func int(_ config: ConfigReader, _ key: String, in range: ClosedRange<Int>) throws -> Int? {
        let value: Int
        if let number = config.int(forKey: ConfigKey(key)) {
            value = number
        } else if let text = config.string(forKey: ConfigKey(key)), !text.isEmpty {
            guard let number = Int(text) else { throw ValidationError("\(key): '\(text)' is not a whole number") }
            value = number
        } else {
            return nil
        }
        guard range.contains(value) else { throw ValidationError("\(key): \(value) is outside \(range.lowerBound)...\(range.upperBound)") }
        return value
    }

    static func bool(_ config: ConfigReader, _ key: String) throws -> Bool? {
        if let flag = config.bool(forKey: ConfigKey(key)) { return flag }
        guard let text = config.string(forKey: ConfigKey(key)), !text.isEmpty else { return nil }
        guard let flag = Bool(text.lowercased()) else { throw ValidationError("\(key): '\(text)' is neither true nor false") }
        return flag
    }
}
