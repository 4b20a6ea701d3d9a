/// An event a worker can be bound to (spec §4): where it comes from, whether the operation waits for it, and what
/// filter selects the workers it runs.
public struct WorkerAction: Sendable, Hashable, Codable {
    public enum Filter: String, Sendable, Codable {
        case repository = "FILTER_REPO"
        case schedule = "SCHEDULE"
    }

    public var application: String
    public var name: String
    /// The triggering operation waits for the worker and can be stopped by it.
    public var isSynchronous: Bool
    public var filter: Filter?
    /// Name of the TypeScript interface of the request `data`.
    public var requestType: String
    public var description: String

    /// `BEFORE_DOWNLOAD` → `beforeDownload`: the key of the worker's result in a test-run answer.
    public var camelCaseName: String {
        let parts = name.lowercased().split(separator: "_")
        guard let first = parts.first else { return name }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    public static let beforeDownload = WorkerAction(
        "artifactory", "BEFORE_DOWNLOAD", sync: true, .repository, "BeforeDownloadRequest",
        "Runs before an artifact is downloaded; can stop the download.")
    public static let beforeRemoteInfo = WorkerAction(
        "artifactory", "BEFORE_REMOTE_INFO", sync: true, .repository, "BeforeRemoteInfoRequest",
        "Runs before a remote repository asks its upstream for a file; can stop it, or add headers to the upstream request.")
    public static let afterDownload = WorkerAction(
        "artifactory", "AFTER_DOWNLOAD", sync: false, .repository, "AfterDownloadRequest", "Runs after an artifact was downloaded.")
    public static let beforeUpload = WorkerAction(
        "artifactory", "BEFORE_UPLOAD", sync: true, .repository, "BeforeUploadRequest",
        "Runs before an artifact is stored; can stop the upload or change its path.")
    public static let beforeCreate = WorkerAction(
        "artifactory", "BEFORE_CREATE", sync: true, .repository, "BeforeCreateRequest",
        "Runs before an item (a file or a folder) is created by an upload, a copy or a move, or a file is replaced; can stop it.")
    public static let afterCreate = WorkerAction(
        "artifactory", "AFTER_CREATE", sync: false, .repository, "AfterCreateRequest",
        "Runs after an artifact was created (uploaded, copied or moved).")
    public static let beforeDelete = WorkerAction(
        "artifactory", "BEFORE_DELETE", sync: true, .repository, "BeforeDeleteRequest", "Runs before an artifact is deleted; can stop the deletion.")
    public static let afterDelete = WorkerAction(
        "artifactory", "AFTER_DELETE", sync: false, .repository, "AfterDeleteRequest", "Runs after an item was deleted (or moved away).")
    public static let beforeCopy = WorkerAction(
        "artifactory", "BEFORE_COPY", sync: true, .repository, "BeforeCopyRequest", "Runs before an item is copied; can stop the copy.")
    public static let afterCopy = WorkerAction(
        "artifactory", "AFTER_COPY", sync: false, .repository, "AfterCopyRequest", "Runs after an item was copied.")
    public static let beforeMove = WorkerAction(
        "artifactory", "BEFORE_MOVE", sync: true, .repository, "BeforeMoveRequest", "Runs before an item is moved; can stop the move.")
    public static let afterMove = WorkerAction(
        "artifactory", "AFTER_MOVE", sync: false, .repository, "AfterMoveRequest", "Runs after an item was moved.")
    public static let beforePropertyCreate = WorkerAction(
        "artifactory", "BEFORE_PROPERTY_CREATE", sync: true, .repository, "BeforePropertyCreateRequest",
        "Runs before a property is set on an artifact; can stop it.")
    public static let afterPropertyCreate = WorkerAction(
        "artifactory", "AFTER_PROPERTY_CREATE", sync: false, .repository, "AfterPropertyCreateRequest",
        "Runs after a property was set on an artifact.")
    public static let beforePropertyDelete = WorkerAction(
        "artifactory", "BEFORE_PROPERTY_DELETE", sync: true, .repository, "BeforePropertyDeleteRequest",
        "Runs before a property is removed from an artifact; can stop it.")
    public static let afterPropertyDelete = WorkerAction(
        "artifactory", "AFTER_PROPERTY_DELETE", sync: false, .repository, "AfterPropertyDeleteRequest",
        "Runs after a property was removed from an artifact.")
    public static let beforeCreateToken = WorkerAction(
        "access", "BEFORE_CREATE_TOKEN", sync: true, nil, "BeforeCreateTokenRequest",
        "Runs before an access token is created (the tokens APIs); can refuse it.")
    public static let beforeRevokeToken = WorkerAction(
        "access", "BEFORE_REVOKE_TOKEN", sync: true, nil, "BeforeRevokeTokenRequest",
        "Runs before an access token is revoked (the tokens APIs); can refuse it.")
    public static let afterBuildInfoSave = WorkerAction(
        "artifactory", "AFTER_BUILD_INFO_SAVE", sync: false, nil, "AfterBuildInfoSaveRequest",
        "Runs after build info was saved (the builds API, or a finished CI run).")
    public static let genericEvent = WorkerAction(
        "worker", "GENERIC_EVENT", sync: true, nil, "any", "Runs when called through the execute endpoint; answers with what it returns.")
    public static let scheduledEvent = WorkerAction(
        "worker", "SCHEDULED_EVENT", sync: false, .schedule, "ScheduledEventRequest", "Runs on a cron schedule.")

    /// Every action this server fires, in the catalogue's order.
    public static let all: [WorkerAction] = [
        beforeDownload, afterDownload, beforeRemoteInfo, beforeUpload, beforeCreate, afterCreate, beforeDelete, afterDelete, beforeCopy, afterCopy,
        beforeMove,
        afterMove, beforePropertyCreate, afterPropertyCreate, beforePropertyDelete, afterPropertyDelete, beforeCreateToken, beforeRevokeToken,
        afterBuildInfoSave, genericEvent, scheduledEvent,
    ]

    /// Fired by the server as a whole (tokens, builds), not by one repository or one worker: a worker bound to it
    /// sees and decides for every project, so it may not belong to one (only an admin makes it).
    public var isServerWide: Bool { filter == nil && self != .genericEvent }

    /// Actions of the reference's catalogue that nothing on this server can fire, and why.
    public static let unserved: [String: String] = [
        "AFTER_WORKLOAD_STATE_CHANGE": "runtime workloads do not exist on this server (it runs no container workloads), so nothing fires it"
    ]

    public static func named(_ name: String) -> WorkerAction? {
        let name = name.uppercased()
        return all.first { $0.name == name }
    }

    init(_ application: String, _ name: String, sync: Bool, _ filter: Filter?, _ requestType: String, _ description: String) {
        self.application = application
        self.name = name
        self.isSynchronous = sync
        self.filter = filter
        self.requestType = requestType
        self.description = description
    }
}
