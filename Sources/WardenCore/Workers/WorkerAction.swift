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

    public static let all: [WorkerAction] = [
        .init(
            "artifactory", "BEFORE_DOWNLOAD", sync: true, .repository, "BeforeDownloadRequest",
            "Runs before an artifact is downloaded; can stop the download."),
        .init("artifactory", "AFTER_DOWNLOAD", sync: false, .repository, "AfterDownloadRequest", "Runs after an artifact was downloaded."),
        .init(
            "artifactory", "BEFORE_UPLOAD", sync: true, .repository, "BeforeUploadRequest",
            "Runs before an artifact is stored; can stop the upload or change its path."),
        .init("artifactory", "AFTER_CREATE", sync: false, .repository, "AfterCreateRequest", "Runs after an artifact was created."),
        .init(
            "artifactory", "BEFORE_DELETE", sync: true, .repository, "BeforeDeleteRequest",
            "Runs before an artifact is deleted; can stop the deletion."),
        .init(
            "artifactory", "BEFORE_PROPERTY_CREATE", sync: true, .repository, "BeforePropertyCreateRequest",
            "Runs before a property is set on an artifact; can stop it."),
        .init("worker", "GENERIC_EVENT", sync: true, nil, "any", "Runs when called through the execute endpoint; answers with what it returns."),
        .init("worker", "SCHEDULED_EVENT", sync: false, .schedule, "ScheduledEventRequest", "Runs on a cron schedule."),
    ]

    public static let beforeDownload = all[0]
    public static let afterDownload = all[1]
    public static let beforeUpload = all[2]
    public static let afterCreate = all[3]
    public static let beforeDelete = all[4]
    public static let beforePropertyCreate = all[5]
    public static let genericEvent = all[6]
    public static let scheduledEvent = all[7]

    public static func named(_ name: String) -> WorkerAction? {
        all.first { $0.name == name.uppercased() }
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
