import Foundation
import Logging
import RunModel
import Synchronization

/// The execution history's writer (spec §8): which runs are recorded, an entry's size cut, secrets masked in what is
/// kept, concurrent runs' entries committed together, and each worker's history pruned to its retention. A
/// successful run's entry is written behind the answer (issue 13); a failed run's before its caller is answered.
final class RunRecorder: Sendable {
    let history: any HistoryStore
    /// Record successful runs too (failures are always recorded).
    let recordSuccessfulRuns: Bool
    let historyPerWorker: Int
    let entryMaxBytes: Int
    /// Concurrent runs' entries share a transaction; a service of the server's group (flushed last).
    let writer: WriteBehind<HistoryEntry>
    /// Entries recorded per worker since the start, to prune every so often.
    let appended = Mutex<[String: Int]>([:])
    /// Where a write a run cannot fail for says it failed.
    let logger: Logger

    init(history: any HistoryStore, settings: WorkerSettings, logger: Logger) {
        self.history = history
        recordSuccessfulRuns = settings.recordSuccessfulRuns
        historyPerWorker = settings.historyPerWorker
        entryMaxBytes = settings.historyEntryMaxBytes
        writer = WriteBehind(name: "history entries", logger: logger) { [history] entries in try await history.append(entries) }
        self.logger = logger
    }

    /// Writes the run's history entry when the settings want it (failures always).
    func record(
        _ result: RunResult, workerKey: String, action: WorkerAction, projectKey: String, dataJSON: String, secrets: [String: String],
        start: Int64, triggeredBy: String, testRun: Bool, version: String, always: Bool
    ) async {
        let end = WorkerService.nowMillis()
        if result.executionStatus == .fail || always || recordSuccessfulRuns {
            let masker = SecretMasker(secrets: secrets.values)
            var resultJSON: String?
            if case .success(let json) = result.outcome { resultJSON = json }
            var entry = HistoryEntry(
                id: RandomID.timeOrderedUUID(millis: start), traceID: RequestTrace.id ?? RandomID.hex128(),
                workerKey: workerKey, action: action.name, projectKey: projectKey, payloadJSON: masker.maskJSON(dataJSON),
                status: result.executionStatus, resultJSON: resultJSON, error: result.outcome.error, logs: result.logs, stats: result.stats,
                startMillis: start, endMillis: end, triggeredBy: triggeredBy, testRun: testRun, executedVersion: version)
            cut(&entry)
            if result.executionStatus == .success {
                // Its loss (a kill -9 before the batch is written) is logged by the writer, not told to the caller.
                await writer.enqueue(entry)
            } else {
                do {
                    try await writer.write(entry)
                } catch {
                    logger.error("a run of worker '\(workerKey)' could not be recorded in the history: \(error)")
                }
            }
            // Pruning is a write of its own: do it every 32 entries of a worker (the history may exceed its
            // retention by that many between prunes).
            let due = appended.withLock { counts in
                let count = counts[workerKey, default: 0] + 1
                counts[workerKey] = count
                return count % 32 == 1
            }
            if due {
                do {
                    try await history.prune(workerKey: workerKey, keep: historyPerWorker)
                } catch {
                    // The next prune, 32 entries later, catches up.
                    logger.warning("the history of worker '\(workerKey)' could not be pruned: \(error)")
                }
            }
        }
    }

    /// Keeps an entry under the size limit by cutting its logs, then its payload and result, each with a marker.
    func cut(_ entry: inout HistoryEntry) {
        let limit = entryMaxBytes
        func size() -> Int { entry.logs.utf8.count + entry.payloadJSON.utf8.count + (entry.resultJSON?.utf8.count ?? 0) + 1_000 }
        let marker = "… [cut: history entries are kept up to \(limit) bytes]"
        if size() > limit {
            let room = max(0, entry.logs.utf8.count - (size() - limit) - marker.utf8.count)
            entry.logs = String(decoding: entry.logs.utf8.prefix(room), as: UTF8.self) + marker
        }
        if size() > limit { entry.payloadJSON = "{\"cut\":\(JSONText.quote(marker))}" }
        if size() > limit { entry.resultJSON = "{\"cut\":\(JSONText.quote(marker))}" }
    }
}
