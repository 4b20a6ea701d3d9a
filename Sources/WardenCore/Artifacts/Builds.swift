import Foundation
import Logging
import RunModel

/// One build run's info, as a build tool published it (`PUT /artifactory/api/build`) or a finished CI run did.
public struct BuildRecord: Sendable, Equatable {
    public var name: String
    public var number: String
    /// `started` as the build info gives it (the API shows it back as given).
    public var started: String
    /// The same time in milliseconds since 1970, for ordering.
    public var startedMillis: Int64
    /// The build info, as JSON text.
    public var infoJSON: String
    public var savedAt: Int64
    public var savedBy: String

    public init(name: String, number: String, started: String, startedMillis: Int64, infoJSON: String, savedAt: Int64, savedBy: String) {
        self.name = name
        self.number = number
        self.started = started
        self.startedMillis = startedMillis
        self.infoJSON = infoJSON
        self.savedAt = savedAt
        self.savedBy = savedBy
    }
}

/// A build name and its latest run's start, for the list of builds.
public struct BuildName: Sendable, Equatable {
    public var name: String
    public var lastStarted: String
    public var lastStartedMillis: Int64

    public init(name: String, lastStarted: String, lastStartedMillis: Int64) {
        self.name = name
        self.lastStarted = lastStarted
        self.lastStartedMillis = lastStartedMillis
    }
}

/// Build runs, by name and number.
public protocol BuildStore: Sendable {
    /// Stores a build run's info, replacing the one of the same name and number.
    func saveBuild(_ build: BuildRecord) async throws
    /// Every build name with its latest start, by name.
    func buildNames() async throws -> [BuildName]
    /// The runs of `name`, latest start first (their `infoJSON` left empty: a list does not read them).
    func buildRuns(named name: String) async throws -> [BuildRecord]
    func build(name: String, number: String) async throws -> BuildRecord?
    /// Deletes run `number` of `name`, or every run of it when `number` is nil; how many went.
    func deleteBuilds(name: String, number: String?) async throws -> Int
}

/// The builds API's decisions (`/artifactory/api/build`): who may publish, read and delete build info, what a
/// valid one is, and the AFTER_BUILD_INFO_SAVE event. Build info lives, for permissions, in the repository
/// `artifactory-build-info` (as on the reference platform) at the path `<name>/<number>`: a permission target on
/// that key grants read, write (publish) and delete; admins may do everything.
public struct BuildService: Sendable {
    public static let repositoryKey = "artifactory-build-info"
    static let maxInfoBytes = 8 << 20

    let store: any BuildStore
    let permissions: PermissionService
    let events: EventDispatcher?
    let address: ServerAddress
    /// Deletes the files a build published, when asked to.
    let artifacts: ArtifactService?
    let logger: Logger

    public init(
        store: any BuildStore, permissions: PermissionService, events: EventDispatcher?, address: ServerAddress, artifacts: ArtifactService? = nil,
        logger: Logger = Logger(label: "warden.builds")
    ) {
        self.artifacts = artifacts
        self.store = store
        self.permissions = permissions
        self.events = events
        self.address = address
        self.logger = logger
    }

    static let repository = Repository(key: repositoryKey, description: "build info")

    func require(_ action: RepositoryAction, _ path: String, _ principal: Principal?) async throws {
        guard try await permissions.allows(action, Self.repository, path: path, principal: principal) else {
            throw PermissionService.refusal(action, Self.repositoryKey, path: path, principal: principal)
        }
    }

    /// Stores build info (JSON text) published by `principal`, then queues the AFTER_BUILD_INFO_SAVE workers.
    @discardableResult
    public func publish(_ text: String, by principal: Principal?, depth: Int = 0) async throws -> BuildRecord {
        guard text.utf8.count <= Self.maxInfoBytes else { throw WardenError(.tooLarge, "build info is larger than \(Self.maxInfoBytes) bytes") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw WardenError(.badRequest, "build info must be a JSON object")
        }
        let name = try Self.field(object, "name")
        let number = try Self.field(object, "number")
        if number.contains("/") { throw WardenError.invalid("number", "must not contain '/'") }
        let started: String
        let startedMillis: Int64
        if object["started"] == nil || object["started"] is NSNull {
            startedMillis = ArtifactService.now()
            started = Self.format(millis: startedMillis)
        } else {
            guard let text = object["started"] as? String, let millis = Self.parseTime(text) else {
                throw WardenError.invalid("started", "must be a time such as 2026-12-07T10:00:00.000+0000")
            }
            started = text
            startedMillis = millis
        }
        for (field, kind) in [("modules", "array"), ("properties", "object"), ("vcs", "array")] where object[field] != nil {
            let fits = kind == "array" ? object[field] is [Any] : object[field] is [String: Any]
            if !fits { throw WardenError.invalid(field, "must be an \(kind)") }
        }
        try await require(.write, "\(name)/\(number)", principal)
        var info = object
        info["started"] = started
        let record = BuildRecord(
            name: name, number: number, started: started, startedMillis: startedMillis, infoJSON: Payloads.json(info), savedAt: ArtifactService.now(),
            savedBy: principal?.name ?? "warden")
        try await store.saveBuild(record)
        if let events {
            let data = { Payloads.afterBuildInfoSave(infoJSON: record.infoJSON, by: principal, address: self.address) }
            try await events.enqueue(action: .afterBuildInfoSave, dataJSON: data, triggeredBy: record.savedBy, depth: depth)
        }
        return record
    }

    static func field(_ object: [String: Any], _ key: String) throws(WardenError) -> String {
        guard let value = object[key] as? String else { throw WardenError.invalid(key, "is required: a string") }
        guard (1...255).contains(value.count), !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw WardenError.invalid(key, "must be 1 to 255 characters without control characters")
        }
        return value
    }

    /// Every build name, for a caller who may read build info somewhere (none for one who may not).
    public func names(for principal: Principal?) async throws -> [BuildName] {
        guard try await permissions.decider(for: principal)(.read, Self.repository, nil) else {
            if principal == nil { throw PermissionService.refusal(.read, Self.repositoryKey, path: "", principal: nil) }
            return []
        }
        return try await store.buildNames()
    }

    /// The runs of `name` the caller may read; 404 when there is none.
    public func runs(named name: String, for principal: Principal?) async throws -> [BuildRecord] {
        let decide = try await permissions.decider(for: principal)
        let runs = try await store.buildRuns(named: name).filter { decide(.read, Self.repository, "\(name)/\($0.number)") }
        guard !runs.isEmpty else {
            if principal == nil { throw PermissionService.refusal(.read, Self.repositoryKey, path: name, principal: nil) }
            throw WardenError(.notFound, "No build was found for build name: \(name)")
        }
        return runs
    }

    public func build(name: String, number: String, for principal: Principal?) async throws -> BuildRecord {
        try await require(.read, "\(name)/\(number)", principal)
        guard let build = try await store.build(name: name, number: number) else {
            throw WardenError(.notFound, "No build was found for build name: \(name), build number: \(number)")
        }
        return build
    }

    /// Deletes runs of `name` (`numbers` empty: all of them); 404 when none of them exists. With `artifacts`, the
    /// files those runs published go too: the items carrying `build.name` and `build.number` properties of a
    /// deleted run (as the reference associates them), each deleted as a delete request of the caller would be
    /// (its rights, its BEFORE_DELETE policies); the first refusal stops before any build info goes.
    public func delete(name: String, numbers: [String], artifacts: Bool, request: ArtifactRequest) async throws -> Int {
        let principal = request.principal
        let targets = numbers.isEmpty ? try await store.buildRuns(named: name).map(\.number) : numbers
        guard !targets.isEmpty else { throw WardenError(.notFound, "No build was found for build name: \(name)") }
        for number in targets { try await require(.delete, "\(name)/\(number)", principal) }
        if artifacts, let files = self.artifacts {
            for number in targets {
                let query = "items.find({\"@build.name\":\(JSONText.quote(name)),\"@build.number\":\(JSONText.quote(number))})"
                for row in try await files.search(aql: query, for: principal).results {
                    guard let repo = row["repo"] as? String, let folder = row["path"] as? String, let file = row["name"] as? String else { continue }
                    try await files.delete(repo: repo, path: folder == "." ? file : "\(folder)/\(file)", request: request)
                }
            }
        }
        var deleted = 0
        for number in targets { deleted += try await store.deleteBuilds(name: name, number: number) }
        guard deleted > 0 else {
            throw WardenError(.notFound, "No build was found for build name: \(name), build numbers: \(targets.joined(separator: ","))")
        }
        return deleted
    }

    /// ISO 8601 with or without fractional seconds, the offset as `Z`, `+03:00` or `+0300` (build tools write
    /// `2014-09-30T12:00:19.893+0300`).
    static func parseTime(_ text: String) -> Int64? {
        if let millis = ISOTime.parse(text) { return millis }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSSZ", "yyyy-MM-dd'T'HH:mm:ssZ"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return Checked.int64(date.timeIntervalSince1970 * 1000) }
        }
        return nil
    }

    /// The reference's form: `2026-12-07T10:00:00.000+0000`.
    static func format(millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
