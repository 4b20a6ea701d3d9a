import Foundation
import Synchronization
import Testing

/// `warden backup` of a serving server under write load, `warden restore` into a new folder, and a server on the
/// restored folder: every upload acknowledged before the backup began is there whole, the worker and its secret
/// too (issue 16).
@Suite("backup and restore, end to end", .serialized)
struct BackupEndToEndTests {
    @Test func aBackupUnderWritesRestoresEveryAcknowledgedItemAndSecret() async throws {
        let data = try temporaryFolder("warden-backup-data")
        let server = try await LiveServer.launch(data: data)
        defer { server.stop() }
        try await server.createRepository("libs")
        try await server.deployWorker(
            key: "secretive", action: "GENERIC_EVENT",
            source: "export default async (context) => ({ opens: context.secrets.get('key') === 'open sesame' });",
            secrets: ["key": "open sesame"])
        for index in 0..<40 {
            #expect(try await server.text("PUT", "/artifactory/libs/before/\(index).txt", body: "before \(index)").status == 201)
        }
        // Uploads go on while the backup runs: bounded (at most 300, paced), as every load test here is, so that the
        // suites running beside this one are not starved.
        let writing = Mutex(true)
        let during = Task {
            var index = 0
            while writing.withLock({ $0 }) && index < 300 {
                _ = try? await server.text("PUT", "/artifactory/libs/during/\(index).txt", body: "during \(index)")
                index += 1
                try? await Task.sleep(for: .milliseconds(5))
            }
            return index
        }
        let backup = try temporaryFolder("warden-backup").appendingPathComponent("copy")
        let made = try await CLI.run(["backup", backup.path, "--data", data.path])
        writing.withLock { $0 = false }
        let written = await during.value
        #expect(made.status == 0 && made.stdout.contains("backed up"), "\(made.stderr)")
        #expect(written > 0)
        // A backup never lands on data: a folder with something in it is refused.
        let again = try await CLI.run(["backup", backup.path, "--data", data.path])
        #expect(again.status != 0 && again.stderr.contains("is not empty"), "\(again.stderr)")

        // A restore refuses the folder a server runs on, and restores into a new one.
        let busy = try await CLI.run(["restore", backup.path, "--data", data.path])
        #expect(busy.status != 0 && busy.stderr.contains("a server is running on"), "\(busy.stderr)")
        let restored = try temporaryFolder("warden-restored")
        let restore = try await CLI.run(["restore", backup.path, "--data", restored.path])
        #expect(restore.status == 0, "\(restore.stderr)")
        server.stop()

        let second = try await LiveServer.launch(data: restored)
        defer { second.stop() }
        for index in 0..<40 {
            let file = try await second.text("GET", "/artifactory/libs/before/\(index).txt")
            #expect(file.status == 200 && file.text == "before \(index)", "before/\(index).txt: \(file.status)")
        }
        // What was written during the backup is there whole or not at all.
        let listed = try await second.request("GET", "/artifactory/api/storage/libs/during?list")
        for entry in (listed.body as? [String: Any])?["files"] as? [[String: Any]] ?? [] {
            let name = try #require(entry["uri"] as? String)
            let number = name.dropFirst().dropLast(4)
            #expect(try await second.text("GET", "/artifactory/libs/during\(name)").text == "during \(number)")
        }
        let run = try await second.request("POST", "/worker/api/v1/execute/secretive")
        // The secret opens with the restored master key (a result shows a secret's value masked, so the worker compares).
        #expect(((run.body as? [String: Any])?["data"] as? [String: Any])?["opens"] as? Bool == true, "\(String(describing: run.body))")
    }
}
