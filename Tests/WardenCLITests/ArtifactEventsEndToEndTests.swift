import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Artifact events on a live server: real uploads, downloads, deletes and property changes run the bound workers.
@Suite("artifact events, end to end", .serialized)
struct ArtifactEventsEndToEndTests {
    static let stopUnder = """
        export default async (context: PlatformContext, data: any) => {
          const path = data.repoPath ? data.repoPath.path : data.metadata.repoPath.path;
          console.log('user=' + data.userContext.id + ' path=' + path);
          if (path.startsWith('blocked/')) return { status: 2, message: 'blocked by policy: ' + path };
          return { status: 'DOWNLOAD_PROCEED', message: 'ok', headers: { 'X-Policy': { value: ['checked'] } } };
        };
        """

    @Test func beforeDownloadStopsWithTheWorkersMessageAndAddsHeaders() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-events"))
        defer { server.stop() }
        try await server.createRepository("libs", anonymousRead: true)
        try await server.deployWorker(key: "policy", action: "BEFORE_DOWNLOAD", source: Self.stopUnder, repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/blocked/a.txt", body: "secret").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/open/a.txt", body: "fine").status == 201)
        let stopped = try await server.text("GET", "/artifactory/libs/blocked/a.txt")
        #expect(stopped.status == 403)
        #expect(stopped.text == #"{"errors":[{"status":403,"message":"blocked by policy: blocked/a.txt"}]}"#)
        let allowed = try await server.send("GET", "/artifactory/libs/open/a.txt", token: .some(nil))
        #expect(allowed.status == 200 && String(decoding: allowed.data, as: UTF8.self) == "fine")
        #expect(allowed.headers["x-policy"] == "checked")
        let runs = try await server.history("policy")
        #expect(runs.count == 2)
        let anonymous = try #require(runs.first)
        let payload = try #require(anonymous["executionPayload"] as? [String: Any])
        #expect((payload["userContext"] as? [String: Any])?["id"] as? String == "anonymous")
        #expect((payload["repoPath"] as? [String: Any])?["id"] as? String == "libs:open/a.txt")
        let metadata = try #require(payload["metadata"] as? [String: Any])
        #expect(metadata["repoType"] as? Int == 1 && metadata["name"] as? String == "a.txt" && metadata["headOnly"] as? Bool == false)
        // Credentials never reach a worker.
        let withToken = try #require(runs.last?["executionPayload"] as? [String: Any])
        let headers = try #require(withToken["headers"] as? [String: Any])
        #expect("\(headers)".contains(server.token) == false)
        // The download of a stopped file was not counted.
        let stats = try await server.request("GET", "/artifactory/api/storage/libs/blocked/a.txt?stats")
        #expect((stats.body as? [String: Any])?["downloadCount"] as? Int == 0)
    }

    @Test func beforeUploadStopsAndMovesBeforeAnyByteIsStored() async throws {
        let data = try temporaryFolder("warden-events")
        let server = try await LiveServer.launch(data: data)
        defer { server.stop() }
        try await server.createRepository("libs")
        let source = """
            export default async (context: PlatformContext, data: BeforeUploadRequest) => {
              const path = data.metadata.repoPath.path;
              if (path.endsWith('.exe')) return { status: UploadStatus.UPLOAD_STOP, message: 'no executables: ' + path };
              if (path.startsWith('Upper/')) return { status: 1, message: 'moved ' + JSON.stringify(data.artifactProperties), modifiedRepoPath: { key: 'libs', path: path.toLowerCase() } };
              return { status: 1, message: 'ok ' + JSON.stringify(data.artifactProperties) };
            };
            """
        try await server.deployWorker(key: "gate", action: "BEFORE_UPLOAD", source: source, repos: ["libs"])
        let refused = try await server.text("PUT", "/artifactory/libs/tools/setup.exe", body: String(repeating: "x", count: 100_000))
        #expect(refused.status == 403 && refused.text.contains("no executables: tools/setup.exe"))
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/tools/setup.exe").status == 404)
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/tools").status == 404)
        let blobs = data.appendingPathComponent("blobs")
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.appendingPathComponent("tmp").path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.path) == ["tmp"])
        #expect(try await server.text("PUT", "/artifactory/libs/Upper/Read.ME;kind=doc", body: "hi").status == 201)
        #expect(try await server.text("GET", "/artifactory/libs/upper/read.me").text == "hi")
        #expect(try await server.text("GET", "/artifactory/libs/Upper/Read.ME").status == 404)
        let runs = try await server.history("gate")
        #expect(runs.contains { ("\($0["executionResult"] ?? "")").contains("kind") })
    }

    @Test func beforeDeleteAndBeforePropertyCreateStop() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-events"))
        defer { server.stop() }
        try await server.createRepository("libs")
        try await server.deployWorker(
            key: "keep-releases", action: "BEFORE_DELETE",
            source: """
                export default async (context: PlatformContext, data: BeforeDeleteRequest) =>
                  data.metadata.repoPath.path.startsWith('release')
                    ? { status: BeforeDeleteStatus.BEFORE_DELETE_STOP, message: 'releases stay: ' + data.itemInfo.name }
                    : { status: BeforeDeleteStatus.BEFORE_DELETE_PROCEED, message: 'ok' };
                """, repos: ["libs"])
        try await server.deployWorker(
            key: "no-owner-change", action: "BEFORE_PROPERTY_CREATE",
            source: """
                export default async (context: PlatformContext, data: BeforePropertyCreateRequest) =>
                  data.name === 'owner'
                    ? { status: 'BEFORE_PROPERTY_CREATE_STOP', message: 'owner is set by the pipeline, not ' + data.userContext.id }
                    : { status: 1, message: 'ok' };
                """, repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/release/a.txt", body: "a").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/tmp/b.txt", body: "b").status == 201)
        let refused = try await server.text("DELETE", "/artifactory/libs/release/a.txt")
        #expect(refused.status == 403 && refused.text.contains("releases stay: a.txt"))
        #expect(try await server.text("GET", "/artifactory/libs/release/a.txt").text == "a")
        #expect(try await server.text("DELETE", "/artifactory/libs/tmp/b.txt").status == 204)
        #expect(try await server.text("GET", "/artifactory/libs/tmp/b.txt").status == 404)
        let property = try await server.text("PUT", "/artifactory/api/storage/libs/release/a.txt?properties=owner=eve")
        #expect(property.status == 403 && property.text.contains("owner is set by the pipeline, not jfac@") && property.text.contains("/users/admin"))
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/release/a.txt?properties").status == 404)
        #expect(try await server.text("PUT", "/artifactory/api/storage/libs/release/a.txt?properties=stage=qa").status == 204)
    }

    @Test func failingWorkersFailOpenOrClosedAsConfigured() async throws {
        let failing = "export default async () => { throw new Error('scanner unreachable'); };"
        for policy in ["open", "closed"] {
            let data = try temporaryFolder("warden-events-\(policy)")
            try #"{"warden": {"failPolicy": "\#(policy)"}}"#.write(to: data.appendingPathComponent("warden.json"), atomically: true, encoding: .utf8)
            let configured = try await LiveServer.launch(data: data)
            defer { configured.stop() }
            try await configured.createRepository("libs")
            try await configured.deployWorker(key: "scanner", action: "BEFORE_DOWNLOAD", source: failing, repos: ["libs"])
            #expect(try await configured.text("PUT", "/artifactory/libs/a.txt", body: "a").status == 201)
            let reply = try await configured.text("GET", "/artifactory/libs/a.txt")
            if policy == "open" {
                #expect(reply.status == 200 && reply.text == "a")
            } else {
                #expect(reply.status == 403 && reply.text.contains("scanner"))
            }
            let run = try #require(try await configured.history("scanner").first)
            #expect(run["executionStatus"] as? String == "STATUS_FAIL")
        }
    }

    @Test func asynchronousRunsArePersistedAndSurviveACrash() async throws {
        let data = try temporaryFolder("warden-events")
        var server = try await LiveServer.launch(data: data)
        try await server.createRepository("libs")
        let slow = """
            export default async (context: PlatformContext, data: AfterCreateRequest) => {
              await context.wait(1500);
              return { message: 'saw ' + data.metadata.repoPath.path };
            };
            """
        try await server.deployWorker(key: "slow-after-create", action: "AFTER_CREATE", source: slow, repos: ["libs"])
        let started = Date()
        for index in 0..<6 {
            #expect(try await server.text("PUT", "/artifactory/libs/f\(index).txt", body: "\(index)").status == 201)
        }
        // The uploads did not wait for the 1.5 s workers.
        #expect(Date().timeIntervalSince(started) < 6)
        server.crash()
        server = try await LiveServer.launch(data: data)
        defer { server.stop() }
        try await server.eventually("every AFTER_CREATE run") {
            let seen = Set(
                try await server.history("slow-after-create").compactMap { ($0["executionResult"] as? [String: Any])?["result"] as? [String: Any] }
                    .compactMap { $0["message"] as? String })
            return (0..<6).allSatisfy { seen.contains("saw f\($0).txt") }
        }
    }

    @Test func largeUploadAndDownloadStreamWithBoundedMemory() async throws {
        let data = try temporaryFolder("warden-events")
        let server = try await LiveServer.launch(data: data)
        defer { server.stop() }
        try await server.createRepository("big")
        let file = data.appendingPathComponent("upload.bin")
        let size: Int64 = 1 << 30
        #expect(FileManager.default.createFile(atPath: file.path, contents: nil))
        let handle = try FileHandle(forWritingTo: file)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for index in 0..<Int(size >> 20) {
            chunk[0] = UInt8(index & 0xff)
            try handle.write(contentsOf: chunk)
        }
        try handle.close()
        let upload = try await curl([
            "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", file.path, "-H", "Authorization: Bearer \(server.token)",
            "\(server.url)/artifactory/big/one.bin",
        ])
        #expect(upload == "201")
        let download = try await curl([
            "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-H", "Authorization: Bearer \(server.token)",
            "\(server.url)/artifactory/big/one.bin",
        ])
        #expect(download == "200 \(size)")
        let peak = try peakResidentKiB(server.process.processIdentifier)
        #expect(peak < 400 * 1024, "server peak RSS \(peak) KiB")
        let info = try await server.request("GET", "/artifactory/api/storage/big/one.bin")
        #expect((info.body as? [String: Any])?["size"] as? String == "\(size)")
        try FileManager.default.removeItem(at: file)
    }

    @Test func anInterruptedUploadLeavesNoTrace() async throws {
        let data = try temporaryFolder("warden-events")
        let server = try await LiveServer.launch(data: data)
        defer { server.stop() }
        try await server.createRepository("libs")
        // Promise 10 MB, send 1 MB, hang up.
        let socket = try LoopbackSocket(port: server.port)
        try socket.write(
            "PUT /artifactory/libs/partial.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.token)\r\nContent-Length: 10000000\r\n\r\n")
        try socket.write(String(repeating: "y", count: 1_000_000))
        try await Task.sleep(for: .milliseconds(300))
        socket.close()
        try await server.eventually("the temporary file to go") {
            try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("blobs/tmp").path).isEmpty
        }
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/partial.bin").status == 404)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("blobs").path) == ["tmp"])
    }
}

/// curl, on a thread of its own (a gigabyte takes seconds).
func curl(_ arguments: [String]) async throws -> String {
    try await offThePool { try curlNow(arguments) }
}

private func curlNow(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// VmHWM of a process: its highest resident memory.
func peakResidentKiB(_ pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// A plain TCP connection to the server, to send what URLSession will not (half a body).
final class LoopbackSocket {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw CLIError("cannot connect to port \(port)") }
    }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw CLIError("send failed") }
            offset += sent
        }
    }

    func close() { Glibc.close(descriptor) }
}
