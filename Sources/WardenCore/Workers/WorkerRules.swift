import Foundation

/// What a worker must be to be saved (spec §3): its key, fields, filter, schedule, secrets and run-token reach. Pure
/// rules, so that the worker service's CRUD reads as the steps it takes.
enum WorkerRules {
    /// The fields of a worker about to be saved, but its code (which the service compiles).
    static func validate(_ worker: Worker) throws(WardenError) {
        if worker.description.count > 1_000 {
            throw WardenError.invalid("description", "is \(worker.description.count) characters; at most 1000 are allowed")
        }
        if let access = worker.platformAccess { try validate(access) }
        let action = worker.action
        let filter = worker.filterCriteria
        switch action.filter {
        case .repository:
            let artifacts = filter.artifactFilterCriteria ?? ArtifactFilter()
            if worker.enabled && artifacts.isEmpty {
                throw WardenError.invalid(
                    "filterCriteria.artifactFilterCriteria",
                    "an enabled \(action.name) worker needs repoKeys or one of anyLocal, anyRemote, anyFederated")
            }
            for (field, patterns) in [("includePatterns", artifacts.includePatterns), ("excludePatterns", artifacts.excludePatterns)] {
                if let index = patterns.firstIndex(where: { $0.isEmpty }) {
                    throw WardenError.invalid("filterCriteria.artifactFilterCriteria.\(field)[\(index)]", "must not be empty")
                }
            }
            if let index = artifacts.repoKeys.firstIndex(where: { $0.isEmpty }) {
                throw WardenError.invalid("filterCriteria.artifactFilterCriteria.repoKeys[\(index)]", "must not be empty")
            }
            if filter.schedule != nil { throw WardenError.invalid("filterCriteria.schedule", "only SCHEDULED_EVENT workers take a schedule") }
        case .schedule:
            guard let schedule = filter.schedule else {
                throw WardenError.invalid("filterCriteria.schedule", "a SCHEDULED_EVENT worker needs a schedule {cron, timezone}")
            }
            _ = try CronExpression(schedule.cron)
            guard TimeZone(identifier: schedule.timezone) != nil else {
                throw WardenError.invalid("filterCriteria.schedule.timezone", "'\(schedule.timezone)' is not an IANA time zone")
            }
            if !(filter.artifactFilterCriteria?.isEmpty ?? true) {
                throw WardenError.invalid("filterCriteria.artifactFilterCriteria", "SCHEDULED_EVENT workers take no repository filter")
            }
        case nil:
            if !(filter.artifactFilterCriteria?.isEmpty ?? true) || filter.schedule != nil {
                throw WardenError.invalid("filterCriteria", "\(action.name) workers take no filter")
            }
        }
        if action.isServerWide && !worker.projectKey.isEmpty {
            throw WardenError.invalid(
                "projectKey", "\(action.name) workers act for the whole server: such a worker belongs to no project (an admin makes it)")
        }
        if worker.shared && action != .genericEvent { throw WardenError.invalid("shared", "only GENERIC_EVENT workers can be shared") }
        var seen = Set<String>()
        for (index, property) in worker.properties.enumerated() {
            if property.key.isEmpty { throw WardenError.invalid("properties[\(index)].key", "must not be empty") }
            if !seen.insert(property.key).inserted { throw WardenError.invalid("properties[\(index)].key", "'\(property.key)' is given twice") }
        }
        if let version = worker.version {
            for (field, value, limit) in [
                ("version.versionNumber", version.versionNumber, 64), ("version.commitSha", version.commitSha, 128),
                ("version.description", version.description, 256),
            ] {
                if let value, value.count > limit { throw WardenError.invalid(field, "is \(value.count) characters; at most \(limit) are allowed") }
            }
        }
    }

    static func validate(_ access: PlatformAccess) throws(WardenError) {
        guard !access.repositories.isEmpty, access.repositories.count <= 100 else {
            throw WardenError.invalid("platformAccess.repositories", "must name 1 to 100 repositories (ANY for every repository)")
        }
        for (index, key) in access.repositories.enumerated() where key.isEmpty || key.count > 64 {
            throw WardenError.invalid("platformAccess.repositories[\(index)]", "must be a repository key of 1 to 64 characters")
        }
        guard !access.actions.isEmpty else { throw WardenError.invalid("platformAccess.actions", "must list at least one action") }
        if access.actions.contains(.manage) {
            throw WardenError.invalid(
                "platformAccess.actions", "a worker's run token never manages a repository: list read, annotate, write or delete")
        }
    }

    static func validateKey(_ key: String) throws(WardenError) {
        let characters = Array(key.unicodeScalars)
        guard (2...64).contains(characters.count) else { throw WardenError.invalid("key", "must be 2 to 64 characters, got \(characters.count)") }
        guard let first = characters.first, first.properties.isAlphabetic, first.isASCII else {
            throw WardenError.invalid("key", "must start with a letter")
        }
        guard characters.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }) else {
            throw WardenError.invalid("key", "may contain only letters, digits, '-' and '_'")
        }
    }

    static func validated(_ items: [SecretItem]?, field: String = "secrets") throws(WardenError) -> [SecretItem]? {
        guard let items else { return nil }
        for (index, item) in items.enumerated() {
            if item.key.isEmpty { throw WardenError.invalid("\(field)[\(index)].key", "is required") }
            if item.key.count > 100 { throw WardenError.invalid("\(field)[\(index)].key", "is longer than 100 characters") }
            if !item.markedForRemoval && item.value == nil {
                throw WardenError.invalid("\(field)[\(index)].value", "is required unless markedForRemoval is true")
            }
        }
        return items
    }

    static func action(named name: String, field: String = "action") throws(WardenError) -> WorkerAction {
        guard let action = WorkerAction.named(name) else {
            if let why = WorkerAction.unserved[name.uppercased()] {
                throw WardenError.invalid(field, "\(name.uppercased()) is not served here: \(why)")
            }
            throw WardenError.invalid(field, "unknown action '\(name)'; one of \(WorkerAction.all.map(\.name).joined(separator: ", "))")
        }
        return action
    }

    /// `base64:<b64>` is decoded first (spec §3).
    static func decodeSource(_ source: String, field: String = "sourceCode") throws(WardenError) -> String {
        guard source.hasPrefix("base64:") else { return source }
        guard let data = Data(base64Encoded: String(source.dropFirst(7)), options: .ignoreUnknownCharacters),
            let text = String(data: data, encoding: .utf8)
        else { throw WardenError.invalid(field, "starts with 'base64:' but the rest is not base64 of UTF-8 text") }
        return text
    }
}
